package f32

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestDotsAxpys checks DotsIdx and AxpysIdx (the AVX2 assembly where the CPU
// has it) and their plain-Go versions against float64 sums for every
// k = 1..260 and row counts around the kernels' group of four, including
// the table's last row (whose masked tail ends the slice).
func TestDotsAxpys(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for k := 1; k <= 260; k++ {
		const rows = 40
		src := normals(rng, rows*k)
		p := normals(rng, k)
		for _, n := range []int{0, 1, 3, 4, 5, 9} {
			idx := make([]int32, n)
			for j := range idx {
				idx[j] = int32(rng.IntN(rows))
			}
			if n > 0 {
				idx[n-1] = rows - 1
			}
			w := normals(rng, n)
			// float64 references and the error scales Σ|terms|.
			wantT := make([]float64, n)
			scaleT := make([]float64, n)
			wantA := make([]float64, k)
			scaleA := make([]float64, k)
			for j, it := range idx {
				row := src[int(it)*k : int(it)*k+k]
				for c, v := range row {
					wantT[j] += float64(v) * float64(p[c])
					scaleT[j] += math.Abs(float64(v) * float64(p[c]))
					wantA[c] += float64(w[j]) * float64(v)
					scaleA[c] += math.Abs(float64(w[j]) * float64(v))
				}
			}
			for _, impl := range []struct {
				name   string
				dots   func(t, src []float32, k int, idx []int32, p []float32)
				axpys  func(dst, src []float32, k int, idx []int32, t []float32)
				sentry bool
			}{
				{"exported", DotsIdx, AxpysIdx, true},
				{"go", dotsIdxGo, axpysIdxGo, false},
			} {
				got := make([]float32, n+1)
				got[n] = 42 // must stay
				impl.dots(got, src, k, idx, p)
				for j := range n {
					if d := math.Abs(float64(got[j]) - wantT[j]); d > 1e-6*(scaleT[j]+1e-30)*float64(k) {
						t.Fatalf("%s DotsIdx k=%d n=%d: t[%d] = %v, want %v", impl.name, k, n, j, got[j], wantT[j])
					}
				}
				if got[n] != 42 {
					t.Fatalf("%s DotsIdx k=%d n=%d wrote past t[%d]", impl.name, k, n, n-1)
				}
				dst := make([]float32, k+1)
				dst[k] = 42
				impl.axpys(dst, src, k, idx, w)
				for c := range k {
					if d := math.Abs(float64(dst[c]) - wantA[c]); d > 1e-6*(scaleA[c]+1e-30)*float64(n+1) {
						t.Fatalf("%s AxpysIdx k=%d n=%d: dst[%d] = %v, want %v", impl.name, k, n, c, dst[c], wantA[c])
					}
				}
				if dst[k] != 42 {
					t.Fatalf("%s AxpysIdx k=%d n=%d wrote past dst[%d]", impl.name, k, n, k-1)
				}
			}
		}
	}
}

// TestDotsAxpysIdx checks DotsAxpysIdx (the AVX2 assembly where the CPU
// has it) bit for bit against DotsIdx, the float32 weights and AxpysIdx
// in sequence, its plain-Go version bit for bit against the plain-Go
// sequence, and the two against each other within float32 rounding, for
// k = 1..260, row counts around the group of four (with the table's last
// row, whose masked tail ends the slice), with and without c.
func TestDotsAxpysIdx(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for k := 1; k <= 260; k++ {
		const rows = 40
		src := normals(rng, rows*k)
		p := normals(rng, k)
		for _, n := range []int{0, 1, 3, 4, 5, 8, 9, 13, 17} {
			idx := make([]int32, n)
			for j := range idx {
				idx[j] = int32(rng.IntN(rows))
			}
			if n > 0 {
				idx[n-1] = rows - 1
			}
			w, c := make([]float32, n), make([]float32, n)
			for j := range w {
				w[j] = float32(rng.NormFloat64())
				c[j] = float32(rng.NormFloat64())
			}
			for _, cc := range [][]float32{nil, c} {
				start := make([]float32, k+1)
				for j := range k {
					start[j] = float32(rng.NormFloat64())
				}
				start[k] = 42 // must stay
				seq := func(dots func(t, src []float32, k int, idx []int32, p []float32), axpys func(dst, src []float32, k int, idx []int32, t []float32)) []float32 {
					tt := make([]float32, n)
					dots(tt, src, k, idx, p)
					for j, d := range tt {
						s := float32(w[j] * d)
						if cc != nil {
							s = cc[j] - s
						}
						tt[j] = s
					}
					dst := slices.Clone(start)
					axpys(dst, src, k, idx, tt)
					return dst
				}
				fused := func(f func(dst, src []float32, k int, idx []int32, p, w, c []float32)) []float32 {
					dst := slices.Clone(start)
					f(dst, src, k, idx, p, w, cc)
					return dst
				}
				got, want := fused(DotsAxpysIdx), seq(DotsIdx, AxpysIdx)
				if !slices.Equal(got, want) {
					t.Fatalf("DotsAxpysIdx k=%d n=%d c=%t = %v, want %v (DotsIdx, AxpysIdx)", k, n, cc != nil, got, want)
				}
				gotGo := fused(func(dst, src []float32, k int, idx []int32, p, w, c []float32) {
					dotsAxpysIdxGo(dst[:k], src, k, idx, p, w, c)
				})
				if wantGo := seq(dotsIdxGo, axpysIdxGo); !slices.Equal(gotGo, wantGo) {
					t.Fatalf("dotsAxpysIdxGo k=%d n=%d c=%t = %v, want %v", k, n, cc != nil, gotGo, wantGo)
				}
				// The two orders of summation differ by rounding: bound it
				// by the terms' magnitudes.
				for l := range k {
					scale := math.Abs(float64(start[l]))
					for j, it := range idx {
						var d, ad float64
						for m, v := range src[int(it)*k : int(it)*k+k] {
							d += float64(v) * float64(p[m])
							ad += math.Abs(float64(v) * float64(p[m]))
						}
						y := math.Abs(float64(src[int(it)*k+l]))
						scale += y * (math.Abs(float64(w[j]))*(math.Abs(d)+1e-6*float64(k)*ad) + 1)
					}
					if diff := math.Abs(float64(got[l]) - float64(gotGo[l])); diff > 2e-6*float64(n+k)*scale {
						t.Fatalf("k=%d n=%d c=%t: dst[%d] = %v (arch), %v (go)", k, n, cc != nil, l, got[l], gotGo[l])
					}
				}
				if got[k] != 42 || gotGo[k] != 42 {
					t.Fatalf("DotsAxpysIdx k=%d n=%d wrote past dst[%d]", k, n, k-1)
				}
			}
		}
	}
}

// TestPanics checks that DotsIdx and AxpysIdx reject an index out of
// range and short slices.
func TestPanics(t *testing.T) {
	src := make([]float32, 12)
	for _, tc := range []struct {
		name string
		fn   func()
	}{
		{"DotsIdx index", func() { DotsIdx(make([]float32, 1), src, 4, []int32{3}, make([]float32, 4)) }},
		{"DotsIdx short t", func() { DotsIdx(nil, src, 4, []int32{0}, make([]float32, 4)) }},
		{"DotsIdx short p", func() { DotsIdx(make([]float32, 1), src, 4, []int32{0}, make([]float32, 3)) }},
		{"AxpysIdx index", func() { AxpysIdx(make([]float32, 4), src, 4, []int32{-1}, make([]float32, 1)) }},
		{"AxpysIdx short dst", func() { AxpysIdx(make([]float32, 3), src, 4, []int32{0}, make([]float32, 1)) }},
		{"DotsAxpysIdx index", func() {
			DotsAxpysIdx(make([]float32, 4), src, 4, []int32{3}, make([]float32, 4), make([]float32, 1), nil)
		}},
		{"DotsAxpysIdx short w", func() {
			DotsAxpysIdx(make([]float32, 4), src, 4, []int32{0, 1}, make([]float32, 4), make([]float32, 1), nil)
		}},
		{"DotsAxpysIdx short c", func() {
			DotsAxpysIdx(make([]float32, 4), src, 4, []int32{0, 1}, make([]float32, 4), make([]float32, 2), make([]float32, 1))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", tc.name)
				}
			}()
			tc.fn()
		})
	}
}

