package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	"movierec/data"
	"movierec/dataset"
	"movierec/store/sqlite"
)

// BenchmarkImport measures importing the bundled ml-latest-small into a
// fresh database, in rows/s.
func BenchmarkImport(b *testing.B) {
	ds, err := dataset.Load(data.MLLatestSmall())
	if err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	for b.Loop() {
		db, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "m.db"), nil)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, err := db.Import(b.Context(), ds.Movies, ds.Ratings, ds.Scale, nil); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		db.Close()
	}
	b.ReportMetric(float64(len(ds.Ratings))*float64(b.N)/total.Seconds(), "rows/s")
}

// BenchmarkReadRatings measures reading every rating back (a restart).
func BenchmarkReadRatings(b *testing.B) {
	ds, err := dataset.Load(data.MLLatestSmall())
	if err != nil {
		b.Fatal(err)
	}
	db, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "m.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Import(b.Context(), ds.Movies, ds.Ratings, ds.Scale, nil); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := db.Ratings(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(ds.Ratings))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
