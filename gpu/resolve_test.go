package gpu

import (
	"fmt"
	"testing"

	"movierec/als"
	"movierec/als/alstest"
)

// itemHalf is the hostHalf of m's item half (items against the users).
func itemHalf(m *als.Model, r *als.Ratings, p als.Params) hostHalf {
	return hostHalf{ptr: r.ItemPtr, idx: r.ItemIdx, val: r.ItemVal, y: m.UserFactors, yb: m.UserBias,
		nfixed: r.NumUsers, mu: m.Mean, p: p}
}

// resolveAll re-solves every item of m in place with resolveRows.
func resolveAll(t *testing.T, m *als.Model, r *als.Ratings, p als.Params, rows []int32) {
	t.Helper()
	k := p.Rank
	dst := make([]float32, len(rows)*k)
	var dstBias []float32
	if p.Bias {
		dstBias = make([]float32, len(rows))
	}
	if err := resolveRows(dst, dstBias, itemHalf(m, r, p), rows); err != nil {
		t.Fatalf("resolveRows() = %v", err)
	}
	for i, row := range rows {
		copy(m.ItemFactors[int(row)*k:(int(row)+1)*k], dst[i*k:(i+1)*k])
		if p.Bias {
			m.ItemBias[row] = dstBias[i]
		}
	}
}

// TestResolveRowsMatchesReference checks the host's float64 re-solve
// against alstest's references, for every row, both objectives, with and
// without biases.
func TestResolveRowsMatchesReference(t *testing.T) {
	r, _ := alstest.Synthetic(120, 80, 2000, 4, 0.3, 51)
	all := make([]int32, r.NumItems)
	for i := range all {
		all[i] = int32(i)
	}
	for _, p := range []als.Params{
		{Rank: 6, Iterations: 1, Lambda: 0.05, Seed: 2},
		{Rank: 9, Iterations: 1, Lambda: 0.05, Seed: 2, Bias: true},
		alstest.ImplicitParams(7, 1, 0.5, 0.5, 0.3, 0.5),
	} {
		t.Run(fmt.Sprintf("%v", p), func(t *testing.T) {
			var init als.Model
			als.Prepare(&init, r, p)
			want := init.Clone()
			if p.Objective == als.Implicit {
				alstest.ReferenceImplicitHalf(want, r, p, alstest.Items)
			} else {
				alstest.ReferenceHalf(want, r, p.Lambda, alstest.Items)
			}
			got := init.Clone()
			resolveAll(t, got, r, p, all)
			if d := alstest.MaxRelDiff(got, want); d > 1e-6 {
				t.Errorf("resolveRows differs from the reference by %.3g relative, want ≤ 1e-6", d)
			}
		})
	}
}

// TestEmulatedFailedRows gives the emulated kernel a λ far below
// als.MinLambda and a fixed side whose rows are nearly parallel, so float32
// pivots fail: the kernel lists exactly the rows it zeroed, and after the
// host re-solves them in float64 no listed row is zero and each matches
// alstest.ReferenceHalf.
func TestEmulatedFailedRows(t *testing.T) {
	r, _ := alstest.Synthetic(200, 40, 2500, 4, 0.3, 52)
	for _, bias := range []bool{false, true} {
		t.Run(fmt.Sprintf("bias=%t", bias), func(t *testing.T) {
			p := als.Params{Rank: 16, Iterations: 1, Lambda: 1e-9, Seed: 3, Bias: bias}
			var init als.Model
			als.Prepare(&init, r, p)
			// Every user factor is a tiny perturbation of one vector.
			for u := range r.NumUsers {
				for c := range p.Rank {
					v := float32(3)
					if (u+c)%7 == 0 {
						v += 1e-4 * float32(u%5)
					}
					init.UserFactors[u*p.Rank+c] = v
				}
			}
			got := init.Clone()
			plan := planSolve(p.AugmentedRank(), 1024)
			failed := emulateSolve(t, plan, 3, r.ItemPtr, r.ItemIdx, r.ItemVal, got.UserFactors, got.UserBias,
				got.ItemFactors, got.ItemBias, p.Rank, p.AugmentedRank(), float32(p.Lambda), got.Mean, nil)
			if len(failed) == 0 {
				t.Fatalf("no failed rows at λ = %g with parallel factors: the test needs some", p.Lambda)
			}
			t.Logf("%d of %d rows failed in float32", len(failed), r.NumItems)
			k := p.Rank
			for _, row := range failed {
				for _, v := range got.ItemFactors[int(row)*k : (int(row)+1)*k] {
					if v != 0 {
						t.Fatalf("failed row %d is not zeroed by the kernel", row)
					}
				}
			}
			want := init.Clone()
			alstest.ReferenceHalf(want, r, p.Lambda, alstest.Items)
			resolveAll(t, got, r, p, failed)
			for _, row := range failed {
				x := got.ItemFactors[int(row)*k : (int(row)+1)*k]
				w := want.ItemFactors[int(row)*k : (int(row)+1)*k]
				nonzero := false
				for c := range x {
					nonzero = nonzero || x[c] != 0
					if d := relDiff(x[c], w[c]); d > 1e-4 {
						t.Fatalf("re-solved row %d [%d] = %v, ReferenceHalf %v", row, c, x[c], w[c])
					}
				}
				if !nonzero {
					t.Errorf("re-solved row %d is still zero", row)
				}
			}
		})
	}
}

func relDiff(a, b float32) float64 {
	d := float64(a) - float64(b)
	if d < 0 {
		d = -d
	}
	s := max(abs64(float64(a)), abs64(float64(b)), 1)
	return d / s
}

func abs64(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
