//go:build amd64 && !purego

#include "textflag.h"

// gramLower32AVX512 is gramLower32AVX2 (gram32_amd64.s) with tiles of 48,
// 32 and 16 columns on 512-bit registers (an 8-column tile on 256-bit
// ones for a row block whose width is 8 mod 16): every element is still
// summed in float32 in order l = 0..n-1 with one fused multiply-add per
// term, widened to float64 and stored or added, so the results are bit
// for bit the AVX2 kernel's, and row block i0 writes the same columns (up
// to jmax = i0+4 rounded up to 8).
//
// Registers as gramLower32AVX2's; Z0..Z11 the accumulators (row r of the
// block, chunk c: Z(3r+c) for 48 columns, Z(2r+c) for 32, Zr for 16).

#include "gram32_amd64.h"

// ZCVTSTORE widens the sixteen float32 of z (y its low half) to float64
// and stores them at lo(base) and lo+64(base); ZCVTADD adds them first.
#define ZCVTSTORE(z, y, lo, hi, base) \
	VEXTRACTF64X4 $1, z, Y12; \
	VCVTPS2PD     y, Z13;     \
	VCVTPS2PD     Y12, Z14;   \
	VMOVUPD       Z13, lo(base); \
	VMOVUPD       Z14, hi(base)

#define ZCVTADD(z, y, lo, hi, base) \
	VEXTRACTF64X4 $1, z, Y12;         \
	VCVTPS2PD     y, Z13;             \
	VCVTPS2PD     Y12, Z14;           \
	VADDPD        lo(base), Z13, Z13; \
	VADDPD        hi(base), Z14, Z14; \
	VMOVUPD       Z13, lo(base);      \
	VMOVUPD       Z14, hi(base)

// func gramLower32AVX512(g []float64, ldg int, y []float32, ldy, n, m int, acc bool)
TEXT ·gramLower32AVX512(SB), NOSPLIT, $0-81
	MOVQ g_base+0(FP), DI
	MOVQ ldg+24(FP), R8
	SHLQ $3, R8
	MOVQ y_base+32(FP), SI
	MOVQ ldy+56(FP), R9
	SHLQ $2, R9
	MOVQ n+64(FP), CX
	MOVQ m+72(FP), R10
	XORQ R12, R12

ziloop:
	CMPQ R12, R10
	JGE  zdone
	LEAQ 11(R12), R14
	ANDQ $-8, R14
	XORQ R13, R13

zjloop:
	// Columns left in this row block (a multiple of 8): 48 while more
	// than 64 or exactly 48 remain, then 32 (for 32, 40 and 64 left),
	// 16 (for 16 and 24), and a last 8 on 256-bit registers.
	MOVQ R14, DX
	SUBQ R13, DX
	JZ   zinext
	CMPQ DX, $64
	JGT  ztile48
	JEQ  ztile32
	CMPQ DX, $48
	JGE  ztile48
	CMPQ DX, $32
	JGE  ztile32
	CMPQ DX, $16
	JGE  ztile16
	JMP  ztile8

zinext:
	ADDQ $4, R12
	JMP  ziloop

zdone:
	VZEROUPPER
	RET

ztile48:
	SETUP
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
	VXORPS Z8, Z8, Z8
	VXORPS Z9, Z9, Z9
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	TESTQ  DX, DX
	JZ     zout48

zloop48:
	VMOVUPS      (BX), Z12
	VMOVUPS      64(BX), Z13
	VMOVUPS      128(BX), Z14
	VBROADCASTSS (AX), Z15
	VFMADD231PS  Z12, Z15, Z0
	VFMADD231PS  Z13, Z15, Z1
	VFMADD231PS  Z14, Z15, Z2
	VBROADCASTSS 4(AX), Z15
	VFMADD231PS  Z12, Z15, Z3
	VFMADD231PS  Z13, Z15, Z4
	VFMADD231PS  Z14, Z15, Z5
	VBROADCASTSS 8(AX), Z15
	VFMADD231PS  Z12, Z15, Z6
	VFMADD231PS  Z13, Z15, Z7
	VFMADD231PS  Z14, Z15, Z8
	VBROADCASTSS 12(AX), Z15
	VFMADD231PS  Z12, Z15, Z9
	VFMADD231PS  Z13, Z15, Z10
	VFMADD231PS  Z14, Z15, Z11
	ADDQ         R9, AX
	ADDQ         R9, BX
	DECQ         DX
	JNZ          zloop48

zout48:
	ROWS
	CMPB acc+80(FP), $0
	JEQ  zstore48
	ZCVTADD(Z0, Y0, 0, 64, R11)
	ZCVTADD(Z1, Y1, 128, 192, R11)
	ZCVTADD(Z2, Y2, 256, 320, R11)
	ZCVTADD(Z3, Y3, 0, 64, AX)
	ZCVTADD(Z4, Y4, 128, 192, AX)
	ZCVTADD(Z5, Y5, 256, 320, AX)
	ZCVTADD(Z6, Y6, 0, 64, DX)
	ZCVTADD(Z7, Y7, 128, 192, DX)
	ZCVTADD(Z8, Y8, 256, 320, DX)
	ZCVTADD(Z9, Y9, 0, 64, BX)
	ZCVTADD(Z10, Y10, 128, 192, BX)
	ZCVTADD(Z11, Y11, 256, 320, BX)
	JMP  znext48

