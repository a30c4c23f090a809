//go:build amd64 && !purego

#include "textflag.h"
#include "f32_amd64.h"

// sTailMask<>+32-4·r is the VMASKMOVPS mask selecting the first r < 8 of
// eight float32 lanes.
DATA sTailMask<>+0(SB)/4, $-1
DATA sTailMask<>+4(SB)/4, $-1
DATA sTailMask<>+8(SB)/4, $-1
DATA sTailMask<>+12(SB)/4, $-1
DATA sTailMask<>+16(SB)/4, $-1
DATA sTailMask<>+20(SB)/4, $-1
DATA sTailMask<>+24(SB)/4, $-1
DATA sTailMask<>+28(SB)/4, $-1
DATA sTailMask<>+32(SB)/4, $0
DATA sTailMask<>+36(SB)/4, $0
DATA sTailMask<>+40(SB)/4, $0
DATA sTailMask<>+44(SB)/4, $0
DATA sTailMask<>+48(SB)/4, $0
DATA sTailMask<>+52(SB)/4, $0
DATA sTailMask<>+56(SB)/4, $0
DATA sTailMask<>+60(SB)/4, $0
GLOBL sTailMask<>(SB), RODATA|NOPTR, $64

// TAILS turns CX = k into the column bounds of the dot kernels: R14 = 4·k,
// CX = 4·(k &^ 7), Y15 = the mask of the last k mod 8 columns and Y14 =
// p's (R9) masked tail (AX, BX scratch).
#define TAILS \
	MOVQ       CX, R14;                  \
	SHLQ       $2, R14;                  \
	MOVQ       CX, AX;                   \
	ANDQ       $7, AX;                   \
	SHLQ       $2, AX;                   \
	LEAQ       sTailMask<>+32(SB), BX;   \
	SUBQ       AX, BX;                   \
	VMOVDQU    (BX), Y15;                \
	ANDQ       $-8, CX;                  \
	SHLQ       $2, CX;                   \
	VMASKMOVPS (R9)(CX*1), Y15, Y14

// PREF asks for the first four cache lines (256 bytes: all of a row of
// k ≤ 64) of src[idx[off/4]·k:] (AX scratch). A prefetch never faults, so
// lines past the row or the slice cost a wasted fetch at worst.
#define PREF(off) \
	MOVLQSX    off(R8), AX;      \
	IMULQ      R14, AX;          \
	PREFETCHT0 (SI)(AX*1);       \
	PREFETCHT0 64(SI)(AX*1);     \
	PREFETCHT0 128(SI)(AX*1);    \
	PREFETCHT0 192(SI)(AX*1)

// AXPY4 adds the rows R10..R13 times Y10..Y13 into dst[:k] (the register
// dst = &dst[0]), in order, 8 columns a step, then the masked tail (BX,
// Y0..Y4 scratch). The labels are the caller's.
#define AXPY4(dst, lc, lt, ln) \
	XORQ        BX, BX;               \
lc:                                   \
	CMPQ        BX, CX;               \
	JGE         lt;                   \
	VMOVUPS     (dst)(BX*1), Y0;       \
	VFMADD231PS (R10)(BX*1), Y10, Y0; \
	VFMADD231PS (R11)(BX*1), Y11, Y0; \
	VFMADD231PS (R12)(BX*1), Y12, Y0; \
	VFMADD231PS (R13)(BX*1), Y13, Y0; \
	VMOVUPS     Y0, (dst)(BX*1);       \
	ADDQ        $32, BX;              \
	JMP         lc;                   \
lt:                                   \
	CMPQ        BX, R14;              \
	JEQ         ln;                   \
	VMASKMOVPS  (dst)(BX*1), Y15, Y0;  \
	VMASKMOVPS  (R10)(BX*1), Y15, Y1; \
	VMASKMOVPS  (R11)(BX*1), Y15, Y2; \
	VMASKMOVPS  (R12)(BX*1), Y15, Y3; \
	VMASKMOVPS  (R13)(BX*1), Y15, Y4; \
	VFMADD231PS Y1, Y10, Y0;          \
	VFMADD231PS Y2, Y11, Y0;          \
	VFMADD231PS Y3, Y12, Y0;          \
	VFMADD231PS Y4, Y13, Y0;          \
	VMASKMOVPS  Y0, Y15, (dst)(BX*1);  \
ln:

