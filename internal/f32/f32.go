// Package f32 holds float32 vector kernels shared by the CPU trainer
// (cpu) and the scoring code (engine, eval): dot products of one vector
// with many rows of a row-major factor table, and sums of weighted rows;
// and dot products of an int16 vector with the rows of an int8 table
// (DotsInt8), for approximate scores from 8-bit factors; and element-wise
// products (Mul), such as a table scaled column by column.
//
// On amd64 with AVX2 and FMA they are assembly (f32_amd64.s), chosen once
// at start-up from the CPU's feature bits; on other CPUs, other
// architectures or with the purego build tag they are plain Go. The two
// sum in different orders, so they agree to float32 rounding: within a
// few units of 6e-8 times the sum of the terms' magnitudes. On a given
// machine and build the choice never changes, so results are
// reproducible run to run, and Dots and DotsIdx give a row the same dot
// product bit for bit wherever it sits among the rows they are given, so
// a caller may score a few rows again, gathered, and get the scores a
// pass over all of them gave. Where the CPU and OS also support AVX-512,
// DotsAxpysIdx at ranks that are multiples of 16, and DotsTile at such
// ranks from 96, run on 512-bit registers (avx512_amd64.s), bit for bit
// what their AVX2 kernels give: 1.4–1.5× and 1.3× faster at k = 128.
//
// All functions take the destination first; every slice is the caller's
// and only the destination is written, which must not overlap the
// others. They panic on bad dimensions, short slices or an index out of
// range, and allocate nothing.
package f32

// Dots sets t[j] = src[j·k:][:k] · p for every j < len(t): one dot product
// per row of the row-major table src (stride k), such as every item's
// score for one user.
func Dots(t, src []float32, k int, p []float32) {
	if k <= 0 {
		panic("f32: Dots: bad dimensions")
	}
	if len(src) < len(t)*k || len(p) < k {
		panic("f32: Dots: short slice")
	}
	if len(t) == 0 {
		return
	}
	dotsArch(t, src[:len(t)*k], k, p[:k])
}

// DotsIdx sets t[j] = src[idx[j]·k:][:k] · p for every j < len(idx): one
// dot product per indexed row of the row-major table src (stride k).
func DotsIdx(t, src []float32, k int, idx []int32, p []float32) {
	checkRows("DotsIdx", src, k, idx)
	DotsIdxUnchecked(t, src, k, idx, p)
}

// AxpysIdx adds Σ_j t[j]·src[idx[j]·k:][:k] to dst[:k]: the indexed rows
// of the row-major table src (stride k) weighted by t, in order j, with
// one rounding per term (fused on AVX2).
func AxpysIdx(dst, src []float32, k int, idx []int32, t []float32) {
	checkRows("AxpysIdx", src, k, idx)
	AxpysIdxUnchecked(dst, src, k, idx, t)
}

// DotsIdxUnchecked is DotsIdx without the check that every idx[j] names a
// row of src, which costs a pass over idx per call: for callers that call
// it many times over indices they checked once (cpu's Fit checks every
// rating's indices before its CG passes). An index out of range is then
// not caught: the assembly reads outside src. It still checks k and the
// lengths of t and p.
func DotsIdxUnchecked(t, src []float32, k int, idx []int32, p []float32) {
	if k <= 0 || len(t) < len(idx) || len(p) < k {
		panic("f32: DotsIdxUnchecked: bad dimensions or short slice")
	}
	if len(idx) == 0 {
		return
	}
	dotsIdxArch(t, src, k, idx, p[:k])
}

// AxpysIdxUnchecked is AxpysIdx without the check of idx against src, as
// DotsIdxUnchecked.
func AxpysIdxUnchecked(dst, src []float32, k int, idx []int32, t []float32) {
	if k <= 0 || len(t) < len(idx) || len(dst) < k {
		panic("f32: AxpysIdxUnchecked: bad dimensions or short slice")
	}
	if len(idx) == 0 {
		return
	}
	axpysIdxArch(dst[:k], src, k, idx, t)
}

