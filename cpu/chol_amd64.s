//go:build amd64 && !purego

#include "textflag.h"

// tailMask<>+32-8·r is the VMASKMOVPD mask selecting the first r < 4 of
// four float64 lanes.
DATA tailMask<>+0(SB)/8, $-1
DATA tailMask<>+8(SB)/8, $-1
DATA tailMask<>+16(SB)/8, $-1
DATA tailMask<>+24(SB)/8, $-1
DATA tailMask<>+32(SB)/8, $0
DATA tailMask<>+40(SB)/8, $0
DATA tailMask<>+48(SB)/8, $0
DATA tailMask<>+56(SB)/8, $0
GLOBL tailMask<>(SB), RODATA|NOPTR, $64

// func crsubAVX2(a []float64, lda int, x []float64, rows int, s float64)
//
// crsubAVX2 is crsubGo (chol.go): for r < rows,
// a[r·lda+k] = (a[r·lda+k] - a[r·lda:][:k]·x)·s with k = len(x).
// Rows are taken four at a time, each summed in two accumulators of four
// lanes over 8 columns a step (8 independent FMA chains, sharing the
// loads of x), then one 4-column step and a masked step for the last
// k mod 4 columns; a single row at a time for the last rows mod 4.
//
// Registers: DI = &a[r,0], R8 = lda in bytes, SI = &x[0], CX = k,
// DX = rows left, R9 = 8·(k &^ 7), AX = 8·(k &^ 3), R14 = 8·k,
// BX = column offset in bytes, R10..R13 = the four rows, Y14 = tail mask,
// Y12 = x's masked tail, Y13 = s broadcast.
TEXT ·crsubAVX2(SB), NOSPLIT, $0-72
	MOVQ         a_base+0(FP), DI
	MOVQ         lda+24(FP), R8
	SHLQ         $3, R8
	MOVQ         x_base+32(FP), SI
	MOVQ         x_len+40(FP), CX
	MOVQ         rows+56(FP), DX
	VBROADCASTSD s+64(FP), Y13
	LEAQ         (CX*8), R14
	MOVQ         R14, R9
	ANDQ         $-64, R9
	MOVQ         R14, AX
	ANDQ         $-32, AX
	MOVQ         CX, BX
	ANDQ         $3, BX
	SHLQ         $3, BX
	LEAQ         tailMask<>+32(SB), R10
	SUBQ         BX, R10
	VMOVUPD      (R10), Y14
	VXORPD       Y12, Y12, Y12
	CMPQ         AX, R14
	JEQ          rows4
	VMASKMOVPD   (SI)(AX*1), Y14, Y12

rows4:
	CMPQ   DX, $4
	JLT    rows1
	MOVQ   DI, R10
	LEAQ   (DI)(R8*1), R11
	LEAQ   (DI)(R8*2), R12
	LEAQ   (R11)(R8*2), R13
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	XORQ   BX, BX

col8:
	CMPQ        BX, R9
	JGE         col4
	VMOVUPD     (SI)(BX*1), Y8
	VMOVUPD     32(SI)(BX*1), Y9
	VFMADD231PD (R10)(BX*1), Y8, Y0
	VFMADD231PD 32(R10)(BX*1), Y9, Y4
	VFMADD231PD (R11)(BX*1), Y8, Y1
	VFMADD231PD 32(R11)(BX*1), Y9, Y5
	VFMADD231PD (R12)(BX*1), Y8, Y2
	VFMADD231PD 32(R12)(BX*1), Y9, Y6
	VFMADD231PD (R13)(BX*1), Y8, Y3
	VFMADD231PD 32(R13)(BX*1), Y9, Y7
	ADDQ        $64, BX
	JMP         col8

col4:
	CMPQ        BX, AX
	JGE         tail4
	VMOVUPD     (SI)(BX*1), Y8
	VFMADD231PD (R10)(BX*1), Y8, Y0
	VFMADD231PD (R11)(BX*1), Y8, Y1
	VFMADD231PD (R12)(BX*1), Y8, Y2
	VFMADD231PD (R13)(BX*1), Y8, Y3
	ADDQ        $32, BX

tail4:
	CMPQ        BX, R14
	JEQ         red4
	VMASKMOVPD  (R10)(BX*1), Y14, Y8
	VFMADD231PD Y8, Y12, Y4
	VMASKMOVPD  (R11)(BX*1), Y14, Y9
	VFMADD231PD Y9, Y12, Y5
	VMASKMOVPD  (R12)(BX*1), Y14, Y8
	VFMADD231PD Y8, Y12, Y6
	VMASKMOVPD  (R13)(BX*1), Y14, Y9
	VFMADD231PD Y9, Y12, Y7

