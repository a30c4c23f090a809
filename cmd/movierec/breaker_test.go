package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"movierec/als"
	"movierec/als/alstest"
	"movierec/gpu"
)

func TestBreakerBackoff(t *testing.T) {
	now := time.Unix(1000, 0)
	b := newBreaker(func() time.Time { return now })
	if ok, _ := b.allow(); !ok {
		t.Fatalf("new breaker allow() = false, want true")
	}
	for i, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
		16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour} {
		if got := b.fail(); got != want {
			t.Fatalf("failure %d: fail() = %v, want %v", i+1, got, want)
		}
		now = now.Add(want - time.Second)
		if ok, wait := b.allow(); ok || wait != time.Second {
			t.Fatalf("failure %d: allow() %v before the backoff ends = %t, %v; want false, 1s", i+1, want-time.Second, ok, wait)
		}
		now = now.Add(time.Second)
		if ok, _ := b.allow(); !ok {
			t.Fatalf("failure %d: allow() after the backoff = false, want true (half open)", i+1)
		}
	}
	b.succeed()
	if ok, _ := b.allow(); !ok {
		t.Fatalf("allow() after succeed = false, want true")
	}
	if got := b.fail(); got != time.Minute {
		t.Errorf("fail() after succeed = %v, want the base backoff %v", got, time.Minute)
	}
}

