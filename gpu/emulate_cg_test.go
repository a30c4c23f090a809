package gpu

import (
	"fmt"
	"math"
	"testing"

	"movierec/als"
	"movierec/als/alstest"
)

// referenceCGHalf runs steps of conjugate gradient in float64 on every
// item row's normal equations (explicit objective), from the item factors
// in m, against m's user factors: what als_cg_* computes, without float32
// rounding.
func referenceCGHalf(m *als.Model, r *als.Ratings, p als.Params, steps int) {
	k, ka := p.Rank, p.AugmentedRank()
	A := make([]float64, ka*ka)
	b := make([]float64, ka)
	y := make([]float64, ka)
	x := make([]float64, ka)
	for row := range r.NumItems {
		lo, hi := r.ItemPtr[row], r.ItemPtr[row+1]
		xo := m.ItemFactors[row*k : (row+1)*k]
		if hi == lo {
			clear(xo)
			if p.Bias {
				m.ItemBias[row] = 0
			}
			continue
		}
		clear(A)
		clear(b)
		for e := lo; e < hi; e++ {
			j := int(r.ItemIdx[e])
			for c := range k {
				y[c] = float64(m.UserFactors[j*k+c])
			}
			t := float64(r.ItemVal[e])
			if p.Bias {
				y[k] = 1
				t -= float64(m.Mean) + float64(m.UserBias[j])
			}
			for a := range ka {
				for c := 0; c <= a; c++ {
					A[a*ka+c] += y[a] * y[c]
				}
				b[a] += t * y[a]
			}
		}
		for a := range ka {
			A[a*ka+a] += p.Lambda * float64(hi-lo)
		}
		for c := range k {
			x[c] = float64(xo[c])
		}
		if p.Bias {
			x[k] = float64(m.ItemBias[row])
		}
		referenceCG(A, b, x, steps)
		for c := range k {
			xo[c] = float32(x[c])
		}
		if p.Bias {
			m.ItemBias[row] = float32(x[k])
		}
	}
}

// referenceCG takes steps steps of conjugate gradient in float64 on
// A x = b from x (updated in place), for A given by its lower triangle in
// row-major ka×ka storage (A[i·ka+l], l ≤ i; the upper part is not read),
// ka = len(x): what cg_solve in als.cu computes, without float32 rounding.
func referenceCG(A, b, x []float64, steps int) {
	ka := len(x)
	res := make([]float64, ka)
	dir := make([]float64, ka)
	q := make([]float64, ka)
	matvec := func(dst, v []float64) {
		for i := range ka {
			var s float64
			for l := range ka {
				s += A[max(i, l)*ka+min(i, l)] * v[l]
			}
			dst[i] = s
		}
	}
	dot := func(a, b []float64) float64 {
		var s float64
		for i := range a {
			s += a[i] * b[i]
		}
		return s
	}
	matvec(q, x)
	for i := range ka {
		res[i] = b[i] - q[i]
		dir[i] = res[i]
	}
	rr := dot(res, res)
	for s := 0; s < steps && rr > 0; s++ {
		matvec(q, dir)
		alpha := rr / dot(dir, q)
		for i := range ka {
			x[i] += alpha * dir[i]
			res[i] -= alpha * q[i]
		}
		rn := dot(res, res)
		for i := range ka {
			dir[i] = res[i] + rn/rr*dir[i]
		}
		rr = rn
	}
}

// TestEmulatedCGKernel runs the emulated als_cg_* kernels over one item
// half and compares them with the same CG steps in float64, for ranks that
// exercise one tile, partial tiles, several passes and both kernels.
func TestEmulatedCGKernel(t *testing.T) {
	small, _ := alstest.Synthetic(400, 60, 6000, 5, 0.3, 61)
	tiny, _ := alstest.Synthetic(100, 10, 600, 5, 0.3, 62)
	for _, k := range []int{1, 3, 8, 31, 64, 100, 147, 200} {
		for _, bias := range []bool{false, true} {
			t.Run(fmt.Sprintf("rank%d/bias=%t", k, bias), func(t *testing.T) {
				if (testing.Short() || raceEnabled) && k > 31 {
					t.Skip("slow emulation: skipped with -short and -race")
				}
				r := small
				if k > 64 {
					r = tiny
				}
				p := als.Params{Rank: k, Iterations: 1, Lambda: 0.1, Seed: 3, Bias: bias, Solver: als.CG}
				var want als.Model
				als.Prepare(&want, r, p)
				got := want.Clone()
				referenceCGHalf(&want, r, p, CGSteps)
				plan := planSolveCG(p.AugmentedRank(), 1024, CGSteps)
				failed := emulateSolve(t, plan, 3, r.ItemPtr, r.ItemIdx, r.ItemVal, got.UserFactors, got.UserBias,
					got.ItemFactors, got.ItemBias, k, p.AugmentedRank(), float32(p.Lambda), got.Mean, nil)
				if len(failed) > 0 {
					t.Errorf("emulated %v: %d failed rows, want none", plan, len(failed))
				}
				if d := alstest.MaxRelDiff(got, &want); d > 2e-3 {
					t.Errorf("emulated %v differs from float64 CG by %.3g relative, want ≤ 2e-3", plan, d)
				}
			})
		}
	}
}

