package cpu

import "movierec/als"

// The CG solver's O(k) vector steps (cg.go), between its float64
// recurrences and the float32 kernels: each call is a handful of passes
// over k elements, four or five per product A·p, and at k = 128 they were
// about 8% of the ranking fit's CPU time as plain Go loops. On amd64 with
// AVX2 they are assembly (cgvec_amd64.s) on the first len &^ 3 elements,
// with the same operations in the same order as the Go versions here, so
// both give the same bits; the tail runs the Go loop. (The conversions
// to float64 around products keep the compiler from fusing them with the
// sums, which the assembly rounds separately.)

// avx2Head returns how many of n elements the assembly takes: n rounded
// down to 4 with AVX2, else none.
func avx2Head(n int) int {
	if useAVX2 {
		return n &^ 3
	}
	return 0
}

// to32 sets dst[i] = float32(src[i]) for i < len(dst); src is at least as
// long.
func to32(dst []float32, src []float64) {
	src = src[:len(dst)]
	n := avx2Head(len(dst))
	if n > 0 {
		to32AVX2(dst[:n], src[:n])
	}
	for i := n; i < len(dst); i++ {
		dst[i] = float32(src[i])
	}
}

// to64 sets dst[i] = float64(src[i]) for i < len(dst); src is at least as
// long.
func to64(dst []float64, src []float32) {
	src = src[:len(dst)]
	n := avx2Head(len(dst))
	if n > 0 {
		to64AVX2(dst[:n], src[:n])
	}
	for i := n; i < len(dst); i++ {
		dst[i] = float64(src[i])
	}
}

// diagApply sets q[i] = float64(q32[i]) + sign·((d[i] + reg)·v[i]) for
// i < len(q): a rotated half's product, whose shared part w₀G is the
// diagonal d, added to the rows' part q32. sign is ±1 (exact). q32, d and
// v are at least as long as q.
func diagApply(q []float64, q32 []float32, d, v []float64, reg, sign float64) {
	q32, d, v = q32[:len(q)], d[:len(q)], v[:len(q)]
	n := avx2Head(len(q))
	if n > 0 {
		diagApplyAVX2(q[:n], q32[:n], d[:n], v[:n], reg, sign)
	}
	for i := n; i < len(q); i++ {
		q[i] = float64(q32[i]) + float64(sign*((d[i]+reg)*v[i]))
	}
}

// gramApply sets q[i] = float64(q32[i]) + sign·(float64(s[i]) + reg·v[i])
// for i < len(q): a half's product whose shared part w₀G·v is s, added to
// the rows' part q32. sign is ±1 (exact). q32, s and v are at least as
// long as q.
func gramApply(q []float64, q32, s []float32, v []float64, reg, sign float64) {
	q32, s, v = q32[:len(q)], s[:len(q)], v[:len(q)]
	n := avx2Head(len(q))
	if n > 0 {
		gramApplyAVX2(q[:n], q32[:n], s[:n], v[:n], reg, sign)
	}
	for i := n; i < len(q); i++ {
		q[i] = float64(q32[i]) + float64(sign*(float64(s[i])+float64(reg*v[i])))
	}
}

// xpby sets p[i] = r[i] + beta·p[i] for i < len(p): CG's new direction. r
// is at least as long as p.
func xpby(p, r []float64, beta float64) {
	r = r[:len(p)]
	n := avx2Head(len(p))
	if n > 0 {
		xpbyAVX2(p[:n], r[:n], beta)
	}
	for i := n; i < len(p); i++ {
		p[i] = r[i] + float64(beta*p[i])
	}
}

// scaleTo32 sets x[l] = float32(float64(acc[l])·d[l]) for l < len(x): a
// Woodbury row's solution, D^(−½)·acc in float64, stored in float32. acc
// and d are at least as long as x.
func scaleTo32(x, acc []float32, d []float64) {
	acc, d = acc[:len(x)], d[:len(x)]
	n := avx2Head(len(x))
	if n > 0 {
		scaleTo32AVX2(x[:n], acc[:n], d[:n])
	}
	for l := n; l < len(x); l++ {
		x[l] = float32(float64(acc[l]) * d[l])
	}
}

// cgWeights sets c[l] = float32(confidence(p, vals[l])) and
// w[l] = c[l] − float32(p.Unobserved) for l < len(vals): an implicit
// row's confidences and weights, which its CG products take. c and w are
// at least as long as vals.
func cgWeights(c, w, vals []float32, p *als.Params) {
	c, w = c[:len(vals)], w[:len(vals)]
	w0 := float32(p.Unobserved)
	n := avx2Head(len(vals))
	if n > 0 {
		cgWeightsAVX2(c[:n], w[:n], vals[:n], p.Alpha, w0)
	}
	for l := n; l < len(vals); l++ {
		cf := float32(confidence(p, vals[l]))
		c[l], w[l] = cf, cf-w0
	}
}
