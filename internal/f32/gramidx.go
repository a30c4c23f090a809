package f32

// GramIdx sets t[i·ldt+j] = src[idx[i]·k:][:k] · src[idx[j]·k:][:k] for
// every j ≤ i < len(idx): the lower triangle of the Gram matrix of the
// indexed rows of the row-major table src (stride k), such as the n×n
// matrix V·Vᵀ of a Woodbury solve. It may also write t[i·ldt+j] for
// i < j < (i+2 rounded up to a multiple of 4) when that is below
// len(idx) rounded up to 4 (the assembly's 2×4 tiles), so ldt must be at
// least len(idx) rounded up to a multiple of 4; what it writes there is a
// dot product too, but callers should read only the triangle.
//
// On AVX2, for k a multiple of 8 and len(idx) a multiple of 4, it is
// assembly that loads each row once per tile of two rows by four (eight
// dot products from six loads a step, where DotsIdx loads every row
// once per product); other shapes, and other machines, take plain Go,
// as do the last len(idx) mod 4 rows. The two sum in different orders, so
// they agree to float32 rounding.
func GramIdx(t []float32, ldt int, src []float32, k int, idx []int32) {
	checkRows("GramIdx", src, k, idx)
	GramIdxUnchecked(t, ldt, src, k, idx)
}

// GramIdxUnchecked is GramIdx without the check of idx against src, as
// DotsIdxUnchecked.
func GramIdxUnchecked(t []float32, ldt int, src []float32, k int, idx []int32) {
	n := len(idx)
	if k <= 0 || ldt < (n+3)&^3 {
		panic("f32: GramIdxUnchecked: bad dimensions")
	}
	if n == 0 {
		return
	}
	if len(t) < (n-1)*ldt+n {
		panic("f32: GramIdxUnchecked: short slice")
	}
	gramIdxArch(t, ldt, src, k, idx)
}

// gramIdxGo is GramIdx in plain Go, for rows i ≥ from: each product
// summed in order, as dotsGo sums.
func gramIdxGo(t []float32, ldt int, src []float32, k int, idx []int32, from int) {
	for i := from; i < len(idx); i++ {
		ri := src[int(idx[i])*k : int(idx[i])*k+k]
		ti := t[i*ldt : i*ldt+i+1]
		for j := range ti {
			rj := src[int(idx[j])*k : int(idx[j])*k+k]
			var s float32
			for c, v := range ri {
				s += v * rj[c]
			}
			ti[j] = s
		}
	}
}
