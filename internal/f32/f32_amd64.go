//go:build amd64 && !purego

package f32

import "golang.org/x/sys/cpu"

// useAVX2 reports whether the CPU runs the assembly kernels (it has AVX2
// and FMA). It is set once at package initialisation from the CPU's
// feature bits and never written again.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// useAVX512 reports whether DotsAxpysIdx runs its AVX-512 kernel (for
// ranks that are multiples of 16): the CPU and the OS support AVX-512F,
// besides AVX2. Set once at initialisation, as useAVX2.
var useAVX512 = useAVX2 && cpu.X86.HasAVX512F

// dotsAxpysIdxAVX512 is implemented in avx512_amd64.s: dotsAxpysIdxAVX2
// for k a multiple of 16, bit for bit, on 512-bit registers (a dot
// product's two eight-lane accumulators are one sixteen-lane register's
// halves). Its arguments are checked by DotsAxpysIdxUnchecked.
//
//go:noescape
func dotsAxpysIdxAVX512(dst, src []float32, k int, idx []int32, p, w, c []float32)

// dotsAVX2, dotsIdxAVX2 and axpysIdxAVX2 are implemented in f32_amd64.s;
// they compute what dotsGo, dotsIdxGo and axpysIdxGo do. Their arguments
// are checked by the exported functions.
//
//go:noescape
func dotsAVX2(t, src []float32, k int, p []float32)

//go:noescape
func dotsIdxAVX2(t, src []float32, k int, idx []int32, p []float32)

//go:noescape
func axpysIdxAVX2(dst, src []float32, k int, idx []int32, t []float32)

// dotsAxpysIdxAVX2 is implemented in f32_amd64.s; it computes what
// dotsAxpysIdxGo does, bit for bit with the other AVX2 kernels (see
// DotsAxpysIdx). Its arguments are checked by DotsAxpysIdxUnchecked.
//
//go:noescape
func dotsAxpysIdxAVX2(dst, src []float32, k int, idx []int32, p, w, c []float32)

// dotsInt8AVX2 is implemented in f32_amd64.s; it computes what dotsInt8Go
// does, bit for bit. Its arguments are checked by DotsInt8.
//
//go:noescape
func dotsInt8AVX2(t []float32, src []int8, scale []float32, k int, p []int16)

func dotsArch(t, src []float32, k int, p []float32) {
	if useAVX2 {
		dotsAVX2(t, src, k, p)
		return
	}
	dotsGo(t, src, k, p)
}

func dotsIdxArch(t, src []float32, k int, idx []int32, p []float32) {
	if useAVX2 {
		dotsIdxAVX2(t, src, k, idx, p)
		return
	}
	dotsIdxGo(t, src, k, idx, p)
}

func axpysIdxArch(dst, src []float32, k int, idx []int32, t []float32) {
	if useAVX2 {
		axpysIdxAVX2(dst, src, k, idx, t)
		return
	}
	axpysIdxGo(dst, src, k, idx, t)
}

func dotsAxpysIdxArch(dst, src []float32, k int, idx []int32, p, w, c []float32) {
	if useAVX512 && k%16 == 0 {
		dotsAxpysIdxAVX512(dst, src, k, idx, p, w, c)
		return
	}
	if useAVX2 {
		dotsAxpysIdxAVX2(dst, src, k, idx, p, w, c)
		return
	}
	dotsAxpysIdxGo(dst, src, k, idx, p, w, c)
}

func dotsInt8Arch(t []float32, src []int8, scale []float32, k int, p []int16) {
	if useAVX2 {
		dotsInt8AVX2(t, src, scale, k, p)
		return
	}
	dotsInt8Go(t, src, scale, k, p)
}
