//go:build amd64 && !purego

#include "textflag.h"
#include "f32_amd64.h"

// ZAXPY4 adds the rows R10..R13 times Z10..Z13 into dst[:k] (the
// register dst), in order, 16 columns a step (Z0 scratch): per element
// the FMAs of AXPY4, in its order.
#define ZAXPY4(dst, lc) \
	XORQ        BX, BX;               \
lc:                                   \
	VMOVUPS     (dst)(BX*1), Z0;      \
	VFMADD231PS (R10)(BX*1), Z10, Z0; \
	VFMADD231PS (R11)(BX*1), Z11, Z0; \
	VFMADD231PS (R12)(BX*1), Z12, Z0; \
	VFMADD231PS (R13)(BX*1), Z13, Z0; \
	VMOVUPS     Z0, (dst)(BX*1);      \
	ADDQ        $64, BX;              \
	CMPQ        BX, R14;              \
	JLT         lc

// ZPREVROWS is PREVROWS with the weights broadcast to Z10..Z13.
#define ZPREVROWS \
	ROW(-16, R10);          \
	ROW(-12, R11);          \
	ROW(-8, R12);           \
	ROW(-4, R13);           \
	VBROADCASTSS (SP), Z10;  \
	VBROADCASTSS 4(SP), Z11; \
	VBROADCASTSS 8(SP), Z12; \
	VBROADCASTSS 12(SP), Z13

// func dotsAxpysIdxAVX512(dst []float32, src []float32, k int, idx []int32, p []float32, w []float32, c []float32)
//
// dotsAxpysIdxAVX512 is dotsAxpysIdxAVX2 (f32_amd64.s) for k a multiple
// of 16 on 512-bit registers, bit for bit: a row's dot product there sums
// columns 16s … 16s+7 into one accumulator of eight lanes and 16s+8 …
// 16s+15 into another, then adds the two and reduces; here lanes 0–7 and
// 8–15 of one 16-lane accumulator are those two, added (VEXTRACTF64X4)
// and reduced by the same instructions. The additions into dst are the
// same FMAs per element in the same order, 16 columns a step. The groups
// of four, their weights and the one-group delay are dotsAxpysIdxAVX2's.
//
// Registers: DI = &w[j], SI = &src[0], R8 = &idx[j], DX = rows left,
// R9 = &p[0], R14 = 4·k, BX = column offset in bytes, AX scratch, then
// &dst[0] while adding, R10..R13 = the rows, X5 = this group's weights.
TEXT ·dotsAxpysIdxAVX512(SB), NOSPLIT, $16-152
	MOVQ src_base+24(FP), SI
	MOVQ k+48(FP), R14
	SHLQ $2, R14
	MOVQ idx_base+56(FP), R8
	MOVQ idx_len+64(FP), DX
	MOVQ p_base+80(FP), R9
	MOVQ w_base+104(FP), DI

z4:
	CMPQ   DX, $4
	JLT    z4end
	ROW(0, R10)
	ROW(4, R11)
	ROW(8, R12)
	ROW(12, R13)
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	XORQ   BX, BX

z4d:
	VMOVUPS     (R9)(BX*1), Z4
	VFMADD231PS (R10)(BX*1), Z4, Z0
	VFMADD231PS (R11)(BX*1), Z4, Z1
	VFMADD231PS (R12)(BX*1), Z4, Z2
	VFMADD231PS (R13)(BX*1), Z4, Z3
	ADDQ        $64, BX
	CMPQ        BX, R14
	JLT         z4d
	VEXTRACTF64X4 $1, Z0, Y6
	VEXTRACTF64X4 $1, Z1, Y7
	VEXTRACTF64X4 $1, Z2, Y8
	VEXTRACTF64X4 $1, Z3, Y9
	VADDPS        Y6, Y0, Y0
	VADDPS        Y7, Y1, Y1
	VADDPS        Y8, Y2, Y2
	VADDPS        Y9, Y3, Y3
	VHADDPS       Y1, Y0, Y0
	VHADDPS       Y3, Y2, Y2
	VHADDPS       Y2, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPS        X1, X0, X0

	// This group's weights s = w·d, or c − w·d, into X5.
	WEIGHTS4(z4w)

	// The previous group, if any, into dst.
	CMPQ DI, w_base+104(FP)
	JEQ  z4s
	ZPREVROWS
	MOVQ dst_base+0(FP), AX
	ZAXPY4(AX, z4a)

