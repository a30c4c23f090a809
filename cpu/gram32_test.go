package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"movierec/als"
	"movierec/als/alstest"
)

// TestGramLower32 checks gramLower32 (the assembly where the CPU has it)
// and gramLower32Go against a float64 sum of the same products, for every
// padded size m up to 264 and odd strides, overwriting and accumulating:
// every element of the lower triangle and of the diagonal 8×8 blocks is
// within the float32 error bound (n+2)·2⁻²⁴·Σ|Y[l,i]·Y[l,j]| of the exact
// sum (so the two agree to twice that: they differ only in fusing the
// multiply-adds), and no other element of g is written.
func TestGramLower32(t *testing.T) {
	t.Logf("useAVX2 = %t", useAVX2)
	rng := rand.New(rand.NewPCG(3, 4))
	maxM := 264
	if testing.Short() || raceEnabled {
		maxM = 72
	}
	const eps = 1.0 / (1 << 24)
	for m := 8; m <= maxM; m += 8 {
		for _, n := range []int{0, 1, 2, 3, 17, 128, 1 + rng.IntN(200)} {
			ldy := m + rng.IntN(5)
			ldg := m + 1 + 2*rng.IntN(3)
			y := make([]float32, n*ldy+rng.IntN(3))
			for i := range y {
				y[i] = float32(rng.NormFloat64())
			}
			g0 := make([]float64, (m-1)*ldg+m+rng.IntN(3))
			for i := range g0 {
				g0[i] = rng.NormFloat64()
			}
			for _, acc := range []bool{false, true} {
				gA := append([]float64(nil), g0...)
				gG := append([]float64(nil), g0...)
				gramLower32(gA, ldg, y, ldy, n, m, acc)
				gramLower32Go(gG, ldg, y, ldy, n, m, acc)
				for pos := range g0 {
					i, j := pos/ldg, pos%ldg
					if i >= m || j >= i&^7+8 {
						if gA[pos] != g0[pos] || gG[pos] != g0[pos] {
							t.Fatalf("m=%d n=%d acc=%t: g[%d] (row %d, column %d) written", m, n, acc, pos, i, j)
						}
						continue
					}
					var exact, abs float64
					for l := 0; l < n; l++ {
						p := float64(y[l*ldy+i]) * float64(y[l*ldy+j])
						exact += p
						abs += math.Abs(p)
					}
					if acc {
						exact += g0[pos]
					}
					bound := float64(n+2)*eps*abs + 1e-15*math.Abs(exact)
					for _, c := range []struct {
						name string
						got  float64
					}{{"gramLower32", gA[pos]}, {"gramLower32Go", gG[pos]}} {
						if d := math.Abs(c.got - exact); d > bound {
							t.Fatalf("m=%d n=%d acc=%t: %s g[%d,%d] = %v, exact %v: error %g > bound %g", m, n, acc, c.name, i, j, c.got, exact, d, bound)
						}
					}
				}
			}
		}
	}
}

// TestGather32 checks that gather32 (the assembly where the CPU has it)
// copies exactly the indexed rows, for k = 1 to 70, and nothing else.
func TestGather32(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for k := 1; k <= 70; k++ {
		src := make([]float32, 50*k)
		for i := range src {
			src[i] = float32(rng.NormFloat64())
		}
		idx := []int32{3, 0, 49, 3, int32(rng.IntN(50))}
		ldy := k + rng.IntN(9)
		dst := make([]float32, len(idx)*ldy)
		for i := range dst {
			dst[i] = -7
		}
		gather32(dst, ldy, src, k, idx)
		for l, it := range idx {
			for c := 0; c < ldy; c++ {
				want := float32(-7)
				if c < k {
					want = src[int(it)*k+c]
				}
				if got := dst[l*ldy+c]; got != want {
					t.Fatalf("k=%d: dst[%d][%d] = %v, want %v", k, l, c, got, want)
				}
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("gather32 with an index out of range did not panic")
		}
	}()
	gather32(make([]float32, 8), 8, make([]float32, 16), 8, []int32{2})
}

func TestGramLower32Panics(t *testing.T) {
	y := make([]float32, 3*8)
	g := make([]float64, 8*8)
	for _, tc := range []struct {
		name           string
		g              []float64
		ldg, ldy, n, m int
	}{
		{"m not multiple of 8", g, 8, 8, 3, 4},
		{"ldg < m", g, 4, 8, 3, 8},
		{"ldy < m", g, 8, 4, 3, 8},
		{"short y", g, 8, 8, 4, 8},
		{"short g", g[:8*7+7], 8, 8, 3, 8},
		{"negative n", g, 8, 8, -1, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("gramLower32(ldg=%d, ldy=%d, n=%d, m=%d) did not panic", tc.ldg, tc.ldy, tc.n, tc.m)
				}
			}()
			gramLower32(tc.g, tc.ldg, y, tc.ldy, tc.n, tc.m, false)
		})
	}
}

