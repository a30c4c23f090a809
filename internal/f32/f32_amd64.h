// Macros shared by the assembly kernels of this package (f32_amd64.s,
// tile_amd64.s, avx512_amd64.s); their registers are those kernels'.

// ROW loads &src[idx[off/4]·k] into reg (AX scratch).
#define ROW(off, reg) \
	MOVLQSX off(R8), AX; \
	IMULQ   R14, AX;     \
	LEAQ    (SI)(AX*1), reg

// WEIGHTS4 sets X5 to a group of four rows' weights s = w·d (d the four
// dot products in X0, w at DI), or c − w·d when c is not nil, rounded as
// DotsAxpysIdx says (AX, BX, X1 scratch); lw is a label of the caller.
#define WEIGHTS4(lw) \
	VMOVUPS (DI), X5;             \
	VMULPS  X0, X5, X5;           \
	MOVQ    c_base+128(FP), BX;   \
	TESTQ   BX, BX;               \
	JZ      lw;                   \
	MOVQ    DI, AX;               \
	SUBQ    w_base+104(FP), AX;   \
	VMOVUPS (BX)(AX*1), X1;       \
	VSUBPS  X5, X1, X5;           \
lw:

// WEIGHTS1 is WEIGHTS4 for one row, into X0's low lane.
#define WEIGHTS1(lw) \
	VMOVSS (DI), X1;              \
	VMULSS X0, X1, X0;            \
	MOVQ   c_base+128(FP), BX;    \
	TESTQ  BX, BX;                \
	JZ     lw;                    \
	MOVQ   DI, AX;                \
	SUBQ   w_base+104(FP), AX;    \
	VMOVSS (BX)(AX*1), X1;        \
	VSUBSS X0, X1, X0;            \
lw:

// TILESUM adds each of the six products' two accumulators (Y0..Y5 and
// Y6..Y11), reduces them in dotsAVX2's order, stores the two rows' three
// results at R10, R11, R12, steps to the next pair of rows and jumps to
// the pair loop, next.
#define TILESUM(next) \
	VADDPS       Y6, Y0, Y0;\
	VADDPS       Y7, Y1, Y1;\
	VADDPS       Y8, Y2, Y2;\
	VADDPS       Y9, Y3, Y3;\
	VADDPS       Y10, Y4, Y4;\
	VADDPS       Y11, Y5, Y5;\
	VHADDPS      Y1, Y0, Y0;\
	VHADDPS      Y3, Y2, Y2;\
	VHADDPS      Y2, Y0, Y0;\
	VEXTRACTF128 $1, Y0, X1;\
	VADDPS       X1, X0, X0;\
	VHADDPS      Y5, Y4, Y4;\
	VHADDPS      Y4, Y4, Y4;\
	VEXTRACTF128 $1, Y4, X5;\
	VADDPS       X5, X4, X4;\
	VMOVSD       X0, (R10);\
	VMOVHPS      X0, (R11);\
	VMOVSD       X4, (R12);\
	ADDQ         $8, R10;\
	ADDQ         $8, R11;\
	ADDQ         $8, R12;\
	LEAQ         (R13)(R14*1), SI;\
	DECQ         DX;\
	JMP          next
