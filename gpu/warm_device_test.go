//go:build cuda

package gpu_test

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"movierec/als"
	"movierec/als/alstest"
	"movierec/cpu"
)

// TestDeviceFitFrom checks the device's warm start against the CPU's
// (cpu.Solver.FitFrom), from a model trained on fewer users and items (so
// that the start has rows to copy and rows to draw): with no iterations
// the device returns the start as uploaded, bit for bit; after one
// iteration of the exact solver its factors are within 1e-3 relative of
// the CPU's (TestImplicitVersusCPU's bound) and far from a cold fit's;
// after three iterations the training error is within 0.5% of the CPU's
// (TestTenIterations' and TestImplicitVersusCPU's bound), and for the
// implicit objective the loss within 0.5% (TestImplicitCGVersusCPU's). A
// start of another rank is refused with als.ErrInvalidParams.
func TestDeviceFitFrom(t *testing.T) {
	d := newDevice(t)
	defer d.Close()
	c := cpu.New(0)
	defer c.Close()
	r, _ := alstest.Synthetic(3000, 1200, 120_000, 10, 0.3, 27)
	// The published model's ratings: the first users and items only.
	prev, _ := alstest.Synthetic(2800, 1100, 100_000, 10, 0.3, 27)
	implicitCG := alstest.ImplicitParams(64, 3, 0.1, 1, 1, 0.75)
	implicitCG.Solver = als.CG
	for _, tc := range []struct {
		name string
		p    als.Params
	}{
		{"explicit", als.Params{Rank: 32, Iterations: 3, Lambda: 0.1, Seed: 8}},
		{"explicit with bias", als.Params{Rank: 64, Iterations: 3, Lambda: 0.1, Seed: 8, Bias: true}},
		{"implicit", alstest.ImplicitParams(64, 3, 0.1, 1, 1, 0.75)},
		{"implicit cg", implicitCG},
		{"implicit rank 128", alstest.ImplicitParams(128, 3, 0.1, 1, 1, 0.75)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			warm := p
			warm.Iterations = 10
			var from als.Model
			if err := c.Fit(t.Context(), &from, prev, warm, nil); err != nil {
				t.Fatalf("cpu Fit(%v) = %v", warm, err)
			}

			zero := p
			zero.Iterations = 0
			var g0, c0 als.Model
			if err := d.FitFrom(t.Context(), &g0, &from, r, zero, nil); err != nil {
				t.Fatalf("device FitFrom(%v) = %v", zero, err)
			}
			if err := c.FitFrom(t.Context(), &c0, &from, r, zero, nil); err != nil {
				t.Fatalf("cpu FitFrom(%v) = %v", zero, err)
			}
			if diff := cmp.Diff(&c0, &g0); diff != "" {
				t.Errorf("FitFrom with no iterations: device differs from cpu (-cpu +device):\n%s", diff)
			}

			if p.Solver == als.Cholesky {
				one := p
				one.Iterations = 1
				var g1, c1, cold als.Model
				if err := d.FitFrom(t.Context(), &g1, &from, r, one, nil); err != nil {
					t.Fatalf("device FitFrom(%v) = %v", one, err)
				}
				if err := c.FitFrom(t.Context(), &c1, &from, r, one, nil); err != nil {
					t.Fatalf("cpu FitFrom(%v) = %v", one, err)
				}
				if diff := alstest.MaxRelDiff(&g1, &c1); diff > 1e-3 {
					t.Errorf("one iteration: device factors differ from the CPU's by %.3g relative, want ≤ 1e-3", diff)
				}
				if err := d.Fit(t.Context(), &cold, r, one, nil); err != nil {
					t.Fatalf("device Fit(%v) = %v", one, err)
				}
				if diff := alstest.MaxRelDiff(&g1, &cold); diff < 1e-2 {
					t.Errorf("one iteration: FitFrom within %.3g of a cold Fit: the start was not used", diff)
				}
			}

			var gm, cm als.Model
			var its []als.Iteration
			if err := d.FitFrom(t.Context(), &gm, &from, r, p, func(it als.Iteration) { its = append(its, it) }); err != nil {
				t.Fatalf("device FitFrom(%v) = %v", p, err)
			}
			if err := c.FitFrom(t.Context(), &cm, &from, r, p, nil); err != nil {
				t.Fatalf("cpu FitFrom(%v) = %v", p, err)
			}
			if len(its) != p.Iterations {
				t.Fatalf("%d progress events, want %d", len(its), p.Iterations)
			}
			errOf := als.RMSE
			if p.Objective == als.Implicit {
				errOf = als.PreferenceRMSE
				gl, cl := als.ImplicitLoss(&gm, r, p), als.ImplicitLoss(&cm, r, p)
				if math.Abs(gl-cl) > 0.005*math.Abs(cl) {
					t.Errorf("implicit loss after %d warm iterations: device %.6g, cpu %.6g, want within 0.5%%", p.Iterations, gl, cl)
				}
			}
			if g, want := errOf(&gm, r), errOf(&cm, r); math.Abs(g-want) > 0.005*want {
				t.Errorf("training error after %d warm iterations: device %.5f, cpu %.5f, want within 0.5%%", p.Iterations, g, want)
			}
			for _, it := range its {
				if it.FailedRows != 0 {
					t.Errorf("iteration %d: %d rows failed in float32, want none", it.N, it.FailedRows)
				}
			}

			other := p
			other.Rank = p.Rank / 2
			if err := d.FitFrom(t.Context(), &gm, &from, r, other, nil); !errors.Is(err, als.ErrInvalidParams) {
				t.Errorf("FitFrom with a start of another rank = %v, want ErrInvalidParams", err)
			}
		})
	}
}