red4:
	// Y8 = (Σ row 0, Σ row 1, Σ row 2, Σ row 3).
	VADDPD       Y4, Y0, Y0
	VADDPD       Y5, Y1, Y1
	VADDPD       Y6, Y2, Y2
	VADDPD       Y7, Y3, Y3
	VHADDPD      Y1, Y0, Y8
	VHADDPD      Y3, Y2, Y9
	VPERM2F128   $0x21, Y9, Y8, Y10
	VBLENDPD     $0x0c, Y9, Y8, Y11
	VADDPD       Y10, Y11, Y8
	VMOVSD       (DI)(CX*8), X9
	VMOVHPD      (R11)(CX*8), X9, X9
	VMOVSD       (R12)(CX*8), X10
	VMOVHPD      (R13)(CX*8), X10, X10
	VINSERTF128  $1, X10, Y9, Y9
	VSUBPD       Y8, Y9, Y9
	VMULPD       Y13, Y9, Y9
	VMOVSD       X9, (DI)(CX*8)
	VMOVHPD      X9, (R11)(CX*8)
	VEXTRACTF128 $1, Y9, X10
	VMOVSD       X10, (R12)(CX*8)
	VMOVHPD      X10, (R13)(CX*8)
	LEAQ         (DI)(R8*4), DI
	SUBQ         $4, DX
	JMP          rows4

rows1:
	TESTQ  DX, DX
	JZ     crdone
	VXORPD Y0, Y0, Y0
	VXORPD Y4, Y4, Y4
	XORQ   BX, BX

r1col8:
	CMPQ        BX, R9
	JGE         r1col4
	VMOVUPD     (SI)(BX*1), Y8
	VMOVUPD     32(SI)(BX*1), Y9
	VFMADD231PD (DI)(BX*1), Y8, Y0
	VFMADD231PD 32(DI)(BX*1), Y9, Y4
	ADDQ        $64, BX
	JMP         r1col8

r1col4:
	CMPQ        BX, AX
	JGE         r1tail
	VMOVUPD     (SI)(BX*1), Y8
	VFMADD231PD (DI)(BX*1), Y8, Y0
	ADDQ        $32, BX

r1tail:
	CMPQ        BX, R14
	JEQ         r1red
	VMASKMOVPD  (DI)(BX*1), Y14, Y8
	VFMADD231PD Y8, Y12, Y4

r1red:
	VADDPD       Y4, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD       X1, X0, X0
	VHADDPD      X0, X0, X0
	VMOVSD       (DI)(CX*8), X9
	VSUBSD       X0, X9, X9
	VMULSD       X13, X9, X9
	VMOVSD       X9, (DI)(CX*8)
	ADDQ         R8, DI
	DECQ         DX
	JMP          rows1

crdone:
	VZEROUPPER
	RET

// func dotAVX2(x, y []float64) float64
//
// dotAVX2 is dotGo (chol.go) with four accumulators of four lanes over 16
// elements a step, then 4 and 1 at a time.
TEXT ·dotAVX2(SB), NOSPLIT, $0-56
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	MOVQ   y_base+24(FP), DI
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3

d16:
	CMPQ        CX, $16
	JLT         d4
	VMOVUPD     (SI), Y4
	VMOVUPD     32(SI), Y5
	VMOVUPD     64(SI), Y6
	VMOVUPD     96(SI), Y7
	VFMADD231PD (DI), Y4, Y0
	VFMADD231PD 32(DI), Y5, Y1
	VFMADD231PD 64(DI), Y6, Y2
	VFMADD231PD 96(DI), Y7, Y3
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $16, CX
	JMP         d16

d4:
	CMPQ        CX, $4
	JLT         dred
	VMOVUPD     (SI), Y4
	VFMADD231PD (DI), Y4, Y0
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $4, CX
	JMP         d4

dred:
	VADDPD       Y1, Y0, Y0
	VADDPD       Y3, Y2, Y2
	VADDPD       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD       X1, X0, X0
	VHADDPD      X0, X0, X0

d1:
	TESTQ       CX, CX
	JZ          ddone
	VMOVSD      (SI), X4
	VFMADD231SD (DI), X4, X0
	ADDQ        $8, SI
	ADDQ        $8, DI
	DECQ        CX
	JMP         d1

