package eval_test

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"movierec/als"
	"movierec/engine"
	"movierec/eval"
)

func rating(u, m int32, v float32) engine.Rating { return engine.Rating{User: u, Movie: m, Value: v} }

// tinyIndex maps users 10, 20, 40 and movies 100..103 to 0.. in order.
var tinyIndex = eval.Index{
	Users:  map[int32]int32{10: 0, 20: 1, 40: 2},
	Movies: map[int32]int32{100: 0, 101: 1, 102: 2, 103: 3},
}

func TestRanking(t *testing.T) {
	l3 := 1 / math.Log2(3) // discount of position 2
	// Rank 1: user 10 likes movies in order 100, 101, 102, 103; user 20
	// in the reverse order; user 40 has no relevant test rating.
	plain := &als.Model{
		Rank: 1, NumUsers: 3, NumItems: 4,
		UserFactors: []float32{1, -1, 1},
		ItemFactors: []float32{4, 3, 2, 1},
	}
	// With biases the item bias reorders user 10's movies to 101, then
	// 100 and 102 tied (the lower index first), then 103.
	biased := &als.Model{
		Rank: 1, NumUsers: 3, NumItems: 4,
		UserFactors: []float32{1, -1, 1},
		ItemFactors: []float32{1, 0, 0, 0},
		Bias:        true, Mean: 3,
		UserBias: []float32{0.5, -0.5, 0},
		ItemBias: []float32{0, 2, 1, 0.5},
	}
	train := []engine.Rating{rating(10, 100, 4), rating(20, 103, 1), rating(40, 101, 3)}
	test := []engine.Rating{
		rating(10, 102, 5), rating(10, 103, 4), rating(10, 101, 2), // 102 and 103 relevant (4 counts)
		rating(10, 999, 5), rating(30, 100, 5), // unknown movie and user: dropped
		rating(20, 100, 4.5), // relevant, but ranked last for user 20
		rating(40, 102, 3.5), // not relevant: user 40 is not averaged
	}
	for _, tc := range []struct {
		name  string
		m     *als.Model
		train []engine.Rating
		k     int
		want  eval.RankingResult
	}{
		{
			// user 10: top 2 of 101, 102, 103 (100 is a training movie)
			// hits 102 at position 2; user 20: top 102, 101, no hit.
			name: "k=2", m: plain, train: train, k: 2,
			want: eval.RankingResult{PrecisionAt: (0.5 + 0) / 2, RecallAt: (0.5 + 0) / 2, NDCGAt: (l3 / (1 + l3)) / 2, K: 2, Users: 2},
		},
		{
			// user 10: 101, 102, 103 hits both relevant at 2 and 3;
			// user 20: 102, 101, 100 hits 100 at 3.
			name: "k=3", m: plain, train: train, k: 3,
			want: eval.RankingResult{
				PrecisionAt: (2.0/3 + 1.0/3) / 2, RecallAt: (1 + 1) / 2.0,
				NDCGAt: ((l3+0.5)/(1+l3) + 0.5/1) / 2, K: 3, Users: 2,
			},
		},
		{
			// Nothing excluded: user 10's top 2 is 100, 101 and user 20's
			// 103, 102: no hits.
			name: "no training movies", m: plain, train: nil, k: 2,
			want: eval.RankingResult{K: 2, Users: 2},
		},
		{
			// user 10 scores 100: 4.5 (excluded), 101: 5.5, 102: 4.5,
			// 103: 4: top 101, 102 hits 102 at 2. user 20 scores 100: 1.5,
			// 101: 4.5, 102: 3.5, 103 (excluded): top 101, 102, no hit.
			name: "bias", m: biased, train: train, k: 2,
			want: eval.RankingResult{PrecisionAt: 0.5 / 2, RecallAt: 0.5 / 2, NDCGAt: (l3 / (1 + l3)) / 2, K: 2, Users: 2},
		},
		{
			// Nothing excluded, k=3: user 10 gets 101, then 100 and 102
			// tied at 4.5 (the lower index first): 102 hits at 3. user 20
			// gets 101, 102, 103 (3) before 100 (1.5): no hit.
			name: "bias ties", m: biased, train: nil, k: 3,
			want: eval.RankingResult{PrecisionAt: (1.0 / 3) / 2, RecallAt: 0.5 / 2, NDCGAt: (0.5 / (1 + l3)) / 2, K: 3, Users: 2},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := eval.Ranking(tc.m, tinyIndex, tc.train, test, tc.k, 4)
			if !closeRanking(got, tc.want) {
				t.Errorf("Ranking(k=%d) = %+v, want %+v", tc.k, got, tc.want)
			}
		})
	}
}

