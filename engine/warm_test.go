package engine_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"movierec/als"
	"movierec/als/alstest"
	"movierec/cpu"
	"movierec/engine"
)

// warmRecorder trains with the CPU solver and records every ranking fit:
// whether it started warm, its iterations, and a copy of its start.
type warmRecorder struct {
	cpu  *cpu.Solver
	fits []warmFit
}

type warmFit struct {
	warm       bool
	iterations int
	from       *als.Model
}

func (s *warmRecorder) Fit(ctx context.Context, dst *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	if p.Objective == als.Implicit {
		s.fits = append(s.fits, warmFit{iterations: p.Iterations})
	}
	return s.cpu.Fit(ctx, dst, r, p, progress)
}

func (s *warmRecorder) FitFrom(ctx context.Context, dst, from *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	c := *from
	c.UserFactors, c.ItemFactors = slices.Clone(from.UserFactors), slices.Clone(from.ItemFactors)
	s.fits = append(s.fits, warmFit{warm: true, iterations: p.Iterations, from: &c})
	return s.cpu.FitFrom(ctx, dst, from, r, p, progress)
}

func (s *warmRecorder) Close() error { return nil }

// warmConfig is the engine configuration of the warm-start tests: a
// ranking model of 6 iterations that warm-starts with 2.
func warmConfig() engine.Config {
	return engine.Config{
		Params:                als.Params{Rank: 4, Iterations: 3, Lambda: 0.1, Seed: 5},
		Ranking:               alstest.ImplicitParams(3, 6, 0.5, 1, 0.5, 0),
		RankingWarmIterations: 2,
		Scale:                 engine.MovieLensScale,
	}
}

// TestRankingWarmStart checks when a retrain's ranking model starts from
// the published one (Config.RankingWarmIterations): not the first
// training; after a few new ratings yes, with the warm iterations, from
// the published factors of the users and movies it has (by id), and
// recorded in the history; never more than 20 times in a row; not after a
// change of more than a twentieth of the ratings; never with the setting
// at 0 or a solver that cannot.
func TestRankingWarmStart(t *testing.T) {
	ctx := t.Context()
	movies, rs := world(t)
	cfg := warmConfig()
	s := &warmRecorder{cpu: cpu.New(1)}
	e, err := engine.New(cfg, s, movies, rs)
	if err != nil {
		t.Fatal(err)
	}
	retrain := func() warmFit {
		t.Helper()
		if _, err := e.Retrain(ctx); err != nil {
			t.Fatal(err)
		}
		return s.fits[len(s.fits)-1]
	}
	if f := retrain(); f.warm || f.iterations != 6 {
		t.Fatalf("first training: warm %v with %d iterations, want a cold fit of 6", f.warm, f.iterations)
	}
	prev := e.Snapshot()
	// One new rating by an existing user, one by a new user.
	if _, err := e.AddRatings(ctx, 3, []engine.RatingInput{{Movie: 39, Value: 4}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AddRatings(ctx, 1000, []engine.RatingInput{{Movie: 10, Value: 5}}); err != nil {
		t.Fatal(err)
	}
	f := retrain()
	if !f.warm || f.iterations != 2 {
		t.Fatalf("after 2 new ratings: warm %v with %d iterations, want a warm fit of 2", f.warm, f.iterations)
	}
	next := e.Snapshot()
	k := cfg.Ranking.Rank
	row := func(ids []int32, id int32) int {
		i := slices.Index(ids, id)
		if i < 0 {
			t.Fatalf("id %d not in the snapshot", id)
		}
		return i
	}
	for _, id := range []int32{1, 3, 30} {
		pi, ni := row(prev.UserIDs, id), row(next.UserIDs, id)
		if !slices.Equal(f.from.UserFactors[ni*k:(ni+1)*k], prev.Ranker.UserFactors[pi*k:(pi+1)*k]) {
			t.Errorf("user %d starts from %v, want the published %v", id, f.from.UserFactors[ni*k:(ni+1)*k], prev.Ranker.UserFactors[pi*k:(pi+1)*k])
		}
	}
	for _, id := range []int32{10, 25, 49} {
		pi, ni := row(prev.MovieIDs, id), row(next.MovieIDs, id)
		if !slices.Equal(f.from.ItemFactors[ni*k:(ni+1)*k], prev.Ranker.ItemFactors[pi*k:(pi+1)*k]) {
			t.Errorf("movie %d starts from other factors than the published ones", id)
		}
	}
	if ni := row(next.UserIDs, 1000); slices.Equal(f.from.UserFactors[ni*k:(ni+1)*k], make([]float32, k)) {
		t.Error("the new user starts from zeros, want random factors")
	}
	hist, err := e.Trainings(ctx, 1)
	if err != nil || len(hist) != 1 || len(hist[0].Models) != 2 {
		t.Fatalf("Trainings() = %+v, %v", hist, err)
	}
	if got := hist[0].Models[1].WarmStart; got != prev.DataVersion {
		t.Errorf("history: ranking WarmStart = %d, want the published model's data version %d", got, prev.DataVersion)
	}
	if got := hist[0].Models[0].WarmStart; got != 0 {
		t.Errorf("history: rating model WarmStart = %d, want 0 (always cold)", got)
	}

	// 19 more warm retrains (20 in a row), then a cold one.
	for i := range 19 {
		if _, err := e.AddRatings(ctx, 5, []engine.RatingInput{{Movie: int32(10 + i), Value: 3}}); err != nil {
			t.Fatal(err)
		}
		if f := retrain(); !f.warm {
			t.Fatalf("warm retrain %d of 20 started cold", i+2)
		}
	}
	if f := retrain(); f.warm || f.iterations != 6 {
		t.Fatalf("21st retrain in a row: warm %v with %d iterations, want a cold fit of 6", f.warm, f.iterations)
	}
	if f := retrain(); !f.warm {
		t.Fatal("after a cold retrain: started cold, want warm again")
	}

	// A change of a tenth of the ratings: cold.
	for u := int32(2000); u < 2000+int32(len(rs)/10); u++ {
		if _, err := e.AddRatings(ctx, u, []engine.RatingInput{{Movie: 11, Value: 4}}); err != nil {
			t.Fatal(err)
		}
	}
	if f := retrain(); f.warm {
		t.Fatal("after 10% new ratings: started warm, want cold")
	}

	// Off, or a solver without FitFrom: always cold.
	cfg.RankingWarmIterations = 0
	off, err := engine.New(cfg, s, movies, rs)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := off.Retrain(ctx); err != nil {
			t.Fatal(err)
		}
		if f := s.fits[len(s.fits)-1]; f.warm {
			t.Fatal("RankingWarmIterations 0: a retrain started warm")
		}
	}
	cfg.RankingWarmIterations = 2
	cold, err := engine.New(cfg, coldOnly{s}, movies, rs)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := cold.Retrain(ctx); err != nil {
			t.Fatal(err)
		}
		if f := s.fits[len(s.fits)-1]; f.warm {
			t.Fatal("a solver without FitFrom: a retrain started warm")
		}
	}
}