ddone:
	VMOVSD     X0, ret+48(FP)
	VZEROUPPER
	RET

// func axpyAVX2(alpha float64, x, y []float64)
//
// axpyAVX2 is axpyGo (chol.go): y[c] += alpha·x[c] with one fused
// multiply-add per element, 16, 4, then 1 at a time.
TEXT ·axpyAVX2(SB), NOSPLIT, $0-56
	VBROADCASTSD alpha+0(FP), Y0
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX
	MOVQ         y_base+32(FP), DI

a16:
	CMPQ        CX, $16
	JLT         a4
	VMOVUPD     (DI), Y4
	VMOVUPD     32(DI), Y5
	VMOVUPD     64(DI), Y6
	VMOVUPD     96(DI), Y7
	VFMADD231PD (SI), Y0, Y4
	VFMADD231PD 32(SI), Y0, Y5
	VFMADD231PD 64(SI), Y0, Y6
	VFMADD231PD 96(SI), Y0, Y7
	VMOVUPD     Y4, (DI)
	VMOVUPD     Y5, 32(DI)
	VMOVUPD     Y6, 64(DI)
	VMOVUPD     Y7, 96(DI)
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $16, CX
	JMP         a16

a4:
	CMPQ        CX, $4
	JLT         a1
	VMOVUPD     (DI), Y4
	VFMADD231PD (SI), Y0, Y4
	VMOVUPD     Y4, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $4, CX
	JMP         a4

a1:
	TESTQ       CX, CX
	JZ          adone
	VMOVSD      (DI), X4
	VFMADD231SD (SI), X0, X4
	VMOVSD      X4, (DI)
	ADDQ        $8, SI
	ADDQ        $8, DI
	DECQ        CX
	JMP         a1

adone:
	VZEROUPPER
	RET

// func crsub4AVX2(a []float64, lda int, l []float64, k, rows int, w *[16]float64)
//
// crsub4AVX2 is crsub4Go (chol.go): for every r < rows the four dot
// products of a[r·lda:][:k] with the rows l[q·lda:][:k], q < 4, are
// subtracted from a[r·lda+k:][:4] and the result solved against the 4×4
// diagonal block described by w. Rows are taken two at a time, with one
// accumulator of four lanes per row and q (8 FMA chains sharing the loads
// of l), then one at a time; the last k mod 4 columns by masked loads.
//
// Registers: DI, R13 = &a[r,0], &a[r+1,0]; SI, R10, R11, R12 = the rows
// of l; R8 = lda in bytes; CX = k; DX = rows left; R9 = 8·(k &^ 3);
// R14 = 8·k; BX = column offset in bytes; AX = w; Y14 = tail mask;
// Y15 = w[0:4].
TEXT ·crsub4AVX2(SB), NOSPLIT, $0-80
	MOVQ    a_base+0(FP), DI
	MOVQ    lda+24(FP), R8
	SHLQ    $3, R8
	MOVQ    l_base+32(FP), SI
	MOVQ    k+56(FP), CX
	MOVQ    rows+64(FP), DX
	MOVQ    w+72(FP), AX
	LEAQ    (SI)(R8*1), R10
	LEAQ    (SI)(R8*2), R11
	LEAQ    (R10)(R8*2), R12
	LEAQ    (CX*8), R14
	MOVQ    R14, R9
	ANDQ    $-32, R9
	MOVQ    CX, BX
	ANDQ    $3, BX
	SHLQ    $3, BX
	LEAQ    tailMask<>+32(SB), R13
	SUBQ    BX, R13
	VMOVUPD (R13), Y14
	VMOVUPD (AX), Y15

// TRSM solves the row u in Y (lanes q = 0..3) against w, with T scratch.
#define TRSM(Y, T) \
	VMULPD       Y15, Y, T;    \
	VPERMPD      $0x00, T, T;  \
	VFNMADD231PD 32(AX), T, Y; \
	VMULPD       Y15, Y, T;    \
	VPERMPD      $0x55, T, T;  \
	VFNMADD231PD 64(AX), T, Y; \
	VMULPD       Y15, Y, T;    \
	VPERMPD      $0xaa, T, T;  \
	VFNMADD231PD 96(AX), T, Y; \
	VMULPD       Y15, Y, Y

// REDUCE sets D = (Σ A0, Σ A1, Σ A2, Σ A3), with T0..T2 scratch.
#define REDUCE(A0, A1, A2, A3, D, T0, T1, T2) \
	VHADDPD    A1, A0, T0;         \
	VHADDPD    A3, A2, T1;         \
	VPERM2F128 $0x21, T1, T0, T2;  \
	VBLENDPD   $0x0c, T1, T0, T0;  \
	VADDPD     T2, T0, D

