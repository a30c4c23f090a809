//go:build amd64 && !purego

#include "textflag.h"

// gramLower32AVX2 is gramLower32Go (gram32.go) on AVX2 and FMA; see
// gramLower32 for the contract. Arguments are checked by the Go caller.
//
// It is gramLowerAVX2 (gram_amd64.s) on float32 vectors of eight lanes:
// each written 4×w tile of G (rows i0..i0+3, w = 24, 16 or 8 columns
// j0..) is held in w/8 accumulators per row and built by one pass over the
// n rows of Y: per row l, the w/8 vectors Y[l, j0:j0+w] are loaded and
// each of Y[l, i0..i0+3] is broadcast and multiplied into them with
// VFMADD231PS, so every element is summed in float32 in order l = 0..n-1
// with one fused multiply-add per term. The tile is then widened to
// float64 (VCVTPS2PD, exact) and stored into G, or added to it with acc.
// Row block i0 writes columns up to jmax = i0+4 rounded up to 8.
//
// Registers: SI = &Y[0,0], DI = &G[0,0], R8 = ldg in bytes (float64),
// R9 = ldy in bytes (float32), CX = n, R10 = m, R12 = i0, R13 = j0,
// R14 = jmax; per tile AX = &Y[l,i0], BX = &Y[l,j0], DX = rows left,
// R11 = &G[i0,j0]; at the store R11, AX, DX, BX = rows i0..i0+3 of G.

#include "gram32_amd64.h"

// func gramLower32AVX2(g []float64, ldg int, y []float32, ldy, n, m int, acc bool)
TEXT ·gramLower32AVX2(SB), NOSPLIT, $0-81
	MOVQ g_base+0(FP), DI
	MOVQ ldg+24(FP), R8
	SHLQ $3, R8
	MOVQ y_base+32(FP), SI
	MOVQ ldy+56(FP), R9
	SHLQ $2, R9
	MOVQ n+64(FP), CX
	MOVQ m+72(FP), R10
	XORQ R12, R12

iloop:
	CMPQ R12, R10
	JGE  done
	LEAQ 11(R12), R14
	ANDQ $-8, R14
	XORQ R13, R13

jloop:
	// Columns left in this row block (a multiple of 8): 24s while more
	// than 32 remain, then 32 as 16+16 (rather than 24+8, whose 8-wide
	// tile has too few accumulators to hide the FMA latency), 24, 16 or 8.
	MOVQ R14, DX
	SUBQ R13, DX
	JZ   inext
	CMPQ DX, $32
	JEQ  tile16
	CMPQ DX, $24
	JGE  tile24
	CMPQ DX, $16
	JEQ  tile16
	JMP  tile8

inext:
	ADDQ $4, R12
	JMP  iloop

done:
	VZEROUPPER
	RET

tile24:
	SETUP
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	TESTQ  DX, DX
	JZ     out24

loop24:
	VMOVUPS      (BX), Y12
	VMOVUPS      32(BX), Y13
	VMOVUPS      64(BX), Y14
	VBROADCASTSS (AX), Y15
	VFMADD231PS  Y12, Y15, Y0
	VFMADD231PS  Y13, Y15, Y1
	VFMADD231PS  Y14, Y15, Y2
	VBROADCASTSS 4(AX), Y15
	VFMADD231PS  Y12, Y15, Y3
	VFMADD231PS  Y13, Y15, Y4
	VFMADD231PS  Y14, Y15, Y5
	VBROADCASTSS 8(AX), Y15
	VFMADD231PS  Y12, Y15, Y6
	VFMADD231PS  Y13, Y15, Y7
	VFMADD231PS  Y14, Y15, Y8
	VBROADCASTSS 12(AX), Y15
	VFMADD231PS  Y12, Y15, Y9
	VFMADD231PS  Y13, Y15, Y10
	VFMADD231PS  Y14, Y15, Y11
	ADDQ         R9, AX
	ADDQ         R9, BX
	DECQ         DX
	JNZ          loop24

out24:
	ROWS
	CMPB acc+80(FP), $0
	JEQ  store24
	CVTADD(Y0, X0, 0, 32, R11)
	CVTADD(Y1, X1, 64, 96, R11)
	CVTADD(Y2, X2, 128, 160, R11)
	CVTADD(Y3, X3, 0, 32, AX)
	CVTADD(Y4, X4, 64, 96, AX)
	CVTADD(Y5, X5, 128, 160, AX)
	CVTADD(Y6, X6, 0, 32, DX)
	CVTADD(Y7, X7, 64, 96, DX)
	CVTADD(Y8, X8, 128, 160, DX)
	CVTADD(Y9, X9, 0, 32, BX)
	CVTADD(Y10, X10, 64, 96, BX)
	CVTADD(Y11, X11, 128, 160, BX)
	JMP  next24