// emulatedFit trains m (prepared) for p.Iterations iterations through the
// emulated kernels of plan, item half then user half.
func emulatedFit(t *testing.T, m *als.Model, r *als.Ratings, p als.Params, plan solvePlan) (failed int) {
	t.Helper()
	k, ka := p.Rank, p.AugmentedRank()
	for range p.Iterations {
		failed += len(emulateSolve(t, plan, 3, r.ItemPtr, r.ItemIdx, r.ItemVal, m.UserFactors, m.UserBias,
			m.ItemFactors, m.ItemBias, k, ka, float32(p.Lambda), m.Mean, nil))
		failed += len(emulateSolve(t, plan, 3, r.UserPtr, r.UserIdx, r.UserVal, m.ItemFactors, m.ItemBias,
			m.UserFactors, m.UserBias, k, ka, float32(p.Lambda), m.Mean, nil))
	}
	return failed
}

// TestEmulatedCGFit trains 10 iterations with the emulated CG kernels and
// with the exact float64 reference: the train RMSE agrees within 0.5%
// (issue 13's tolerance for the GPU's CG solver).
func TestEmulatedCGFit(t *testing.T) {
	r, _ := alstest.Synthetic(300, 120, 6000, 6, 0.3, 63)
	for _, tc := range []struct {
		rank int
		bias bool
	}{{8, false}, {8, true}, {24, false}, {24, true}} {
		t.Run(fmt.Sprintf("rank%d/bias=%t", tc.rank, tc.bias), func(t *testing.T) {
			if raceEnabled && tc.rank > 8 {
				t.Skip("slow emulation under -race")
			}
			p := als.Params{Rank: tc.rank, Iterations: 10, Lambda: 0.05, Seed: 4, Bias: tc.bias, Solver: als.CG}
			var exact als.Model
			alstest.Reference(&exact, r, p)
			var got als.Model
			als.Prepare(&got, r, p)
			if n := emulatedFit(t, &got, r, p, planSolveCG(p.AugmentedRank(), 1024, CGSteps)); n > 0 {
				t.Errorf("%d failed rows, want none", n)
			}
			want, have := als.RMSE(&exact, r), als.RMSE(&got, r)
			rel := math.Abs(have-want) / want
			t.Logf("train RMSE after 10 iterations: CG (%d steps) %.5f, exact %.5f (%.3f%%)", CGSteps, have, want, 100*rel)
			if rel > 0.005 {
				t.Errorf("train RMSE after 10 iterations: CG %.5f, exact %.5f: %.2f%% apart, want ≤ 0.5%%", have, want, 100*rel)
			}
		})
	}
}

// TestEmulatedOptInShared runs the shared-memory kernels (Cholesky and CG)
// at ranks that need the opt-in shared memory (> 48 KiB of Gram), as
// planFor gives them on an sm_90 device, against the float64 references.
func TestEmulatedOptInShared(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("slow emulation: skipped with -short and -race")
	}
	r, _ := alstest.Synthetic(100, 10, 600, 5, 0.3, 64)
	for _, k := range []int{147, 256} {
		for _, solver := range []als.Method{als.Cholesky, als.CG} {
			t.Run(fmt.Sprintf("rank%d/%s", k, solver), func(t *testing.T) {
				p := als.Params{Rank: k, Iterations: 1, Lambda: 0.1, Seed: 3, Bias: true, Solver: solver}
				plan := planFor(p, 1024, 227<<10)
				if !plan.sharedKernel() {
					t.Fatalf("planFor(%v) = %v, want a shared-memory kernel", p, plan)
				}
				var want als.Model
				als.Prepare(&want, r, p)
				got := want.Clone()
				if solver == als.CG {
					referenceCGHalf(&want, r, p, CGSteps)
				} else {
					alstest.ReferenceHalf(&want, r, p.Lambda, alstest.Items)
				}
				emulateSolve(t, plan, 3, r.ItemPtr, r.ItemIdx, r.ItemVal, got.UserFactors, got.UserBias,
					got.ItemFactors, got.ItemBias, k, p.AugmentedRank(), float32(p.Lambda), got.Mean, nil)
				if d := alstest.MaxRelDiff(got, &want); d > 2e-3 {
					t.Errorf("emulated %v differs from the reference by %.3g relative", plan, d)
				}
			})
		}
	}
}
