package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// randomSPD returns an n×n SPD system in choleskyAug's layout (lower
// triangle with row stride lda, b in row n) and the same system as a
// separate copy: A = G Gᵀ/n + I over a random n×n G, b random.
func randomSPD(rng *rand.Rand, n, lda int) []float64 {
	g := make([]float64, n*n)
	for i := range g {
		g[i] = rng.NormFloat64()
	}
	a := make([]float64, (n+1)*lda)
	for i := range a {
		a[i] = math.NaN() // never read: above the diagonal, past column n
	}
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			var s float64
			for c := 0; c < n; c++ {
				s += g[i*n+c] * g[j*n+c]
			}
			a[i*lda+j] = s / float64(max(n, 1))
		}
		a[i*lda+i] += 1
	}
	for j := 0; j < n; j++ {
		a[n*lda+j] = rng.NormFloat64()
	}
	return a
}

// TestCholeskyAug checks choleskyAug (assembly kernels where useAVX2) and
// choleskyGo, and the kernels dotArch, crsubArch and axpyArch against
// dotGo, crsubGo and axpyGo, on random SPD systems for every n = 1..260
// with odd and even strides: L and x agree to 1e-10 relative.
func TestCholeskyAug(t *testing.T) {
	t.Logf("useAVX2 = %t", useAVX2)
	rng := rand.New(rand.NewPCG(5, 6))
	maxN := 260
	if testing.Short() || raceEnabled {
		maxN = 70
	}
	for n := 1; n <= maxN; n++ {
		if n > 70 && n%5 != 0 && (testing.Short() || raceEnabled) {
			continue
		}
		lda := n + rng.IntN(5)
		a := randomSPD(rng, n, lda)
		ref := append([]float64(nil), a...)
		if !choleskyGo(ref, lda, ref[n*lda:n*lda+n], n) {
			t.Fatalf("n=%d: choleskyGo: not positive definite", n)
		}
		if !choleskyAug(a, lda, n) {
			t.Fatalf("n=%d: choleskyAug: not positive definite", n)
		}
		var diff, scale, xdiff, xscale float64
		for i := 0; i < n; i++ {
			for j := 0; j <= i; j++ {
				diff = max(diff, math.Abs(a[i*lda+j]-ref[i*lda+j]))
				scale = max(scale, math.Abs(ref[i*lda+j]))
			}
			xdiff = max(xdiff, math.Abs(a[n*lda+i]-ref[n*lda+i]))
			xscale = max(xscale, math.Abs(ref[n*lda+i]))
		}
		if !(diff <= 1e-10*scale) || !(xdiff <= 1e-10*xscale) {
			t.Errorf("n=%d lda=%d: L differs by %.3g, x by %.3g relative", n, lda, diff/scale, xdiff/xscale)
		}
		for i := range a {
			if (i%lda >= n || i%lda > i/lda) && !math.IsNaN(a[i]) {
				t.Fatalf("n=%d: choleskyAug wrote a[%d,%d]", n, i/lda, i%lda)
			}
		}
	}
}

// TestCholeskyKernels checks dotArch, crsubArch and axpyArch against
// dotGo, crsubGo and axpyGo for every length 0..260 and row counts 0..9.
func TestCholeskyKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for k := 0; k <= 260; k++ {
		x := make([]float64, k+rng.IntN(3))
		y := make([]float64, k+rng.IntN(3))
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		for i := range y {
			y[i] = rng.NormFloat64()
		}
		x = x[:k]
		var bound float64
		for c := range x {
			bound += math.Abs(x[c] * y[c])
		}
		if got, want := dotArch(x, y), dotGo(x, y); math.Abs(got-want) > 1e-14*bound {
			t.Fatalf("dotArch(k=%d) = %v, want %v", k, got, want)
		}
		alpha := rng.NormFloat64()
		y1 := append([]float64(nil), y...)
		y2 := append([]float64(nil), y...)
		axpyArch(alpha, x, y1)
		axpyGo(alpha, x, y2)
		for c := range y1 {
			if c >= k {
				if y1[c] != y[c] {
					t.Fatalf("axpyArch(k=%d) wrote y[%d]", k, c)
				}
				continue
			}
			if math.Abs(y1[c]-y2[c]) > 1e-15*(math.Abs(y[c])+math.Abs(alpha*x[c])) {
				t.Fatalf("axpyArch(k=%d): y[%d] = %v, want %v", k, c, y1[c], y2[c])
			}
		}
		rows := rng.IntN(10)
		lda := k + 1 + rng.IntN(4)
		a := make([]float64, max(rows-1, 0)*lda+k+1+rng.IntN(3))
		for i := range a {
			a[i] = rng.NormFloat64()
		}
		a1 := append([]float64(nil), a...)
		a2 := append([]float64(nil), a...)
		s := rng.NormFloat64()
		crsubArch(a1, lda, x, rows, s)
		crsubGo(a2, lda, x, rows, s)
		for i := range a1 {
			r, c := i/lda, i%lda
			if r >= rows || c != k {
				if a1[i] != a[i] {
					t.Fatalf("crsubArch(k=%d, rows=%d) wrote a[%d,%d]", k, rows, r, c)
				}
				continue
			}
			b := math.Abs(a[i])
			for j := range x {
				b += math.Abs(a[r*lda+j] * x[j])
			}
			if math.Abs(a1[i]-a2[i]) > 1e-14*b*math.Abs(s) {
				t.Fatalf("crsubArch(k=%d, rows=%d): a[%d,%d] = %v, want %v", k, rows, r, c, a1[i], a2[i])
			}
		}
	}
}