// TestDots checks Dots (contiguous rows) against DotsIdx over the same
// rows, and its plain-Go version against float64 sums, for k = 1..260
// and row counts around the kernel's group of four.
func TestDots(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for k := 1; k <= 260; k++ {
		for _, n := range []int{0, 1, 3, 4, 7, 8, 13} {
			src := normals(rng, n*k)
			p := normals(rng, k)
			idx := make([]int32, n)
			for j := range idx {
				idx[j] = int32(j)
			}
			want := make([]float32, n)
			DotsIdx(want, src, k, idx, p)
			for _, impl := range []struct {
				name string
				fn   func(t, src []float32, k int, p []float32)
			}{{"Dots", Dots}, {"dotsGo", dotsGo}} {
				got := make([]float32, n)
				impl.fn(got, src, k, p)
				for j := range n {
					var ref, scale float64
					for c := range k {
						ref += float64(src[j*k+c]) * float64(p[c])
						scale += math.Abs(float64(src[j*k+c]) * float64(p[c]))
					}
					if d := math.Abs(float64(got[j]) - ref); d > 1e-6*scale*float64(k) {
						t.Fatalf("%s k=%d n=%d: t[%d] = %v, want %v", impl.name, k, n, j, got[j], ref)
					}
					if impl.name == "Dots" && useAVX2 && got[j] != want[j] {
						t.Fatalf("Dots k=%d n=%d: t[%d] = %v, DotsIdx %v: the kernels should sum alike", k, n, j, got[j], want[j])
					}
				}
			}
		}
	}
}

