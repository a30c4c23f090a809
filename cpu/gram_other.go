//go:build !amd64 || purego

package cpu

// useAVX2 is false: without amd64 assembly gramLower and gather run
// gramLowerGo and gatherGo.
const useAVX2 = false

func gramLowerArch(g []float64, ldg int, y []float64, ldy, n, m int, acc bool) {
	gramLowerGo(g, ldg, y, ldy, n, m, acc)
}

func gramLower32Arch(g []float64, ldg int, y []float32, ldy, n, m int, acc bool) {
	gramLower32Go(g, ldg, y, ldy, n, m, acc)
}

func gather32Arch(dst []float32, ldy int, src []float32, k int, idx []int32) {
	gather32Go(dst, ldy, src, k, idx)
}

func gatherArch(dst []float64, ldy int, src []float32, k int, idx []int32) {
	gatherGo(dst, ldy, src, k, idx)
}

func dotArch(x, y []float64) float64 { return dotGo(x, y) }

func crsubArch(a []float64, lda int, x []float64, rows int, s float64) {
	crsubGo(a, lda, x, rows, s)
}

func axpyArch(alpha float64, x, y []float64) { axpyGo(alpha, x, y) }

func crsub4Arch(a []float64, lda int, l []float64, k, rows int, w *[16]float64) {
	crsub4Go(a, lda, l, k, rows, w)
}

func rotRunArch(forward bool, rows, n int, c, s, a []float64, lda int) int { return 0 }
