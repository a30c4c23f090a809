package f32

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestDotsInt8 checks DotsInt8 (the AVX2 assembly where the CPU has it)
// and its plain-Go version against exact int64 sums for every k = 1..260
// and row counts around the kernel's group of four: the sum must be exact
// and rounded once, then multiplied by the scale once, so both must equal
// scale·float32(S) bit for bit, whatever the rows' padding holds, and
// write nothing past t.
func TestDotsInt8(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for k := 1; k <= 260; k++ {
		st := Int8Stride(k)
		if st%8 != 0 || st < k || st >= k+8 {
			t.Fatalf("Int8Stride(%d) = %d", k, st)
		}
		lim := Int16Limit(k)
		for _, n := range []int{0, 1, 3, 4, 5, 7, 8, 13} {
			src := make([]int8, n*st)
			for j := range src {
				src[j] = int8(rng.IntN(256) - 128) // padding too: it must weigh nothing
			}
			scale := make([]float32, n)
			for j := range scale {
				scale[j] = float32(rng.ExpFloat64() / 127)
			}
			p := make([]int16, st)
			for c := range k {
				switch rng.IntN(4) {
				case 0:
					p[c] = int16(lim) // the extremes, where an int16 sum would overflow
				case 1:
					p[c] = int16(-lim)
				default:
					p[c] = int16(rng.IntN(2*lim+1) - lim)
				}
			}
			want := make([]float32, n)
			for j := range n {
				var s int64
				for c := range k {
					s += int64(src[j*st+c]) * int64(p[c])
				}
				want[j] = scale[j] * float32(s)
			}
			for _, impl := range []struct {
				name string
				fn   func(t []float32, src []int8, scale []float32, k int, p []int16)
			}{{"DotsInt8", DotsInt8}, {"dotsInt8Go", dotsInt8Go}} {
				got := make([]float32, n+1)
				got[n] = 42 // must stay
				impl.fn(got[:n], src, scale, k, p)
				if got[n] != 42 {
					t.Fatalf("%s k=%d n=%d wrote past t[%d]", impl.name, k, n, n-1)
				}
				for j := range n {
					if got[j] != want[j] {
						t.Fatalf("%s k=%d n=%d: t[%d] = %v, want %v", impl.name, k, n, j, got[j], want[j])
					}
				}
			}
		}
	}
}

// TestInt16Limit checks that k products of −128 and ±Int16Limit(k), the
// largest terms DotsInt8 may see, sum within int32.
func TestInt16Limit(t *testing.T) {
	for _, k := range []int{1, 64, 512, 513, 1000, 4096, 1 << 16} {
		lim := Int16Limit(k)
		if lim < 1 || lim > 32767 || int64(k)*128*int64(lim) > 1<<31-1 {
			t.Errorf("Int16Limit(%d) = %d", k, lim)
		}
	}
}

func TestDotsInt8Panics(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func()
	}{
		{"bad k", func() { DotsInt8(make([]float32, 1), make([]int8, 8), make([]float32, 1), 0, make([]int16, 8)) }},
		{"short src", func() { DotsInt8(make([]float32, 2), make([]int8, 15), make([]float32, 2), 3, make([]int16, 8)) }},
		{"short scale", func() { DotsInt8(make([]float32, 2), make([]int8, 16), make([]float32, 1), 3, make([]int16, 8)) }},
		{"short p", func() { DotsInt8(make([]float32, 1), make([]int8, 8), make([]float32, 1), 3, make([]int16, 7)) }},
		{"p padding", func() {
			DotsInt8(make([]float32, 1), make([]int8, 8), make([]float32, 1), 3, []int16{0, 0, 0, 1, 0, 0, 0, 0})
		}},
		{"p too large", func() {
			DotsInt8(make([]float32, 1), make([]int8, 1024), make([]float32, 1), 1024, append([]int16{32767}, make([]int16, 1023)...))
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

// BenchmarkDotsInt8 scores 4,096 rows at a time, as BenchmarkDots does
// with float32 rows (a quarter of the bytes).
func BenchmarkDotsInt8(b *testing.B) {
	for _, k := range []int{8, 64, 128} {
		const rows = 4096
		st := Int8Stride(k)
		src := make([]int8, rows*st)
		for j := range src {
			src[j] = int8(j%255 - 127)
		}
		scale := make([]float32, rows)
		for j := range scale {
			scale[j] = 0.01
		}
		p := make([]int16, st)
		for j := range k {
			p[j] = int16(j*511 - 16000)
		}
		t := make([]float32, rows)
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(src) + 4*len(scale)))
			for b.Loop() {
				DotsInt8(t, src, scale, k, p)
			}
		})
	}
}