// AXPY1 is AXPY4 for the one row R10 times Y10.
#define AXPY1(dst, lc, lt, ln) \
	XORQ        BX, BX;               \
lc:                                   \
	CMPQ        BX, CX;               \
	JGE         lt;                   \
	VMOVUPS     (dst)(BX*1), Y0;      \
	VFMADD231PS (R10)(BX*1), Y10, Y0; \
	VMOVUPS     Y0, (dst)(BX*1);      \
	ADDQ        $32, BX;              \
	JMP         lc;                   \
lt:                                   \
	CMPQ        BX, R14;              \
	JEQ         ln;                   \
	VMASKMOVPS  (dst)(BX*1), Y15, Y0; \
	VMASKMOVPS  (R10)(BX*1), Y15, Y1; \
	VFMADD231PS Y1, Y10, Y0;          \
	VMASKMOVPS  Y0, Y15, (dst)(BX*1); \
ln:

// DOT4 sums the rows R10..R13 times p (R9) over k columns (CX: k rounded
// down to 8, in bytes; R14: k in bytes; Y14, Y15: p's tail and its mask)
// into X0's four lanes, in the order every dot kernel here uses: 16
// columns a step into two accumulators per row (eight independent FMA
// chains, enough for both FMA pipes), then 8, then the masked tail, then
// the two accumulators added and the rows reduced (AX, BX, Y0..Y13
// scratch). The labels are the caller's.
#define DOT4(lc16, lc, lt, lr) \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
	VXORPS Y6, Y6, Y6; \
	VXORPS Y7, Y7, Y7; \
	VXORPS Y8, Y8, Y8; \
	VXORPS Y9, Y9, Y9; \
	XORQ   BX, BX; \
	LEAQ   -32(CX), AX; \
lc16: \
	CMPQ        BX, AX; \
	JGE         lc; \
	VMOVUPS     (R9)(BX*1), Y4; \
	VMOVUPS     32(R9)(BX*1), Y5; \
	VFMADD231PS (R10)(BX*1), Y4, Y0; \
	VFMADD231PS (R11)(BX*1), Y4, Y1; \
	VFMADD231PS (R12)(BX*1), Y4, Y2; \
	VFMADD231PS (R13)(BX*1), Y4, Y3; \
	VFMADD231PS 32(R10)(BX*1), Y5, Y6; \
	VFMADD231PS 32(R11)(BX*1), Y5, Y7; \
	VFMADD231PS 32(R12)(BX*1), Y5, Y8; \
	VFMADD231PS 32(R13)(BX*1), Y5, Y9; \
	ADDQ        $64, BX; \
	JMP         lc16; \
lc: \
	CMPQ        BX, CX; \
	JGE         lt; \
	VMOVUPS     (R9)(BX*1), Y4; \
	VFMADD231PS (R10)(BX*1), Y4, Y0; \
	VFMADD231PS (R11)(BX*1), Y4, Y1; \
	VFMADD231PS (R12)(BX*1), Y4, Y2; \
	VFMADD231PS (R13)(BX*1), Y4, Y3; \
	ADDQ        $32, BX; \
	JMP         lc; \
lt: \
	CMPQ        BX, R14; \
	JEQ         lr; \
	VMASKMOVPS  (R10)(BX*1), Y15, Y10; \
	VMASKMOVPS  (R11)(BX*1), Y15, Y11; \
	VMASKMOVPS  (R12)(BX*1), Y15, Y12; \
	VMASKMOVPS  (R13)(BX*1), Y15, Y13; \
	VFMADD231PS Y10, Y14, Y0; \
	VFMADD231PS Y11, Y14, Y1; \
	VFMADD231PS Y12, Y14, Y2; \
	VFMADD231PS Y13, Y14, Y3; \
lr: \
	VADDPS       Y6, Y0, Y0; \
	VADDPS       Y7, Y1, Y1; \
	VADDPS       Y8, Y2, Y2; \
	VADDPS       Y9, Y3, Y3; \
	VHADDPS      Y1, Y0, Y0; \
	VHADDPS      Y3, Y2, Y2; \
	VHADDPS      Y2, Y0, Y0; \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS       X1, X0, X0

// DOT1 is DOT4 for the one row R10, into X0's low lane, summed exactly as
// a row of a group of four (the same accumulators, column steps and
// reduction order), so that a row's result does not depend on its
// position.
#define DOT1(lc16, lc, lt, lr) \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y6, Y6, Y6; \
	XORQ   BX, BX; \
	LEAQ   -32(CX), AX; \
