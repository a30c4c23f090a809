package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
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
