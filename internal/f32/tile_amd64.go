//go:build amd64 && !purego

package f32

// dotsTile3AVX2 is implemented in tile_amd64.s. It sets t0[j], t1[j] and
// t2[j] to the dot products of rows j < n (stride ld, zero beyond k) of
// src with p0, p1 and p2, summed as dotsAVX2 sums a group of four rows;
// n must be even. The vectors (and their outputs) may be the same: the
// same values are then stored twice.
//
//go:noescape
func dotsTile3AVX2(t0, t1, t2, src *float32, n, k, ld int, p0, p1, p2 *float32)

// dotsTile3AVX512 is implemented in avx512_amd64.s: dotsTile3AVX2 for k
// a multiple of 16, bit for bit, on 512-bit registers. DotsTile takes it
// from rank tile512MinK: BenchmarkDotsTile at k = 128 12.4 against 15.9
// µs, at 64 8.2 against 8.8, at 16 slower (5.1 against 3.8: per pair of
// rows its reduction's extra extractions outweigh one step of products).
//
//go:noescape
func dotsTile3AVX512(t0, t1, t2, src *float32, n, k, ld int, p0, p1, p2 *float32)

const tile512MinK = 96

// indexAboveAVX2 is implemented in tile_amd64.s; it computes what
// indexAboveGo does.
//
//go:noescape
func indexAboveAVX2(x []float32, v float32) int

func indexAboveArch(x []float32, v float32) int {
	if useAVX2 {
		return indexAboveAVX2(x, v)
	}
	return indexAboveGo(x, v)
}

func dotsTileArch(t []float32, ldt int, src []float32, n int, ps []float32, nu, k, ld int) {
	if !useAVX2 {
		dotsTileGo(t, ldt, src, n, ps, nu, k, ld)
		return
	}
	// The first n &^ 3 rows as Dots's groups of four, three vectors at a
	// time (the last one or two repeated when nu is not a multiple of 3).
	if n4 := n &^ 3; n4 > 0 {
		tile := dotsTile3AVX2
		if useAVX512 && k%16 == 0 && k >= tile512MinK {
			tile = dotsTile3AVX512
		}
		for u := 0; u < nu; u += 3 {
			u1, u2 := min(u+1, nu-1), min(u+2, nu-1)
			tile(&t[u*ldt], &t[u1*ldt], &t[u2*ldt], &src[0], n4, k, ld, &ps[u*ld], &ps[u1*ld], &ps[u2*ld])
		}
	}
	// The last n mod 4 rows one at a time, as Dots takes them.
	for j := n &^ 3; j < n; j++ {
		row := src[j*ld : j*ld+k]
		for u := range nu {
			dotsAVX2(t[u*ldt+j:u*ldt+j+1], row, k, ps[u*ld:u*ld+k])
		}
	}
}

// mulAVX2 is implemented in tile_amd64.s; it computes what mulGo does
// (len(f) and len(d) ≥ len(o), checked by Mul).
//
//go:noescape
func mulAVX2(o, f, d []float32)

func mulArch(o, f, d []float32) {
	if useAVX2 {
		mulAVX2(o, f, d)
		return
	}
	mulGo(o, f, d)
}

// gramIdxAVX2 is implemented in tile_amd64.s: GramIdx's 2×4 tiles for the
// n rows idx points to (n a multiple of 4, k a multiple of 8), with the
// row stride of t and of src in bytes (ldtb, kb).
//
//go:noescape
func gramIdxAVX2(t *float32, ldtb int, src *float32, kb int, idx *int32, n int)

func gramIdxArch(t []float32, ldt int, src []float32, k int, idx []int32) {
	n4 := len(idx) &^ 3
	if !useAVX2 || k%8 != 0 || n4 == 0 {
		gramIdxGo(t, ldt, src, k, idx, 0)
		return
	}
	gramIdxAVX2(&t[0], 4*ldt, &src[0], 4*k, &idx[0], n4)
	gramIdxGo(t, ldt, src, k, idx, n4)
}
