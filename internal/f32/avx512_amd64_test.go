//go:build amd64 && !purego

package f32

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDotsAxpysIdxAVX512 checks the AVX-512 fused kernel bit for bit
// against the AVX2 one (which TestDotsAxpysIdx checks against DotsIdx and
// AxpysIdx) for ranks that are multiples of 16, every row count up to 13
// and a long row, with and without c, and rows repeated; on a CPU without
// AVX-512 it is skipped.
func TestDotsAxpysIdxAVX512(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512 here")
	}
	rng := rand.New(rand.NewPCG(21, 22))
	const rows = 50
	for _, k := range []int{16, 32, 48, 64, 128, 256} {
		src := make([]float32, rows*k)
		for i := range src {
			src[i] = float32(rng.NormFloat64())
		}
		p := make([]float32, k)
		for i := range p {
			p[i] = float32(rng.NormFloat64())
		}
		for _, n := range []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 130} {
			idx := make([]int32, n)
			w, c := make([]float32, n), make([]float32, n)
			for i := range idx {
				idx[i] = int32(rng.IntN(rows))
				w[i], c[i] = float32(rng.Float64()*3), float32(rng.NormFloat64())
			}
			for _, cf := range [][]float32{nil, c} {
				start := make([]float32, k)
				for i := range start {
					start[i] = float32(rng.NormFloat64())
				}
				want := append([]float32(nil), start...)
				got := append([]float32(nil), start...)
				if n > 0 {
					dotsAxpysIdxAVX2(want, src, k, idx, p, w, cf)
					dotsAxpysIdxAVX512(got, src, k, idx, p, w, cf)
				}
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("k=%d n=%d c=%v: dst[%d] = %v, AVX2 %v", k, n, cf != nil, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestDotsTile3AVX512 checks the AVX-512 tile kernel bit for bit against
// the AVX2 one (which TestDotsTile checks against Dots) for ranks that are
// multiples of 16, row counts in multiples of 4 and distinct and repeated
// vectors; on a CPU without AVX-512 it is skipped.
func TestDotsTile3AVX512(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512 here")
	}
	rng := rand.New(rand.NewPCG(23, 24))
	for _, k := range []int{16, 32, 48, 128, 256} {
		for _, n := range []int{4, 8, 12, 60} {
			src := make([]float32, n*k)
			for i := range src {
				src[i] = float32(rng.NormFloat64())
			}
			ps := make([]float32, 3*k)
			for i := range ps {
				ps[i] = float32(rng.NormFloat64())
			}
			for _, same := range []bool{false, true} {
				p1, p2 := &ps[k], &ps[2*k]
				if same {
					p1, p2 = &ps[0], &ps[0]
				}
				want, got := make([]float32, 3*n), make([]float32, 3*n)
				dotsTile3AVX2(&want[0], &want[n], &want[2*n], &src[0], n, k, k, &ps[0], p1, p2)
				dotsTile3AVX512(&got[0], &got[n], &got[2*n], &src[0], n, k, k, &ps[0], p1, p2)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("k=%d n=%d same=%v: t[%d] = %v, AVX2 %v", k, n, same, i, got[i], want[i])
					}
				}
			}
		}
	}
}
