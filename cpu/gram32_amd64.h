// Macros shared by the float32 SYRK kernels (gram32_amd64.s and
// gram32_avx512_amd64.s); their registers are those kernels'.

// SETUP points AX at Y[0,i0], BX at Y[0,j0], R11 at G[i0,j0] and loads
// the row count into DX.
#define SETUP \
	LEAQ  (SI)(R12*4), AX;   \
	LEAQ  (SI)(R13*4), BX;   \
	MOVQ  R12, R11;          \
	IMULQ R8, R11;           \
	ADDQ  DI, R11;           \
	LEAQ  (R11)(R13*8), R11; \
	MOVQ  CX, DX

// ROWS points AX, DX and BX at rows i0+1, i0+2 and i0+3 of the tile in G.
#define ROWS \
	LEAQ (R11)(R8*1), AX; \
	LEAQ (R11)(R8*2), DX; \
	LEAQ (DX)(R8*1), BX

// CVTSTORE widens the eight float32 of y (x its low half) to float64 and
// stores them at lo(base) and hi(base); CVTADD adds them to those first.
#define CVTSTORE(y, x, lo, hi, base) \
	VEXTRACTF128 $1, y, X12; \
	VCVTPS2PD    x, Y13;     \
	VCVTPS2PD    X12, Y14;   \
	VMOVUPD      Y13, lo(base); \
	VMOVUPD      Y14, hi(base)

#define CVTADD(y, x, lo, hi, base) \
	VEXTRACTF128 $1, y, X12;      \
	VCVTPS2PD    x, Y13;          \
	VCVTPS2PD    X12, Y14;        \
	VADDPD       lo(base), Y13, Y13; \
	VADDPD       hi(base), Y14, Y14; \
	VMOVUPD      Y13, lo(base);   \
	VMOVUPD      Y14, hi(base)

// TILE8 is the 4×8 tile of rows i0..i0+3 and columns j0..j0+7 (four
// accumulators Y0..Y3), from the setup through the store, then on to the
// column loop jl; the other names are its labels.
#define TILE8(l8, o8, s8, n8, jl) \
	SETUP;                                    \
	VXORPS       Y0, Y0, Y0;                  \
	VXORPS       Y1, Y1, Y1;                  \
	VXORPS       Y2, Y2, Y2;                  \
	VXORPS       Y3, Y3, Y3;                  \
	TESTQ        DX, DX;                      \
	JZ           o8;                          \
l8:                                           \
	VMOVUPS      (BX), Y12;                   \
	VBROADCASTSS (AX), Y15;                   \
	VFMADD231PS  Y12, Y15, Y0;                \
	VBROADCASTSS 4(AX), Y15;                  \
	VFMADD231PS  Y12, Y15, Y1;                \
	VBROADCASTSS 8(AX), Y15;                  \
	VFMADD231PS  Y12, Y15, Y2;                \
	VBROADCASTSS 12(AX), Y15;                 \
	VFMADD231PS  Y12, Y15, Y3;                \
	ADDQ         R9, AX;                      \
	ADDQ         R9, BX;                      \
	DECQ         DX;                          \
	JNZ          l8;                          \
o8:                                           \
	ROWS;                                     \
	CMPB         acc+80(FP), $0;              \
	JEQ          s8;                          \
	CVTADD(Y0, X0, 0, 32, R11);               \
	CVTADD(Y1, X1, 0, 32, AX);                \
	CVTADD(Y2, X2, 0, 32, DX);                \
	CVTADD(Y3, X3, 0, 32, BX);                \
	JMP          n8;                          \
s8:                                           \
	CVTSTORE(Y0, X0, 0, 32, R11);             \
	CVTSTORE(Y1, X1, 0, 32, AX);              \
	CVTSTORE(Y2, X2, 0, 32, DX);              \
	CVTSTORE(Y3, X3, 0, 32, BX);              \
n8:                                           \
	ADDQ         $8, R13;                     \
	JMP          jl
