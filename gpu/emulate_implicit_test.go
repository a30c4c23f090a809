package gpu

// The implicit objective's kernels in the emulation (see emulate_test.go):
// als_gram_partial and als_gram_reduce statement by statement (with the
// shared-memory race detector), the implicit solve through emulateSolve,
// and the SSE kernels' per-rating arithmetic.

import (
	"fmt"
	"math"
	"testing"

	"movierec/als"
	"movierec/als/alstest"
	"movierec/kernels"
)

// emulateGram runs als_gram_partial over gramStripes(nrows) stripes and
// plan.Groups tile groups of Y (nrows × k), then als_gram_reduce with w0,
// and returns the packed lower triangle of w₀·G as the device leaves it in
// wgram. Every partial slot element must be written exactly once.
func emulateGram(t *testing.T, plan gramPlan, Y []float32, nrows, k int, w0 float64) []float32 {
	t.Helper()
	T, chunk := plan.Threads, plan.Chunk
	kp := (k + tileSide - 1) / tileSide * tileSide
	nt := kp / tileSide
	ntiles := nt * (nt + 1) / 2
	if plan.Groups*T < ntiles {
		t.Fatalf("%v: %d groups of %d threads for %d tiles", plan, plan.Groups, T, ntiles)
	}
	if want := plan.SharedBytes / 4; chunk*kp != want {
		t.Fatalf("kernel uses %d floats of shared memory, plan gives %d", chunk*kp, want)
	}
	stripes, per := gramStripes(nrows)
	if stripes*per < nrows || (stripes > 0 && (stripes-1)*per >= nrows) {
		t.Fatalf("gramStripes(%d) = %d stripes of %d rows", nrows, stripes, per)
	}
	n := tri(k)
	part := make([]float64, stripes*n)
	written := make([]int, stripes*n)
	for s := range stripes {
		for g := range plan.Groups {
			b := newBlock(t, chunk*kp)
			type thread struct {
				own    bool
				pi, qi int
				acc    [tileSide][tileSide]float64
			}
			th := make([]thread, T)
			for tid := range T {
				tt := g*T + tid
				th[tid].own = tt < ntiles
				if th[tid].own {
					th[tid].pi, th[tid].qi = tileCoords(tt)
				}
			}
			lo := s * per
			hi := min(lo+per, nrows)
			for c0 := lo; c0 < hi; c0 += chunk {
				cn := min(chunk, hi-c0)
				b.sync()
				for tid := range T {
					for e := tid; e < cn*kp; e += T {
						c := e / kp
						col := e - c*kp
						var v float32
						if col < k {
							v = Y[(c0+c)*k+col]
						}
						b.st(tid, e, v)
					}
				}
				b.sync()
				for tid := range T {
					h := &th[tid]
					if !h.own {
						continue
					}
					for c := 0; c < cn; c++ {
						var a, bb [tileSide]float64
						for i := range tileSide {
							a[i] = float64(b.ld(tid, h.pi*tileSide+c*kp+i))
							bb[i] = float64(b.ld(tid, h.qi*tileSide+c*kp+i))
						}
						for i := range tileSide {
							for j := range tileSide {
								h.acc[i][j] = math.FMA(a[i], bb[j], h.acc[i][j])
							}
						}
					}
				}
			}
			for tid := range T {
				h := &th[tid]
				if !h.own {
					continue
				}
				for i := range tileSide {
					P := h.pi*tileSide + i
					for j := range tileSide {
						Q := h.qi*tileSide + j
						if P < k && Q <= P {
							part[s*n+tri(P)+Q] = h.acc[i][j]
							written[s*n+tri(P)+Q]++
						}
					}
				}
			}
			if b.races > 0 {
				t.Fatalf("stripe %d, group %d: %d races", s, g, b.races)
			}
		}
	}
	for e, w := range written {
		if w != 1 {
			t.Fatalf("partial Gram element %d of slot %d written %d times", e%n, e/n, w)
		}
	}
	// als_gram_reduce: one thread per element, stripes in order.
	out := make([]float32, n)
	for e := range out {
		var sum float64
		for p := range stripes {
			sum += part[p*n+e]
		}
		out[e] = float32(w0 * sum)
	}
	return out
}

// emulateSSE returns the square root of what als_sse (preference false) or
// als_preference_sse (true) accumulates, divided by the ratings: each lane's
// dot product in float32 FMAs, errors squared and summed in float64. The
// order of the float64 sum (warp shuffles, one atomic per block) is not
// emulated; it changes the result by rounding only.
func emulateSSE(m *als.Model, r *als.Ratings, preference bool) float64 {
	if r.NNZ() == 0 {
		return 0
	}
	k := m.Rank
	var se float64
	for u := range r.NumUsers {
		x := m.User(u)
		for q := r.UserPtr[u]; q < r.UserPtr[u+1]; q++ {
			y := m.Item(int(r.UserIdx[q]))
			var s float32
			for c := range k {
				s = fmaf(x[c], y[c], s)
			}
			if m.Bias {
				s += m.Mean + m.UserBias[u] + m.ItemBias[r.UserIdx[q]]
			}
			target := float64(r.UserVal[q])
			if preference {
				target = 1
			}
			e := float64(s) - target
			se += e * e
		}
	}
	return math.Sqrt(se / float64(r.NNZ()))
}

