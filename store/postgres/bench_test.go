package postgres_test

import (
	"context"
	"flag"
	"sync/atomic"
	"testing"
	"time"

	"movierec/engine"
	"movierec/store/postgres"
	"movierec/store/postgres/pgtest"
)

// benchRatings sizes the bulk benchmarks: -pg.ratings=25000095 gives the
// ml-25m preset's count.
var benchRatings = flag.Int("pg.ratings", 1_000_000, "ratings in the PostgreSQL bulk benchmarks")

// synth returns n ratings of about n/154 users (ml-25m's ratings per
// user) over 59047 movies, sorted by user and movie as a MovieLens file
// is, and the movies they name.
func synth(n int) ([]engine.Movie, []engine.Rating) {
	const numMovies, perUser = 59047, 154
	movies := make([]engine.Movie, numMovies)
	for i := range movies {
		movies[i] = engine.Movie{ID: int32(i + 1), Title: "Movie", Genres: []string{"Drama"}}
	}
	rs := make([]engine.Rating, 0, n)
	var x uint32 = 1
	for u := int32(1); len(rs) < n; u++ {
		k := min(perUser, n-len(rs))
		stride := numMovies / k
		for j := range k {
			x = x*1664525 + 1013904223
			rs = append(rs, engine.Rating{User: u, Movie: int32(j*stride + 1 + int(x>>8)%stride),
				Value: float32(x>>28%10+1) / 2, Time: 1_500_000_000 + int64(x>>4)})
		}
	}
	return movies, rs
}

// BenchmarkImport imports -pg.ratings ratings into an empty database
// (COPY, primary key rebuilt after) and reports rows/s.
func BenchmarkImport(b *testing.B) {
	c := pgtest.Shared(b)
	movies, rs := synth(*benchRatings)
	b.ReportAllocs()
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		db := openBench(b, c)
		b.StartTimer()
		start := time.Now()
		added, err := db.Import(b.Context(), movies, rs, engine.MovieLensScale, nil)
		total += time.Since(start)
		if err != nil || added != int64(len(rs)) {
			b.Fatalf("Import() = %d, %v, want %d added", added, err, len(rs))
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N)*float64(len(rs))/total.Seconds(), "rows/s")
}

// BenchmarkReadRatings reads -pg.ratings ratings, as a replica's start
// does, from the ratings snapshot the import wrote and, without it,
// through binary COPY of the table's partitions, and reports rows/s.
func BenchmarkReadRatings(b *testing.B) {
	c := pgtest.Shared(b)
	movies, rs := synth(*benchRatings)
	db := openBench(b, c)
	if _, err := db.Import(b.Context(), movies, rs, engine.MovieLensScale, nil); err != nil {
		b.Fatal(err)
	}
	for _, snapshots := range []bool{true, false} {
		from := map[bool]string{true: "snapshot", false: "copy"}[snapshots]
		b.Run("from="+from, func(b *testing.B) {
			defer postgres.UseSnapshots(postgres.UseSnapshots(snapshots))
			b.ReportAllocs()
			for b.Loop() {
				got, _, err := db.Ratings(b.Context())
				if err != nil || len(got) != len(rs) {
					b.Fatalf("Ratings() = %d ratings, %v, want %d", len(got), err, len(rs))
				}
			}
			b.ReportMetric(float64(b.N)*float64(len(rs))/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

var benchDBs int

// openBench opens a store on a fresh database of c, dropped when b ends.
func openBench(b *testing.B, c *pgtest.Cluster) *postgres.DB {
	b.Helper()
	benchDBs++
	name := "bench" + time.Now().Format("150405") + string(rune('a'+benchDBs%26))
	url, err := c.CreateDB(b.Context(), name)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.DropDB(b.Context(), name) })
	db, err := postgres.Open(b.Context(), url, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkAddRatings posts one user's batch of 10 ratings from 32
// goroutines at once (group commit), and reports ratings/s.
func BenchmarkAddRatings(b *testing.B) {
	c := pgtest.Shared(b)
	movies, _ := synth(0)
	db := openBench(b, c)
	if _, err := db.Import(b.Context(), movies, nil, engine.MovieLensScale, nil); err != nil {
		b.Fatal(err)
	}
	var next atomic.Int32
	b.SetParallelism(16) // 32 goroutines on 2 cores
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rs := make([]engine.Rating, 10)
		for pb.Next() {
			u := next.Add(1)
			for i := range rs {
				rs[i] = engine.Rating{User: u, Movie: int32(1 + i*97), Value: 4, Time: 1}
			}
			if err := db.AddRatings(context.Background(), rs); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)*10/b.Elapsed().Seconds(), "ratings/s")
}
