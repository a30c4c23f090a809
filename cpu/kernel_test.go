package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"movierec/als"
)

// testHalf returns the user half of rank-k (bias) problem whose rows have
// the given lengths, with random fixed-side factors and biases.
func testHalf(lens []int, k int, bias bool, seed uint64) *half {
	rng := rand.New(rand.NewPCG(seed, 1))
	numItems := 1500
	var users, items []int32
	var vals []float32
	for u, n := range lens {
		for _, i := range rng.Perm(numItems)[:n] {
			users = append(users, int32(u))
			items = append(items, int32(i))
			vals = append(vals, float32(0.5+4.5*rng.Float64()))
		}
	}
	r := als.NewRatings(len(lens), numItems, users, items, vals)
	p := als.Params{Rank: k, Iterations: 1, Lambda: 0.1, Seed: int64(seed), Bias: bias}
	var m als.Model
	als.Prepare(&m, r, p)
	for i := range m.ItemBias {
		m.ItemBias[i] = float32(rng.NormFloat64())
	}
	_, users2 := newHalves(&m, r, p)
	return users2
}

var testLens = []int{0, 1, 2, 5, 17, 100, 128, 129, 384, 385, 1000}

// TestKernelPathsAgree checks that the tiled path (gather + gramLower +
// choleskyAug) and the plain-Go path (rank-1 updates + right-looking Cholesky) solve
// every row to the same float64 solution.
func TestKernelPathsAgree(t *testing.T) {
	blasOnly := kernel{shortRow: 0, smallK: 0, block: defaultKernel.block}
	goOnly := kernel{shortRow: math.MaxInt, smallK: math.MaxInt, block: defaultKernel.block}
	for _, k := range []int{1, 8, 64, 129} {
		for _, bias := range []bool{false, true} {
			t.Run(fmt.Sprintf("k=%d/bias=%t", k, bias), func(t *testing.T) {
				if testing.Short() && k > 64 {
					t.Skip("large rank")
				}
				h := testHalf(testLens, k, bias, uint64(k))
				wsB := blasOnly.newWorkspace(h.kp, 1000)
				wsG := goOnly.newWorkspace(h.kp, 1000)
				for row, n := range testLens {
					if !blasOnly.solveRow(wsB, h, row) || !goOnly.solveRow(wsG, h, row) {
						t.Fatalf("row %d (n=%d): not positive definite", row, n)
					}
					if n == 0 {
						continue
					}
					var diff, scale float64
					for c := 0; c < h.kp; c++ {
						diff = max(diff, math.Abs(wsB.b[c]-wsG.b[c]))
						scale = max(scale, math.Abs(wsG.b[c]))
					}
					if diff > 1e-9*scale {
						t.Errorf("row %d (n=%d): tiled and Go solutions differ by %.3g relative", row, n, diff/scale)
					}
				}
			})
		}
	}
}

func TestSolveRowZeroAllocs(t *testing.T) {
	for _, k := range []int{1, 8, 64, 129, 256} {
		h := testHalf(testLens, k, true, 3)
		ws := defaultKernel.newWorkspace(h.kp, 1000)
		for row, n := range testLens {
			allocs := testing.AllocsPerRun(3, func() {
				if !defaultKernel.solveRow(ws, h, row) {
					t.Fatalf("k=%d row %d: not positive definite", k, row)
				}
			})
			if allocs != 0 {
				t.Errorf("k=%d n=%d: solveRow allocates %v times per row, want 0", k, n, allocs)
			}
		}
	}
}

func TestSolveRowNotPositiveDefinite(t *testing.T) {
	h := testHalf([]int{3}, 4, true, 4)
	h.fixed[h.idx[0]*4] = float32(math.NaN())
	for _, kern := range []kernel{defaultKernel, {shortRow: 0, smallK: 0, block: 384}} {
		ws := kern.newWorkspace(h.kp, 3)
		if kern.solveRow(ws, h, 0) {
			t.Errorf("solveRow with a NaN factor = true, want false")
		}
		for c, v := range h.dst[:4] {
			if v != 0 {
				t.Errorf("solveRow with a NaN factor left x[%d] = %v, want 0", c, v)
			}
		}
	}
}
