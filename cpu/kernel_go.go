package cpu

import "math"

// This file holds the plain-Go kernels: the fast choice for very short
// rows and small ranks, and the portable reference the BLAS path is tested
// against.

// gramGo overwrites the lower triangle of a (kp×kp, row-major) with Σ y yᵀ
// and b with Σ r y over the ratings lo..hi-1, by rank-1 updates. y is
// scratch of length kp.
func gramGo(a, b, y []float64, h *half, lo, hi int64) {
	kp, kk := h.kp, h.k
	for j := 0; j < kp; j++ {
		clear(a[j*kp : j*kp+j+1])
	}
	clear(b)
	y = y[:kp]
	if h.bias {
		y[kk] = 1
	}
	for p := lo; p < hi; p++ {
		it := int(h.idx[p])
		for c, v := range h.fixed[it*kk : it*kk+kk] {
			y[c] = float64(v)
		}
		r := h.target(p)
		for j, yj := range y {
			row := a[j*kp : j*kp+j+1]
			for q, yq := range y[:j+1] {
				row[q] += yj * yq
			}
			b[j] += r * yj
		}
	}
}

// choleskyGo solves A x = b in place for the symmetric positive definite
// n×n row-major A whose lower triangle is set, leaving L (A = L·Lᵀ) in a's
// lower triangle and x in b. It reports whether A was positive definite.
// It is left-looking, so every inner loop is a dot product or update
// along a contiguous row of L.
func choleskyGo(a, b []float64, n int) bool {
	for j := 0; j < n; j++ {
		rj := a[j*n : j*n+j+1]
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
			ri := a[i*n : i*n+j+1]
			s := ri[j]
			for c, v := range rj[:j] {
				s -= ri[c] * v
			}
			ri[j] = s * inv
		}
	}
	// L z = b.
	for i := 0; i < n; i++ {
		ri := a[i*n : i*n+i+1]
		s := b[i]
		for c, l := range ri[:i] {
			s -= l * b[c]
		}
		b[i] = s / ri[i]
	}
	// Lᵀ x = z, by rows of L.
	for i := n - 1; i >= 0; i-- {
		ri := a[i*n : i*n+i+1]
		x := b[i] / ri[i]
		b[i] = x
		bs := b[:i]
		for c, l := range ri[:i] {
			bs[c] -= x * l
		}
	}
	return true
}
