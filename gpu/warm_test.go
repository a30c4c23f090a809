package gpu_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"movierec/als"
	"movierec/als/alstest"
	"movierec/cpu"
	"movierec/engine"
	"movierec/gpu"
)

// TestClientFitFrom checks the warm start through the worker: FitFrom
// sends the start in the Job (at least its factors' bytes go out) and
// returns the worker's model, which equals the CPU's FitFrom from the same
// start, bit for bit (the untagged worker trains with package cpu) and
// differs from a cold fit; a start with fewer users and items than the
// ratings is completed as als.PrepareFrom does; the start is only read.
func TestClientFitFrom(t *testing.T) {
	c := start(t)
	r, _ := alstest.Synthetic(300, 200, 6000, 4, 0.3, 11)
	prev, _ := alstest.Synthetic(280, 190, 5000, 4, 0.3, 12)
	rankCG := alstest.ImplicitParams(6, 2, 0.1, 1, 1, 0.75)
	rankCG.Solver, rankCG.CGSteps = als.CG, 2
	for _, tc := range []struct {
		name string
		p    als.Params
		on   *als.Ratings // the ratings the start was trained on
	}{
		{"explicit", als.Params{Rank: 5, Iterations: 2, Lambda: 0.1, Seed: 3}, r},
		{"explicit with bias", als.Params{Rank: 7, Iterations: 2, Lambda: 0.05, Seed: 4, Bias: true}, r},
		{"implicit cg", rankCG, r},
		{"fewer users and items", rankCG, prev},
		{"fewer users and items with bias", als.Params{Rank: 4, Iterations: 1, Lambda: 0.1, Seed: 5, Bias: true}, prev},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.p
			q.Iterations, q.Seed = 6, q.Seed+100 // a start unlike Prepare's
			from := cpuFit(t, tc.on, q)
			before := from.Clone()

			sent := c.SentBytes()
			var got als.Model
			var its []als.Iteration
			if err := c.FitFrom(t.Context(), &got, from, r, tc.p, func(it als.Iteration) { its = append(its, it) }); err != nil {
				t.Fatalf("FitFrom(%v) = %v", tc.p, err)
			}
			if n, init := c.SentBytes()-sent, uint64(4*tc.p.Rank*(r.NumUsers+r.NumItems)); n < init {
				t.Errorf("FitFrom sent %d bytes, less than the start's factors (%d)", n, init)
			}
			if len(its) != tc.p.Iterations {
				t.Errorf("%d progress reports, want %d", len(its), tc.p.Iterations)
			}
			var want als.Model
			if err := cpu.New(1).FitFrom(t.Context(), &want, from, r, tc.p, nil); err != nil {
				t.Fatalf("cpu FitFrom(%v) = %v", tc.p, err)
			}
			if diff := cmp.Diff(&want, &got); diff != "" {
				t.Errorf("FitFrom(%v) through the worker differs from the CPU's (-cpu +worker):\n%s", tc.p, diff)
			}
			if cmp.Equal(cpuFit(t, r, tc.p), &got) {
				t.Errorf("FitFrom(%v) equals a cold fit: the start was not used", tc.p)
			}
			if diff := cmp.Diff(before, from); diff != "" {
				t.Errorf("FitFrom changed its start (-before +after):\n%s", diff)
			}
		})
	}

	// A start that does not suit the parameters: refused before sending.
	p := als.Params{Rank: 5, Iterations: 2, Lambda: 0.1, Seed: 3}
	other := cpuFit(t, r, als.Params{Rank: 4, Iterations: 1, Lambda: 0.1, Seed: 3})
	sent := c.SentBytes()
	var m als.Model
	if err := c.FitFrom(t.Context(), &m, other, r, p, nil); !errors.Is(err, als.ErrInvalidParams) {
		t.Errorf("FitFrom with a start of rank 4 for rank 5 = %v, want ErrInvalidParams", err)
	}
	if n := c.SentBytes() - sent; n != 0 {
		t.Errorf("FitFrom with an unsuitable start sent %d bytes, want none", n)
	}
}

