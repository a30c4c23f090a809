//go:build amd64 && !purego

#include "textflag.h"
#include "f32_amd64.h"

// STEP8(off, a0, a1, a2, b0, b1, b2) adds the eight columns at byte
// offset BX+off of the two rows (SI, R13) times the three vectors (R8, R9,
// DI) into a0..a2 (row SI, vectors 0..2) and b0..b2 (row R13).
#define STEP8(off, a0, a1, a2, b0, b1, b2) \
	VMOVUPS     off(R8)(BX*1), Y12; \
	VMOVUPS     off(R9)(BX*1), Y13; \
	VMOVUPS     off(DI)(BX*1), Y14; \
	VMOVUPS     off(SI)(BX*1), Y15; \
	VFMADD231PS Y15, Y12, a0;       \
	VFMADD231PS Y15, Y13, a1;       \
	VFMADD231PS Y15, Y14, a2;       \
	VMOVUPS     off(R13)(BX*1), Y15; \
	VFMADD231PS Y15, Y12, b0;       \
	VFMADD231PS Y15, Y13, b1;       \
	VFMADD231PS Y15, Y14, b2

// func dotsTile3AVX2(t0, t1, t2, src *float32, n, k, ld int, p0, p1, p2 *float32)
//
// dotsTile3AVX2 sets tv[j] = src[j·ld:][:k]·pv for v = 0, 1, 2 and every
// j < n (even), two rows at a time: a 3×2 tile of vector·row products,
// each in the two accumulators dotsAVX2 uses for a row of a group of four
// (the even 8-column groups of the first k &^ 15 columns in one, the odd
// ones in the other, then the next 8 columns and the zero-padded tail in
// the first), added and reduced in dotsAVX2's order, so every sum is bit
// for bit dotsAVX2's. Each row's eight columns are loaded once for the
// three vectors.
//
// Registers: R10, R11, R12 = &t0[j], &t1[j], &t2[j]; SI, R13 = the two rows;
// R8, R9, DI = p0, p1, p2; DX = pairs of rows left; R14 = 4·ld;
// CX = 4·(k &^ 7); BX = column offset in bytes; Y0..Y5 and Y6..Y11 = the
// two accumulators of (row SI, vector 0), (row R13, vector 0),
// (SI, 1), (R13, 1), (SI, 2), (R13, 2); Y12..Y14 = the vectors' columns,
// Y15 = a row's.
TEXT ·dotsTile3AVX2(SB), NOSPLIT, $0-80
	MOVQ t0+0(FP), R10
	MOVQ t1+8(FP), R11
	MOVQ t2+16(FP), R12
	MOVQ src+24(FP), SI
	MOVQ n+32(FP), DX
	SHRQ $1, DX
	MOVQ k+40(FP), CX
	ANDQ $-8, CX
	SHLQ $2, CX
	MOVQ ld+48(FP), R14
	SHLQ $2, R14
	MOVQ p0+56(FP), R8
	MOVQ p1+64(FP), R9
	MOVQ p2+72(FP), DI

pair:
	TESTQ  DX, DX
	JZ     done
	LEAQ   (SI)(R14*1), R13
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
	XORQ   BX, BX
	LEAQ   -32(CX), AX

c16:
	CMPQ BX, AX
	JGE  c8
	STEP8(0, Y0, Y2, Y4, Y1, Y3, Y5)
	STEP8(32, Y6, Y8, Y10, Y7, Y9, Y11)
	ADDQ $64, BX
	JMP  c16

c8:
	CMPQ BX, CX
	JGE  tail
	STEP8(0, Y0, Y2, Y4, Y1, Y3, Y5)
	ADDQ $32, BX

tail:
	// The last k mod 8 columns, zero-padded to eight: dotsAVX2's masked
	// step, whose masked-off lanes are zero too.
	MOVQ  k+40(FP), AX
	TESTQ $7, AX
	JZ    sum
	STEP8(0, Y0, Y2, Y4, Y1, Y3, Y5)

sum:
	TILESUM(pair)

done:
	VZEROUPPER
	RET

// func indexAboveAVX2(x []float32, v float32) int
//
// indexAboveAVX2 is indexAboveGo (tile.go): the index of the first x[i] > v
// (an ordered comparison: NaN is never above), or -1. Sixteen elements a
// step, then eight, then one at a time. VCMPPS's predicate 0x11 (LT_OQ)
// tests v < x[i], false where either is NaN.
TEXT ·indexAboveAVX2(SB), NOSPLIT, $0-40
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS v+24(FP), Y1
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-16, DX

a16:
	CMPQ      AX, DX
	JGE       a8
	VCMPPS    $0x11, (SI)(AX*4), Y1, Y2
	VCMPPS    $0x11, 32(SI)(AX*4), Y1, Y3
	VORPS     Y3, Y2, Y4
	VPTEST    Y4, Y4
	JNZ       a16hit
	ADDQ      $16, AX
	JMP       a16

a16hit:
	VMOVMSKPS Y2, BX
	TESTL     BX, BX
	JNZ       hit
	ADDQ      $8, AX
	VMOVMSKPS Y3, BX
	JMP       hit

a8:
	MOVQ      CX, DX
	ANDQ      $-8, DX
	CMPQ      AX, DX
	JGE       a1
	VCMPPS    $0x11, (SI)(AX*4), Y1, Y2
	VMOVMSKPS Y2, BX
	TESTL     BX, BX
	JNZ       hit
	ADDQ      $8, AX

a1:
	CMPQ    AX, CX
	JGE     none
	VMOVSS  (SI)(AX*4), X0
	VUCOMISS X1, X0
	JA      found
	INCQ    AX
	JMP     a1

