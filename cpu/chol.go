package cpu

import "math"

// choleskyAug solves A x = b in place for the symmetric positive definite
// n×n row-major A (row stride lda) whose lower triangle is set, with b
// stored as row n of a (a[n·lda:][:n], as gramTiled leaves it). It leaves
// L (A = L·Lᵀ) in a's lower triangle and x in row n. It reports whether A
// was positive definite. It allocates nothing and panics on short slices.
//
// It is the Crout (left-looking, column by column) Cholesky of the
// augmented (n+1)×(n+1) matrix [A bᵀ; b ·], so the forward solve L z = b
// comes out of the factorisation as row n. It is blocked by four
// columns: the diagonal 4×4 block column by column (croutColumn), then
// the rows below it by crsub4Arch, which subtracts the four dot products
// L[i,0:j0]·L[j0+q,0:j0] of contiguous rows and solves the block's
// triangle in registers; the last n mod 4 columns column by column. The
// kernels are AVX2 and FMA assembly where useAVX2, plain Go otherwise.
// The back substitution Lᵀ x = z runs by rows with axpyArch.
func choleskyAug(a []float64, lda int, n int) bool {
	if n <= 0 {
		return true
	}
	_ = a[n*lda+n-1] // bounds check once: rows 0..n, columns 0..n-1
	var w [16]float64
	j0 := 0
	for ; j0+4 <= n; j0 += 4 {
		// Columns j0..j0+3 of the diagonal block, unblocked.
		for j := j0; j < j0+4; j++ {
			if !croutColumn(a, lda, j, j0+4) {
				return false
			}
		}
		// Rows below, and b, four columns at a time: w holds the
		// block's reciprocal diagonal and, for p < 3, column p of its
		// strict lower triangle (zero on and above the diagonal).
		w = [16]float64{}
		for q := 0; q < 4; q++ {
			rq := a[(j0+q)*lda+j0 : (j0+q)*lda+j0+q+1]
			w[q] = 1 / rq[q]
			for p := 0; p < q; p++ {
				w[4+4*p+q] = rq[p]
			}
		}
		crsub4Arch(a[(j0+4)*lda:n*lda+j0+4], lda, a[j0*lda:(j0+3)*lda+j0+4], j0, n-j0-3, &w)
	}
	for j := j0; j < n; j++ {
		if !croutColumn(a, lda, j, n+1) {
			return false
		}
	}
	// Lᵀ x = z, by rows of L.
	b := a[n*lda : n*lda+n]
	for i := n - 1; i >= 0; i-- {
		x := b[i] / a[i*lda+i]
		b[i] = x
		axpyArch(-x, a[i*lda:i*lda+i], b[:i])
	}
	return true
}

// croutColumn computes column j of L in rows j..end-1 of a from the
// columns 0..j-1 left of it, reporting whether the pivot was positive.
func croutColumn(a []float64, lda, j, end int) bool {
	rj := a[j*lda : j*lda+j+1]
	d := rj[j] - dotArch(rj[:j], rj[:j])
	if !(d > 0) {
		return false
	}
	d = math.Sqrt(d)
	rj[j] = d
	if end > j+1 {
		// a[i,j] = (a[i,j] - L[i,0:j]·L[j,0:j]) / d.
		crsubArch(a[(j+1)*lda:(end-1)*lda+j+1], lda, rj[:j], end-j-1, 1/d)
	}
	return true
}

// crsub4Go sets, for every r < rows, u = a[r·lda+k:][:4] less the dot
// products of a[r·lda:][:k] with l[q·lda:][:k], q < 4, and solves it
// against the lower-triangular 4×4 block L whose reciprocal diagonal is
// w[0:4] and whose strict lower column p < 3 is w[4+4p:][:4] (zeros on and
// above the diagonal): u[p] /= L[p,p] and u[q] -= u[p]·L[q,p] for q > p,
// in order p = 0..3, and stores u back. a must hold (rows-1)·lda+k+4
// elements and l 3·lda+k.
func crsub4Go(a []float64, lda int, l []float64, k, rows int, w *[16]float64) {
	l0, l1, l2, l3 := l[:k], l[lda:lda+k], l[2*lda:2*lda+k], l[3*lda:3*lda+k]
	for r := 0; r < rows; r++ {
		ar := a[r*lda : r*lda+k+4]
		x := ar[:k]
		u := [4]float64{
			ar[k] - dotGo(x, l0),
			ar[k+1] - dotGo(x, l1),
			ar[k+2] - dotGo(x, l2),
			ar[k+3] - dotGo(x, l3),
		}
		for p := 0; p < 3; p++ {
			t := u[p] * w[p]
			for q := range u {
				u[q] -= t * w[4+4*p+q]
			}
		}
		for q := range u {
			ar[k+q] = u[q] * w[q]
		}
	}
}

// dotGo returns Σ x[c]·y[c] over c < len(x); y must be at least as long.
func dotGo(x, y []float64) float64 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float64
	c := 0
	for ; c+4 <= len(x); c += 4 {
		s0 += x[c] * y[c]
		s1 += x[c+1] * y[c+1]
		s2 += x[c+2] * y[c+2]
		s3 += x[c+3] * y[c+3]
	}
	for ; c < len(x); c++ {
		s0 += x[c] * y[c]
	}
	return (s0 + s1) + (s2 + s3)
}

// crsubGo sets a[r·lda+k] = (a[r·lda+k] - a[r·lda:][:k]·x)·s for every
// r < rows, where k = len(x): the Crout update of column k of a panel of
// rows. a must hold (rows-1)·lda+k+1 elements.
func crsubGo(a []float64, lda int, x []float64, rows int, s float64) {
	k := len(x)
	for r := 0; r < rows; r++ {
		ar := a[r*lda : r*lda+k+1]
		ar[k] = (ar[k] - dotGo(ar[:k], x)) * s
	}
}

// axpyGo sets y[c] += alpha·x[c] for c < len(x); y must be at least as
// long.
func axpyGo(alpha float64, x, y []float64) {
	y = y[:len(x)]
	for c, v := range x {
		y[c] += alpha * v
	}
}