// TestClientFitFromOldWorker runs a worker that refuses Init, as workers
// built before warm starts do: FitFrom returns als.ErrNoWarmStart without
// a model and keeps the worker (it is not broken); the next FitFrom says
// so at once, sending nothing; and the worker still holds the ratings it
// held before the refused job, so the cold Fit that follows sends a Delta
// from them and returns the cold model.
func TestClientFitFromOldWorker(t *testing.T) {
	t.Setenv("MOVIEREC_WORKER_NO_INIT", "1")
	c := start(t)
	base, _ := alstest.Synthetic(2000, 500, 60_000, 2, 0.3, 9)
	p := als.Params{Rank: 4, Iterations: 2, Lambda: 0.1, Seed: 3}
	var m als.Model
	sent := c.SentBytes()
	if err := c.Fit(t.Context(), &m, base, p, nil); err != nil {
		t.Fatalf("Fit() = %v", err)
	}
	full := c.SentBytes() - sent
	pid := gpu.WorkerPID(t, c)

	next := mutate(base, 3, 1, 0, 42)
	for i, want := range []string{"the worker refuses", "the client remembers"} {
		sent := c.SentBytes()
		var got als.Model
		err := c.FitFrom(t.Context(), &got, &m, next, p, nil)
		if !errors.Is(err, als.ErrNoWarmStart) {
			t.Fatalf("%s: FitFrom() = %v, want ErrNoWarmStart", want, err)
		}
		if got.UserFactors != nil {
			t.Errorf("%s: FitFrom wrote a model", want)
		}
		if n := c.SentBytes() - sent; i == 1 && n != 0 {
			t.Errorf("%s: FitFrom sent %d bytes, want none", want, n)
		}
		if got := gpu.WorkerPID(t, c); got != pid {
			t.Errorf("%s: worker %d replaced by %d", want, pid, got)
		}
	}

	sent = c.SentBytes()
	var got als.Model
	if err := c.Fit(t.Context(), &got, next, p, nil); err != nil {
		t.Fatalf("Fit() after the refusal = %v", err)
	}
	if n := c.SentBytes() - sent; n*100 > full {
		t.Errorf("Fit after the refused FitFrom sent %d bytes, want a delta (full upload %d)", n, full)
	}
	if diff := cmp.Diff(cpuFit(t, next, p), &got); diff != "" {
		t.Errorf("Fit after the refusal differs from the CPU's (-cpu +worker):\n%s", diff)
	}
}

// TestEngineWarmStartsThroughWorker: on the worker backend the engine's
// retrain after a POST starts the ranking model from the published one
// (the history records the warm start and its iterations), and the
// worker gets the ratings as a Delta with it.
func TestEngineWarmStartsThroughWorker(t *testing.T) {
	ms, rs := engineWorld(400, 120)
	c := start(t)
	cfg := engine.Config{
		Params:                als.Params{Rank: 4, Iterations: 2, Lambda: 0.1, Seed: 5},
		Ranking:               alstest.ImplicitParams(4, 6, 0.5, 1, 0.5, 0),
		RankingWarmIterations: 2,
		MinRatings:            1,
		Scale:                 engine.MovieLensScale,
	}
	e, err := engine.New(cfg, c, ms, rs)
	if err != nil {
		t.Fatal(err)
	}
	first, err := e.Retrain(t.Context())
	if err != nil {
		t.Fatalf("Retrain() = %v", err)
	}
	if _, err := e.AddRatings(t.Context(), 9999, []engine.RatingInput{{Movie: 3, Value: 4}, {Movie: 7, Value: 2.5}}); err != nil {
		t.Fatalf("AddRatings() = %v", err)
	}
	deltas := c.DeltaJobs()
	if _, err := e.Retrain(t.Context()); err != nil {
		t.Fatalf("Retrain() = %v", err)
	}
	hist, err := e.Trainings(t.Context(), 1)
	if err != nil || len(hist) != 1 || len(hist[0].Models) != 2 {
		t.Fatalf("Trainings() = %+v, %v", hist, err)
	}
	if m := hist[0].Models[1]; m.WarmStart != first.DataVersion || len(m.Iterations) != cfg.RankingWarmIterations {
		t.Errorf("ranking model after a POST: warm start from version %d in %d iterations, want %d in %d",
			m.WarmStart, len(m.Iterations), first.DataVersion, cfg.RankingWarmIterations)
	}
	if got := c.DeltaJobs() - deltas; got != 2 {
		t.Errorf("the retrain after a POST sent %d jobs as a Delta, want both models'", got)
	}
}