store24:
	CVTSTORE(Y0, X0, 0, 32, R11)
	CVTSTORE(Y1, X1, 64, 96, R11)
	CVTSTORE(Y2, X2, 128, 160, R11)
	CVTSTORE(Y3, X3, 0, 32, AX)
	CVTSTORE(Y4, X4, 64, 96, AX)
	CVTSTORE(Y5, X5, 128, 160, AX)
	CVTSTORE(Y6, X6, 0, 32, DX)
	CVTSTORE(Y7, X7, 64, 96, DX)
	CVTSTORE(Y8, X8, 128, 160, DX)
	CVTSTORE(Y9, X9, 0, 32, BX)
	CVTSTORE(Y10, X10, 64, 96, BX)
	CVTSTORE(Y11, X11, 128, 160, BX)

next24:
	ADDQ $24, R13
	JMP  jloop

tile16:
	SETUP
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	TESTQ  DX, DX
	JZ     out16

loop16:
	VMOVUPS      (BX), Y12
	VMOVUPS      32(BX), Y13
	VBROADCASTSS (AX), Y15
	VFMADD231PS  Y12, Y15, Y0
	VFMADD231PS  Y13, Y15, Y1
	VBROADCASTSS 4(AX), Y15
	VFMADD231PS  Y12, Y15, Y2
	VFMADD231PS  Y13, Y15, Y3
	VBROADCASTSS 8(AX), Y15
	VFMADD231PS  Y12, Y15, Y4
	VFMADD231PS  Y13, Y15, Y5
	VBROADCASTSS 12(AX), Y15
	VFMADD231PS  Y12, Y15, Y6
	VFMADD231PS  Y13, Y15, Y7
	ADDQ         R9, AX
	ADDQ         R9, BX
	DECQ         DX
	JNZ          loop16

out16:
	ROWS
	CMPB acc+80(FP), $0
	JEQ  store16
	CVTADD(Y0, X0, 0, 32, R11)
	CVTADD(Y1, X1, 64, 96, R11)
	CVTADD(Y2, X2, 0, 32, AX)
	CVTADD(Y3, X3, 64, 96, AX)
	CVTADD(Y4, X4, 0, 32, DX)
	CVTADD(Y5, X5, 64, 96, DX)
	CVTADD(Y6, X6, 0, 32, BX)
	CVTADD(Y7, X7, 64, 96, BX)
	JMP  next16

store16:
	CVTSTORE(Y0, X0, 0, 32, R11)
	CVTSTORE(Y1, X1, 64, 96, R11)
	CVTSTORE(Y2, X2, 0, 32, AX)
	CVTSTORE(Y3, X3, 64, 96, AX)
	CVTSTORE(Y4, X4, 0, 32, DX)
	CVTSTORE(Y5, X5, 64, 96, DX)
	CVTSTORE(Y6, X6, 0, 32, BX)
	CVTSTORE(Y7, X7, 64, 96, BX)

next16:
	ADDQ $16, R13
	JMP  jloop

tile8:
	TILE8(loop8, out8, store8, next8, jloop)

// func gather32AVX2(dst []float32, ldy int, src []float32, k int, idx []int32)
//
// gather32AVX2 is gather32Go (gram32.go): eight float32 at a time, then
// one. Arguments are checked by the Go caller.
//
// Registers: DI = &dst[l·ldy], R8 = ldy in bytes, SI = &src[0],
// R10 = &idx[l], R11 = rows left, R12 = 4·k, R13 = 4·(k &^ 7),
// AX = the source row, BX = byte offset in the row.
TEXT ·gather32AVX2(SB), NOSPLIT, $0-88
	MOVQ dst_base+0(FP), DI
	MOVQ ldy+24(FP), R8
	SHLQ $2, R8
	MOVQ src_base+32(FP), SI
	MOVQ k+56(FP), R12
	MOVQ idx_base+64(FP), R10
	MOVQ idx_len+72(FP), R11
	SHLQ $2, R12
	MOVQ R12, R13
	ANDQ $-32, R13

grow:
	TESTQ   R11, R11
	JZ      gdone
	MOVLQSX (R10), AX
	IMULQ   R12, AX
	ADDQ    SI, AX
	XORQ    BX, BX

gvec:
	CMPQ    BX, R13
	JGE     gtail
	VMOVUPS (AX)(BX*1), Y0
	VMOVUPS Y0, (DI)(BX*1)
	ADDQ    $32, BX
	JMP     gvec

gtail:
	CMPQ BX, R12
	JGE  gnext
	MOVL (AX)(BX*1), CX
	MOVL CX, (DI)(BX*1)
	ADDQ $4, BX
	JMP  gtail

gnext:
	ADDQ R8, DI
	ADDQ $4, R10
	DECQ R11
	JMP  grow

gdone:
	VZEROUPPER
	RET