func closeRanking(a, b eval.RankingResult) bool {
	near := func(x, y float64) bool { return math.Abs(x-y) < 1e-12 }
	return a.K == b.K && a.Users == b.Users && near(a.PrecisionAt, b.PrecisionAt) && near(a.RecallAt, b.RecallAt) && near(a.NDCGAt, b.NDCGAt)
}

func TestRankingNoUsers(t *testing.T) {
	m := &als.Model{Rank: 1, NumUsers: 1, NumItems: 1, UserFactors: []float32{1}, ItemFactors: []float32{1}}
	ix := eval.Index{Users: map[int32]int32{1: 0}, Movies: map[int32]int32{1: 0}}
	got := eval.Ranking(m, ix, nil, []engine.Rating{rating(1, 1, 3)}, 10, 4)
	if got != (eval.RankingResult{K: 10}) {
		t.Errorf("Ranking with no relevant ratings = %+v, want zero metrics", got)
	}
}

// TestRankingMatchesSort checks the heap against sorting every movie, on a
// random model, with 1 and 2 goroutines.
func TestRankingMatchesSort(t *testing.T) {
	const users, items, k, rank = 300, 200, 10, 4
	rng := rand.New(rand.NewPCG(1, 2))
	m := &als.Model{Rank: rank, NumUsers: users, NumItems: items, Bias: true, Mean: 3.5,
		UserFactors: make([]float32, users*rank), ItemFactors: make([]float32, items*rank),
		UserBias: make([]float32, users), ItemBias: make([]float32, items)}
	for _, s := range [][]float32{m.UserFactors, m.ItemFactors, m.UserBias, m.ItemBias} {
		for i := range s {
			s[i] = float32(rng.NormFloat64())
		}
	}
	ix := eval.Index{Users: map[int32]int32{}, Movies: map[int32]int32{}}
	for u := range users {
		ix.Users[int32(u+1)] = int32(u)
	}
	for i := range items {
		ix.Movies[int32(i+1)] = int32(i)
	}
	var train, test []engine.Rating
	for u := range users {
		for range 30 {
			r := rating(int32(u+1), int32(1+rng.IntN(items)), float32(1+rng.IntN(10))/2)
			if rng.IntN(3) == 0 {
				test = append(test, r)
			} else {
				train = append(train, r)
			}
		}
	}

	// Reference: sort every candidate.
	var want eval.RankingResult
	want.K = k
	for u := range users {
		excl := map[int32]bool{}
		for _, r := range train {
			if r.User == int32(u+1) {
				excl[r.Movie-1] = true
			}
		}
		rel := map[int32]bool{}
		for _, r := range test {
			if r.User == int32(u+1) && r.Value >= 4 {
				rel[r.Movie-1] = true
			}
		}
		if len(rel) == 0 {
			continue
		}
		var cand []int32
		for i := range int32(items) {
			if !excl[i] {
				cand = append(cand, i)
			}
		}
		slices.SortStableFunc(cand, func(a, b int32) int { return cmp.Compare(m.Predict(u, int(b)), m.Predict(u, int(a))) })
		var hits int
		var dcg, idcg float64
		for pos, i := range cand[:k] {
			if rel[i] {
				hits++
				dcg += 1 / math.Log2(float64(pos+2))
			}
		}
		for pos := range min(len(rel), k) {
			idcg += 1 / math.Log2(float64(pos+2))
		}
		want.Users++
		want.PrecisionAt += float64(hits) / k
		want.RecallAt += float64(hits) / float64(len(rel))
		want.NDCGAt += dcg / idcg
	}
	want.PrecisionAt /= float64(want.Users)
	want.RecallAt /= float64(want.Users)
	want.NDCGAt /= float64(want.Users)

	prev := runtime.GOMAXPROCS(1)
	one := eval.Ranking(m, ix, train, test, k, 4)
	runtime.GOMAXPROCS(2)
	two := eval.Ranking(m, ix, train, test, k, 4)
	runtime.GOMAXPROCS(prev)
	if one != two {
		t.Errorf("Ranking differs with 1 and 2 goroutines: %+v vs %+v", one, two)
	}
	if !closeRanking(one, want) {
		t.Errorf("Ranking = %+v, want (by sorting) %+v", one, want)
	}
	if want.Users < users/2 || want.PrecisionAt == 0 {
		t.Fatalf("reference too weak: %+v", want)
	}
}

// BenchmarkRanking measures Ranking (Task.RankModel on every core) at rank
// 16 over 5,000 movies and at rank 64 over 20,000 (about the movies with
// 25 ratings or more of the ml-25m preset); users/s extrapolates to
// 160k users.
func BenchmarkRanking(b *testing.B) {
	for _, tc := range []struct{ users, items, rank int }{{2000, 5000, 16}, {500, 20000, 64}} {
		b.Run(fmt.Sprintf("rank=%d/items=%d", tc.rank, tc.items), func(b *testing.B) {
			benchmarkRanking(b, tc.users, tc.items, tc.rank)
		})
	}
}

