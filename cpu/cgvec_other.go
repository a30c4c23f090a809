//go:build !amd64 || purego

package cpu

// Never called: useAVX2 is false here.

func to32AVX2(dst []float32, src []float64) { panic("unreachable") }
func to64AVX2(dst []float64, src []float32) { panic("unreachable") }
func diagApplyAVX2(q []float64, q32 []float32, d, v []float64, reg, sign float64) {
	panic("unreachable")
}
func gramApplyAVX2(q []float64, q32, s []float32, v []float64, reg, sign float64) {
	panic("unreachable")
}
func xpbyAVX2(p, r []float64, beta float64)       { panic("unreachable") }
func scaleTo32AVX2(x, acc []float32, d []float64) { panic("unreachable") }

func cgWeightsAVX2(c, w, vals []float32, alpha float64, w0 float32) { panic("unreachable") }