// BenchmarkGramLower32 is BenchmarkGramLower for the float32 kernel, at
// the same augmented sizes (kp+1 padded to 8 here, to 4 there).
func BenchmarkGramLower32(b *testing.B) {
	for _, kp := range []int{9, 65, 129} {
		for _, n := range []int{32, 128, 384} {
			m := (kp + 1 + 7) &^ 7
			ldy := m
			if ldy%32 == 0 {
				ldy += 8
			}
			y := make([]float32, n*ldy)
			for i := range y {
				y[i] = 1 / float32(i+1)
			}
			g := make([]float64, m*m)
			b.Run(fmt.Sprintf("kp=%d/n=%d", kp, n), func(b *testing.B) {
				for b.Loop() {
					gramLower32(g, m, y, ldy, n, m, true)
				}
				flops := float64(n) * float64(kp+1) * float64(kp+2)
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// TestGram32Error measures what the float32 assembly (kernel.gram32)
// changes in a row's solution against the float64 assembly, at ranks
// where it is used, on rows of 1 to 1,000 ratings with biases: the
// largest difference, relative to the solution's largest element, must
// stay below 1e-4 (measured: 2.8e-7 to 4.8e-7 at k = 23 to 128; the factors are
// stored in float32 anyway, 6e-8 relative).
func TestGram32Error(t *testing.T) {
	lens := []int{1, 7, 30, 100, 128, 129, 300, 1000}
	f64 := defaultKernel
	f64.gram32 = 0
	for _, k := range []int{23, 32, 64, 128} {
		for _, bias := range []bool{false, true} {
			h := testHalf(lens, k, bias, uint64(k))
			if !defaultKernel.useGram32(h.kp) {
				continue
			}
			ws32 := defaultKernel.newWorkspace(h.kp, 1000)
			ws64 := f64.newWorkspace(h.kp, 1000)
			if ws32.y32 == nil || ws64.y32 != nil {
				t.Fatalf("k=%d: float32 scratch %t and %t, want true and false", k, ws32.y32 != nil, ws64.y32 != nil)
			}
			var worst float64
			for row, n := range lens {
				if !defaultKernel.solveRow(ws32, h, row) {
					t.Fatalf("k=%d row %d: not positive definite", k, row)
				}
				x32 := append([]float64(nil), ws32.b[:h.kp]...)
				if !f64.solveRow(ws64, h, row) {
					t.Fatalf("k=%d row %d: not positive definite", k, row)
				}
				var scale, diff float64
				for j, v := range ws64.b[:h.kp] {
					scale = max(scale, math.Abs(v))
					diff = max(diff, math.Abs(v-x32[j]))
				}
				rel := diff / scale
				worst = max(worst, rel)
				if rel > 1e-4 {
					t.Errorf("k=%d bias=%t row of %d ratings: float32 assembly moves the solution by %.3g of its largest element", k, bias, n, rel)
				}
			}
			t.Logf("k=%d bias=%t: largest relative change of a solution %.3g", k, bias, worst)
		}
	}
}

// TestSolverGram32 runs the alstest conformance suite on a solver that
// assembles in float32 at every rank (kernel.gram32 = 1): the suite's
// ranks (1 to 8) are below the default threshold, so TestSolver alone
// would not cover the float32 assembly. Its backward-error and reference
// checks (float32-level tolerances) must hold with it.
func TestSolverGram32(t *testing.T) {
	kern := defaultKernel
	kern.gram32 = 1
	alstest.Run(t, func(*testing.T) als.Solver { return &Solver{opts: Options{Workers: 2}, kern: kern} })
}
