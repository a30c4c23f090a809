package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/lapack"
)

// gramOf returns the lower triangle (stride k) of Σ_r x_r x_rᵀ over rows
// random rows whose coordinates shrink as scale^j: a spread of
// eigenvalues like a factor table's.
func gramOf(k, rows int, scale float64, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 7))
	g := make([]float64, k*k)
	x := make([]float64, k)
	for range rows {
		for j := range x {
			x[j] = rng.NormFloat64() * math.Pow(scale, float64(j))
		}
		for i := 0; i < k; i++ {
			for j := 0; j <= i; j++ {
				g[i*k+j] += x[i] * x[j]
			}
		}
	}
	return g
}

// TestSyev checks syev against gonum's Dsyev: the same eigenvalues to
// rounding (relative to the largest), and eigenvectors that are
// orthonormal and satisfy A·z = λ·z to rounding; with a junk upper
// triangle in the input, which syev must not read.
func TestSyev(t *testing.T) {
	for _, tc := range []struct {
		k, rows int
		scale   float64
	}{
		{1, 3, 1}, {2, 5, 1}, {3, 2, 1}, {8, 40, 0.9}, {17, 10, 1}, {33, 100, 0.97},
		{64, 610, 0.98}, {128, 610, 0.99}, {128, 60, 1}, {131, 500, 0.95},
	} {
		t.Run(fmt.Sprintf("k=%d/rows=%d", tc.k, tc.rows), func(t *testing.T) {
			k := tc.k
			g := gramOf(k, tc.rows, tc.scale, uint64(k*1000+tc.rows))
			want, wantW := append([]float64(nil), g...), make([]float64, k)
			work := make([]float64, syevWork(k))
			if !lp.Dsyev(lapack.EVCompute, blas.Lower, k, want, k, wantW, work, len(work)) {
				t.Fatal("Dsyev failed")
			}
			got, gotW := append([]float64(nil), g...), make([]float64, k)
			for i := 0; i < k; i++ {
				for j := i + 1; j < k; j++ {
					got[i*k+j] = math.NaN()
				}
			}
			if !syev(k, got, gotW, work, make([]float64, k*k)) {
				t.Fatal("syev failed")
			}
			big := math.Max(math.Abs(wantW[0]), math.Abs(wantW[k-1]))
			const tol = 1e-12
			for i := range wantW {
				if math.Abs(gotW[i]-wantW[i]) > tol*big {
					t.Fatalf("eigenvalue %d: %v, Dsyev %v", i, gotW[i], wantW[i])
				}
			}
			sym := func(i, j int) float64 { return g[max(i, j)*k+min(i, j)] }
			for c := 0; c < k; c++ {
				for r := 0; r < k; r++ {
					var az float64
					for l := 0; l < k; l++ {
						az += sym(r, l) * got[l*k+c]
					}
					if d := math.Abs(az - gotW[c]*got[r*k+c]); d > tol*big {
						t.Fatalf("vector %d, row %d: (A·z − λ·z) = %.3g, more than %.0g·|λ|max", c, r, d, tol)
					}
				}
				for c2 := 0; c2 <= c; c2++ {
					var dot float64
					for r := 0; r < k; r++ {
						dot += got[r*k+c] * got[r*k+c2]
					}
					if c2 == c {
						dot--
					}
					if math.Abs(dot) > tol {
						t.Fatalf("vectors %d and %d: zᵀz − δ = %.3g", c, c2, dot)
					}
				}
			}
		})
	}
}

// BenchmarkSyev compares syev with gonum's Dsyev on a Gram matrix like
// the implicit item half's at rank 128 (610 user rows).
func BenchmarkSyev(b *testing.B) {
	const k = 128
	g := gramOf(k, 610, 0.99, 1)
	a, w := make([]float64, k*k), make([]float64, k)
	work, zt := make([]float64, syevWork(k)), make([]float64, k*k)
	b.Run("syev", func(b *testing.B) {
		for b.Loop() {
			copy(a, g)
			syev(k, a, w, work, zt)
		}
	})
	b.Run("gonum", func(b *testing.B) {
		for b.Loop() {
			copy(a, g)
			lp.Dsyev(lapack.EVCompute, blas.Lower, k, a, k, w, work, len(work))
		}
	})
}