zstore48:
	ZCVTSTORE(Z0, Y0, 0, 64, R11)
	ZCVTSTORE(Z1, Y1, 128, 192, R11)
	ZCVTSTORE(Z2, Y2, 256, 320, R11)
	ZCVTSTORE(Z3, Y3, 0, 64, AX)
	ZCVTSTORE(Z4, Y4, 128, 192, AX)
	ZCVTSTORE(Z5, Y5, 256, 320, AX)
	ZCVTSTORE(Z6, Y6, 0, 64, DX)
	ZCVTSTORE(Z7, Y7, 128, 192, DX)
	ZCVTSTORE(Z8, Y8, 256, 320, DX)
	ZCVTSTORE(Z9, Y9, 0, 64, BX)
	ZCVTSTORE(Z10, Y10, 128, 192, BX)
	ZCVTSTORE(Z11, Y11, 256, 320, BX)

znext48:
	ADDQ $48, R13
	JMP  zjloop

ztile32:
	SETUP
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
	TESTQ  DX, DX
	JZ     zout32

zloop32:
	VMOVUPS      (BX), Z12
	VMOVUPS      64(BX), Z13
	VBROADCASTSS (AX), Z15
	VFMADD231PS  Z12, Z15, Z0
	VFMADD231PS  Z13, Z15, Z1
	VBROADCASTSS 4(AX), Z15
	VFMADD231PS  Z12, Z15, Z2
	VFMADD231PS  Z13, Z15, Z3
	VBROADCASTSS 8(AX), Z15
	VFMADD231PS  Z12, Z15, Z4
	VFMADD231PS  Z13, Z15, Z5
	VBROADCASTSS 12(AX), Z15
	VFMADD231PS  Z12, Z15, Z6
	VFMADD231PS  Z13, Z15, Z7
	ADDQ         R9, AX
	ADDQ         R9, BX
	DECQ         DX
	JNZ          zloop32

zout32:
	ROWS
	CMPB acc+80(FP), $0
	JEQ  zstore32
	ZCVTADD(Z0, Y0, 0, 64, R11)
	ZCVTADD(Z1, Y1, 128, 192, R11)
	ZCVTADD(Z2, Y2, 0, 64, AX)
	ZCVTADD(Z3, Y3, 128, 192, AX)
	ZCVTADD(Z4, Y4, 0, 64, DX)
	ZCVTADD(Z5, Y5, 128, 192, DX)
	ZCVTADD(Z6, Y6, 0, 64, BX)
	ZCVTADD(Z7, Y7, 128, 192, BX)
	JMP  znext32

zstore32:
	ZCVTSTORE(Z0, Y0, 0, 64, R11)
	ZCVTSTORE(Z1, Y1, 128, 192, R11)
	ZCVTSTORE(Z2, Y2, 0, 64, AX)
	ZCVTSTORE(Z3, Y3, 128, 192, AX)
	ZCVTSTORE(Z4, Y4, 0, 64, DX)
	ZCVTSTORE(Z5, Y5, 128, 192, DX)
	ZCVTSTORE(Z6, Y6, 0, 64, BX)
	ZCVTSTORE(Z7, Y7, 128, 192, BX)

znext32:
	ADDQ $32, R13
	JMP  zjloop

ztile16:
	SETUP
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	TESTQ  DX, DX
	JZ     zout16

zloop16:
	VMOVUPS      (BX), Z12
	VBROADCASTSS (AX), Z15
	VFMADD231PS  Z12, Z15, Z0
	VBROADCASTSS 4(AX), Z15
	VFMADD231PS  Z12, Z15, Z1
	VBROADCASTSS 8(AX), Z15
	VFMADD231PS  Z12, Z15, Z2
	VBROADCASTSS 12(AX), Z15
	VFMADD231PS  Z12, Z15, Z3
	ADDQ         R9, AX
	ADDQ         R9, BX
	DECQ         DX
	JNZ          zloop16

zout16:
	ROWS
	CMPB acc+80(FP), $0
	JEQ  zstore16
	ZCVTADD(Z0, Y0, 0, 64, R11)
	ZCVTADD(Z1, Y1, 0, 64, AX)
	ZCVTADD(Z2, Y2, 0, 64, DX)
	ZCVTADD(Z3, Y3, 0, 64, BX)
	JMP  znext16

zstore16:
	ZCVTSTORE(Z0, Y0, 0, 64, R11)
	ZCVTSTORE(Z1, Y1, 0, 64, AX)
	ZCVTSTORE(Z2, Y2, 0, 64, DX)
	ZCVTSTORE(Z3, Y3, 0, 64, BX)

znext16:
	ADDQ $16, R13
	JMP  zjloop

ztile8:
	TILE8(zloop8, zout8, zstore8, znext8, zjloop)