// emulateImplicitHalf runs one implicit half as device.go's solveImplicit
// launches it: the Gram matrix of the fixed side, then the rows of side
// (with plan's kernel: Cholesky, or CG when plan.CGSteps > 0). It returns
// the kernel's failed list, as emulateSolve.
func emulateImplicitHalf(t *testing.T, plan solvePlan, gp gramPlan, slots int, m *als.Model, r *als.Ratings, p als.Params, side alstest.Side) (failed []int32) {
	t.Helper()
	k := m.Rank
	if side == alstest.Items {
		wgram := emulateGram(t, gp, m.UserFactors, m.NumUsers, k, p.Unobserved)
		return emulateSolve(t, plan, slots, r.ItemPtr, r.ItemIdx, r.ItemVal, m.UserFactors, nil, m.ItemFactors, nil,
			k, k, 0, 0, newImplicitArgs(wgram, p, m.NumUsers))
	}
	wgram := emulateGram(t, gp, m.ItemFactors, m.NumItems, k, p.Unobserved)
	return emulateSolve(t, plan, slots, r.UserPtr, r.UserIdx, r.UserVal, m.ItemFactors, nil, m.UserFactors, nil,
		k, k, 0, 0, newImplicitArgs(wgram, p, m.NumItems))
}

// TestEmulatedGram compares emulateGram with als.Gram (float64) on tables
// that span one stripe, several stripes with a short last one, and none.
func TestEmulatedGram(t *testing.T) {
	for _, tc := range []struct{ rows, k int }{{0, 3}, {1, 1}, {37, 5}, {300, 8}, {1000, 17}, {600, 64}} {
		t.Run(fmt.Sprintf("rows%d/rank%d", tc.rows, tc.k), func(t *testing.T) {
			var m als.Model
			r, _ := alstest.Synthetic(tc.rows, 3, 0, 1, 0, 1)
			als.Prepare(&m, r, als.Params{Rank: tc.k, Iterations: 1, Lambda: 1, Seed: 9})
			const w0 = 0.75
			got := emulateGram(t, planGram(tc.k, 1024), m.UserFactors, tc.rows, tc.k, w0)
			want := als.Gram(m.UserFactors, tc.k)
			for P := range tc.k {
				for Q := 0; Q <= P; Q++ {
					w := float32(w0 * want[P*tc.k+Q])
					if g := got[tri(P)+Q]; math.Abs(float64(g-w)) > 1e-6*math.Abs(float64(w))+1e-30 {
						t.Errorf("w0·G[%d][%d] = %g, want %g", P, Q, g, w)
					}
				}
			}
		})
	}
}

// implicitCases are the emulated implicit problems: every rank of the
// brief, with plain and frequency-scaled ridges, α = 0, and an unobserved
// weight above some confidences (negative corrections).
var implicitCases = []struct {
	rank int
	p    als.Params
}{
	{1, alstest.ImplicitParams(1, 1, 0.5, 1, 1, 0)},
	{2, alstest.ImplicitParams(2, 1, 0.1, 2, 0.5, 1)},
	{5, alstest.ImplicitParams(5, 1, 0.01, 0.5, 0.3, 1)},
	{8, alstest.ImplicitParams(8, 1, 0.5, 0.1, 1.3, 0)},
	{31, alstest.ImplicitParams(31, 1, 0.2, 1, 1, 0.5)},
	{64, alstest.ImplicitParams(64, 1, 0.5, 0, 0.5, 0)},
	{128, alstest.ImplicitParams(128, 1, 0.5, 1, 1, 0.5)},
	{256, alstest.ImplicitParams(256, 1, 0.5, 2, 0.7, 0.5)},
}