// TestRotRowsMatchesDlasr checks rotRows (the AVX kernel on blocks of 16
// columns and plain Go on the rest) bit for bit against gonum's Dlasr,
// with identity rotations in the sequence, in both directions.
func TestRotRowsMatchesDlasr(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, m := range []int{1, 2, 3, 7, 40} {
		for _, n := range []int{1, 5, 16, 17, 33, 128, 131} {
			for _, forward := range []bool{true, false} {
				lda := n + 3
				a := make([]float64, m*lda)
				for i := range a {
					a[i] = rng.NormFloat64()
				}
				c, s := make([]float64, max(m-1, 1)), make([]float64, max(m-1, 1))
				for j := range c {
					if rng.IntN(4) == 0 {
						c[j], s[j] = 1, 0
						continue
					}
					th := rng.Float64() * 2 * math.Pi
					c[j], s[j] = math.Cos(th), math.Sin(th)
				}
				want := append([]float64(nil), a...)
				direct := lapack.Backward
				if forward {
					direct = lapack.Forward
				}
				lp.Dlasr(blas.Left, lapack.Variable, direct, m, n, c, s, want, lda)
				rotRows(forward, m, n, c, s, a, lda)
				for i := range a {
					if a[i] != want[i] {
						t.Fatalf("m=%d n=%d forward=%v: element %d is %v, Dlasr %v", m, n, forward, i, a[i], want[i])
					}
				}
			}
		}
	}
}

// BenchmarkRotateRows turns the item table of ml-latest-small's shape
// (8,973 rows) at rank 128 by a k×k matrix, as the final unrotate of an
// implicit fit does, on two workers.
func BenchmarkRotateRows(b *testing.B) {
	const k, n = 128, 8973
	rng := rand.New(rand.NewPCG(1, 2))
	rows := make([]float32, n*k)
	for i := range rows {
		rows[i] = float32(rng.NormFloat64())
	}
	m := make([]float64, k*k)
	for i := range m {
		m[i] = rng.NormFloat64() / math.Sqrt(k)
	}
	ws := []*workspace{defaultKernel.newWorkspace(k, 1), defaultKernel.newWorkspace(k, 1)}
	for _, w := range ws {
		defaultKernel.growImplicit(w, k)
	}
	t := newTeam(ws, 0, false)
	defer t.close()
	sc := newImplicitScratch(gramDim(k), 1, k)
	for b.Loop() {
		rotateRows(t, rows, k, m, sc)
	}
}

// TestRotateRows checks the float32 rotation of a factor table against
// float64 sums, at ranks whose tile stride is and is not the rank, on one
// and two workers.
func TestRotateRows(t *testing.T) {
	for _, k := range []int{1, 7, 8, 33, 128} {
		for _, workers := range []int{1, 2} {
			rng := rand.New(rand.NewPCG(uint64(k), 9))
			n := 3*chunk + 5
			rows := make([]float32, n*k)
			for i := range rows {
				rows[i] = float32(rng.NormFloat64())
			}
			m := make([]float64, k*k)
			for i := range m {
				m[i] = rng.NormFloat64() / math.Sqrt(float64(k))
			}
			want := make([]float64, n*k)
			for r := 0; r < n; r++ {
				for i := 0; i < k; i++ {
					for j := 0; j < k; j++ {
						want[r*k+j] += float64(rows[r*k+i]) * m[i*k+j]
					}
				}
			}
			ws := make([]*workspace, workers)
			for w := range ws {
				ws[w] = defaultKernel.newWorkspace(k, 1)
				defaultKernel.growImplicit(ws[w], k)
			}
			tm := newTeam(ws, 0, false)
			rotateRows(tm, rows, k, m, newImplicitScratch(gramDim(k), 1, k))
			tm.close()
			for i, w := range want {
				if d := math.Abs(float64(rows[i]) - w); d > 1e-5*(1+math.Abs(w)) {
					t.Fatalf("k=%d workers=%d: element %d is %v, want %v", k, workers, i, rows[i], w)
				}
			}
		}
	}
}
