//go:build !amd64 || purego

package cpu

// useAVX2 is false: without amd64 assembly gramLower and gather run
// gramLowerGo and gatherGo.
const useAVX2 = false

func gramLowerArch(g []float64, ldg int, y []float64, ldy, n, m int, acc bool) {
	gramLowerGo(g, ldg, y, ldy, n, m, acc)
}

func gatherArch(dst []float64, ldy int, src []float32, k int, idx []int32) {
	gatherGo(dst, ldy, src, k, idx)
}