// fakeSolver is an als.Solver whose Fit is a function field.
type fakeSolver struct {
	fit   func(ctx context.Context, dst *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error
	calls int
}

var _ als.Solver = (*fakeSolver)(nil)

func (f *fakeSolver) Fit(ctx context.Context, dst *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	f.calls++
	return f.fit(ctx, dst, r, p, progress)
}

func (f *fakeSolver) Close() error { return nil }

func TestFallbackCircuitBreaker(t *testing.T) {
	r, _ := alstest.Synthetic(30, 20, 200, 2, 0.1, 1)
	p := als.Params{Rank: 2, Iterations: 1, Lambda: 0.1, Seed: 1}
	gpuErr := fmt.Errorf("%w: device lost", gpu.ErrWorker)
	gpuFails := true
	primary := &fakeSolver{fit: func(_ context.Context, dst *als.Model, r *als.Ratings, p als.Params, _ func(als.Iteration)) error {
		if gpuFails {
			return gpuErr
		}
		als.Prepare(dst, r, p)
		return nil
	}}
	secondary := &fakeSolver{fit: func(_ context.Context, dst *als.Model, r *als.Ratings, p als.Params, _ func(als.Iteration)) error {
		als.Prepare(dst, r, p)
		return nil
	}}
	now := time.Unix(1000, 0)
	f := newFallback(primary, secondary, slog.New(slog.DiscardHandler))
	f.breaker.now = func() time.Time { return now }
	reasons := map[string]int{}
	f.onFallback = func(reason string) { reasons[reason]++ }

	fit := func(step string, wantPrimary, wantSecondary int, wantName string) {
		t.Helper()
		var m als.Model
		if err := f.Fit(t.Context(), &m, r, p, nil); err != nil {
			t.Fatalf("%s: Fit() = %v", step, err)
		}
		if primary.calls != wantPrimary || secondary.calls != wantSecondary {
			t.Errorf("%s: GPU tried %d times, CPU %d; want %d and %d", step, primary.calls, secondary.calls, wantPrimary, wantSecondary)
		}
		if f.Name() != wantName {
			t.Errorf("%s: Name() = %q, want %q", step, f.Name(), wantName)
		}
	}
	fit("first failure", 1, 1, "cpu")
	fit("breaker open", 1, 2, "cpu")
	now = now.Add(30 * time.Second)
	fit("still open", 1, 3, "cpu")
	now = now.Add(31 * time.Second)
	fit("half open, fails again", 2, 4, "cpu")
	now = now.Add(time.Minute + 59*time.Second)
	fit("open for 2 minutes", 2, 5, "cpu")
	now = now.Add(time.Second)
	gpuFails = false
	fit("half open, succeeds", 3, 5, "cuda")
	fit("closed", 4, 5, "cuda")
	if want := map[string]int{"failed": 2, "circuit_open": 3}; fmt.Sprint(reasons) != fmt.Sprint(want) {
		t.Errorf("fall-backs by reason = %v, want %v", reasons, want)
	}
}

// TestFallbackOnStalledWorker runs the untagged worker in its hanging test
// mode: the client's watchdog kills it, the CPU trains, and the fall-back is
// counted as "stalled".
func TestFallbackOnStalledWorker(t *testing.T) {
	worker := untaggedWorker(t)
	t.Setenv("MOVIEREC_WORKER_STALL_AFTER", "1")
	client, err := gpu.StartWorkerWith(t.Context(), worker, gpu.WorkerOptions{WatchdogFloor: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("StartWorkerWith() = %v", err)
	}
	cpuS := &fakeSolver{fit: func(ctx context.Context, dst *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
		return cpuSolverFor(t).Fit(ctx, dst, r, p, progress)
	}}
	f := newFallback(client, cpuS, slog.New(slog.DiscardHandler))
	defer f.Close()
	reasons := map[string]int{}
	f.onFallback = func(reason string) { reasons[reason]++ }
	r, _ := alstest.Synthetic(50, 40, 600, 3, 0.1, 1)
	p := als.Params{Rank: 4, Iterations: 3, Lambda: 0.1, Seed: 1}
	var m als.Model
	if err := f.Fit(t.Context(), &m, r, p, nil); err != nil {
		t.Fatalf("Fit() = %v", err)
	}
	if f.Name() != "cpu" || reasons["stalled"] != 1 {
		t.Errorf("after a stalled worker: trained by %q, fall-backs %v; want cpu and one stalled", f.Name(), reasons)
	}
	if rmse := als.RMSE(&m, r); !(rmse > 0 && rmse < 1) {
		t.Errorf("RMSE after Fit = %v, want a trained model", rmse)
	}
}

func cpuSolverFor(t *testing.T) als.Solver {
	t.Helper()
	s, _, err := newSolver(t.Context(), modelFlags{backend: "cpu", workers: 1}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("newSolver(cpu) = %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// warmFake is a fakeSolver that can also start from a model: fitFrom is
// its FitFrom, and froms records each FitFrom's start.
type warmFake struct {
	fakeSolver
	fitFrom func(ctx context.Context, dst, from *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error
	froms   []*als.Model
}

var _ als.WarmSolver = (*warmFake)(nil)

func (f *warmFake) FitFrom(ctx context.Context, dst, from *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	f.froms = append(f.froms, from)
	return f.fitFrom(ctx, dst, from, r, p, progress)
}

// TestFallbackFitFrom: the fall-back's FitFrom starts from the same model
// on either backend: the GPU's FitFrom when it trains, the CPU's FitFrom
// (never a cold Fit) when the GPU fails or the breaker is open; a GPU that
// cannot start from a model (als.ErrNoWarmStart) gets that error back to
// the caller, which fits cold, without a fall-back or a breaker trip.
func TestFallbackFitFrom(t *testing.T) {
	r, _ := alstest.Synthetic(30, 20, 200, 2, 0.1, 1)
	p := als.Params{Rank: 2, Iterations: 1, Lambda: 0.1, Seed: 1}
	from := &als.Model{}
	als.Prepare(from, r, als.Params{Rank: 2, Seed: 9})
	prepareFrom := func(_ context.Context, dst, from *als.Model, r *als.Ratings, p als.Params, _ func(als.Iteration)) error {
		als.PrepareFrom(dst, r, p, from)
		return nil
	}
	prepare := func(_ context.Context, dst *als.Model, r *als.Ratings, p als.Params, _ func(als.Iteration)) error {
		als.Prepare(dst, r, p)
		return nil
	}
	fails := func(err error) func(context.Context, *als.Model, *als.Model, *als.Ratings, als.Params, func(als.Iteration)) error {
		return func(context.Context, *als.Model, *als.Model, *als.Ratings, als.Params, func(als.Iteration)) error {
			return err
		}
	}
	for _, tc := range []struct {
		name                   string
		gpu                    error // what the GPU's FitFrom returns; nil: it trains
		open                   bool  // the breaker is open
		offset                 float64
		wantErr                error
		wantGPU, wantCPU       int // FitFrom calls
		wantName, wantFallback string
		wantOpen               bool // the breaker keeps the GPU off after the call
	}{
		{name: "gpu trains", wantGPU: 1, wantName: "cuda"},
		{name: "gpu fails", gpu: fmt.Errorf("%w: device lost", gpu.ErrWorker), wantGPU: 1, wantCPU: 1, wantName: "cpu", wantFallback: "failed", wantOpen: true},
		{name: "breaker open", open: true, wantCPU: 1, wantName: "cpu", wantFallback: "circuit_open", wantOpen: true},
		{name: "old worker", gpu: fmt.Errorf("gpu: fit: %w", als.ErrNoWarmStart), wantErr: als.ErrNoWarmStart, wantGPU: 1, wantName: "cuda"},
		// The CUDA backend has no ridge offset: the CPU trains, no failure.
		{name: "ridge offset", offset: 5, wantCPU: 1, wantName: "cpu"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			primary := &warmFake{fakeSolver: fakeSolver{fit: prepare}, fitFrom: prepareFrom}
			if tc.gpu != nil {
				primary.fitFrom = fails(tc.gpu)
			}
			secondary := &warmFake{fakeSolver: fakeSolver{fit: prepare}, fitFrom: prepareFrom}
			f := newFallback(primary, secondary, slog.New(slog.DiscardHandler))
			if tc.open {
				f.breaker.fail()
			}
			var reasons []string
			f.onFallback = func(reason string) { reasons = append(reasons, reason) }
			var m als.Model
			p := p
			p.RegOffset = tc.offset
			err := f.FitFrom(t.Context(), &m, from, r, p, nil)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("FitFrom() = %v, want %v", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatalf("FitFrom() = %v", err)
			} else if !slices.Equal(m.UserFactors, from.UserFactors) {
				t.Error("FitFrom's model does not start from the given one")
			}
			if len(primary.froms) != tc.wantGPU || len(secondary.froms) != tc.wantCPU || primary.calls+secondary.calls != 0 {
				t.Errorf("FitFrom on the GPU %d times, on the CPU %d, Fit %d; want %d, %d and no Fit",
					len(primary.froms), len(secondary.froms), primary.calls+secondary.calls, tc.wantGPU, tc.wantCPU)
			}
			for _, s := range append(primary.froms, secondary.froms...) {
				if s != from {
					t.Error("a backend got another start than the caller's")
				}
			}
			if f.Name() != tc.wantName {
				t.Errorf("Name() = %q, want %q", f.Name(), tc.wantName)
			}
			if got := strings.Join(reasons, ","); got != tc.wantFallback {
				t.Errorf("fall-backs %q, want %q", got, tc.wantFallback)
			}
			if ok, _ := f.breaker.allow(); ok == tc.wantOpen {
				t.Errorf("after the call the breaker allows the GPU: %t, want %t", ok, !tc.wantOpen)
			}
		})
	}
}
