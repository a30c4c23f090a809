//go:build amd64 && !purego

#include "textflag.h"

// Plane rotations of consecutive rows, fused: see rotRun in eigen.go.
// Each pass takes 16 columns (four registers of four float64), carries
// the row being rotated in Y2-Y5 from one rotation to the next, and
// loads and stores each row once. Products and sums are separate
// (VMULPD, then VADDPD/VSUBPD, no FMA), so the results are bit for bit
// those of the plain-Go rotRunGo and of LAPACK's Dlasr in gonum.

#define ROT_FWD(off, carry) \
	VMOVUPD off(DX), Y6; \
	VMULPD  Y1, Y6, Y7; \
	VMULPD  Y0, carry, Y8; \
	VADDPD  Y8, Y7, Y7; \
	VMOVUPD Y7, off(SI); \
	VMULPD  Y0, Y6, Y6; \
	VMULPD  Y1, carry, carry; \
	VSUBPD  carry, Y6, carry

// func rotFwdAVX(a *float64, lda, rows, nblk int, c, s *float64)
TEXT ·rotFwdAVX(SB), NOSPLIT, $0-48
	MOVQ a+0(FP), DI
	MOVQ lda+8(FP), R8
	SHLQ $3, R8
	MOVQ rows+16(FP), R9
	DECQ R9
	MOVQ nblk+24(FP), R10
	MOVQ c+32(FP), R11
	MOVQ s+40(FP), R12

fwdblk:
	TESTQ R10, R10
	JZ    fwddone
	MOVQ  DI, SI
	VMOVUPD 0(SI), Y2
	VMOVUPD 32(SI), Y3
	VMOVUPD 64(SI), Y4
	VMOVUPD 96(SI), Y5
	XORQ  CX, CX

fwdrot:
	CMPQ CX, R9
	JGE  fwdtail
	VBROADCASTSD (R11)(CX*8), Y0
	VBROADCASTSD (R12)(CX*8), Y1
	LEAQ (SI)(R8*1), DX
	ROT_FWD(0, Y2)
	ROT_FWD(32, Y3)
	ROT_FWD(64, Y4)
	ROT_FWD(96, Y5)
	MOVQ DX, SI
	INCQ CX
	JMP  fwdrot

fwdtail:
	VMOVUPD Y2, 0(SI)
	VMOVUPD Y3, 32(SI)
	VMOVUPD Y4, 64(SI)
	VMOVUPD Y5, 96(SI)
	ADDQ $128, DI
	DECQ R10
	JMP  fwdblk

fwddone:
	VZEROUPPER
	RET

#define ROT_BWD(off, carry) \
	VMOVUPD off(DX), Y6; \
	VMULPD  Y0, carry, Y7; \
	VMULPD  Y1, Y6, Y8; \
	VSUBPD  Y8, Y7, Y7; \
	VMOVUPD Y7, off(SI); \
	VMULPD  Y1, carry, carry; \
	VMULPD  Y0, Y6, Y6; \
	VADDPD  Y6, carry, carry

// func rotBwdAVX(a *float64, lda, rows, nblk int, c, s *float64)
TEXT ·rotBwdAVX(SB), NOSPLIT, $0-48
	MOVQ a+0(FP), DI
	MOVQ lda+8(FP), R8
	SHLQ $3, R8
	MOVQ rows+16(FP), R9
	DECQ R9
	MOVQ R9, AX
	IMULQ R8, AX
	ADDQ AX, DI          // DI: row rows-1
	MOVQ nblk+24(FP), R10
	MOVQ c+32(FP), R11
	MOVQ s+40(FP), R12

bwdblk:
	TESTQ R10, R10
	JZ    bwddone
	MOVQ  DI, SI
	VMOVUPD 0(SI), Y2
	VMOVUPD 32(SI), Y3
	VMOVUPD 64(SI), Y4
	VMOVUPD 96(SI), Y5
	MOVQ  R9, CX

bwdrot:
	DECQ CX
	JL   bwdtail
	VBROADCASTSD (R11)(CX*8), Y0
	VBROADCASTSD (R12)(CX*8), Y1
	MOVQ SI, DX
	SUBQ R8, DX
	ROT_BWD(0, Y2)
	ROT_BWD(32, Y3)
	ROT_BWD(64, Y4)
	ROT_BWD(96, Y5)
	MOVQ DX, SI
	JMP  bwdrot

bwdtail:
	VMOVUPD Y2, 0(SI)
	VMOVUPD Y3, 32(SI)
	VMOVUPD Y4, 64(SI)
	VMOVUPD Y5, 96(SI)
	ADDQ $128, DI
	DECQ R10
	JMP  bwdblk

bwddone:
	VZEROUPPER
	RET