// TestCrsub4 checks crsub4Arch against crsub4Go for every k = 0..260,
// row counts 0..9 and odd and even strides, and that nothing outside the
// four target columns of each row changes.
func TestCrsub4(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for k := 0; k <= 260; k++ {
		rows := rng.IntN(10)
		lda := k + 4 + rng.IntN(4)
		l := make([]float64, 3*lda+k+rng.IntN(3))
		for i := range l {
			l[i] = rng.NormFloat64()
		}
		var w [16]float64
		for q := 0; q < 4; q++ {
			w[q] = 1 / (1 + rng.Float64())
			for p := 0; p < q && p < 3; p++ {
				w[4+4*p+q] = rng.NormFloat64()
			}
		}
		a := make([]float64, max(rows-1, 0)*lda+k+4+rng.IntN(3))
		for i := range a {
			a[i] = rng.NormFloat64()
		}
		a1 := append([]float64(nil), a...)
		a2 := append([]float64(nil), a...)
		crsub4Arch(a1, lda, l, k, rows, &w)
		crsub4Go(a2, lda, l, k, rows, &w)
		for i := range a1 {
			r, c := i/lda, i%lda
			if r >= rows || c < k || c >= k+4 {
				if a1[i] != a[i] {
					t.Fatalf("crsub4Arch(k=%d, rows=%d) wrote a[%d,%d]", k, rows, r, c)
				}
				continue
			}
			if math.Abs(a1[i]-a2[i]) > 1e-12*(1+math.Abs(a2[i])) {
				t.Fatalf("crsub4Arch(k=%d, rows=%d): a[%d,%d] = %v, want %v", k, rows, r, c, a1[i], a2[i])
			}
		}
	}
}

// TestCholeskyAugNotPositiveDefinite checks that indefinite and NaN
// systems are reported.
func TestCholeskyAugNotPositiveDefinite(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{1, 5, 21, 65, 130} {
		for _, bad := range []float64{-1, math.NaN()} {
			a := randomSPD(rng, n, n+1)
			a[(n-1)*(n+1)+n-1] = bad * 1e6
			if choleskyAug(a, n+1, n) {
				t.Errorf("n=%d: choleskyAug with A[n-1,n-1] = %v = true, want false", n, bad*1e6)
			}
		}
	}
}

func BenchmarkCholesky(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{9, 11, 13, 15, 17, 21, 33, 65, 129, 257} {
		lda := gramDim(n)
		a0 := randomSPD(rng, n, lda)
		a := make([]float64, len(a0))
		for _, c := range []struct {
			name string
			f    func()
		}{
			{"aug", func() { choleskyAug(a, lda, n) }},
			{"go", func() { choleskyGo(a, lda, a[n*lda:n*lda+n], n) }},
			{"blas", func() { choleskyBLAS(a, lda, a[n*lda:n*lda+n], n) }},
		} {
			b.Run(fmt.Sprintf("%s/n=%d", c.name, n), func(b *testing.B) {
				for b.Loop() {
					copy(a, a0)
					c.f()
				}
				fn := float64(n)
				b.ReportMetric((fn*fn*fn/3+2*fn*fn)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
