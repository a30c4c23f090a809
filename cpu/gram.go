package cpu

// gramLower computes the lower triangle of the Gram matrix G = YᵀY of a
// block of gathered vectors, in 4×4 blocks: for every row i < m it writes
// G[i, j] for j < (i/4+1)·4, that is the lower triangle plus the (at most
// three) elements right of the diagonal in the diagonal 4×4 block, and no
// other element of g. With acc it adds YᵀY to those elements instead of
// overwriting them.
//
// Y is n×m (the first m columns of the n rows at y[l·ldy:]) and G is m×m
// (rows at g[i·ldg:]), both row-major and owned by the caller; m must be a
// multiple of 4, ldy and ldg at least m, and g must not overlap y. Each
// element is summed in order l = 0..n-1 from zero, then added to G when
// acc is set, so the result does not depend on how the tiles are chosen.
// It panics on bad dimensions or short slices and allocates nothing.
//
// gramLower runs gramLowerAVX2 (gram_amd64.s) when useAVX2 and gramLowerGo
// otherwise. The assembly rounds each term once (fused multiply-add) and
// gramLowerGo twice unless the compiler fuses it too (as it does for
// arm64 or GOAMD64=v3), so the two agree to rounding: within a few units
// of 1e-16 times Σ|Y[l,i]·Y[l,j]| per element.
func gramLower(g []float64, ldg int, y []float64, ldy, n, m int, acc bool) {
	if m < 0 || m%4 != 0 || n < 0 || ldg < m || ldy < m {
		panic("cpu: gramLower: bad dimensions")
	}
	if m == 0 {
		return
	}
	if len(g) < (m-1)*ldg+m || (n > 0 && len(y) < (n-1)*ldy+m) {
		panic("cpu: gramLower: short slice")
	}
	gramLowerArch(g, ldg, y, ldy, n, m, acc)
}

// gramLowerGo is gramLower in plain Go, on 1×4 tiles (which measured
// faster than 2×4 or 2×2 on amd64, where the Go compiler keeps only four
// accumulators without spilling). Its arguments are checked by gramLower.
func gramLowerGo(g []float64, ldg int, y []float64, ldy, n, m int, acc bool) {
	for i := 0; i < m; i++ {
		for j := 0; j < i&^3+4; j += 4 {
			var s0, s1, s2, s3 float64
			for o := 0; o < n*ldy; o += ldy {
				a := y[o+i]
				yj := y[o+j : o+j+4 : o+j+4]
				s0 += a * yj[0]
				s1 += a * yj[1]
				s2 += a * yj[2]
				s3 += a * yj[3]
			}
			gi := g[i*ldg+j : i*ldg+j+4 : i*ldg+j+4]
			if acc {
				s0 += gi[0]
				s1 += gi[1]
				s2 += gi[2]
				s3 += gi[3]
			}
			gi[0], gi[1], gi[2], gi[3] = s0, s1, s2, s3
		}
	}
}

// gather converts the fixed-side vectors src[it·k:][:k] for it = idx[l] to
// float64 into dst[l·ldy:][:k], for every l < len(idx), leaving the rest
// of dst alone. src and idx are only read; dst is owned by the caller. The
// conversion is exact, so gatherAVX2 and gatherGo agree bitwise. It panics
// on bad dimensions, short slices or an index out of range, and allocates
// nothing.
func gather(dst []float64, ldy int, src []float32, k int, idx []int32) {
	if checkGather("gather", len(dst), ldy, src, k, idx) {
		gatherArch(dst, ldy, src, k, idx)
	}
}

// checkGather panics (naming the caller) unless gathering the rows idx of
// the stride-k table src into a destination of dstLen elements, rows of
// stride ldy, stays inside both; it reports whether there is anything to
// gather. gather and gather32 share it.
func checkGather(name string, dstLen, ldy int, src []float32, k int, idx []int32) bool {
	if k <= 0 || ldy < k {
		panic("cpu: " + name + ": bad dimensions")
	}
	if len(idx) == 0 {
		return false
	}
	if dstLen < (len(idx)-1)*ldy+k {
		panic("cpu: " + name + ": short slice")
	}
	rows := uint(len(src) / k)
	for _, it := range idx {
		if uint(it) >= rows {
			panic("cpu: " + name + ": index out of range")
		}
	}
	return true
}

// gatherGo is gather in plain Go. Its arguments are checked by gather.
func gatherGo(dst []float64, ldy int, src []float32, k int, idx []int32) {
	for l, it := range idx {
		s := src[int(it)*k : int(it)*k+k]
		d := dst[l*ldy : l*ldy+len(s)]
		for c, v := range s {
			d[c] = float64(v)
		}
	}
}