// TestDotsRowAlone checks that Dots and DotsIdx give each row the same
// result bit for bit whether it is scored among others (in the kernels'
// groups of four or in the rows left over) or alone, gathered: callers
// rescore a few rows and rely on getting the scores of the full pass.
func TestDotsRowAlone(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for k := 1; k <= 260; k++ {
		const n = 11 // two groups of four and three left over
		src := normals(rng, n*k)
		p := normals(rng, k)
		all := make([]float32, n)
		Dots(all, src, k, p)
		// Each row alone, and the rows in reverse through DotsIdx, which
		// puts every row at another position of its group.
		rev := make([]int32, n)
		for j := range rev {
			rev[j] = int32(n - 1 - j)
		}
		byIdx := make([]float32, n)
		DotsIdx(byIdx, src, k, rev, p)
		for j := range n {
			var one [1]float32
			DotsIdx(one[:], src, k, []int32{int32(j)}, p)
			if one[0] != all[j] || byIdx[n-1-j] != all[j] {
				t.Fatalf("k=%d row %d: Dots %v, DotsIdx alone %v, DotsIdx reversed %v: want one value", k, j, all[j], one[0], byIdx[n-1-j])
			}
		}
	}
}

func BenchmarkDots(b *testing.B) {
	for _, k := range []int{8, 64, 128} {
		const rows = 4096
		src := make([]float32, rows*k)
		for j := range src {
			src[j] = float32(j%7) - 3
		}
		p := make([]float32, k)
		for j := range p {
			p[j] = 0.5
		}
		t := make([]float32, rows)
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(src) * 4))
			for b.Loop() {
				Dots(t, src, k, p)
			}
		})
	}
}

// benchTable returns the benchmarks' table of 4,096 rows of k and 2,048
// row indices spread over it.
func benchTable(k int) (src []float32, idx []int32) {
	const rows = 4096
	src = make([]float32, rows*k)
	for j := range src {
		src[j] = float32(j%7) - 3
	}
	idx = make([]int32, rows/2)
	for j := range idx {
		idx[j] = int32((j * 7919) % rows)
	}
	return src, idx
}

func BenchmarkDotsIdx(b *testing.B) {
	for _, k := range []int{8, 64, 128} {
		src, idx := benchTable(k)
		p := make([]float32, k)
		t := make([]float32, len(idx))
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				DotsIdx(t, src, k, idx, p)
			}
		})
	}
}

// BenchmarkDotsIdxMemory is DotsIdx as the CG solver's first pass over a
// row meets it on large data: blocks of 128 rows drawn at random from a
// table of 160,000 (41 MB at k = 64, ml-25m's user factors: larger than
// the caches), each op the next block of a long random list, so that
// almost every row comes from memory.
func BenchmarkDotsIdxMemory(b *testing.B) {
	for _, k := range []int{64, 128} {
		const rows, block = 160_000, 128
		src := make([]float32, rows*k)
		for j := range src {
			src[j] = float32(j%7) - 3
		}
		rng := rand.New(rand.NewPCG(1, 2))
		idx := make([]int32, 1<<20)
		for j := range idx {
			idx[j] = int32(rng.IntN(rows))
		}
		p := make([]float32, k)
		t := make([]float32, block)
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			b.ReportAllocs()
			off := 0
			for b.Loop() {
				DotsIdx(t, src, k, idx[off:off+block], p)
				off = (off + block) % len(idx)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*block), "ns/row")
		})
	}
}

