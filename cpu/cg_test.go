package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"movierec/als"
)

// TestSolveRowCGConverges checks that enough CG steps reach the Cholesky
// solution of every test row, explicit (with and without biases) and
// implicit, from a zero and from a random start, and that the row solve
// allocates nothing.
func TestSolveRowCGConverges(t *testing.T) {
	for _, k := range []int{1, 8, 33, 64} {
		for _, tc := range []struct {
			name     string
			bias     bool
			implicit bool
		}{{"explicit", false, false}, {"bias", true, false}, {"implicit", false, true}} {
			t.Run(fmt.Sprintf("k=%d/%s", k, tc.name), func(t *testing.T) {
				h := testHalf(testLens, k, tc.bias, uint64(k))
				if tc.implicit {
					p := als.DefaultImplicitParams()
					p.Rank = k
					h.imp = &implicitHalf{p: p, fixed: len(h.fixed) / k, ld: gramDim(k), gram: make([]float64, gramDim(k)*gramDim(k)), diag: make([]float64, k)}
					ws := defaultKernel.newWorkspace(k, 1000)
					team := newTeam([]*workspace{ws}, 0, false)
					defaultKernel.fixedGram(team, h, newImplicitScratch(h.imp.ld, len(h.fixed)/k, k))
					team.close()
					h.imp.positive = make([]bool, h.rows())
					cgShared(h)
				}
				kern := defaultKernel
				ws := kern.newWorkspace(h.kp, 1000)
				kern.growImplicit(ws, k)
				kern.growCG(ws, k, h.kp, 1000, tc.implicit)
				want := make([][]float64, h.rows())
				for row := range want {
					if !kern.solveRow(ws, h, row) {
						t.Fatalf("row %d: Cholesky failed", row)
					}
					want[row] = append([]float64(nil), ws.b[:h.kp]...)
				}
				h.cg = min(als.MaxCGSteps, 4*h.kp)
				rng := rand.New(rand.NewPCG(1, 2))
				for row, n := range testLens {
					x := h.dst[row*k : row*k+k]
					for c := range x {
						x[c] = float32(rng.NormFloat64())
					}
					if !kern.solveRow(ws, h, row) {
						t.Fatalf("row %d (n=%d): CG failed", row, n)
					}
					if n == 0 {
						continue
					}
					var d, s float64
					for c, v := range x {
						d = max(d, math.Abs(float64(v)-want[row][c]))
						s = max(s, math.Abs(want[row][c]))
					}
					if h.bias {
						d = max(d, math.Abs(float64(h.dstBias[row])-want[row][k]))
					}
					if d > 2e-3*s+1e-5 {
						t.Errorf("row %d (n=%d): CG differs from Cholesky by %.3g (max |x| %.3g)", row, n, d, s)
					}
				}
				h.cg = 3
				if a := testing.AllocsPerRun(10, func() { kern.solveRow(ws, h, len(testLens)-1) }); a != 0 {
					t.Errorf("solveRowCG allocates %v times per row, want 0", a)
				}
			})
		}
	}
}

// TestCGFusedMatchesTwoPass checks that an implicit CG row solve gives
// the same factors bit for bit with the fused kernel and with the two
// passes by blocks (kernel.fused), in a rotated and a plain half.
func TestCGFusedMatchesTwoPass(t *testing.T) {
	lens := []int{0, 1, 3, 17, 40, 100, 129, 250}
	for _, k := range []int{8, 33, 64} {
		for _, rotated := range []bool{false, true} {
			t.Run(fmt.Sprintf("k=%d/rotated=%t", k, rotated), func(t *testing.T) {
				p := als.DefaultImplicitParams()
				p.Rank = k
				var got [2][]float32
				for j, fused := range []int{0, math.MaxInt} {
					kern := defaultKernel
					kern.fused = fused
					kern.block = 16 // several blocks a row
					h, ws, _ := testImplicitHalf(lens, p, kern, rotated, 3)
					h.cg = 3
					if !rotated {
						cgShared(h)
					}
					kern.growCG(ws[0], k, h.kp, 250, true)
					for row := range lens {
						if !kern.solveRow(ws[0], h, row) {
							t.Fatalf("row %d: CG failed", row)
						}
					}
					got[j] = append([]float32(nil), h.dst...)
				}
				for i := range got[0] {
					if got[0][i] != got[1][i] {
						t.Fatalf("factor %d: %v with two passes, %v fused", i, got[0][i], got[1][i])
					}
				}
			})
		}
	}
}

// TestSolveRowsCGMatchesRows checks the lockstep solve of an implicit CG
// half that is not rotated against the row-by-row one: groups of one, two
// and three rows (with an empty row among them, and rows of very
// different lengths), from the same starting factors, agree to float32
// rounding (the shared product sums in another order), for CG steps that
// stop early and that run to the end; and it allocates nothing.
func TestSolveRowsCGMatchesRows(t *testing.T) {
	lens := []int{40, 0, 7, 120, 1, 33, 64, 2}
	for _, k := range []int{8, 64} {
		for _, steps := range []int{1, 3, 40} {
			p := als.Params{Objective: als.Implicit, Rank: k, Iterations: 1, Lambda: 0.3, Alpha: 1, Unobserved: 0.7, RegExponent: 0.5, Seed: 3, Solver: als.CG, CGSteps: steps}
			t.Run(fmt.Sprintf("k=%d/steps=%d", k, steps), func(t *testing.T) {
				h, ws, _ := testImplicitHalf(lens, p, defaultKernel, false, uint64(k))
				h.cg = steps
				defaultKernel.growCG(ws[0], k, k, 120, true)
				cgShared(h)
				if !lockstep(h) {
					t.Fatal("the half does not take the lockstep solve")
				}
				start := append([]float32(nil), h.dst...)
				for row := range lens {
					if !defaultKernel.solveRowCG(ws[0], h, row) {
						t.Fatalf("row %d not finite", row)
					}
				}
				want := append([]float32(nil), h.dst...)
				for _, size := range []int{1, 2, 3} {
					copy(h.dst, start)
					for lo := 0; lo < len(lens); lo += size {
						rows := make([]int32, 0, size)
						for r := lo; r < min(lo+size, len(lens)); r++ {
							rows = append(rows, int32(r))
						}
						if bad := defaultKernel.solveRowsCG(ws[0], h, rows); bad != 0 {
							t.Fatalf("groups of %d: %d rows not finite", size, bad)
						}
					}
					if d := relDiff(h.dst, want); d > 1e-5 {
						t.Errorf("groups of %d differ from the row-by-row solve by %.3g relative", size, d)
					}
				}
				rows := []int32{0, 3, 6}
				if a := testing.AllocsPerRun(10, func() { defaultKernel.solveRowsCG(ws[0], h, rows) }); a != 0 {
					t.Errorf("solveRowsCG allocates %v times", a)
				}
			})
		}
	}
}
