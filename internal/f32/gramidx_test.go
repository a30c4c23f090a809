package f32

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestGramIdx checks GramIdx (the assembly where it applies, and the
// plain Go) against float64 dot products, to float32 rounding, for row
// counts 0–13 (the 2×4 tiles and the Go tail), ranks that are and are not
// multiples of 8, and repeated rows; and that it writes only the lower
// triangle and the tiles' corners above it.
func TestGramIdx(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const rows = 40
	for _, k := range []int{1, 5, 8, 13, 16, 128, 136} {
		src := make([]float32, rows*k)
		for i := range src {
			src[i] = float32(rng.NormFloat64())
		}
		for n := 0; n <= 13; n++ {
			idx := make([]int32, n)
			for i := range idx {
				idx[i] = int32(rng.IntN(rows))
			}
			if n > 2 {
				idx[2] = idx[0] // a repeated row
			}
			ldt := (n+3)&^3 + 1
			for _, impl := range []struct {
				name string
				f    func(t []float32, ldt int, src []float32, k int, idx []int32)
			}{
				{"exported", GramIdx},
				{"go", func(t []float32, ldt int, src []float32, k int, idx []int32) { gramIdxGo(t, ldt, src, k, idx, 0) }},
			} {
				const sentinel = -12345
				out := make([]float32, ldt*((n+3)&^3+1))
				for i := range out {
					out[i] = sentinel
				}
				impl.f(out, ldt, src, k, idx)
				for i := range n {
					ri := src[int(idx[i])*k : int(idx[i])*k+k]
					for j := 0; j <= i; j++ {
						rj := src[int(idx[j])*k : int(idx[j])*k+k]
						var want, mag float64
						for c := range ri {
							want += float64(ri[c]) * float64(rj[c])
							mag += math.Abs(float64(ri[c]) * float64(rj[c]))
						}
						if got := float64(out[i*ldt+j]); math.Abs(got-want) > 1e-6*mag+1e-30 {
							t.Fatalf("%s k=%d n=%d: t[%d][%d] = %v, want %v", impl.name, k, n, i, j, got, want)
						}
					}
				}
				for i := range len(out) / ldt {
					for j := range ldt {
						inTile := i < n && j < (n+3)&^3 && j < (i+2+3)&^3
						if !inTile && j > i || i >= n || j >= ldt-1 {
							if out[i*ldt+j] != sentinel {
								t.Fatalf("%s k=%d n=%d: wrote t[%d][%d]", impl.name, k, n, i, j)
							}
						}
					}
				}
			}
		}
	}
}

// BenchmarkGramIdx forms the lower triangle of n rows' Gram matrix at
// k = 128, rows from a 610-row table (a Woodbury solve's n×n matrix on
// ml-latest-small), against n calls of DotsIdx as the solve did.
func BenchmarkGramIdx(b *testing.B) {
	const rows, k = 610, 128
	src := make([]float32, rows*k)
	for i := range src {
		src[i] = float32(i%17) * 0.1
	}
	for _, n := range []int{4, 8, 12, 24} {
		idx := make([]int32, n)
		for i := range idx {
			idx[i] = int32(i * 37 % rows)
		}
		t := make([]float32, n*n)
		b.Run(fmtN("gram", n), func(b *testing.B) {
			for b.Loop() {
				GramIdxUnchecked(t, n, src, k, idx)
			}
		})
		b.Run(fmtN("dots", n), func(b *testing.B) {
			for b.Loop() {
				for j := range n {
					DotsIdxUnchecked(t[j*n:j*n+j+1], src, k, idx[:j+1], src[int(idx[j])*k:int(idx[j])*k+k])
				}
			}
		})
	}
}

func fmtN(s string, n int) string { return s + "/n=" + string(rune('0'+n/10)) + string(rune('0'+n%10)) }