func benchmarkRanking(b *testing.B, users, items, rank int) {
	m, ix, train, test := rankingBench(users, items, rank)
	b.ReportAllocs()
	c0 := cpuTime()
	for b.Loop() {
		eval.Ranking(m, ix, train, test, 10, 4)
	}
	b.ReportMetric(float64(users)*float64(b.N)/b.Elapsed().Seconds(), "users/s")
	b.ReportMetric(float64(users)*float64(b.N)/(cpuTime()-c0).Seconds(), "users/cpu-s")
}

// BenchmarkRankMethods measures the Task's ranking alone (the Task built
// once) on BenchmarkRanking's rank-64 problem: RankModel, the generic
// RankBatch(ModelBatchScorer) it replaces for models, and RankFixed on
// most-rated-like scores.
func BenchmarkRankMethods(b *testing.B) {
	const users, items, rank = 500, 20000, 64
	m, ix, train, test := rankingBench(users, items, rank)
	task := eval.NewTask(ix, train, test, 10, 4, 0)
	fixed := make(eval.Fixed, items)
	for i := range fixed {
		fixed[i] = float64(i % 1000)
	}
	for _, tc := range []struct {
		name string
		rank func() eval.RankingResult
	}{
		{"RankModel", func() eval.RankingResult { return task.RankModel(m) }},
		{"RankBatch", func() eval.RankingResult { return task.RankBatch(eval.ModelBatchScorer(m)) }},
		{"RankFixed", func() eval.RankingResult { return task.RankFixed(fixed) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			c0 := cpuTime()
			for b.Loop() {
				tc.rank()
			}
			b.ReportMetric(float64(users)*float64(b.N)/b.Elapsed().Seconds(), "users/s")
			b.ReportMetric(float64(users)*float64(b.N)/(cpuTime()-c0).Seconds(), "users/cpu-s")
		})
	}
}

// rankingBench is BenchmarkRanking's problem: random factors, 20 training
// and 20 relevant test ratings per user.
func rankingBench(users, items, rank int) (*als.Model, eval.Index, []engine.Rating, []engine.Rating) {
	rng := rand.New(rand.NewPCG(3, 4))
	m := &als.Model{Rank: rank, NumUsers: users, NumItems: items,
		UserFactors: make([]float32, users*rank), ItemFactors: make([]float32, items*rank)}
	for _, s := range [][]float32{m.UserFactors, m.ItemFactors} {
		for i := range s {
			s[i] = float32(rng.NormFloat64())
		}
	}
	ix := eval.Index{Users: map[int32]int32{}, Movies: map[int32]int32{}}
	for u := range users {
		ix.Users[int32(u)] = int32(u)
	}
	for i := range items {
		ix.Movies[int32(i)] = int32(i)
	}
	var train, test []engine.Rating
	for u := range users {
		for range 20 {
			train = append(train, rating(int32(u), int32(rng.IntN(items)), 3))
			test = append(test, rating(int32(u), int32(rng.IntN(items)), 4))
		}
	}
	return m, ix, train, test
}

func TestRankingMinLeavesOutRarelyRatedMovies(t *testing.T) {
	l3 := 1 / math.Log2(3)
	m := &als.Model{Rank: 1, NumUsers: 3, NumItems: 4, UserFactors: []float32{1, -1, 1}, ItemFactors: []float32{4, 3, 2, 1}}
	// Movie 102 has no training rating: with minRatings 1 it is never ranked,
	// and user 10's relevant test rating of it is dropped.
	train := []engine.Rating{rating(10, 100, 4), rating(20, 103, 1), rating(40, 101, 3)}
	test := []engine.Rating{rating(10, 102, 5), rating(10, 103, 4), rating(20, 100, 4.5)}
	got := eval.RankingMin(m, tinyIndex, train, test, 2, 4, 1)
	// user 10: candidates 101, 103 → hit 103 at position 2, R = 1;
	// user 20: candidates 101, 100 (scores -3, -4) → hit 100 at position 2.
	want := eval.RankingResult{PrecisionAt: 0.5, RecallAt: 1, NDCGAt: l3, K: 2, Users: 2}
	if !closeRanking(got, want) {
		t.Errorf("RankingMin(minRatings 1) = %+v, want %+v", got, want)
	}
	if a, b := eval.RankingMin(m, tinyIndex, train, test, 2, 4, 0), eval.Ranking(m, tinyIndex, train, test, 2, 4); !closeRanking(a, b) {
		t.Errorf("RankingMin(minRatings 0) = %+v, want Ranking's %+v", a, b)
	}
}
