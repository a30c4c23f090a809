//go:build amd64 && !purego

package cpu

import "golang.org/x/sys/cpu"

// useAVX2 reports whether the CPU runs gramLowerAVX2 and gatherAVX2 (it
// has AVX2 and FMA). It is set once at package initialisation from the
// CPU's feature bits and never written again: a constant of the machine,
// not mutable state.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// useAVX512 reports whether gramLower32 runs its AVX-512 kernel: the CPU
// and the OS support AVX-512F, besides AVX2. Set once, as useAVX2.
var useAVX512 = useAVX2 && cpu.X86.HasAVX512F

// gramLower32AVX512 is implemented in gram32_avx512_amd64.s:
// gramLower32AVX2 on 512-bit registers, bit for bit (every element is
// the same fused multiply-adds in the same order). Arguments are checked
// by the Go caller.
//
//go:noescape
func gramLower32AVX512(g []float64, ldg int, y []float32, ldy, n, m int, acc bool)

// gram512MinM is the least width m that gramLower32 runs on AVX-512:
// BenchmarkGramLower32 at m = 136 (kp 129) 112–127 against 95–99 GFLOP/s,
// at m = 72 (kp 65) 71–77 against 80–90, its narrow row blocks falling
// to 16- and 8-column tiles with too few accumulators.
const gram512MinM = 96

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

// gramLower32AVX2 is implemented in gram32_amd64.s.
//
//go:noescape
func gramLower32AVX2(g []float64, ldg int, y []float32, ldy, n, m int, acc bool)

func gramLower32Arch(g []float64, ldg int, y []float32, ldy, n, m int, acc bool) {
	if useAVX512 && m >= gram512MinM {
		gramLower32AVX512(g, ldg, y, ldy, n, m, acc)
		return
	}
	if useAVX2 {
		gramLower32AVX2(g, ldg, y, ldy, n, m, acc)
		return
	}
	gramLower32Go(g, ldg, y, ldy, n, m, acc)
}

// gather32AVX2 is implemented in gram32_amd64.s.
//
//go:noescape
func gather32AVX2(dst []float32, ldy int, src []float32, k int, idx []int32)

func gather32Arch(dst []float32, ldy int, src []float32, k int, idx []int32) {
	if useAVX2 {
		gather32AVX2(dst, ldy, src, k, idx)
		return
	}
	gather32Go(dst, ldy, src, k, idx)
}

func gramLowerArch(g []float64, ldg int, y []float64, ldy, n, m int, acc bool) {
	if useAVX2 {
		gramLowerAVX2(g, ldg, y, ldy, n, m, acc)
		return
	}
	gramLowerGo(g, ldg, y, ldy, n, m, acc)
}

// dotAVX2, crsubAVX2 and axpyAVX2 are implemented in chol_amd64.s; they
// compute what dotGo, crsubGo and axpyGo (chol.go) do, on AVX2 and FMA.
// Their arguments are checked by the Arch wrappers.
//
//go:noescape
func dotAVX2(x, y []float64) float64

//go:noescape
func crsubAVX2(a []float64, lda int, x []float64, rows int, s float64)

//go:noescape
func axpyAVX2(alpha float64, x, y []float64)

func dotArch(x, y []float64) float64 {
	if useAVX2 {
		_ = y[:len(x)]
		return dotAVX2(x, y)
	}
	return dotGo(x, y)
}

func crsubArch(a []float64, lda int, x []float64, rows int, s float64) {
	if useAVX2 {
		if rows > 0 {
			_ = a[(rows-1)*lda+len(x)]
		}
		crsubAVX2(a, lda, x, rows, s)
		return
	}
	crsubGo(a, lda, x, rows, s)
}

func axpyArch(alpha float64, x, y []float64) {
	if useAVX2 {
		_ = y[:len(x)]
		axpyAVX2(alpha, x, y)
		return
	}
	axpyGo(alpha, x, y)
}

// crsub4AVX2 is implemented in chol_amd64.s.
//
//go:noescape
func crsub4AVX2(a []float64, lda int, l []float64, k, rows int, w *[16]float64)

func crsub4Arch(a []float64, lda int, l []float64, k, rows int, w *[16]float64) {
	if useAVX2 {
		if rows > 0 {
			_ = a[(rows-1)*lda+k+3]
		}
		_ = l[:3*lda+k]
		crsub4AVX2(a, lda, l, k, rows, w)
		return
	}
	crsub4Go(a, lda, l, k, rows, w)
}

// rotFwdAVX and rotBwdAVX are implemented in rot_amd64.s: rotRun on nblk
// blocks of 16 columns.
//
//go:noescape
func rotFwdAVX(a *float64, lda, rows, nblk int, c, s *float64)

//go:noescape
func rotBwdAVX(a *float64, lda, rows, nblk int, c, s *float64)

// rotRunArch runs rotRun's first n&^15 columns on AVX (it needs no FMA,
// only the AVX2 kernels' gate) and returns how many it did.
func rotRunArch(forward bool, rows, n int, c, s, a []float64, lda int) int {
	nb := n / 16
	if !useAVX2 || nb == 0 {
		return 0
	}
	if forward {
		rotFwdAVX(&a[0], lda, rows, nb, &c[0], &s[0])
	} else {
		rotBwdAVX(&a[0], lda, rows, nb, &c[0], &s[0])
	}
	return nb * 16
}
