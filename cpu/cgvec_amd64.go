//go:build amd64 && !purego

package cpu

// to32AVX2, to64AVX2, diagApplyAVX2, gramApplyAVX2 and xpbyAVX2 are
// implemented in cgvec_amd64.s: the Go loops of cgvec.go on slices of the
// same length, a multiple of 4 (checked by their callers there).
//
//go:noescape
func to32AVX2(dst []float32, src []float64)

//go:noescape
func to64AVX2(dst []float64, src []float32)

//go:noescape
func diagApplyAVX2(q []float64, q32 []float32, d, v []float64, reg, sign float64)

//go:noescape
func gramApplyAVX2(q []float64, q32, s []float32, v []float64, reg, sign float64)

//go:noescape
func xpbyAVX2(p, r []float64, beta float64)

//go:noescape
func scaleTo32AVX2(x, acc []float32, d []float64)

//go:noescape
func cgWeightsAVX2(c, w, vals []float32, alpha float64, w0 float32)
