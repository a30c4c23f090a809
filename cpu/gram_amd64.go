//go:build amd64 && !purego

package cpu

import "golang.org/x/sys/cpu"

// useAVX2 reports whether the CPU runs gramLowerAVX2 and gatherAVX2 (it
// has AVX2 and FMA). It is set once at package initialisation from the
// CPU's feature bits and never written again: a constant of the machine,
// not mutable state.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// gramLowerAVX2 is implemented in gram_amd64.s.
//
//go:noescape
func gramLowerAVX2(g []float64, ldg int, y []float64, ldy, n, m int, acc bool)

// gatherAVX2 is implemented in gram_amd64.s.
//
//go:noescape
func gatherAVX2(dst []float64, ldy int, src []float32, k int, idx []int32)

func gatherArch(dst []float64, ldy int, src []float32, k int, idx []int32) {
	if useAVX2 {
		gatherAVX2(dst, ldy, src, k, idx)
		return
	}
	gatherGo(dst, ldy, src, k, idx)
}

func gramLowerArch(g []float64, ldg int, y []float64, ldy, n, m int, acc bool) {
	if useAVX2 {
		gramLowerAVX2(g, ldg, y, ldy, n, m, acc)
		return
	}
	gramLowerGo(g, ldg, y, ldy, n, m, acc)
}
