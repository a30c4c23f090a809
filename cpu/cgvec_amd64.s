//go:build amd64 && !purego

#include "textflag.h"

// The CG vector steps of cgvec.go, four elements a step; every length is
// a multiple of 4 and at least 4 (the Go wrappers run the tail). The
// operations are the Go loops' in the same order (no fused multiply-add
// where Go rounds twice), so the results are the same bits.

// func to32AVX2(dst []float32, src []float64)
TEXT ·to32AVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ src_base+24(FP), SI
	XORQ AX, AX

t32:
	VCVTPD2PSY (SI)(AX*8), X0
	VMOVUPS    X0, (DI)(AX*4)
	ADDQ       $4, AX
	CMPQ       AX, CX
	JLT        t32
	VZEROUPPER
	RET

// func to64AVX2(dst []float64, src []float32)
TEXT ·to64AVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ src_base+24(FP), SI
	XORQ AX, AX

t64:
	VCVTPS2PD (SI)(AX*4), Y0
	VMOVUPD   Y0, (DI)(AX*8)
	ADDQ      $4, AX
	CMPQ      AX, CX
	JLT       t64
	VZEROUPPER
	RET

// func diagApplyAVX2(q []float64, q32 []float32, d, v []float64, reg, sign float64)
//
// q = float64(q32) + sign·((d + reg)·v).
TEXT ·diagApplyAVX2(SB), NOSPLIT, $0-112
	MOVQ         q_base+0(FP), DI
	MOVQ         q_len+8(FP), CX
	MOVQ         q32_base+24(FP), SI
	MOVQ         d_base+48(FP), DX
	MOVQ         v_base+72(FP), R8
	VBROADCASTSD reg+96(FP), Y14
	VBROADCASTSD sign+104(FP), Y15
	XORQ         AX, AX

dg:
	VMOVUPD   (DX)(AX*8), Y0
	VADDPD    Y14, Y0, Y0
	VMULPD    (R8)(AX*8), Y0, Y0
	VMULPD    Y15, Y0, Y0
	VCVTPS2PD (SI)(AX*4), Y1
	VADDPD    Y0, Y1, Y1
	VMOVUPD   Y1, (DI)(AX*8)
	ADDQ      $4, AX
	CMPQ      AX, CX
	JLT       dg
	VZEROUPPER
	RET

// func gramApplyAVX2(q []float64, q32, s []float32, v []float64, reg, sign float64)
//
// q = float64(q32) + sign·(float64(s) + reg·v).
TEXT ·gramApplyAVX2(SB), NOSPLIT, $0-112
	MOVQ         q_base+0(FP), DI
	MOVQ         q_len+8(FP), CX
	MOVQ         q32_base+24(FP), SI
	MOVQ         s_base+48(FP), DX
	MOVQ         v_base+72(FP), R8
	VBROADCASTSD reg+96(FP), Y14
	VBROADCASTSD sign+104(FP), Y15
	XORQ         AX, AX

gr:
	VMULPD    (R8)(AX*8), Y14, Y0
	VCVTPS2PD (DX)(AX*4), Y2
	VADDPD    Y0, Y2, Y0
	VMULPD    Y15, Y0, Y0
	VCVTPS2PD (SI)(AX*4), Y1
	VADDPD    Y0, Y1, Y1
	VMOVUPD   Y1, (DI)(AX*8)
	ADDQ      $4, AX
	CMPQ      AX, CX
	JLT       gr
	VZEROUPPER
	RET

// func xpbyAVX2(p, r []float64, beta float64)
//
// p = r + beta·p.
TEXT ·xpbyAVX2(SB), NOSPLIT, $0-56
	MOVQ         p_base+0(FP), DI
	MOVQ         p_len+8(FP), CX
	MOVQ         r_base+24(FP), SI
	VBROADCASTSD beta+48(FP), Y15
	XORQ         AX, AX

xp:
	VMULPD  (DI)(AX*8), Y15, Y0
	VADDPD  (SI)(AX*8), Y0, Y0
	VMOVUPD Y0, (DI)(AX*8)
	ADDQ    $4, AX
	CMPQ    AX, CX
	JLT     xp
	VZEROUPPER
	RET

// func scaleTo32AVX2(x, acc []float32, d []float64)
//
// x = float32(float64(acc)·d).
TEXT ·scaleTo32AVX2(SB), NOSPLIT, $0-72
	MOVQ x_base+0(FP), DI
	MOVQ x_len+8(FP), CX
	MOVQ acc_base+24(FP), SI
	MOVQ d_base+48(FP), DX
	XORQ AX, AX

sc:
	VCVTPS2PD  (SI)(AX*4), Y0
	VMULPD     (DX)(AX*8), Y0, Y0
	VCVTPD2PSY Y0, X0
	VMOVUPS    X0, (DI)(AX*4)
	ADDQ       $4, AX
	CMPQ       AX, CX
	JLT        sc
	VZEROUPPER
	RET

// func cgWeightsAVX2(c, w, vals []float32, alpha float64, w0 float32)
//
// c = float32(max(1 + alpha·float64(vals), 0)), NaN kept, −0 kept (as
// confidence: VMAXPD returns its second source, c, when either is NaN or
// both are zeros); w = c − w0.
DATA cgOne<>+0(SB)/8, $1.0
GLOBL cgOne<>(SB), RODATA|NOPTR, $8

TEXT ·cgWeightsAVX2(SB), NOSPLIT, $0-84
	MOVQ         c_base+0(FP), DI
	MOVQ         w_base+24(FP), DX
	MOVQ         vals_base+48(FP), SI
	MOVQ         vals_len+56(FP), CX
	VBROADCASTSD alpha+72(FP), Y13
	VBROADCASTSS w0+80(FP), X12
	VBROADCASTSD cgOne<>(SB), Y14
	VXORPD       Y15, Y15, Y15
	XORQ         AX, AX

cw:
	VCVTPS2PD  (SI)(AX*4), Y0
	VMULPD     Y13, Y0, Y0
	VADDPD     Y14, Y0, Y0
	VMAXPD     Y0, Y15, Y0
	VCVTPD2PSY Y0, X0
	VMOVUPS    X0, (DI)(AX*4)
	VSUBPS     X12, X0, X1
	VMOVUPS    X1, (DX)(AX*4)
	ADDQ       $4, AX
	CMPQ       AX, CX
	JLT        cw
	VZEROUPPER
	RET