hit:
	BSFL BX, BX
	ADDQ BX, AX

found:
	MOVQ AX, ret+32(FP)
	VZEROUPPER
	RET

none:
	MOVQ $-1, ret+32(FP)
	VZEROUPPER
	RET

// func mulAVX2(o, f, d []float32)
//
// mulAVX2 is mulGo (mul.go): o[l] = f[l]·d[l], 32 elements a step, then
// eight, then one at a time.
TEXT ·mulAVX2(SB), NOSPLIT, $0-72
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ f_base+24(FP), SI
	MOVQ d_base+48(FP), DX
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-32, BX

m32:
	CMPQ    AX, BX
	JGE     m8start
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VMOVUPS 64(SI)(AX*4), Y2
	VMOVUPS 96(SI)(AX*4), Y3
	VMULPS  (DX)(AX*4), Y0, Y0
	VMULPS  32(DX)(AX*4), Y1, Y1
	VMULPS  64(DX)(AX*4), Y2, Y2
	VMULPS  96(DX)(AX*4), Y3, Y3
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	VMOVUPS Y2, 64(DI)(AX*4)
	VMOVUPS Y3, 96(DI)(AX*4)
	ADDQ    $32, AX
	JMP     m32

m8start:
	MOVQ CX, BX
	ANDQ $-8, BX

m8:
	CMPQ    AX, BX
	JGE     m1
	VMOVUPS (SI)(AX*4), Y0
	VMULPS  (DX)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     m8

m1:
	CMPQ   AX, CX
	JGE    mdone
	VMOVSS (SI)(AX*4), X0
	VMULSS (DX)(AX*4), X0, X0
	VMOVSS X0, (DI)(AX*4)
	INCQ   AX
	JMP    m1

mdone:
	VZEROUPPER
	RET

// func gramIdxAVX2(t *float32, ldtb int, src *float32, kb int, idx *int32, n int)
//
// For rows i = 0, 2, … < n and columns j = 0, 4, … < i+2: the 2×4 tile of
// dot products of rows idx[i], idx[i+1] with rows idx[j … j+3] of src,
// eight accumulators of eight lanes over the k columns, each reduced by
// three VHADDPS and a lane sum into t[i·ldt+j …] and t[(i+1)·ldt+j …].
//
// Registers: AX = i, BX = j, DX = idx, SI = src, DI = &t[i·ldt],
// R14 = kb, R8 and R9 = rows i and i+1, R10 … R13 = rows j … j+3,
// CX = byte offset in the rows.
TEXT ·gramIdxAVX2(SB), NOSPLIT, $0-48
	MOVQ t+0(FP), DI
	MOVQ src+16(FP), SI
	MOVQ kb+24(FP), R14
	MOVQ idx+32(FP), DX
	XORQ AX, AX

girow:
	CMPQ    AX, n+40(FP)
	JGE     gidone
	MOVLQSX (DX)(AX*4), R8
	IMULQ   R14, R8
	ADDQ    SI, R8
	MOVLQSX 4(DX)(AX*4), R9
	IMULQ   R14, R9
	ADDQ    SI, R9
	XORQ    BX, BX

gicol:
	LEAQ    2(AX), CX
	CMPQ    BX, CX
	JGE     ginext
	MOVLQSX (DX)(BX*4), R10
	IMULQ   R14, R10
	ADDQ    SI, R10
	MOVLQSX 4(DX)(BX*4), R11
	IMULQ   R14, R11
	ADDQ    SI, R11
	MOVLQSX 8(DX)(BX*4), R12
	IMULQ   R14, R12
	ADDQ    SI, R12
	MOVLQSX 12(DX)(BX*4), R13
	IMULQ   R14, R13
	ADDQ    SI, R13
	VXORPS  Y0, Y0, Y0
	VXORPS  Y1, Y1, Y1
	VXORPS  Y2, Y2, Y2
	VXORPS  Y3, Y3, Y3
	VXORPS  Y4, Y4, Y4
	VXORPS  Y5, Y5, Y5
	VXORPS  Y6, Y6, Y6
	VXORPS  Y7, Y7, Y7
	XORQ    CX, CX

giin:
	VMOVUPS     (R8)(CX*1), Y8
	VMOVUPS     (R9)(CX*1), Y9
	VMOVUPS     (R10)(CX*1), Y10
	VFMADD231PS Y10, Y8, Y0
	VFMADD231PS Y10, Y9, Y4
	VMOVUPS     (R11)(CX*1), Y11
	VFMADD231PS Y11, Y8, Y1
	VFMADD231PS Y11, Y9, Y5
	VMOVUPS     (R12)(CX*1), Y12
	VFMADD231PS Y12, Y8, Y2
	VFMADD231PS Y12, Y9, Y6
	VMOVUPS     (R13)(CX*1), Y13
	VFMADD231PS Y13, Y8, Y3
	VFMADD231PS Y13, Y9, Y7
	ADDQ        $32, CX
	CMPQ        CX, R14
	JLT         giin

	VHADDPS      Y1, Y0, Y0
	VHADDPS      Y3, Y2, Y2
	VHADDPS      Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVUPS      X0, (DI)(BX*4)
	VHADDPS      Y5, Y4, Y4
	VHADDPS      Y7, Y6, Y6
	VHADDPS      Y6, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VADDPS       X5, X4, X4
	ADDQ         ldtb+8(FP), DI
	VMOVUPS      X4, (DI)(BX*4)
	SUBQ         ldtb+8(FP), DI
	ADDQ         $4, BX
	JMP          gicol

ginext:
	ADDQ ldtb+8(FP), DI
	ADDQ ldtb+8(FP), DI
	ADDQ $2, AX
	JMP  girow

gidone:
	VZEROUPPER
	RET