// DotsAxpysIdx adds Σ_j s_j·y_j to dst[:k], where y_j = src[idx[j]·k:][:k]
// are the indexed rows of the row-major table src (stride k) and
//
//	s_j = w[j]·(y_j·p), or s_j = c[j] − w[j]·(y_j·p) when c is not nil,
//
// the product rounded to float32 before the subtraction. It is the two
// passes of a weighted Gram product Σ w y yᵀ p (or c − …: a residual) in
// one pass over the rows, each row added into dst right after its dot
// product, while it is still in L1 cache. Its result is, bit for bit,
// DotsIdx into t, then t[j] = float32(w[j]·t[j]) (c[j] − that with c),
// then AxpysIdx. w (and c when not nil) must be at least len(idx) long;
// dst must not overlap p.
func DotsAxpysIdx(dst, src []float32, k int, idx []int32, p, w, c []float32) {
	checkRows("DotsAxpysIdx", src, k, idx)
	DotsAxpysIdxUnchecked(dst, src, k, idx, p, w, c)
}

// DotsAxpysIdxUnchecked is DotsAxpysIdx without the check of idx against
// src, as DotsIdxUnchecked.
func DotsAxpysIdxUnchecked(dst, src []float32, k int, idx []int32, p, w, c []float32) {
	if k <= 0 || len(dst) < k || len(p) < k || len(w) < len(idx) || (c != nil && len(c) < len(idx)) {
		panic("f32: DotsAxpysIdxUnchecked: bad dimensions or short slice")
	}
	if len(idx) == 0 {
		return
	}
	if c != nil {
		c = c[:len(idx)]
	}
	dotsAxpysIdxArch(dst[:k], src, k, idx, p[:k], w[:len(idx)], c)
}

// checkRows panics unless every idx[j] names a whole row of the stride-k
// table src.
func checkRows(name string, src []float32, k int, idx []int32) {
	if k <= 0 {
		panic("f32: " + name + ": bad dimensions")
	}
	rows := uint(len(src) / k)
	for _, it := range idx {
		if uint(it) >= rows {
			panic("f32: " + name + ": index out of range")
		}
	}
}

// dotsGo is Dots in plain Go. Its arguments are checked by Dots.
func dotsGo(t, src []float32, k int, p []float32) {
	p = p[:k]
	for j := range t {
		row := src[j*k : j*k+k]
		var s float32
		for c, v := range row {
			s += v * p[c]
		}
		t[j] = s
	}
}

// dotsIdxGo is DotsIdx in plain Go. Its arguments are checked by DotsIdx.
func dotsIdxGo(t, src []float32, k int, idx []int32, p []float32) {
	p = p[:k]
	for j, it := range idx {
		row := src[int(it)*k : int(it)*k+k]
		var s float32
		for c, v := range row {
			s += v * p[c]
		}
		t[j] = s
	}
}

// axpysIdxGo is AxpysIdx in plain Go. Its arguments are checked by
// AxpysIdx.
func axpysIdxGo(dst, src []float32, k int, idx []int32, t []float32) {
	dst = dst[:k]
	for j, it := range idx {
		row := src[int(it)*k : int(it)*k+k]
		w := t[j]
		for c, v := range row {
			dst[c] += w * v
		}
	}
}

// dotsAxpysIdxGo is DotsAxpysIdx in plain Go. Its arguments are checked
// by DotsAxpysIdx. The explicit conversion keeps the compiler from fusing
// the weight's product and subtraction.
func dotsAxpysIdxGo(dst, src []float32, k int, idx []int32, p, w, c []float32) {
	dst, p = dst[:k], p[:k]
	for j, it := range idx {
		row := src[int(it)*k : int(it)*k+k]
		var d float32
		for l, v := range row {
			d += v * p[l]
		}
		s := float32(w[j] * d)
		if c != nil {
			s = c[j] - s
		}
		for l, v := range row {
			dst[l] += s * v
		}
	}
}
