package f32

// Int8Stride returns the row stride, in bytes, of the int8 tables that
// DotsInt8 reads for rows of k values: k rounded up to a multiple of 8, so
// that the kernel reads whole groups of eight bytes within each row.
func Int8Stride(k int) int { return (k + 7) &^ 7 }

// Int16Limit returns the largest |p[c]| DotsInt8 accepts for rows of k
// values: 32767, or less for k > 512, so that k products of an int8 and
// an int16 sum to less than 2³¹ in magnitude and the int32 sum is exact.
func Int16Limit(k int) int {
	return min(32767, (1<<31-1)/(128*k))
}

// DotsInt8 sets t[j] = scale[j] · float32(S_j) for every j < len(t), where
// S_j = Σ_{c<k} src[j·s+c]·p[c] is summed exactly in int32 and
// s = Int8Stride(k): one dot product per row of the row-major int8 table
// src (stride s) with the int16 vector p, each times its row's scale, such
// as every item's approximate score for one user from 8-bit factors and a
// 16-bit user vector. p holds s entries, of magnitude at most
// Int16Limit(k), and p[k:s] must be zero, so the rows' padding bytes
// weigh nothing whatever they hold.
//
// The sum is exact and rounded once to float32, and the product with the
// scale once more, so, absent underflow and overflow,
//
//	|t[j] − scale[j]·S_j| ≤ γ(2) · |scale[j]·S_j|,   γ(2) = 2u/(1−2u), u = 2⁻²⁴,
//
// and every implementation gives the same result bit for bit, whatever
// row it is and wherever it sits among the rows. It panics on bad
// dimensions, short slices, or p out of range.
func DotsInt8(t []float32, src []int8, scale []float32, k int, p []int16) {
	if k <= 0 {
		panic("f32: DotsInt8: bad dimensions")
	}
	st := Int8Stride(k)
	if len(src) < len(t)*st || len(scale) < len(t) || len(p) < st {
		panic("f32: DotsInt8: short slice")
	}
	lim := Int16Limit(k)
	for c, w := range p[:st] {
		if c >= k && w != 0 || int(w) > lim || int(w) < -lim {
			panic("f32: DotsInt8: p out of range")
		}
	}
	if len(t) == 0 {
		return
	}
	dotsInt8Arch(t, src[:len(t)*st], scale[:len(t)], k, p[:st])
}

// dotsInt8Go is DotsInt8 in plain Go. Its arguments are checked by
// DotsInt8.
func dotsInt8Go(t []float32, src []int8, scale []float32, k int, p []int16) {
	p = p[:k]
	st := Int8Stride(k)
	for j := range t {
		row := src[j*st : j*st+k]
		var s int32
		for c, q := range row {
			s += int32(q) * int32(p[c])
		}
		t[j] = scale[j] * float32(s)
	}
}
