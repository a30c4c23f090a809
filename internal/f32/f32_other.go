//go:build !amd64 || purego

package f32

// useAVX2 is false: without amd64 assembly the kernels run in plain Go.
const useAVX2 = false

func dotsArch(t, src []float32, k int, p []float32) { dotsGo(t, src, k, p) }

func dotsIdxArch(t, src []float32, k int, idx []int32, p []float32) {
	dotsIdxGo(t, src, k, idx, p)
}

func axpysIdxArch(dst, src []float32, k int, idx []int32, t []float32) {
	axpysIdxGo(dst, src, k, idx, t)
}

func dotsAxpysIdxArch(dst, src []float32, k int, idx []int32, p, w, c []float32) {
	dotsAxpysIdxGo(dst, src, k, idx, p, w, c)
}

func dotsInt8Arch(t []float32, src []int8, scale []float32, k int, p []int16) {
	dotsInt8Go(t, src, scale, k, p)
}