func BenchmarkAxpysIdx(b *testing.B) {
	for _, k := range []int{8, 64, 128} {
		src, idx := benchTable(k)
		w := make([]float32, len(idx))
		dst := make([]float32, k)
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				AxpysIdx(dst, src, k, idx, w)
			}
		})
	}
}

// BenchmarkDotsAxpysIdx times the passes of CG products over one row of
// a factorisation as cpu's CG meets them: a row of n ratings drawn from a
// table of the given number of rows (610 × 128: ml-latest-small's user
// factors, in L2 cache; 9,000 × 128: its item factors, 4.6 MB, in L3;
// 30,000 × 128: 15 MB; 160,000 × 128: 82 MB, from memory, as at ml-25m),
// four products per row (the residual and three steps), each op the next
// row of a long random list. fused is DotsAxpysIdx; two-pass is DotsIdx,
// the weights and AxpysIdx over blocks of 128 ratings (cpu's kernel.block),
// as cpu's CG did before. ns/pass is per rating and product.
func BenchmarkDotsAxpysIdx(b *testing.B) {
	const k, products = 128, 4
	for _, rows := range []int{610, 9000, 30_000, 160_000} {
		src := make([]float32, rows*k)
		rng := rand.New(rand.NewPCG(1, 2))
		for j := range src {
			src[j] = float32(rng.NormFloat64())
		}
		idx := make([]int32, 1<<20)
		for j := range idx {
			idx[j] = int32(rng.IntN(rows))
		}
		p := normals(rng, k)
		for _, n := range []int{30, 130, 600} {
			w, c := make([]float32, n), make([]float32, n)
			for j := range w {
				w[j], c[j] = 1, 2
			}
			dst := make([]float32, k)
			for _, mode := range []string{"fused", "two-pass"} {
				b.Run(fmt.Sprintf("table=%d/n=%d/%s", rows, n, mode), func(b *testing.B) {
					b.ReportAllocs()
					t := make([]float32, 128)
					off := 0
					for b.Loop() {
						ids := idx[off : off+n]
						off = (off + n) % (len(idx) - n)
						for q := range products {
							cc := c
							if q > 0 {
								cc = nil
							}
							if mode == "fused" {
								DotsAxpysIdxUnchecked(dst, src, k, ids, p, w, cc)
								continue
							}
							for s := 0; s < n; s += len(t) {
								e := min(s+len(t), n)
								tt := t[:e-s]
								DotsIdxUnchecked(tt, src, k, ids[s:e], p)
								for l, d := range tt {
									if cc != nil {
										tt[l] = cc[s+l] - w[s+l]*d
									} else {
										tt[l] = w[s+l] * d
									}
								}
								AxpysIdxUnchecked(dst, src, k, ids[s:e], tt)
							}
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n*products), "ns/pass")
				})
			}
		}
	}
}

// TestUnchecked checks that the unchecked kernels compute what the checked
// ones do.
func TestUnchecked(t *testing.T) {
	const k, rows = 19, 40
	rng := rand.New(rand.NewPCG(7, 8))
	src := normals(rng, rows*k)
	idx := []int32{0, 39, 5, 5, 17, 2, 33}
	p := normals(rng, k)
	want, got := make([]float32, len(idx)), make([]float32, len(idx))
	DotsIdx(want, src, k, idx, p)
	DotsIdxUnchecked(got, src, k, idx, p)
	if !slices.Equal(got, want) {
		t.Errorf("DotsIdxUnchecked = %v, DotsIdx = %v", got, want)
	}
	wantA, gotA := make([]float32, k), make([]float32, k)
	AxpysIdx(wantA, src, k, idx, want)
	AxpysIdxUnchecked(gotA, src, k, idx, want)
	if !slices.Equal(gotA, wantA) {
		t.Errorf("AxpysIdxUnchecked = %v, AxpysIdx = %v", gotA, wantA)
	}
}

// normals returns n draws of rng's standard normal, as float32s.
func normals(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for j := range x {
		x[j] = float32(rng.NormFloat64())
	}
	return x
}