lc16: \
	CMPQ        BX, AX; \
	JGE         lc; \
	VMOVUPS     (R9)(BX*1), Y4; \
	VMOVUPS     32(R9)(BX*1), Y5; \
	VFMADD231PS (R10)(BX*1), Y4, Y0; \
	VFMADD231PS 32(R10)(BX*1), Y5, Y6; \
	ADDQ        $64, BX; \
	JMP         lc16; \
lc: \
	CMPQ        BX, CX; \
	JGE         lt; \
	VMOVUPS     (R9)(BX*1), Y4; \
	VFMADD231PS (R10)(BX*1), Y4, Y0; \
	ADDQ        $32, BX; \
	JMP         lc; \
lt: \
	CMPQ        BX, R14; \
	JEQ         lr; \
	VMASKMOVPS  (R10)(BX*1), Y15, Y5; \
	VFMADD231PS Y5, Y14, Y0; \
lr: \
	VADDPS       Y6, Y0, Y0; \
	VHADDPS      Y0, Y0, Y0; \
	VHADDPS      Y0, Y0, Y0; \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS       X1, X0, X0

// PREVROWS sets R10..R13 to the rows of the previous group of four (at
// idx[j-4:j]) and Y10..Y13 to their weights, kept at 0(SP) (AX scratch).
#define PREVROWS \
	ROW(-16, R10);           \
	ROW(-12, R11);           \
	ROW(-8, R12);            \
	ROW(-4, R13);            \
	VBROADCASTSS (SP), Y10;  \
	VBROADCASTSS 4(SP), Y11; \
	VBROADCASTSS 8(SP), Y12; \
	VBROADCASTSS 12(SP), Y13

// func dotsIdxAVX2(t []float32, src []float32, k int, idx []int32, p []float32)
//
// dotsIdxAVX2 is dotsIdxGo (f32.go): t[j] = src[idx[j]·k:][:k]·p. Rows are
// taken four at a time, each summed in two accumulators of eight lanes
// over 16 columns a step (sharing the loads of p), then 8 columns, then a masked step for
// the last k mod 8 columns; a single row at a time for the last rows mod 4,
// summed in the same order, so a row's result does not depend on where it
// sits among the rows.
//
// Registers: DI = &t[j], SI = &src[0], R8 = &idx[j], DX = rows left,
// R9 = &p[0], R14 = 4·k, CX = 4·(k &^ 7), BX = column offset in bytes,
// R10..R13 = the rows, Y15 = tail mask, Y14 = p's masked tail.
TEXT ·dotsIdxAVX2(SB), NOSPLIT, $0-104
	MOVQ       t_base+0(FP), DI
	MOVQ       src_base+24(FP), SI
	MOVQ       k+48(FP), CX
	MOVQ       idx_base+56(FP), R8
	MOVQ       idx_len+64(FP), DX
	MOVQ       p_base+80(FP), R9
	TAILS

d4:
	CMPQ   DX, $4
	JLT    d1
	ROW(0, R10)
	ROW(4, R11)
	ROW(8, R12)
	ROW(12, R13)

	// Gathered rows are scattered over the table, where the hardware
	// prefetchers cannot guess them: ask for the rows three groups
	// ahead, so that a row not in cache is on its way while these are
	// summed.
	CMPQ DX, $16
	JLT  d4z
	PREF(48)
	PREF(52)
	PREF(56)
	PREF(60)

d4z:
	DOT4(d4c16, d4c, d4t, d4r)
	VMOVUPS      X0, (DI)
	ADDQ         $16, DI
	ADDQ         $16, R8
	SUBQ         $4, DX
	JMP          d4

d1:
	// One row, summed exactly as a row of the group of four above
	// (the same two accumulators, column steps and reduction order), so
	// that a row's result does not depend on its position.
	TESTQ  DX, DX
	JZ     ddone
	ROW(0, R10)
	DOT1(d1c16, d1c, d1t, d1r)
	VMOVSS       X0, (DI)
	ADDQ         $4, DI
	ADDQ         $4, R8
	DECQ         DX
	JMP          d1

ddone:
	VZEROUPPER
	RET

