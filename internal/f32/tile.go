package f32

// TileStride returns the row stride DotsTile reads its tables with: k
// rounded up to a multiple of 8 (one AVX2 register of float32).
func TileStride(k int) int { return (k + 7) &^ 7 }

// DotsTile sets t[u·ldt+j] = src[j·ld:][:k] · ps[u·ld:][:k] for every
// u < nu and j < n, with ld = TileStride(k): the dot products of nu
// vectors with n rows, such as nu users' scores of n items. Both tables
// are row-major with stride ld, and their columns k to ld-1 must be zero
// (the padding stands in for Dots's masked tail).
//
// Row u of t is, bit for bit, what Dots(t[u·ldt:][:n], rows, k, ps[u·ld:])
// computes on the same build for the n rows packed at stride k: the same
// sums in the same order (on AVX2 the first n &^ 3 rows as Dots's groups
// of four, the last n mod 4 as its single rows). So a caller may score in
// blocks whose lengths are multiples of 4 and get Dots's results on the
// whole list. On AVX2 each item row loaded serves three vectors (a 3×2
// register tile over 16 columns a step), where Dots loads every row once
// per vector.
//
// t must not overlap src or ps; ldt ≥ n when nu > 1.
func DotsTile(t []float32, ldt int, src []float32, n int, ps []float32, nu, k int) {
	if k <= 0 || n < 0 || nu < 0 || (nu > 1 && ldt < n) {
		panic("f32: DotsTile: bad dimensions")
	}
	if n == 0 || nu == 0 {
		return
	}
	ld := TileStride(k)
	if len(src) < n*ld || len(ps) < nu*ld || len(t) < (nu-1)*ldt+n {
		panic("f32: DotsTile: short slice")
	}
	dotsTileArch(t, ldt, src, n, ps, nu, k, ld)
}

// dotsTileGo is DotsTile in plain Go, row by row as dotsGo sums. Its
// arguments are checked by DotsTile.
func dotsTileGo(t []float32, ldt int, src []float32, n int, ps []float32, nu, k, ld int) {
	for u := range nu {
		p := ps[u*ld : u*ld+k]
		tu := t[u*ldt : u*ldt+n]
		for j := range tu {
			row := src[j*ld : j*ld+k]
			var s float32
			for c, v := range row {
				s += v * p[c]
			}
			tu[j] = s
		}
	}
}

// IndexAbove returns the index of the first x[i] > v, or -1 if there is
// none: a NaN is never above v, and nothing is above a NaN v. A top-k
// selection's scan for the scores that beat its worst kept.
func IndexAbove(x []float32, v float32) int {
	if len(x) == 0 {
		return -1
	}
	return indexAboveArch(x, v)
}

// indexAboveGo is IndexAbove in plain Go.
func indexAboveGo(x []float32, v float32) int {
	for i, y := range x {
		if y > v {
			return i
		}
	}
	return -1
}
