package cpu

import "math"

// This file holds the plain-Go kernels: the fast choice for very short
// rows and small ranks, and the portable reference the tiled path is
// tested against.

// gramGo overwrites rows 0..kp of a (row stride lda, lower triangle)
// with Σ v vᵀ over the ratings lo..hi-1 by rank-1 updates, where
// v = (y, r) is the augmented vector of length kp+1 (v is scratch of that
// length): rows 0..kp-1 hold A = Σ y yᵀ and row kp holds b = Σ r y, as
// gramTiled leaves them.
func gramGo(a []float64, lda int, v []float64, h *half, lo, hi int64) {
	kp, kk := h.kp, h.k
	for j := 0; j <= kp; j++ {
		clear(a[j*lda : j*lda+j+1])
	}
	v = v[:kp+1]
	if h.bias {
		v[kk] = 1
	}
	for p := lo; p < hi; p++ {
		it := int(h.idx[p])
		for c, x := range h.fixed[it*kk : it*kk+kk] {
			v[c] = float64(x)
		}
		v[kp] = h.target(p)
		for j, vj := range v {
			row := a[j*lda : j*lda+j+1]
			for q, vq := range v[:j+1] {
				row[q] += vj * vq
			}
		}
	}
}

// choleskyGo solves A x = b in place for the symmetric positive definite
// n×n row-major A (row stride lda) whose lower triangle is set, leaving L
// (A = L·Lᵀ) in a's lower triangle and x in b; b must not overlap rows
// 0..n-1 of a. It reports whether A was positive definite.
// It is left-looking, so every inner loop is a dot product or update
// along a contiguous row of L.
func choleskyGo(a []float64, lda int, b []float64, n int) bool {
	for j := 0; j < n; j++ {
		rj := a[j*lda : j*lda+j+1]
		d := rj[j]
		for _, v := range rj[:j] {
			d -= v * v
		}
		if !(d > 0) {
			return false
		}
		d = math.Sqrt(d)
		rj[j] = d
		inv := 1 / d
		for i := j + 1; i < n; i++ {
			ri := a[i*lda : i*lda+j+1]
			s := ri[j]
			for c, v := range rj[:j] {
				s -= ri[c] * v
			}
			ri[j] = s * inv
		}
	}
	// L z = b.
	for i := 0; i < n; i++ {
		ri := a[i*lda : i*lda+i+1]
		s := b[i]
		for c, l := range ri[:i] {
			s -= l * b[c]
		}
		b[i] = s / ri[i]
	}
	// Lᵀ x = z, by rows of L.
	for i := n - 1; i >= 0; i-- {
		ri := a[i*lda : i*lda+i+1]
		x := b[i] / ri[i]
		b[i] = x
		bs := b[:i]
		for c, l := range ri[:i] {
			bs[c] -= x * l
		}
	}
	return true
}
