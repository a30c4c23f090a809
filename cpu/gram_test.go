package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestGramLower checks gramLower (the AVX2 assembly where the CPU has it,
// else plain Go) and gramLowerGo against a plain triple loop, for every
// kp = 1..260 (m = kp rounded up to 4), row counts n from 0 to 500, odd
// and even strides, overwrite and accumulate, and that no element outside
// the documented write set changes.
func TestGramLower(t *testing.T) {
	t.Logf("useAVX2 = %t", useAVX2)
	rng := rand.New(rand.NewPCG(1, 2))
	kernels := []struct {
		name string
		f    func(g []float64, ldg int, y []float64, ldy, n, m int, acc bool)
	}{
		{"gramLower", gramLower},
		{"gramLowerGo", gramLowerGo},
	}
	maxKp := 260
	if testing.Short() || raceEnabled {
		maxKp = 70 // the full sweep runs in plain `go test`
	}
	for kp := 1; kp <= maxKp; kp++ {
		m := (kp + 3) &^ 3
		ns := []int{0, 1, 2, 3, 4, 5, 7, 500, 1 + rng.IntN(500)}
		if kp > 40 && kp%7 != 0 {
			ns = []int{0, 1, 3, 1 + rng.IntN(64)} // keep the test fast
		}
		for _, n := range ns {
			ldy := m + rng.IntN(6)       // odd strides too: unaligned rows
			ldg := m + 1 + 2*rng.IntN(3) // odd stride
			y := make([]float64, n*ldy+rng.IntN(3))
			for i := range y {
				y[i] = rng.NormFloat64()
			}
			g0 := make([]float64, (m-1)*ldg+m+rng.IntN(3))
			for i := range g0 {
				g0[i] = rng.NormFloat64()
			}
			for _, acc := range []bool{false, true} {
				// want and bound: the exact sum and Σ|terms| per element.
				want := make([]float64, len(g0))
				bound := make([]float64, len(g0))
				copy(want, g0)
				for i := 0; i < m; i++ {
					for j := 0; j < i&^3+4; j++ {
						var s, b float64
						for l := 0; l < n; l++ {
							s += y[l*ldy+i] * y[l*ldy+j]
							b += math.Abs(y[l*ldy+i] * y[l*ldy+j])
						}
						if acc {
							b += math.Abs(s) + math.Abs(g0[i*ldg+j])
							s += g0[i*ldg+j]
						}
						want[i*ldg+j], bound[i*ldg+j] = s, b
					}
				}
				for _, kern := range kernels {
					g := make([]float64, len(g0))
					copy(g, g0)
					kern.f(g, ldg, y, ldy, n, m, acc)
					for e := range g {
						if d := math.Abs(g[e] - want[e]); d > 1e-12*bound[e] || math.IsNaN(g[e]) {
							t.Fatalf("%s(m=%d, n=%d, ldg=%d, ldy=%d, acc=%t): G[%d,%d] = %v, want %v (bound %.3g)",
								kern.name, m, n, ldg, ldy, acc, e/ldg, e%ldg, g[e], want[e], bound[e])
						}
					}
				}
			}
		}
	}
}

// TestGramLowerPanics checks that gramLower rejects bad dimensions and
// short slices instead of reading or writing past them in assembly.
func TestGramLowerPanics(t *testing.T) {
	y := make([]float64, 3*8)
	g := make([]float64, 8*8)
	tests := []struct {
		name           string
		g              []float64
		ldg, ldy, n, m int
	}{
		{"m not multiple of 4", g, 8, 8, 3, 6},
		{"ldg < m", g, 4, 8, 3, 8},
		{"ldy < m", g, 8, 4, 3, 8},
		{"short y", g, 8, 8, 4, 8},
		{"short g", g[:8*7+7], 8, 8, 3, 8},
		{"negative n", g, 8, 8, -1, 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("gramLower(ldg=%d, ldy=%d, n=%d, m=%d) did not panic", tc.ldg, tc.ldy, tc.n, tc.m)
				}
			}()
			gramLower(tc.g, tc.ldg, y, tc.ldy, tc.n, tc.m, false)
		})
	}
}

func BenchmarkGramLower(b *testing.B) {
	for _, kp := range []int{9, 65, 129} {
		for _, n := range []int{32, 64, 128, 384} {
			m := gramDim(kp)
			ldy := m
			if ldy%16 == 0 {
				ldy += 4
			}
			y := make([]float64, n*ldy)
			for i := range y {
				y[i] = 1 / float64(i+1)
			}
			g := make([]float64, m*m)
			b.Run(fmt.Sprintf("kp=%d/n=%d", kp, n), func(b *testing.B) {
				for b.Loop() {
					gramLower(g, m, y, ldy, n, m, true)
				}
				flops := float64(n) * float64(kp+1) * float64(kp+2)
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// TestGather checks gather (the AVX2 assembly where the CPU has it) and
// gatherGo against float64(src[...]) bitwise for every k = 1..260, odd
// strides and row counts 0..40, and that nothing else in dst changes.
func TestGather(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	kernels := []struct {
		name string
		f    func(dst []float64, ldy int, src []float32, k int, idx []int32)
	}{
		{"gather", gather},
		{"gatherGo", gatherGo},
	}
	for k := 1; k <= 260; k++ {
		rows := 1 + rng.IntN(50)
		src := make([]float32, rows*k)
		for i := range src {
			src[i] = float32(rng.NormFloat64())
		}
		idx := make([]int32, rng.IntN(41))
		for l := range idx {
			idx[l] = int32(rng.IntN(rows))
		}
		ldy := k + rng.IntN(5)
		n := max(len(idx)*ldy, 1) + rng.IntN(3)
		dst0 := make([]float64, n)
		for i := range dst0 {
			dst0[i] = rng.NormFloat64()
		}
		want := append([]float64(nil), dst0...)
		for l, it := range idx {
			for c := 0; c < k; c++ {
				want[l*ldy+c] = float64(src[int(it)*k+c])
			}
		}
		for _, kern := range kernels {
			dst := append([]float64(nil), dst0...)
			kern.f(dst, ldy, src, k, idx)
			for e := range dst {
				if math.Float64bits(dst[e]) != math.Float64bits(want[e]) {
					t.Fatalf("%s(k=%d, ldy=%d, %d rows): dst[%d] = %v, want %v", kern.name, k, ldy, len(idx), e, dst[e], want[e])
				}
			}
		}
	}
}

// TestGatherPanics checks that gather rejects an index out of range and
// a short destination instead of reading or writing past them.
func TestGatherPanics(t *testing.T) {
	src := make([]float32, 3*4)
	tests := []struct {
		name string
		dst  []float64
		ldy  int
		idx  []int32
	}{
		{"index too large", make([]float64, 8), 4, []int32{0, 3}},
		{"negative index", make([]float64, 8), 4, []int32{-1}},
		{"short dst", make([]float64, 7), 4, []int32{0, 1}},
		{"ldy < k", make([]float64, 8), 3, []int32{0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("gather(ldy=%d, idx=%v) into %d did not panic", tc.ldy, tc.idx, len(tc.dst))
				}
			}()
			gather(tc.dst, tc.ldy, src, 4, tc.idx)
		})
	}
}
