package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"movierec/als"
)

// TestCGVec checks the CG vector steps (assembly on AVX2 machines, with
// a Go tail) against their plain Go loops, bit for bit, for every length
// up to 21 and both signs, with nothing written past the length.
func TestCGVec(t *testing.T) {
	t.Logf("useAVX2 = %t", useAVX2)
	rng := rand.New(rand.NewPCG(3, 4))
	f64 := func(n int) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = rng.NormFloat64() * math.Exp(4*rng.NormFloat64())
		}
		return s
	}
	f32 := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(rng.NormFloat64() * math.Exp(4*rng.NormFloat64()))
		}
		return s
	}
	same := func(name string, n int, got, want []float64) {
		t.Helper()
		for i := range want {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Fatalf("%s, length %d: [%d] = %v, want %v", name, n, i, got[i], want[i])
			}
		}
		if got[len(want)] != -7 {
			t.Fatalf("%s, length %d: wrote past the end", name, n)
		}
	}
	out := func(n int) []float64 {
		s := make([]float64, n+1)
		s[n] = -7
		return s
	}
	for n := 0; n <= 21; n++ {
		src64, src32 := f64(n), f32(n)
		g32 := make([]float32, n+1)
		g32[n] = -7
		to32(g32[:n], src64)
		for i := range n {
			if math.Float32bits(g32[i]) != math.Float32bits(float32(src64[i])) {
				t.Fatalf("to32, length %d: [%d] = %v, want %v", n, i, g32[i], float32(src64[i]))
			}
		}
		if g32[n] != -7 {
			t.Fatalf("to32, length %d: wrote past the end", n)
		}
		want := make([]float64, n)
		for i := range want {
			want[i] = float64(src32[i])
		}
		got := out(n)
		to64(got[:n], src32)
		same("to64", n, got, want)

		q32, s, d, v := f32(n), f32(n), f64(n), f64(n)
		reg := math.Abs(rng.NormFloat64())
		for _, sign := range []float64{1, -1} {
			for i := range want {
				want[i] = float64(q32[i]) + float64(sign*((d[i]+reg)*v[i]))
			}
			got = out(n)
			diagApply(got[:n], q32, d, v, reg, sign)
			same("diagApply", n, got, want)
			for i := range want {
				want[i] = float64(q32[i]) + float64(sign*(float64(s[i])+float64(reg*v[i])))
			}
			got = out(n)
			gramApply(got[:n], q32, s, v, reg, sign)
			same("gramApply", n, got, want)
		}
		acc := f32(n)
		w32 := make([]float32, n+1)
		w32[n] = -7
		scaleTo32(w32[:n], acc, d)
		for i := range n {
			if w := float32(float64(acc[i]) * d[i]); math.Float32bits(w32[i]) != math.Float32bits(w) {
				t.Fatalf("scaleTo32, length %d: [%d] = %v, want %v", n, i, w32[i], w)
			}
		}
		if w32[n] != -7 {
			t.Fatalf("scaleTo32, length %d: wrote past the end", n)
		}
		p, r := f64(n), f64(n)
		beta := rng.NormFloat64()
		for i := range want {
			want[i] = r[i] + float64(beta*p[i])
		}
		got = out(n)
		copy(got, p)
		xpby(got[:n], r, beta)
		same("xpby", n, got, want)
	}
}

// TestCGWeights checks cgWeights (assembly on AVX2 machines, with a Go
// tail) against confidence, bit for bit, for every length up to 21 and
// ratings that make the confidence negative (clamped to 0), zero, NaN and
// infinite.
func TestCGWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	specials := []float32{0, -2, -0.5, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 3.5}
	for _, p := range []als.Params{
		{Alpha: 1, Unobserved: 1},
		{Alpha: 2.5, Unobserved: 0.3},
		{Alpha: 0.7, Unobserved: 0},
	} {
		for n := 0; n <= 21; n++ {
			vals := make([]float32, n)
			for i := range vals {
				if rng.IntN(3) == 0 {
					vals[i] = specials[rng.IntN(len(specials))]
				} else {
					vals[i] = float32(rng.NormFloat64() * 3)
				}
			}
			c, w := make([]float32, n+1), make([]float32, n+1)
			c[n], w[n] = -7, -7
			cgWeights(c, w, vals, &p)
			for i, v := range vals {
				wc := float32(confidence(&p, v))
				ww := wc - float32(p.Unobserved)
				if math.Float32bits(c[i]) != math.Float32bits(wc) || math.Float32bits(w[i]) != math.Float32bits(ww) {
					t.Fatalf("alpha %g, length %d, rating %v: c, w = %v, %v; want %v, %v", p.Alpha, n, v, c[i], w[i], wc, ww)
				}
			}
			if c[n] != -7 || w[n] != -7 {
				t.Fatalf("length %d: wrote past the end", n)
			}
		}
	}
}

// BenchmarkCGWeights computes the weights of a row of 130 ratings (a
// user's mean on ml-latest-small), against the plain Go loop.
func BenchmarkCGWeights(b *testing.B) {
	p := als.DefaultImplicitParams()
	vals := make([]float32, 130)
	for i := range vals {
		vals[i] = 0.5 * float32(1+i%10)
	}
	c, w := make([]float32, len(vals)), make([]float32, len(vals))
	b.Run("kernel", func(b *testing.B) {
		for b.Loop() {
			cgWeights(c, w, vals, &p)
		}
	})
	b.Run("go", func(b *testing.B) {
		w0 := float32(p.Unobserved)
		for b.Loop() {
			for l, v := range vals {
				cf := float32(confidence(&p, v))
				c[l], w[l] = cf, cf-w0
			}
		}
	})
}
