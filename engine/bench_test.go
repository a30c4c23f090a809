package engine_test

import (
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
