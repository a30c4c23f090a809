//go:build amd64 && !purego

#include "textflag.h"

// gramLowerAVX2 is gramLowerGo (gram.go) on AVX2 and FMA; see gramLower
// for the contract. Arguments are checked by the Go caller.
//
// Each written 4×w tile of G (4 rows i0..i0+3, w = 12, 8 or 4 columns
// j0..) is held in w accumulators of 4 float64 and built by one pass over
// the n rows of Y: per row l, the w/4 vectors Y[l, j0:j0+w] are loaded and
// each of Y[l, i0..i0+3] is broadcast and multiplied into them with
// VFMADD231PD. Every element is therefore summed in order l = 0..n-1 with
// one fused multiply-add per term, then added to G when acc is set.
//
// Registers: SI = &Y[0,0], DI = &G[0,0], R8 = ldg in bytes, R9 = ldy in
// bytes, CX = n, R10 = m, R12 = i0, R13 = j0, R14 = jmax = i0+4 (one past
// the last column written in rows i0..i0+3); per tile AX = &Y[l,i0],
// BX = &Y[l,j0], DX = rows left, R11 = &G[i0,j0].

// func gramLowerAVX2(g []float64, ldg int, y []float64, ldy, n, m int, acc bool)
TEXT ·gramLowerAVX2(SB), NOSPLIT, $0-81
	MOVQ g_base+0(FP), DI
	MOVQ ldg+24(FP), R8
	SHLQ $3, R8
	MOVQ y_base+32(FP), SI
	MOVQ ldy+56(FP), R9
	SHLQ $3, R9
	MOVQ n+64(FP), CX
	MOVQ m+72(FP), R10
	XORQ R12, R12

iloop:
	CMPQ R12, R10
	JGE  done
	LEAQ 4(R12), R14
	XORQ R13, R13

jloop:
	// Columns left in this row block: 12s while more than 16 remain,
	// then 16 as 8+8 (rather than 12+4, whose 4-wide tile has too few
	// accumulators to hide the FMA latency), 12, 8 or 4.
	MOVQ R14, DX
	SUBQ R13, DX
	JZ   inext
	CMPQ DX, $16
	JEQ  tile8
	CMPQ DX, $12
	JGE  tile12
	CMPQ DX, $8
	JEQ  tile8
	JMP  tile4

inext:
	ADDQ $4, R12
	JMP  iloop

done:
	VZEROUPPER
	RET

// SETUP points AX at Y[0,i0], BX at Y[0,j0], R11 at G[i0,j0] and loads
// the row count into DX.
#define SETUP \
	LEAQ  (SI)(R12*8), AX;   \
	LEAQ  (SI)(R13*8), BX;   \
	MOVQ  R12, R11;          \
	IMULQ R8, R11;           \
	ADDQ  DI, R11;           \
	LEAQ  (R11)(R13*8), R11; \
	MOVQ  CX, DX

tile12:
	SETUP
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11
	TESTQ  DX, DX
	JZ     out12

loop12:
	VMOVUPD      (BX), Y12
	VMOVUPD      32(BX), Y13
	VMOVUPD      64(BX), Y14
	VBROADCASTSD (AX), Y15
	VFMADD231PD  Y12, Y15, Y0
	VFMADD231PD  Y13, Y15, Y1
	VFMADD231PD  Y14, Y15, Y2
	VBROADCASTSD 8(AX), Y15
	VFMADD231PD  Y12, Y15, Y3
	VFMADD231PD  Y13, Y15, Y4
	VFMADD231PD  Y14, Y15, Y5
	VBROADCASTSD 16(AX), Y15
	VFMADD231PD  Y12, Y15, Y6
	VFMADD231PD  Y13, Y15, Y7
	VFMADD231PD  Y14, Y15, Y8
	VBROADCASTSD 24(AX), Y15
	VFMADD231PD  Y12, Y15, Y9
	VFMADD231PD  Y13, Y15, Y10
	VFMADD231PD  Y14, Y15, Y11
	ADDQ         R9, AX
	ADDQ         R9, BX
	DECQ         DX
	JNZ          loop12

out12:
	LEAQ (R11)(R8*2), DX
	CMPB acc+80(FP), $0
	JEQ  store12
	VADDPD (R11), Y0, Y0
	VADDPD 32(R11), Y1, Y1
	VADDPD 64(R11), Y2, Y2
	VADDPD (R11)(R8*1), Y3, Y3
	VADDPD 32(R11)(R8*1), Y4, Y4
	VADDPD 64(R11)(R8*1), Y5, Y5
	VADDPD (DX), Y6, Y6
	VADDPD 32(DX), Y7, Y7
	VADDPD 64(DX), Y8, Y8
	VADDPD (DX)(R8*1), Y9, Y9
	VADDPD 32(DX)(R8*1), Y10, Y10
	VADDPD 64(DX)(R8*1), Y11, Y11

store12:
	VMOVUPD Y0, (R11)
	VMOVUPD Y1, 32(R11)
	VMOVUPD Y2, 64(R11)
	VMOVUPD Y3, (R11)(R8*1)
	VMOVUPD Y4, 32(R11)(R8*1)
	VMOVUPD Y5, 64(R11)(R8*1)
	VMOVUPD Y6, (DX)
	VMOVUPD Y7, 32(DX)
	VMOVUPD Y8, 64(DX)
	VMOVUPD Y9, (DX)(R8*1)
	VMOVUPD Y10, 32(DX)(R8*1)
	VMOVUPD Y11, 64(DX)(R8*1)
	ADDQ    $12, R13
	JMP     jloop

