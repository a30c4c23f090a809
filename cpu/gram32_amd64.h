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