// func axpysIdxAVX2(dst []float32, src []float32, k int, idx []int32, t []float32)
//
// axpysIdxAVX2 is axpysIdxGo (f32.go): dst += Σ_j t[j]·src[idx[j]·k:][:k].
// Rows are taken four at a time: per 8 columns, dst is loaded, the four
// rows are multiplied into it with their broadcast t[j] by fused
// multiply-adds, in order j, and it is stored back; the last k mod 8
// columns by masked loads and a masked store; then a single row at a time
// for the last rows mod 4.
//
// Registers: DI = &dst[0], SI = &src[0], R8 = &idx[j], DX = rows left,
// R9 = &t[j], R14 = 4·k, CX = 4·(k &^ 7), BX = column offset in bytes,
// R10..R13 = the rows, Y10..Y13 = t[j..j+3] broadcast, Y15 = tail mask.
TEXT ·axpysIdxAVX2(SB), NOSPLIT, $0-104
	MOVQ    dst_base+0(FP), DI
	MOVQ    src_base+24(FP), SI
	MOVQ    k+48(FP), CX
	MOVQ    idx_base+56(FP), R8
	MOVQ    idx_len+64(FP), DX
	MOVQ    t_base+80(FP), R9
	MOVQ    CX, R14
	SHLQ    $2, R14
	MOVQ    CX, AX
	ANDQ    $7, AX
	SHLQ    $2, AX
	LEAQ    sTailMask<>+32(SB), BX
	SUBQ    AX, BX
	VMOVDQU (BX), Y15
	ANDQ    $-8, CX
	SHLQ    $2, CX

a4:
	CMPQ         DX, $4
	JLT          a1
	ROW(0, R10)
	ROW(4, R11)
	ROW(8, R12)
	ROW(12, R13)
	VBROADCASTSS (R9), Y10
	VBROADCASTSS 4(R9), Y11
	VBROADCASTSS 8(R9), Y12
	VBROADCASTSS 12(R9), Y13
	AXPY4(DI, a4c, a4t, a4n)
	ADDQ $16, R9
	ADDQ $16, R8
	SUBQ $4, DX
	JMP  a4

a1:
	TESTQ        DX, DX
	JZ           adone
	ROW(0, R10)
	VBROADCASTSS (R9), Y10
	AXPY1(DI, a1c, a1t, a1n)
	ADDQ $4, R9
	ADDQ $4, R8
	DECQ DX
	JMP  a1

adone:
	VZEROUPPER
	RET

// func dotsAxpysIdxAVX2(dst []float32, src []float32, k int, idx []int32, p []float32, w []float32, c []float32)
//
// dotsAxpysIdxAVX2 is dotsAxpysIdxGo (f32.go): dst += Σ_j s_j·y_j with
// y_j = src[idx[j]·k:][:k], s_j = w[j]·(y_j·p) (subtracted from c[j] when
// c is not nil). Rows are taken four at a time: their dot products
// exactly as dotsIdxAVX2 sums them (the same accumulators, steps and
// reduction), the four weights in one SSE multiply (and subtract); then
// the previous group of four, whose weights wait at 0(SP), is added into
// dst exactly as axpysIdxAVX2 adds a group (in order j). Adding the
// previous group rather than this one leaves this group's reduction and
// weights, a long chain of dependent instructions, to finish while the
// additions run, and the previous group's rows are still in L1. The last
// group is added after the loop; then the last rows mod 4 one at a time,
// as those kernels' single-row paths. So the result is bit for bit
// theirs.
//
// Registers: DI = &w[j], SI = &src[0], R8 = &idx[j], DX = rows left,
// R9 = &p[0], R14 = 4·k, CX = 4·(k &^ 7), BX = column offset in bytes,
// AX scratch, then &dst[0] while adding, R10..R13 = the rows, Y15 = tail
// mask, Y14 = p's masked tail, X5 = this group's weights.
TEXT ·dotsAxpysIdxAVX2(SB), NOSPLIT, $16-152
	MOVQ       src_base+24(FP), SI
	MOVQ       k+48(FP), CX
	MOVQ       idx_base+56(FP), R8
	MOVQ       idx_len+64(FP), DX
	MOVQ       p_base+80(FP), R9
	MOVQ       w_base+104(FP), DI
	TAILS

