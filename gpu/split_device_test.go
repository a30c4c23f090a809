//go:build cuda

package gpu_test

import (
	"fmt"
	"math"
	"testing"

	"movierec/als"
	"movierec/als/alstest"
	"movierec/cpu"
	"movierec/gpu"
)

// The heavy-row kernels on the device (they need a GPU host; see
// solver_test.go), with the threshold forced low so that the longest rows
// of small problems are split: the same checks as TestHalfStep,
// TestTenIterations and TestImplicitVersusCPU, plus split against unsplit
// on the same device.

// setSplit sets d's split for the rest of the test and restores the
// default after it.
func setSplit(t *testing.T, d *gpu.Device, threshold, slice int) {
	t.Helper()
	if err := gpu.SetSplit(d, threshold, slice); err != nil {
		t.Fatalf("SetSplit(%d, %d) = %v", threshold, slice, err)
	}
	t.Cleanup(func() { _ = gpu.SetSplit(d, gpu.SplitThreshold, gpu.SplitSlice) })
}

// TestSplitHalfStep runs one item half with the items above 400 ratings
// split into slices of at most 150 (TestHalfStep's problem: its longest
// items have thousands) and without the split: both agree with
// alstest.ReferenceHalf as TestHalfStep requires, and with each other
// within float32 rounding, with each solver.
func TestSplitHalfStep(t *testing.T) {
	d := newDevice(t)
	defer d.Close()
	r, _ := alstest.Synthetic(4000, 800, 120_000, 10, 0.3, 21)
	for _, k := range crossRanks {
		for _, tc := range []struct {
			bias   bool
			solver als.Method
		}{{false, als.Cholesky}, {true, als.Cholesky}, {false, als.CG}, {true, als.CG}} {
			t.Run(fmt.Sprintf("rank%d/bias=%t/solver=%s", k, tc.bias, tc.solver), func(t *testing.T) {
				if testing.Short() && k > 128 {
					t.Skip("-short")
				}
				p := als.Params{Rank: k, Iterations: 1, Lambda: 0.1, Seed: 7, Bias: tc.bias, Solver: tc.solver}
				var whole, split als.Model
				setSplit(t, d, 0, 0)
				if err := d.HalfStep(t.Context(), &whole, r, p); err != nil {
					t.Fatalf("HalfStep(%v) without split = %v", p, err)
				}
				setSplit(t, d, 400, 150)
				if err := d.HalfStep(t.Context(), &split, r, p); err != nil {
					t.Fatalf("HalfStep(%v) with split = %v", p, err)
				}
				if diff := alstest.MaxRelDiff(&split, &whole); diff > 1e-4 {
					t.Errorf("HalfStep(%v): split differs from unsplit by %.3g relative, want ≤ 1e-4", p, diff)
				}
				if tc.solver == als.CG {
					return // CG's few steps are checked against the exact fit by TestSplitTenIterations
				}
				var want als.Model
				als.Prepare(&want, r, p)
				alstest.ReferenceHalf(&want, r, p.Lambda, alstest.Items)
				if diff := alstest.MaxRelDiff(&split, &want); diff > 1e-3 {
					t.Errorf("HalfStep(%v) with split differs from ReferenceHalf by %.3g relative, want ≤ 1e-3", p, diff)
				}
			})
		}
	}
}

// TestSplitTenIterations is TestTenIterations with the rows of both sides
// above 300 ratings split into slices of at most 128: the training RMSE
// after 10 iterations within 0.5% of the CPU's, no failed rows.
func TestSplitTenIterations(t *testing.T) {
	d := newDevice(t)
	defer d.Close()
	setSplit(t, d, 300, 128)
	c := cpu.New(0)
	defer c.Close()
	r, _ := alstest.Synthetic(5000, 2000, 300_000, 10, 0.3, 22)
	for _, k := range crossRanks {
		for _, tc := range []struct {
			bias   bool
			solver als.Method
		}{{false, als.Cholesky}, {true, als.Cholesky}, {false, als.CG}, {true, als.CG}} {
			t.Run(fmt.Sprintf("rank%d/bias=%t/solver=%s", k, tc.bias, tc.solver), func(t *testing.T) {
				if testing.Short() && k > 64 {
					t.Skip("-short")
				}
				p := als.Params{Rank: k, Iterations: 10, Lambda: 0.1, Seed: 8, Bias: tc.bias, Solver: tc.solver}
				var gm, cm als.Model
				var its []als.Iteration
				if err := d.Fit(t.Context(), &gm, r, p, func(it als.Iteration) { its = append(its, it) }); err != nil {
					t.Fatalf("device Fit(%v) = %v", p, err)
				}
				if err := c.Fit(t.Context(), &cm, r, p, nil); err != nil {
					t.Fatalf("cpu Fit(%v) = %v", p, err)
				}
				g, want := als.RMSE(&gm, r), als.RMSE(&cm, r)
				if math.Abs(g-want) > 0.005*want {
					t.Errorf("RMSE after 10 iterations with split: device %.5f, cpu %.5f, want within 0.5%%", g, want)
				}
				for _, it := range its {
					if it.FailedRows != 0 {
						t.Errorf("iteration %d: %d rows failed in float32 at λ = %g, want none", it.N, it.FailedRows, p.Lambda)
					}
				}
			})
		}
	}
}

// TestSplitImplicitVersusCPU is TestImplicitVersusCPU's 8-iteration check
// with the rows above 200 ratings split into slices of at most 96, for
// both solvers: the preference RMSE within 0.5% of the CPU's.
func TestSplitImplicitVersusCPU(t *testing.T) {
	d := newDevice(t)
	defer d.Close()
	setSplit(t, d, 200, 96)
	c := cpu.New(0)
	defer c.Close()
	r, _ := alstest.Synthetic(2000, 1000, 80_000, 10, 0.3, 24)
	for _, k := range []int{1, 8, 64, 128, 147, 256} {
		for _, solver := range []als.Method{als.Cholesky, als.CG} {
			t.Run(fmt.Sprintf("rank%d/solver=%s", k, solver), func(t *testing.T) {
				if testing.Short() && k > 128 {
					t.Skip("-short")
				}
				p := alstest.ImplicitParams(k, 8, 0.1, 1, 1, 0.75)
				p.Solver = solver
				var gm, cm als.Model
				if err := d.Fit(t.Context(), &gm, r, p, nil); err != nil {
					t.Fatalf("device Fit(%v) = %v", p, err)
				}
				if err := c.Fit(t.Context(), &cm, r, p, nil); err != nil {
					t.Fatalf("cpu Fit(%v) = %v", p, err)
				}
				g, want := als.PreferenceRMSE(&gm, r), als.PreferenceRMSE(&cm, r)
				if math.Abs(g-want) > 0.005*want {
					t.Errorf("preference RMSE after %d iterations with split: device %.5f, cpu %.5f, want within 0.5%%", p.Iterations, g, want)
				}
			})
		}
	}
}
