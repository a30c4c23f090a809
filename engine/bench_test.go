package engine_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"movierec/als"
	"movierec/cpu"
	"movierec/data"
	"movierec/dataset"
	"movierec/engine"
)

// bundledEngine trains the tutorial's model on the bundled data.
func bundledEngine(b *testing.B, p als.Params) *engine.Engine {
	return bundledEngineRanking(b, p, als.Params{})
}

// bundledEngineRanking is bundledEngine with a ranking model trained with
// rp (none when rp.Rank is 0).
func bundledEngineRanking(b *testing.B, p, rp als.Params) *engine.Engine {
	b.Helper()
	ds, err := dataset.Load(data.MLLatestSmall())
	if err != nil {
		b.Fatal(err)
	}
	e, err := engine.New(engine.Config{Params: p, Ranking: rp, MinRatings: 25, Scale: ds.Scale}, cpu.New(0), ds.Movies, ds.Ratings)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.Retrain(b.Context()); err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkTop measures Top(user, 10) on ml-latest-small, rank 8, over all
// 610 users in turn.
func BenchmarkTop(b *testing.B) {
	e := bundledEngine(b, als.DefaultParams())
	b.ReportAllocs()
	u := int32(1)
	for b.Loop() {
		if _, err := e.Top(b.Context(), u, 10); err != nil {
			b.Fatal(err)
		}
		u = u%610 + 1
	}
}

// BenchmarkTopRanking measures Top(user, 10) as served by default: ordered
// by the implicit ranking model (rank 128), over all 610 users in turn.
func BenchmarkTopRanking(b *testing.B) {
	e := bundledEngineRanking(b, als.DefaultParams(), als.DefaultImplicitParams())
	b.ReportAllocs()
	u := int32(1)
	for b.Loop() {
		if _, err := e.Top(b.Context(), u, 10); err != nil {
			b.Fatal(err)
		}
		u = u%610 + 1
	}
}

// BenchmarkTopColdUser measures the popularity path (a user without ratings).
func BenchmarkTopColdUser(b *testing.B) {
	e := bundledEngine(b, als.DefaultParams())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Top(b.Context(), 999999, 10); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAddRatingsFoldIn measures a POST's in-memory work: validation,
// merge and the fold-in solve (no store).
func BenchmarkAddRatingsFoldIn(b *testing.B) {
	e := bundledEngine(b, als.DefaultParams())
	in := []engine.RatingInput{{Movie: 260, Value: 4.5}, {Movie: 1, Value: 4}, {Movie: 858, Value: 5}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.AddRatings(b.Context(), 0, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTopLarge measures Top(user, 10) on a catalog the size of the
// ml-25m preset's (59,047 movies, 15,000 of them with the 25 ratings the
// default floor asks for) at rank 64, over 5,000 users in turn. cpu-µs/op
// is the process's CPU time per call, which a busy shared machine
// inflates less than the wall time.
func BenchmarkTopLarge(b *testing.B) {
	// contiguous: the popular movies are the first 15,000 of the table;
	// scattered: every third one, as on real data, where the movies above
	// the floor lie all over the table.
	for _, stride := range []int{1, 3} {
		name := map[int]string{1: "contiguous", 3: "scattered"}[stride]
		b.Run(name, func(b *testing.B) { benchmarkTopLarge(b, stride) })
	}
}

func benchmarkTopLarge(b *testing.B, stride int) {
	const users, movies, popular, rank = 5000, 59047, 15000, 64
	rng := rand.New(rand.NewPCG(7, 8))
	ms := make([]engine.Movie, movies)
	for i := range ms {
		ms[i] = engine.Movie{ID: int32(i + 1), Title: fmt.Sprintf("Movie %d", i+1)}
	}
	seen := make(map[[2]int32]bool)
	var rs []engine.Rating
	add := func(u, i int32) {
		if !seen[[2]int32{u, i}] {
			seen[[2]int32{u, i}] = true
			rs = append(rs, engine.Rating{User: u, Movie: i, Value: float32(1 + rng.IntN(5))})
		}
	}
	for i := range popular {
		for range 30 {
			add(int32(1+rng.IntN(users)), int32(stride*i+1))
		}
	}
	for u := range users {
		for range 20 {
			add(int32(u+1), int32(1+rng.IntN(movies)))
		}
	}
	p := als.Params{Rank: rank, Iterations: 1, Lambda: 0.05, Seed: 5}
	e, err := engine.New(engine.Config{Params: p, MinRatings: 25, Scale: engine.MovieLensScale}, cpu.New(0), ms, rs)
	if err != nil {
		b.Fatal(err)
	}
	m := &als.Model{Rank: rank, NumUsers: users, NumItems: movies,
		UserFactors: make([]float32, users*rank), ItemFactors: make([]float32, movies*rank)}
	for _, f := range [][]float32{m.UserFactors, m.ItemFactors} {
		for j := range f {
			f[j] = float32(rng.NormFloat64())
		}
	}
	userIDs, movieIDs := make([]int32, users), make([]int32, movies)
	for u := range userIDs {
		userIDs[u] = int32(u + 1)
	}
	for i := range movieIDs {
		movieIDs[i] = int32(i + 1)
	}
	if err := e.Publish(&engine.Snapshot{Model: m, Params: p, UserIDs: userIDs, MovieIDs: movieIDs}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	u := int32(1)
	c0 := cpuTime()
	for b.Loop() {
		if _, err := e.Top(b.Context(), u, 10); err != nil {
			b.Fatal(err)
		}
		u = u%users + 1
	}
	b.ReportMetric(float64((cpuTime()-c0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// BenchmarkNew measures building an engine over 2.5M ratings (16,000
// users, 59,000 movies, half stars), the work a server does at start after
// reading its database: ids mapped, rows sorted, counts and sums.
func BenchmarkNew(b *testing.B) {
	const users, movies, n = 16000, 59000, 2_500_000
	rng := rand.New(rand.NewPCG(1, 2))
	ms := make([]engine.Movie, movies)
	for i := range ms {
		ms[i] = engine.Movie{ID: int32(i + 1), Title: "m"}
	}
	rs := make([]engine.Rating, n)
	for i := range rs {
		rs[i] = engine.Rating{User: int32(i / (n / users)), Movie: int32(1 + rng.IntN(movies)), Value: float32(1+rng.IntN(10)) / 2}
	}
	for b.Loop() {
		if _, err := engine.New(engine.Config{Params: als.DefaultParams(), MinRatings: 25, Scale: engine.MovieLensScale}, nil, ms, rs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAddMovies measures AddMovies of 10 movies on a catalog of the
// ml-25m preset's size (59,047 movies with MovieLens-like titles, 2.5M
// ratings): what a replica pays, once per import that extends the
// catalog, to take new movies in (a copy of the catalog, its title index
// rebuilt, the counts copied under the write lock).
func BenchmarkAddMovies(b *testing.B) {
	const users, movies, n = 16000, 59047, 2_500_000
	rng := rand.New(rand.NewPCG(1, 2))
	ms := make([]engine.Movie, movies)
	for i := range ms {
		ms[i] = engine.Movie{ID: int32(i + 1), Title: fmt.Sprintf("Movie Number %d, The (19%02d)", i+1, i%100), Genres: []string{"Drama", "Comedy"}}
	}
	rs := make([]engine.Rating, n)
	for i := range rs {
		rs[i] = engine.Rating{User: int32(i / (n / users)), Movie: int32(1 + rng.IntN(movies)), Value: float32(1+rng.IntN(10)) / 2}
	}
	e, err := engine.New(engine.Config{Params: als.DefaultParams(), MinRatings: 25, Scale: engine.MovieLensScale}, nil, ms, rs)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	next := int32(movies + 1)
	add := make([]engine.Movie, 10)
	for b.Loop() {
		for j := range add {
			add[j] = engine.Movie{ID: next, Title: fmt.Sprintf("Imported %d (2026)", next)}
			next++
		}
		if got := e.AddMovies(add); got != len(add) {
			b.Fatalf("AddMovies() = %d, want %d", got, len(add))
		}
	}
}

// BenchmarkPublishFolding measures a restart's publication of a stored
// model older than the data with every one of the bundled data's 610
// users to fold in (rank 8 and the rank-128 ranking model); the metric
// µs/user is what serve's maxFoldUsers weighs against training.
func BenchmarkPublishFolding(b *testing.B) {
	e := bundledEngineRanking(b, als.DefaultParams(), als.DefaultImplicitParams())
	snap := *e.Snapshot()
	snap.DataVersion = -1 // older than the data: every marked user is folded
	users := make([]int32, 610)
	for i := range users {
		users[i] = int32(i + 1)
	}
	for b.Loop() {
		s := snap
		if err := e.PublishFolding(&s, users); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(len(users)), "µs/user")
}