// TestEmulatedImplicit runs one implicit iteration through the emulated
// kernels (Gram of the users, items half, Gram of the new items, users
// half) and compares each half with alstest.ReferenceImplicitHalf, which
// forms every row's system from every row of the other side without a
// shared Gram matrix, in float64; then the emulated preference SSE with
// als.PreferenceRMSE. The plan is the one device.go computes (shared
// kernel up to k = 146, global above; several passes at 128 and 256).
func TestEmulatedImplicit(t *testing.T) {
	small, _ := alstest.Synthetic(150, 100, 3000, 3, 0.3, 41)
	tiny, _ := alstest.Synthetic(90, 60, 900, 3, 0.3, 42) // the emulation is slow at large ranks
	for _, tc := range implicitCases {
		t.Run(fmt.Sprintf("rank%d", tc.rank), func(t *testing.T) {
			if (testing.Short() || raceEnabled) && tc.rank > 64 {
				t.Skip("slow emulation: skipped with -short and -race")
			}
			r := small
			if tc.rank > 31 {
				r = tiny
			}
			p := tc.p
			plan := planImplicit(tc.rank, 1024)
			gp := planGram(tc.rank, 1024)
			var init als.Model
			als.Prepare(&init, r, p)

			got := init.Clone()
			emulateImplicitHalf(t, plan, gp, 3, got, r, p, alstest.Items)
			want := init.Clone()
			alstest.ReferenceImplicitHalf(want, r, p, alstest.Items)
			d := alstest.MaxRelDiff(got, want)
			if d > implicitTol {
				t.Errorf("emulated item half (%v) differs from ReferenceImplicitHalf by %.3g relative, want ≤ %g", plan, d, implicitTol)
			}
			t.Logf("item half, %v, %v: %.3g relative to ReferenceImplicitHalf", plan, gp, d)

			want = got.Clone()
			alstest.ReferenceImplicitHalf(want, r, p, alstest.Users)
			emulateImplicitHalf(t, plan, gp, 3, got, r, p, alstest.Users)
			d = alstest.MaxRelDiff(got, want)
			if d > implicitTol {
				t.Errorf("emulated user half (%v) differs from ReferenceImplicitHalf by %.3g relative, want ≤ %g", plan, d, implicitTol)
			}
			t.Logf("user half: %.3g relative to ReferenceImplicitHalf", d)

			if g, w := emulateSSE(got, r, true), als.PreferenceRMSE(got, r); math.Abs(g-w) > 1e-6*w {
				t.Errorf("emulated %s = %.9f, als.PreferenceRMSE = %.9f", "als_preference_sse", g, w)
			}
		})
	}
}

// implicitTol bounds the emulated implicit halves' relative distance from
// the float64 reference: A is assembled and factorised in float32.
const implicitTol = 1e-4

// TestEmulatedImplicitPlans forces launch shapes device.go may get from a
// driver that reports fewer threads per block (several passes, which
// restage each chunk's weights), tiny chunks, and the global-Gram kernel
// at a small rank.
func TestEmulatedImplicitPlans(t *testing.T) {
	r, _ := alstest.Synthetic(200, 50, 2500, 3, 0.3, 43)
	p := alstest.ImplicitParams(33, 1, 0.1, 1, 1.2, 0.5) // w₀ above some confidences
	var init als.Model
	als.Prepare(&init, r, p)
	want := init.Clone()
	alstest.ReferenceImplicitHalf(want, r, p, alstest.Items)

	few := planImplicit(p.Rank, 32)
	small := few.withChunk(5, 2)
	single := few.withChunk(5, 1)
	global := few
	global.Kernel = kernels.ImplicitGlobal
	global = global.withChunk(3, 1)
	for _, tc := range []struct {
		name string
		plan solvePlan
		gram gramPlan
	}{
		{"32 threads", few, planGram(p.Rank, 32)},
		{"32 threads, chunk 5", small, planGram(p.Rank, 64)},
		{"32 threads, chunk 5, one buffer", single, planGram(p.Rank, 64)},
		{"global, chunk 3", global, planGram(p.Rank, 1024)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.plan.Passes < 2 {
				t.Fatalf("%v: want several passes", tc.plan)
			}
			got := init.Clone()
			emulateImplicitHalf(t, tc.plan, tc.gram, 4, got, r, p, alstest.Items)
			d := alstest.MaxRelDiff(got, want)
			if d > implicitTol {
				t.Errorf("emulated %v, %v differs from ReferenceImplicitHalf by %.3g relative", tc.plan, tc.gram, d)
			}
			t.Logf("%v, %v: %.3g relative to ReferenceImplicitHalf", tc.plan, tc.gram, d)
		})
	}
}

// TestEmulatedSSE checks the explicit SSE kernel's arithmetic against
// als.RMSE, with and without biases.
func TestEmulatedSSE(t *testing.T) {
	r, _ := alstest.Synthetic(100, 80, 1500, 3, 0.3, 44)
	for _, bias := range []bool{false, true} {
		var m als.Model
		als.Prepare(&m, r, als.Params{Rank: 7, Iterations: 1, Lambda: 0.1, Seed: 2, Bias: bias})
		if bias {
			m.UserBias[3], m.ItemBias[5] = 0.5, -0.25
		}
		if g, w := emulateSSE(&m, r, false), als.RMSE(&m, r); math.Abs(g-w) > 1e-6*w {
			t.Errorf("bias=%t: emulated als_sse = %.9f, als.RMSE = %.9f", bias, g, w)
		}
	}
}