f4:
	CMPQ DX, $4
	JLT  f4end
	ROW(0, R10)
	ROW(4, R11)
	ROW(8, R12)
	ROW(12, R13)

	// No software prefetch: asking for the rows two groups ahead (four
	// lines each, or all eight at k = 128) measured slower with the
	// table in L2 or L3 and no faster from memory (BenchmarkDotsAxpysIdx).

	DOT4(f4c16, f4c, f4t, f4r)

	// This group's weights s = w·d, or c − w·d, into X5.
	WEIGHTS4(f4w)

	// The previous group, if any, into dst.
	CMPQ DI, w_base+104(FP)
	JEQ  f4s
	PREVROWS
	MOVQ dst_base+0(FP), AX
	AXPY4(AX, f4ac, f4at, f4an)

f4s:
	VMOVUPS X5, (SP)
	ADDQ    $16, DI
	ADDQ    $16, R8
	SUBQ    $4, DX
	JMP     f4

f4end:
	// The last group, if any.
	CMPQ DI, w_base+104(FP)
	JEQ  f1
	PREVROWS
	MOVQ dst_base+0(FP), AX
	AXPY4(AX, f4lc, f4lt, f4ln)

f1:
	TESTQ  DX, DX
	JZ     fdone
	ROW(0, R10)
	DOT1(f1c16, f1c, f1t, f1r)
	WEIGHTS1(f1w)

	VBROADCASTSS X0, Y10
	MOVQ         dst_base+0(FP), AX
	AXPY1(AX, f1a, f1at, f1n)
	ADDQ $4, DI
	ADDQ $4, R8
	DECQ DX
	JMP  f1

fdone:
	VZEROUPPER
	RET

// func dotsAVX2(t []float32, src []float32, k int, idx []int32, p []float32)
//
// dotsAVX2 is dotsGo (f32.go): t[j] = src[j·k:][:k]·p for j < len(t). Rows are
// taken four at a time, each summed in two accumulators of eight lanes
// over 16 columns a step (sharing the loads of p), then 8 columns, then a masked step for
// the last k mod 8 columns; a single row at a time for the last rows mod 4,
// summed in the same order, so a row's result does not depend on where it
// sits among the rows.
//
// Registers: DI = &t[j], SI = &src[j·k], DX = rows left,
// R9 = &p[0], R14 = 4·k, CX = 4·(k &^ 7), BX = column offset in bytes,
// R10..R13 = the rows, Y15 = tail mask, Y14 = p's masked tail.
TEXT ·dotsAVX2(SB), NOSPLIT, $0-80
	MOVQ       t_base+0(FP), DI
	MOVQ       src_base+24(FP), SI
	MOVQ       k+48(FP), CX
	MOVQ       t_len+8(FP), DX
	MOVQ       p_base+56(FP), R9
	TAILS

c4:
	CMPQ   DX, $4
	JLT    c1
	MOVQ   SI, R10
	LEAQ   (R10)(R14*1), R11
	LEAQ   (R11)(R14*1), R12
	LEAQ   (R12)(R14*1), R13
	DOT4(c4c16, c4c, c4t, c4r)
	VMOVUPS      X0, (DI)
	ADDQ         $16, DI
	LEAQ         (R13)(R14*1), SI
	SUBQ         $4, DX
	JMP          c4

c1:
	// One row, summed exactly as a row of the group of four above
	// (the same two accumulators, column steps and reduction order), so
	// that a row's result does not depend on its position.
	TESTQ  DX, DX
	JZ     cdone
	MOVQ   SI, R10
	DOT1(c1c16, c1c, c1t, c1r)
	VMOVSS       X0, (DI)
	ADDQ         $4, DI
	ADDQ         R14, SI
	DECQ         DX
	JMP          c1

cdone:
	VZEROUPPER
	RET


// func dotsInt8AVX2(t []float32, src []int8, scale []float32, k int, p []int16)
//
// dotsInt8AVX2 is dotsInt8Go (int8.go): t[j] = scale[j]·float32(S_j) with
// S_j = Σ_c src[j·s+c]·p[c] summed exactly in int32, s = Int8Stride(k).
// Rows are taken four at a time; per 16 columns each row's bytes are
// sign-extended to int16 (VPMOVSXBW), multiplied by p's int16s with
// adjacent pairs summed into eight int32 lanes (VPMADDWD, exact), and added
// to the row's accumulator; then one step of 8 columns when s mod 16 = 8
// (p's entries from k to s are zero, so the row's padding weighs
// nothing). The lanes are summed (VPHADDD), converted to float32 and
// multiplied by the scales. A single row at a time for the last rows mod
// 4. Integer sums are exact, so a row's result depends on nothing but the
// row.
//
// Registers: DI = &t[j], SI = &src[j·s], R8 = &scale[j], DX = rows left,
// R9 = &p[0], R14 = s, CX = s &^ 15, BX = column, R10..R13 = the rows.
TEXT ·dotsInt8AVX2(SB), NOSPLIT, $0-104
	MOVQ t_base+0(FP), DI
	MOVQ t_len+8(FP), DX
	MOVQ src_base+24(FP), SI
	MOVQ scale_base+48(FP), R8
	MOVQ k+72(FP), CX
	MOVQ p_base+80(FP), R9
	LEAQ 7(CX), R14
	ANDQ $-8, R14
	MOVQ R14, CX
	ANDQ $-16, CX

