//go:build amd64 && !purego

package cpu

// sdotsAVX2 and saxpysAVX2 are implemented in cg_amd64.s; they compute
// what sdotsGo and saxpysGo (cg.go) do, on AVX2 and FMA. Their arguments
// are checked by sdots and saxpys.
//
//go:noescape
func sdotsAVX2(t, src []float32, k int, idx []int32, p []float32)

//go:noescape
func saxpysAVX2(dst, src []float32, k int, idx []int32, t []float32)

func sdotsArch(t, src []float32, k int, idx []int32, p []float32) {
	if useAVX2 {
		sdotsAVX2(t, src, k, idx, p)
		return
	}
	sdotsGo(t, src, k, idx, p)
}

func saxpysArch(dst, src []float32, k int, idx []int32, t []float32) {
	if useAVX2 {
		saxpysAVX2(dst, src, k, idx, t)
		return
	}
	saxpysGo(dst, src, k, idx, t)
}