z4s:
	VMOVUPS X5, (SP)
	ADDQ    $16, DI
	ADDQ    $16, R8
	SUBQ    $4, DX
	JMP     z4

z4end:
	// The last group, if any.
	CMPQ DI, w_base+104(FP)
	JEQ  z1
	ZPREVROWS
	MOVQ dst_base+0(FP), AX
	ZAXPY4(AX, z4la)

z1:
	TESTQ  DX, DX
	JZ     zdone
	ROW(0, R10)
	VXORPS Z0, Z0, Z0
	XORQ   BX, BX

z1d:
	VMOVUPS       (R9)(BX*1), Z4
	VFMADD231PS   (R10)(BX*1), Z4, Z0
	ADDQ          $64, BX
	CMPQ          BX, R14
	JLT           z1d
	VEXTRACTF64X4 $1, Z0, Y6
	VADDPS        Y6, Y0, Y0
	VHADDPS       Y0, Y0, Y0
	VHADDPS       Y0, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPS        X1, X0, X0
	WEIGHTS1(z1w)

	VBROADCASTSS X0, Z10
	MOVQ         dst_base+0(FP), AX
	XORQ         BX, BX

z1a:
	VMOVUPS     (AX)(BX*1), Z0
	VFMADD231PS (R10)(BX*1), Z10, Z0
	VMOVUPS     Z0, (AX)(BX*1)
	ADDQ        $64, BX
	CMPQ        BX, R14
	JLT         z1a
	ADDQ        $4, DI
	ADDQ        $4, R8
	DECQ        DX
	JMP         z1

zdone:
	VZEROUPPER
	RET

// ZSTEP16(off) adds the sixteen columns at byte offset BX+off of the two
// rows (SI, R13) times the three vectors (R8, R9, DI) into Z0, Z2, Z4
// (row SI, vectors 0..2) and Z1, Z3, Z5 (row R13).
#define ZSTEP16(off) \
	VMOVUPS     off(R8)(BX*1), Z12;  \
	VMOVUPS     off(R9)(BX*1), Z13;  \
	VMOVUPS     off(DI)(BX*1), Z14;  \
	VMOVUPS     off(SI)(BX*1), Z15;  \
	VFMADD231PS Z15, Z12, Z0;        \
	VFMADD231PS Z15, Z13, Z2;        \
	VFMADD231PS Z15, Z14, Z4;        \
	VMOVUPS     off(R13)(BX*1), Z15; \
	VFMADD231PS Z15, Z12, Z1;        \
	VFMADD231PS Z15, Z13, Z3;        \
	VFMADD231PS Z15, Z14, Z5

// func dotsTile3AVX512(t0, t1, t2, src *float32, n, k, ld int, p0, p1, p2 *float32)
//
// dotsTile3AVX512 is dotsTile3AVX2 (tile_amd64.s) for k a multiple of 16
// on 512-bit registers, bit for bit: its two accumulators of a product
// (even and odd 8-column groups) are the two halves of one sixteen-lane
// register here, added (VEXTRACTF64X4) and reduced by the same
// instructions. Registers as there, with Z0..Z5 the accumulators.
TEXT ·dotsTile3AVX512(SB), NOSPLIT, $0-80
	MOVQ t0+0(FP), R10
	MOVQ t1+8(FP), R11
	MOVQ t2+16(FP), R12
	MOVQ src+24(FP), SI
	MOVQ n+32(FP), DX
	SHRQ $1, DX
	MOVQ k+40(FP), CX
	SHLQ $2, CX
	MOVQ ld+48(FP), R14
	SHLQ $2, R14
	MOVQ p0+56(FP), R8
	MOVQ p1+64(FP), R9
	MOVQ p2+72(FP), DI

zpair:
	TESTQ  DX, DX
	JZ     zpdone
	LEAQ   (SI)(R14*1), R13
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	XORQ   BX, BX

zc16:
	ZSTEP16(0)
	ADDQ $64, BX
	CMPQ BX, CX
	JLT  zc16

	VEXTRACTF64X4 $1, Z0, Y6
	VEXTRACTF64X4 $1, Z1, Y7
	VEXTRACTF64X4 $1, Z2, Y8
	VEXTRACTF64X4 $1, Z3, Y9
	VEXTRACTF64X4 $1, Z4, Y10
	VEXTRACTF64X4 $1, Z5, Y11
	TILESUM(zpair)

zpdone:
	VZEROUPPER
	RET
