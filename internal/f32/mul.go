package f32

// Mul sets o[l] = f[l]·d[l] for every l < len(o): an element-wise
// product, such as a factor row scaled column by column. Each product is
// one IEEE float32 multiplication, so every build gives the same bits. f
// and d must be at least as long as o; o may be f or d itself, but must
// not overlap them otherwise.
func Mul(o, f, d []float32) {
	if len(f) < len(o) || len(d) < len(o) {
		panic("f32: Mul: short slice")
	}
	if len(o) == 0 {
		return
	}
	mulArch(o, f[:len(o)], d[:len(o)])
}

// mulGo is Mul in plain Go, unrolled by eight (the compiler does not
// vectorise).
func mulGo(o, f, d []float32) {
	n := len(o)
	f, d = f[:n], d[:n]
	l := 0
	for ; l+8 <= n; l += 8 {
		oo, ff, dd := o[l:l+8:l+8], f[l:l+8:l+8], d[l:l+8:l+8]
		oo[0] = ff[0] * dd[0]
		oo[1] = ff[1] * dd[1]
		oo[2] = ff[2] * dd[2]
		oo[3] = ff[3] * dd[3]
		oo[4] = ff[4] * dd[4]
		oo[5] = ff[5] * dd[5]
		oo[6] = ff[6] * dd[6]
		oo[7] = ff[7] * dd[7]
	}
	for ; l < n; l++ {
		o[l] = f[l] * d[l]
	}
}