tile8:
	SETUP
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	TESTQ  DX, DX
	JZ     out8

loop8:
	VMOVUPD      (BX), Y12
	VMOVUPD      32(BX), Y13
	VBROADCASTSD (AX), Y14
	VBROADCASTSD 8(AX), Y15
	VFMADD231PD  Y12, Y14, Y0
	VFMADD231PD  Y13, Y14, Y1
	VFMADD231PD  Y12, Y15, Y2
	VFMADD231PD  Y13, Y15, Y3
	VBROADCASTSD 16(AX), Y14
	VBROADCASTSD 24(AX), Y15
	VFMADD231PD  Y12, Y14, Y4
	VFMADD231PD  Y13, Y14, Y5
	VFMADD231PD  Y12, Y15, Y6
	VFMADD231PD  Y13, Y15, Y7
	ADDQ         R9, AX
	ADDQ         R9, BX
	DECQ         DX
	JNZ          loop8

out8:
	LEAQ (R11)(R8*2), DX
	CMPB acc+80(FP), $0
	JEQ  store8
	VADDPD (R11), Y0, Y0
	VADDPD 32(R11), Y1, Y1
	VADDPD (R11)(R8*1), Y2, Y2
	VADDPD 32(R11)(R8*1), Y3, Y3
	VADDPD (DX), Y4, Y4
	VADDPD 32(DX), Y5, Y5
	VADDPD (DX)(R8*1), Y6, Y6
	VADDPD 32(DX)(R8*1), Y7, Y7

store8:
	VMOVUPD Y0, (R11)
	VMOVUPD Y1, 32(R11)
	VMOVUPD Y2, (R11)(R8*1)
	VMOVUPD Y3, 32(R11)(R8*1)
	VMOVUPD Y4, (DX)
	VMOVUPD Y5, 32(DX)
	VMOVUPD Y6, (DX)(R8*1)
	VMOVUPD Y7, 32(DX)(R8*1)
	ADDQ    $8, R13
	JMP     jloop

tile4:
	SETUP
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	TESTQ  DX, DX
	JZ     out4

loop4:
	VMOVUPD      (BX), Y12
	VBROADCASTSD (AX), Y8
	VBROADCASTSD 8(AX), Y9
	VBROADCASTSD 16(AX), Y10
	VBROADCASTSD 24(AX), Y11
	VFMADD231PD  Y12, Y8, Y0
	VFMADD231PD  Y12, Y9, Y1
	VFMADD231PD  Y12, Y10, Y2
	VFMADD231PD  Y12, Y11, Y3
	ADDQ         R9, AX
	ADDQ         R9, BX
	DECQ         DX
	JNZ          loop4

out4:
	LEAQ (R11)(R8*2), DX
	CMPB acc+80(FP), $0
	JEQ  store4
	VADDPD (R11), Y0, Y0
	VADDPD (R11)(R8*1), Y1, Y1
	VADDPD (DX), Y2, Y2
	VADDPD (DX)(R8*1), Y3, Y3

store4:
	VMOVUPD Y0, (R11)
	VMOVUPD Y1, (R11)(R8*1)
	VMOVUPD Y2, (DX)
	VMOVUPD Y3, (DX)(R8*1)
	ADDQ    $4, R13
	JMP     jloop

// func gatherAVX2(dst []float64, ldy int, src []float32, k int, idx []int32)
//
// gatherAVX2 is gatherGo (gram.go) with VCVTPS2PD, 16, 4, then 1 float32
// at a time. Arguments are checked by the Go caller.
TEXT ·gatherAVX2(SB), NOSPLIT, $0-88
	MOVQ  dst_base+0(FP), DI
	MOVQ  ldy+24(FP), R8
	SHLQ  $3, R8
	MOVQ  src_base+32(FP), SI
	MOVQ  k+56(FP), CX
	MOVQ  idx_base+64(FP), R9
	MOVQ  idx_len+72(FP), R10
	MOVQ  CX, R11
	SHLQ  $2, R11
	TESTQ R10, R10
	JZ    gdone

grow:
	MOVLQSX (R9), AX
	IMULQ   R11, AX
	ADDQ    SI, AX
	MOVQ    DI, BX
	MOVQ    CX, DX

g16:
	CMPQ      DX, $16
	JL        g4
	VCVTPS2PD (AX), Y0
	VCVTPS2PD 16(AX), Y1
	VCVTPS2PD 32(AX), Y2
	VCVTPS2PD 48(AX), Y3
	VMOVUPD   Y0, (BX)
	VMOVUPD   Y1, 32(BX)
	VMOVUPD   Y2, 64(BX)
	VMOVUPD   Y3, 96(BX)
	ADDQ      $64, AX
	ADDQ      $128, BX
	SUBQ      $16, DX
	JMP       g16

g4:
	CMPQ      DX, $4
	JL        g1
	VCVTPS2PD (AX), Y0
	VMOVUPD   Y0, (BX)
	ADDQ      $16, AX
	ADDQ      $32, BX
	SUBQ      $4, DX
	JMP       g4

g1:
	TESTQ     DX, DX
	JZ        gnext
	VCVTSS2SD (AX), X0, X0
	VMOVSD    X0, (BX)
	ADDQ      $4, AX
	ADDQ      $8, BX
	DECQ      DX
	JMP       g1

gnext:
	ADDQ $4, R9
	ADDQ R8, DI
	DECQ R10
	JNZ  grow

gdone:
	VZEROUPPER
	RET