c4rows2:
	CMPQ   DX, $2
	JLT    c4rows1
	LEAQ   (DI)(R8*1), R13
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	XORQ   BX, BX

c4col:
	CMPQ        BX, R9
	JGE         c4tail
	VMOVUPD     (SI)(BX*1), Y8
	VMOVUPD     (R10)(BX*1), Y9
	VMOVUPD     (R11)(BX*1), Y10
	VMOVUPD     (R12)(BX*1), Y11
	VMOVUPD     (DI)(BX*1), Y12
	VMOVUPD     (R13)(BX*1), Y13
	VFMADD231PD Y8, Y12, Y0
	VFMADD231PD Y9, Y12, Y1
	VFMADD231PD Y10, Y12, Y2
	VFMADD231PD Y11, Y12, Y3
	VFMADD231PD Y8, Y13, Y4
	VFMADD231PD Y9, Y13, Y5
	VFMADD231PD Y10, Y13, Y6
	VFMADD231PD Y11, Y13, Y7
	ADDQ        $32, BX
	JMP         c4col

c4tail:
	CMPQ        BX, R14
	JEQ         c4red
	VMASKMOVPD  (SI)(BX*1), Y14, Y8
	VMASKMOVPD  (R10)(BX*1), Y14, Y9
	VMASKMOVPD  (R11)(BX*1), Y14, Y10
	VMASKMOVPD  (R12)(BX*1), Y14, Y11
	VMASKMOVPD  (DI)(BX*1), Y14, Y12
	VMASKMOVPD  (R13)(BX*1), Y14, Y13
	VFMADD231PD Y8, Y12, Y0
	VFMADD231PD Y9, Y12, Y1
	VFMADD231PD Y10, Y12, Y2
	VFMADD231PD Y11, Y12, Y3
	VFMADD231PD Y8, Y13, Y4
	VFMADD231PD Y9, Y13, Y5
	VFMADD231PD Y10, Y13, Y6
	VFMADD231PD Y11, Y13, Y7

c4red:
	REDUCE(Y0, Y1, Y2, Y3, Y0, Y8, Y9, Y10)
	REDUCE(Y4, Y5, Y6, Y7, Y4, Y11, Y12, Y13)
	VMOVUPD (DI)(CX*8), Y1
	VSUBPD  Y0, Y1, Y1
	VMOVUPD (R13)(CX*8), Y5
	VSUBPD  Y4, Y5, Y5
	TRSM(Y1, Y2)
	TRSM(Y5, Y6)
	VMOVUPD Y1, (DI)(CX*8)
	VMOVUPD Y5, (R13)(CX*8)
	LEAQ    (DI)(R8*2), DI
	SUBQ    $2, DX
	JMP     c4rows2

c4rows1:
	TESTQ  DX, DX
	JZ     c4done
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	XORQ   BX, BX

c41col:
	CMPQ        BX, R9
	JGE         c41tail
	VMOVUPD     (DI)(BX*1), Y12
	VFMADD231PD (SI)(BX*1), Y12, Y0
	VFMADD231PD (R10)(BX*1), Y12, Y1
	VFMADD231PD (R11)(BX*1), Y12, Y2
	VFMADD231PD (R12)(BX*1), Y12, Y3
	ADDQ        $32, BX
	JMP         c41col

c41tail:
	CMPQ        BX, R14
	JEQ         c41red
	VMASKMOVPD  (SI)(BX*1), Y14, Y8
	VMASKMOVPD  (R10)(BX*1), Y14, Y9
	VMASKMOVPD  (R11)(BX*1), Y14, Y10
	VMASKMOVPD  (R12)(BX*1), Y14, Y11
	VMASKMOVPD  (DI)(BX*1), Y14, Y12
	VFMADD231PD Y8, Y12, Y0
	VFMADD231PD Y9, Y12, Y1
	VFMADD231PD Y10, Y12, Y2
	VFMADD231PD Y11, Y12, Y3

c41red:
	REDUCE(Y0, Y1, Y2, Y3, Y0, Y8, Y9, Y10)
	VMOVUPD (DI)(CX*8), Y1
	VSUBPD  Y0, Y1, Y1
	TRSM(Y1, Y2)
	VMOVUPD Y1, (DI)(CX*8)

c4done:
	VZEROUPPER
	RET