// coldOnly hides warmRecorder's FitFrom.
type coldOnly struct{ s *warmRecorder }

func (c coldOnly) Fit(ctx context.Context, dst *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	return c.s.Fit(ctx, dst, r, p, progress)
}

func (coldOnly) Close() error { return nil }

// refuser is a warmRecorder whose FitFrom records the attempt and refuses
// it, as the gpu client does with a worker built before warm starts.
type refuser struct{ *warmRecorder }

func (s refuser) FitFrom(_ context.Context, _, _ *als.Model, _ *als.Ratings, p als.Params, _ func(als.Iteration)) error {
	s.fits = append(s.fits, warmFit{warm: true, iterations: p.Iterations})
	return fmt.Errorf("gpu: fit: %w", als.ErrNoWarmStart)
}

// TestRankingWarmStartRefused: when the solver's FitFrom answers
// als.ErrNoWarmStart, the retrain trains the ranking model cold with all
// of Ranking's iterations, publishes it, and records no warm start.
func TestRankingWarmStartRefused(t *testing.T) {
	ctx := t.Context()
	movies, rs := world(t)
	cfg := warmConfig()
	s := refuser{&warmRecorder{cpu: cpu.New(1)}}
	e, err := engine.New(cfg, s, movies, rs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Retrain(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AddRatings(ctx, 3, []engine.RatingInput{{Movie: 39, Value: 4}}); err != nil {
		t.Fatal(err)
	}
	snap, err := e.Retrain(ctx)
	if err != nil {
		t.Fatalf("Retrain() after a refused warm start = %v", err)
	}
	want := []warmFit{{iterations: 6}, {warm: true, iterations: 2}, {iterations: 6}}
	if got := s.fits; !slices.EqualFunc(got, want, func(a, b warmFit) bool { return a.warm == b.warm && a.iterations == b.iterations }) {
		t.Errorf("ranking fits %+v, want a cold one, a refused warm one and a cold one of 6 iterations", got)
	}
	if snap.Ranker == nil || snap.DataVersion != e.Snapshot().DataVersion {
		t.Errorf("Retrain() published %+v, want the new ranking model", snap)
	}
	hist, err := e.Trainings(ctx, 1)
	if err != nil || len(hist) != 1 || len(hist[0].Models) != 2 {
		t.Fatalf("Trainings() = %+v, %v", hist, err)
	}
	if m := hist[0].Models[1]; m.WarmStart != 0 || len(m.Iterations) != 6 {
		t.Errorf("history: ranking WarmStart %d with %d iterations, want 0 and 6", m.WarmStart, len(m.Iterations))
	}
}