w4:
	CMPQ   DX, $4
	JLT    w1
	MOVQ   SI, R10
	LEAQ   (R10)(R14*1), R11
	LEAQ   (R11)(R14*1), R12
	LEAQ   (R12)(R14*1), R13
	VPXOR  Y0, Y0, Y0
	VPXOR  Y1, Y1, Y1
	VPXOR  Y2, Y2, Y2
	VPXOR  Y3, Y3, Y3
	XORQ   BX, BX

w4c:
	CMPQ      BX, CX
	JGE       w4t
	VMOVDQU   (R9)(BX*2), Y4
	VPMOVSXBW (R10)(BX*1), Y10
	VPMOVSXBW (R11)(BX*1), Y11
	VPMOVSXBW (R12)(BX*1), Y12
	VPMOVSXBW (R13)(BX*1), Y13
	VPMADDWD  Y4, Y10, Y10
	VPMADDWD  Y4, Y11, Y11
	VPMADDWD  Y4, Y12, Y12
	VPMADDWD  Y4, Y13, Y13
	VPADDD    Y10, Y0, Y0
	VPADDD    Y11, Y1, Y1
	VPADDD    Y12, Y2, Y2
	VPADDD    Y13, Y3, Y3
	ADDQ      $16, BX
	JMP       w4c

w4t:
	CMPQ      BX, R14
	JEQ       w4r
	VMOVDQU   (R9)(BX*2), X4
	VPMOVSXBW (R10)(BX*1), X10
	VPMOVSXBW (R11)(BX*1), X11
	VPMOVSXBW (R12)(BX*1), X12
	VPMOVSXBW (R13)(BX*1), X13
	VPMADDWD  X4, X10, X10
	VPMADDWD  X4, X11, X11
	VPMADDWD  X4, X12, X12
	VPMADDWD  X4, X13, X13
	VPADDD    Y10, Y0, Y0
	VPADDD    Y11, Y1, Y1
	VPADDD    Y12, Y2, Y2
	VPADDD    Y13, Y3, Y3

w4r:
	VPHADDD      Y1, Y0, Y0
	VPHADDD      Y3, Y2, Y2
	VPHADDD      Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD       X1, X0, X0
	VCVTDQ2PS    X0, X0
	VMULPS       (R8), X0, X0
	VMOVUPS      X0, (DI)
	ADDQ         $16, DI
	ADDQ         $16, R8
	LEAQ         (R13)(R14*1), SI
	SUBQ         $4, DX
	JMP          w4

w1:
	TESTQ  DX, DX
	JZ     wdone
	MOVQ   SI, R10
	VPXOR  Y0, Y0, Y0
	XORQ   BX, BX

w1c:
	CMPQ      BX, CX
	JGE       w1t
	VMOVDQU   (R9)(BX*2), Y4
	VPMOVSXBW (R10)(BX*1), Y10
	VPMADDWD  Y4, Y10, Y10
	VPADDD    Y10, Y0, Y0
	ADDQ      $16, BX
	JMP       w1c

w1t:
	CMPQ      BX, R14
	JEQ       w1r
	VMOVDQU   (R9)(BX*2), X4
	VPMOVSXBW (R10)(BX*1), X10
	VPMADDWD  X4, X10, X10
	VPADDD    Y10, Y0, Y0

w1r:
	VPHADDD      Y0, Y0, Y0
	VPHADDD      Y0, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD       X1, X0, X0
	VCVTDQ2PS    X0, X0
	VMULSS       (R8), X0, X0
	VMOVSS       X0, (DI)
	ADDQ         $4, DI
	ADDQ         $4, R8
	ADDQ         R14, SI
	DECQ         DX
	JMP          w1

wdone:
	VZEROUPPER
	RET
