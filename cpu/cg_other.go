//go:build !amd64 || purego

package cpu

func sdotsArch(t, src []float32, k int, idx []int32, p []float32) {
	sdotsGo(t, src, k, idx, p)
}

func saxpysArch(dst, src []float32, k int, idx []int32, t []float32) {
	saxpysGo(dst, src, k, idx, t)
}
