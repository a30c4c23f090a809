package f32

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMul checks Mul against the plain product for every length up to 70
// (the 32-, 8- and 1-element steps and their mixes), with o aliasing f,
// and that nothing past len(o) is written.
func TestMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 70; n++ {
		f, d := make([]float32, n+3), make([]float32, n+3)
		for i := range f {
			f[i] = float32(rng.NormFloat64())
			d[i] = float32(rng.NormFloat64())
		}
		f[0] = float32(math.Inf(1)) // special values multiply as IEEE says
		if n > 1 {
			d[1] = float32(math.NaN())
		}
		want := make([]float32, n)
		for l := range want {
			want[l] = f[l] * d[l]
		}
		for _, impl := range []struct {
			name string
			f    func(o, f, d []float32)
		}{{"exported", Mul}, {"go", mulGo}} {
			o := make([]float32, n+1)
			o[n] = 7
			impl.f(o[:n], f, d)
			for l, w := range want {
				if math.Float32bits(o[l]) != math.Float32bits(w) {
					t.Fatalf("%s Mul(len %d)[%d] = %v, want %v", impl.name, n, l, o[l], w)
				}
			}
			if o[n] != 7 {
				t.Fatalf("%s Mul(len %d) wrote past the end", impl.name, n)
			}
			in := append([]float32(nil), f[:n]...)
			impl.f(in, in, d) // o aliasing f
			for l, w := range want {
				if math.Float32bits(in[l]) != math.Float32bits(w) {
					t.Fatalf("%s Mul(len %d) in place [%d] = %v, want %v", impl.name, n, l, in[l], w)
				}
			}
		}
	}
}

func TestMulShort(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Mul with a short d did not panic")
		}
	}()
	Mul(make([]float32, 4), make([]float32, 4), make([]float32, 3))
}

// BenchmarkMul scales the 610 rows of a rank-128 table (ml-latest-small's
// users) by one vector, row by row, as the Woodbury solve scales each
// rating's row.
func BenchmarkMul(b *testing.B) {
	const rows, k = 610, 128
	f, o, d := make([]float32, rows*k), make([]float32, rows*k), make([]float32, k)
	for i := range f {
		f[i] = float32(i%13) * 0.5
	}
	for i := range d {
		d[i] = 1 / float32(i+1)
	}
	for _, impl := range []struct {
		name string
		f    func(o, f, d []float32)
	}{{"exported", Mul}, {"go", mulGo}} {
		b.Run(impl.name, func(b *testing.B) {
			for b.Loop() {
				for r := 0; r < rows; r++ {
					impl.f(o[r*k:r*k+k], f[r*k:r*k+k], d)
				}
			}
		})
	}
}
