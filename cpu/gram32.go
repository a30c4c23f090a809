package cpu

// gramLower32 is gramLower with the products summed in float32, eight
// lanes at a time: for every row i < m it writes G[i, j] for
// j < (i/8+1)·8 (the lower triangle plus at most seven elements right of
// the diagonal in the diagonal 8×8 block), and no other element of g,
// with Σ_l Y[l,i]·Y[l,j] summed in float32 in order l = 0..n-1 from zero
// and then widened to float64 (exactly); with acc it adds that to G
// instead. Callers sum blocks of a bounded number of rows this way and
// accumulate the blocks in float64 (gramTiled32), so float32 rounding
// reaches the sum over one block only.
//
// Y is n×m float32 (the first m columns of the n rows at y[l·ldy:]) and G
// is m×m float64 (rows at g[i·ldg:]), both row-major and owned by the
// caller; m must be a multiple of 8, ldy and ldg at least m. The assembly
// fuses each multiply-add and gramLower32Go may not, so the two agree to
// float32 rounding. It panics on bad dimensions or short slices and
// allocates nothing.
func gramLower32(g []float64, ldg int, y []float32, ldy, n, m int, acc bool) {
	if m < 0 || m%8 != 0 || n < 0 || ldg < m || ldy < m {
		panic("cpu: gramLower32: bad dimensions")
	}
	if m == 0 {
		return
	}
	if len(g) < (m-1)*ldg+m || (n > 0 && len(y) < (n-1)*ldy+m) {
		panic("cpu: gramLower32: short slice")
	}
	gramLower32Arch(g, ldg, y, ldy, n, m, acc)
}

// gramLower32Go is gramLower32 in plain Go. Its arguments are checked by
// gramLower32.
func gramLower32Go(g []float64, ldg int, y []float32, ldy, n, m int, acc bool) {
	for i := 0; i < m; i++ {
		for j := 0; j < i&^7+8; j++ {
			var sum float32
			for l := 0; l < n; l++ {
				sum += y[l*ldy+i] * y[l*ldy+j]
			}
			if acc {
				g[i*ldg+j] += float64(sum)
			} else {
				g[i*ldg+j] = float64(sum)
			}
		}
	}
}

// gather32 copies the fixed-side vectors src[it·k:][:k] for it = idx[l]
// into dst[l·ldy:][:k], for every l < len(idx), leaving the rest of dst
// alone: gather for gramTiled32, without the conversion. src and idx are
// only read; dst is owned by the caller. It panics on bad dimensions,
// short slices or an index out of range, and allocates nothing.
func gather32(dst []float32, ldy int, src []float32, k int, idx []int32) {
	if checkGather("gather32", len(dst), ldy, src, k, idx) {
		gather32Arch(dst, ldy, src, k, idx)
	}
}

// gather32Go is gather32 in plain Go. Its arguments are checked by
// gather32.
func gather32Go(dst []float32, ldy int, src []float32, k int, idx []int32) {
	for l, it := range idx {
		copy(dst[l*ldy:l*ldy+k], src[int(it)*k:int(it)*k+k])
	}
}
