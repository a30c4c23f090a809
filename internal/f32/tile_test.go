package f32

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestDotsTile checks DotsTile (the AVX2 tile where the CPU has it) and
// its plain-Go version against Dots on the same rows packed at stride k,
// bit for bit, for every k = 1..260, row counts around the groups of two
// and four and vector counts around the tile's three; and Dots against
// float64 sums as TestDots does, so the tile agrees with them too.
func TestDotsTile(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for k := 1; k <= 260; k++ {
		ld := TileStride(k)
		const maxRows, maxVecs = 13, 7
		packed := make([]float32, maxRows*k) // stride k, for Dots
		src := make([]float32, maxRows*ld)   // stride ld, zero-padded
		for j := range maxRows {
			for c := range k {
				v := float32(rng.NormFloat64())
				packed[j*k+c], src[j*ld+c] = v, v
			}
		}
		ps := make([]float32, maxVecs*ld)
		for u := range maxVecs {
			for c := range k {
				ps[u*ld+c] = float32(rng.NormFloat64())
			}
		}
		for _, n := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13} {
			for _, nu := range []int{1, 2, 3, 4, 5, 6, 7} {
				ldt := n + 1
				want := make([]float32, n)
				for _, impl := range []struct {
					name string
					f    func(t []float32, ldt int, src []float32, n int, ps []float32, nu, k int)
				}{
					{"exported", DotsTile},
					{"go", func(t []float32, ldt int, src []float32, n int, ps []float32, nu, k int) {
						dotsTileGo(t, ldt, src, n, ps, nu, k, TileStride(k))
					}},
				} {
					got := make([]float32, nu*ldt)
					for i := range got {
						got[i] = 42 // the gaps must stay
					}
					impl.f(got, ldt, src, n, ps, nu, k)
					for u := range nu {
						dots := Dots
						if impl.name == "go" {
							dots = dotsGoChecked
						}
						dots(want, packed, k, ps[u*ld:u*ld+k])
						for j := range n {
							if math.Float32bits(got[u*ldt+j]) != math.Float32bits(want[j]) {
								t.Fatalf("%s DotsTile k=%d n=%d nu=%d: t[%d][%d] = %v, Dots gives %v", impl.name, k, n, nu, u, j, got[u*ldt+j], want[j])
							}
						}
						if got[u*ldt+n] != 42 {
							t.Fatalf("%s DotsTile k=%d n=%d nu=%d wrote past t[%d][%d]", impl.name, k, n, nu, u, n-1)
						}
					}
				}
			}
		}
	}
}

// dotsGoChecked is dotsGo with Dots's arguments.
func dotsGoChecked(t, src []float32, k int, p []float32) { dotsGo(t, src[:len(t)*k], k, p[:k]) }

func TestDotsTilePanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"k=0", func() { DotsTile(make([]float32, 4), 4, make([]float32, 32), 4, make([]float32, 8), 1, 0) }},
		{"ldt<n", func() { DotsTile(make([]float32, 8), 3, make([]float32, 32), 4, make([]float32, 16), 2, 8) }},
		{"short src", func() { DotsTile(make([]float32, 4), 4, make([]float32, 31), 4, make([]float32, 8), 1, 8) }},
		{"short ps (stride, not k)", func() { DotsTile(make([]float32, 8), 4, make([]float32, 64), 4, make([]float32, 12), 2, 5) }},
		{"short t", func() { DotsTile(make([]float32, 7), 4, make([]float32, 32), 4, make([]float32, 16), 2, 8) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("DotsTile(%s) did not panic", tc.name)
				}
			}()
			tc.f()
		})
	}
}

// BenchmarkDotsTile scores 24 vectors against a block of 256 rows (eval's
// ranking step) with DotsTile and, for comparison, with one Dots per
// vector; mult-add/s counts k per dot product.
func BenchmarkDotsTile(b *testing.B) {
	const vecs, rows = 24, 256
	for _, k := range []int{16, 64, 128} {
		ld := TileStride(k)
		rng := rand.New(rand.NewPCG(1, 2))
		src := make([]float32, rows*ld)
		ps := make([]float32, vecs*ld)
		for _, s := range [][]float32{src, ps} {
			for i := range s {
				if i%ld < k {
					s[i] = float32(rng.NormFloat64())
				}
			}
		}
		t := make([]float32, vecs*rows)
		madds := float64(rows * vecs * k)
		b.Run(fmt.Sprintf("k=%d/tile", k), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				DotsTile(t, rows, src, rows, ps, vecs, k)
			}
			b.ReportMetric(madds*float64(b.N)/b.Elapsed().Seconds(), "mult-add/s")
		})
		b.Run(fmt.Sprintf("k=%d/dots", k), func(b *testing.B) {
			if ld != k {
				b.Skip("Dots needs stride k")
			}
			b.ReportAllocs()
			for b.Loop() {
				for u := range vecs {
					Dots(t[u*rows:(u+1)*rows], src, k, ps[u*ld:])
				}
			}
			b.ReportMetric(madds*float64(b.N)/b.Elapsed().Seconds(), "mult-add/s")
		})
	}
}

// TestIndexAbove checks IndexAbove (AVX2 where the CPU has it) and its
// plain-Go version against a scan, at every length to 40 and every
// position of the first element above, with NaNs and ties around it.
func TestIndexAbove(t *testing.T) {
	nan := float32(math.NaN())
	for n := 0; n <= 40; n++ {
		for at := -1; at < n; at++ { // -1: none above
			for _, v := range []float32{0.5, nan} {
				x := make([]float32, n)
				for i := range x {
					x[i] = [...]float32{0.5, -1, nan, 0.25}[i%4] // ties, below, NaN
				}
				if at >= 0 {
					x[at] = 0.75
				}
				want := -1
				if at >= 0 && v == v {
					want = at
				}
				for _, impl := range []struct {
					name string
					f    func([]float32, float32) int
				}{{"exported", IndexAbove}, {"go", indexAboveGo}} {
					if got := impl.f(x, v); got != want {
						t.Fatalf("%s IndexAbove(len %d, above at %d, v %v) = %d, want %d", impl.name, n, at, v, got, want)
					}
				}
			}
		}
	}
}

// BenchmarkIndexAbove scans 256 scores none of which is above v (most of
// a ranking block once its top k is full).
func BenchmarkIndexAbove(b *testing.B) {
	x := make([]float32, 256)
	for i := range x {
		x[i] = float32(i % 17)
	}
	b.ReportAllocs()
	for b.Loop() {
		if IndexAbove(x, 100) != -1 {
			b.Fatal("found one")
		}
	}
}
