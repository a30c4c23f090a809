package cpu

import (
	"gonum.org/v1/gonum/blas"
	blasgonum "gonum.org/v1/gonum/blas/gonum"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"

	"movierec/internal/f32"
)

// The gonum implementations are called directly rather than through
// blas64/lapack64, so the solver does not depend on the process-wide
// implementation chosen with blas64.Use.
var (
	bl blasgonum.Implementation
	lp lapackgonum.Implementation
)

// half is one half-iteration: solve every row of a CSR (ptr, idx, val)
// against the fixed side's factors and write the solutions into dst.
// All slices alias the Ratings and Model of the Fit; half only reads
// ptr, idx, val, fixed and fixedBias, and each row writes only its own
// slot of dst and dstBias.
type half struct {
	ptr []int64
	idx []int32   // fixed-side index per rating
	val []float32 // rating per rating

	fixed     []float32 // fixed-side factors, row-major, stride k
	fixedBias []float32 // fixed-side biases when bias, else nil
	dst       []float32 // solved-side factors, row-major, stride k
	dstBias   []float32 // solved-side biases when bias, else nil

	k      int     // factor rank
	kp     int     // augmented rank: k, or k+1 with bias
	bias   bool    // learn biases: the fixed vectors get a trailing 1
	mean   float64 // global mean μ subtracted from targets with bias
	lambda float64 // ALS-WR ridge weight; row u's diagonal gets lambda·(n_u + offset)
	offset float64 // als.Params.RegOffset

	imp *implicitHalf // the implicit objective's state; nil for explicit
	cg  int           // CG steps per row (als.CG, cg.go); 0 solves by Cholesky

	// initSeed, when initPending, is the seed of the starting factors
	// (als.InitFactorRows, item side) that solveRowCG draws for a row
	// before it reads them: the first item half of a cold Fit, whose
	// other rows are overwritten without being read (see Fit).
	initPending bool
	initSeed    int64
}

func (h *half) rows() int { return len(h.ptr) - 1 }

// target returns the value row p's normal equations fit: the rating, less
// μ and the fixed side's bias when learning biases.
func (h *half) target(p int64) float64 {
	r := float64(h.val[p])
	if h.bias {
		r -= h.mean + float64(h.fixedBias[h.idx[p]])
	}
	return r
}

// kernel selects how a row is solved. The zero thresholds force the tiled
// paths (gramTiled and choleskyAug); math.MaxInt forces the plain-Go paths (tests use both).
type kernel struct {
	// shortRow: rows with n·kp < shortRow are assembled with plain-Go
	// rank-1 updates instead of gather + gramLower.
	shortRow int
	// smallK: systems with kp ≤ smallK are factorised with the plain-Go
	// choleskyGo instead of choleskyAug.
	smallK int
	// block is the most ratings gathered at once; longer rows are
	// accumulated block by block, which bounds the workspace and keeps
	// the gathered block in cache.
	block int
	// woodbury: in a rotated implicit half (implicit.go), rows with
	// n < woodbury·k ratings (and n < k) are solved by the Woodbury
	// identity instead of a k×k system; 0 never.
	woodbury float64
	// cgWoodbury: the same for halves solved by CG (n < cgWoodbury·k).
	cgWoodbury float64
	// gram32: explicit rows with kp ≥ gram32 assemble their Gram matrix
	// in float32 (gramTiled32, 8 lanes), block by block, the blocks added
	// in float64; 0 never (always float64, gramTiled).
	gram32 int
	// fused: implicit CG products over a fixed table of at most fused
	// bytes take the fused kernel (sdotsAxpys); larger tables, and 0
	// always, the two passes by blocks, whose software prefetch of the
	// dot pass measured faster from memory (BenchmarkDotsAxpysIdx with
	// 160,000 rows). Both give the same results bit for bit.
	fused int
	// lazyInit: a cold Fit in the ratings' own order draws each item's
	// starting factors only when the first item half reads them (CG's
	// warm start), not for the rows it solves exactly (Cholesky,
	// Woodbury), which are most of ml-latest-small's movies; false draws
	// them all first, as als.Prepare. The model is the same bit for bit.
	lazyInit bool
	// order: a Fit whose larger factor table (at the augmented rank)
	// has at least order bytes trains in the degree order (order.go), on
	// a renumbered copy of the ratings; 0 never.
	order int
}

// defaultKernel holds thresholds measured with BenchmarkSolveRow on the
// 2-core AMD EPYC (Zen 4) build machine with the AVX2 kernels. Block sizes
// from 32 to 384 measured within 2% of each other at k' = 9, 65 and 129;
// choleskyAug overtakes choleskyGo between k' = 13 and 17.
//
// gram32 = 24: below it the float64 assembly is kept, so the tutorial's
// rank 8 stays Spark-exact; from it the float32 assembly, about twice
// the float64 one's speed (BenchmarkGramLower32), whose error the
// conformance suite and TestGram32Error bound.
//
// fused = 8 MiB: a quarter of the 32 MiB L3 cache; the fused kernel was
// 15-30% faster with the table in L2 (0.3 MB) and, for rows of 130 and
// 600 ratings, in L3 (4.6 MB; about even at 30), mixed at 15 MB and
// 10-30% slower from memory (82 MB).
//
// order = 8 MiB: from there the tables outgrow the share of the L3 cache
// a worker can count on, and renumbering by degree measured 8% less time
// per iteration at rank 64 on the ml-25m preset (bench/RESULTS.md); the
// renumbered copy of the ratings costs a few hundredths of that.
var defaultKernel = kernel{shortRow: 48, smallK: 14, block: 128, woodbury: 0.5, cgWoodbury: 0.2, gram32: 24, fused: 8 << 20, order: 8 << 20, lazyInit: true}

// workspace is one worker's scratch space, sized once per Fit. It is owned
// by a single goroutine.
//
// For a system of size kp the tiled path works on the augmented vector
// (y, r) of length kp+1, padded with zeros to ld = gramDim(kp), so that
// row kp of the Gram matrix of the augmented vectors is b = Σ r y.
type workspace struct {
	ld  int       // gramDim(kp): row stride of a, columns of the Gram matrix
	ldy int       // row stride of y, at least ld
	y   []float64 // block × ldy: gathered augmented vectors, row-major, zero past column kp
	a   []float64 // ld × ld: normal matrix in rows 0..kp-1 (lower triangle), b in row kp
	b   []float64 // a[kp·ld:][:kp]: right-hand side, then the solution
	v   []float64 // kp+1: one augmented vector (plain-Go path)

	// Implicit fits only (growImplicit): rotateRows's rows in (chunk ×
	// f32.TileStride(k), zero past column k; only when that stride is not
	// k) and out (chunk × k).
	rotIn, rotOut []float32
	// solveWoodbury's dot products (woodburyMax(k)), sum (k) and scaled
	// rows (woodburyMax(k) rounded up to 4, × k); and, with m that
	// rounded length, its m×m float32 Gram matrix and m row indices.
	wt32, acc32, wrows []float32
	wgram              []float32
	wids               []int32

	cg *cgScratch // als.CG fits only (growCG)

	// The float32 assembly's scratch (kernel.gram32), nil when unused:
	// y32 holds block × ldy32 gathered augmented vectors (zero past column
	// kp) and a32 the normal matrix as a does, with a row stride ld32 that
	// is a multiple of 8 (gramLower32's tile), b32 = a32[kp·ld32:][:kp].
	ld32, ldy32 int
	y32         []float32
	a32, b32    []float64

	dots []float32 // block: scores for the training error (rmse)
}

// growImplicit sizes ws's Woodbury scratch for rank k.
func (k *kernel) growImplicit(ws *workspace, kk int) {
	m := (k.woodburyMax(kk) + 3) &^ 3
	if len(ws.wrows) < kk*m {
		ws.wrows = make([]float32, kk*m)
	}
	if ld := f32.TileStride(kk); ld != kk && len(ws.rotIn) < chunk*ld {
		ws.rotIn = make([]float32, chunk*ld)
	}
	if len(ws.rotOut) < chunk*kk {
		ws.rotOut = make([]float32, chunk*kk)
	}
	if len(ws.wt32) < m {
		ws.wt32 = make([]float32, m)
	}
	if len(ws.wgram) < m*m {
		ws.wgram, ws.wids = make([]float32, m*m), make([]int32, m)
	}
	if len(ws.acc32) < kk {
		ws.acc32 = make([]float32, kk)
	}
}

// gramDim returns the padded size of the Gram matrix of augmented vectors
// of length kp+1: kp+1 rounded up to a multiple of 4, gramLower's tile.
func gramDim(kp int) int { return (kp + 1 + 3) &^ 3 }

// newWorkspace returns a workspace for systems of size kp and rows of at
// most maxN ratings.
func (k *kernel) newWorkspace(kp, maxN int) *workspace {
	nb := max(min(maxN, k.block), 1)
	ld := gramDim(kp)
	ldy := ld
	if ldy%16 == 0 {
		// A stride of a multiple of 128 bytes would put the block's
		// rows in few L1 sets.
		ldy += 4
	}
	a := make([]float64, ld*ld)
	ws := &workspace{
		ld:  ld,
		ldy: ldy,
		y:   make([]float64, nb*ldy),
		a:   a,
		b:   a[kp*ld : kp*ld+kp],
		v:   make([]float64, kp+1),
		// k.block may be 0 in tests; the training error needs room.
		dots: make([]float32, max(k.block, 64)),
	}
	if k.useGram32(kp) {
		ws.ld32 = (kp + 1 + 7) &^ 7
		ws.ldy32 = ws.ld32
		if ws.ldy32%32 == 0 {
			ws.ldy32 += 8 // as ldy: not a multiple of 128 bytes
		}
		ws.y32 = make([]float32, nb*ws.ldy32)
		ws.a32 = make([]float64, ws.ld32*ws.ld32)
		ws.b32 = ws.a32[kp*ws.ld32 : kp*ws.ld32+kp]
	}
	return ws
}

// gram32MinLambda is the least λ whose rows assemble in float32: the
// ridge λ·n on the diagonal is what keeps float32's relative error
// (about 1e-5 of the diagonal's sum over a block) from mattering; fits
// with a smaller λ, which ask for near-interpolation, assemble in
// float64.
const gram32MinLambda = 1e-3

// useGram32 reports whether systems of size kp assemble in float32.
func (k *kernel) useGram32(kp int) bool { return k.gram32 > 0 && kp >= k.gram32 }

// solveRow solves row's normal equations (A + λ·n·I) x = b and stores x
// (and the bias, with h.bias) in the row's slots of h.dst and h.dstBias.
// A row without ratings gets zeros. It returns false, leaving zeros, when
// the system is not positive definite (only possible with non-finite
// data). On return ws.b[:kp] holds the float64 solution. It allocates
// nothing.
func (k *kernel) solveRow(ws *workspace, h *half, row int) bool {
	if h.cg > 0 {
		return k.solveRowCG(ws, h, row)
	}
	if h.imp != nil {
		return k.solveImplicitRow(ws, h, row)
	}
	lo, hi := h.ptr[row], h.ptr[row+1]
	n := int(hi - lo)
	kp := h.kp
	x := h.dst[row*h.k : (row+1)*h.k]
	if n == 0 {
		k.store(x, h, row, nil)
		return true
	}
	a, ld, b := ws.a, ws.ld, ws.b
	f32 := ws.y32 != nil && h.lambda >= gram32MinLambda && n*kp >= k.shortRow
	switch {
	case n*kp < k.shortRow:
		gramGo(a, ld, ws.v, h, lo, hi)
	case f32:
		a, ld, b = ws.a32, ws.ld32, ws.b32
		k.gramTiled32(ws, h, lo, hi)
	default:
		k.gramTiled(ws, h, lo, hi)
	}
	reg := h.lambda * (float64(n) + h.offset)
	for j := 0; j < kp; j++ {
		a[j*ld+j] += reg
	}
	if !k.cholesky(a, ld, kp) {
		k.store(x, h, row, nil)
		return false
	}
	if f32 {
		copy(ws.b, b)
	}
	k.store(x, h, row, b)
	return true
}

// cholesky solves the n×n system in rows 0..n-1 of a (row stride ld,
// lower triangle) for the right-hand side in row n, leaving the solution
// there: by choleskyGo for n ≤ k.smallK, else by choleskyAug. It reports
// whether the matrix was positive definite.
func (k *kernel) cholesky(a []float64, ld, n int) bool {
	if n <= k.smallK {
		return choleskyGo(a, ld, a[n*ld:n*ld+n], n)
	}
	return choleskyAug(a, ld, n)
}

// store writes the solution sol (nil for zeros) into row's factor and bias.
func (*kernel) store(x []float32, h *half, row int, sol []float64) {
	if sol == nil {
		clear(x)
		if h.bias {
			h.dstBias[row] = 0
		}
		return
	}
	to32(x, sol)
	if h.bias {
		h.dstBias[row] = float32(sol[h.k])
	}
}

// gramTiled overwrites rows 0..kp of ws.a (stride ws.ld, lower triangle)
// with the Gram matrix Σ (y, r)(y, r)ᵀ of the augmented vectors over the
// ratings lo..hi-1: rows 0..kp-1 hold A = Σ y yᵀ and row kp holds
// b = Σ r y. It gathers at most k.block ratings at a time into ws.y, one
// augmented vector per row (y converted to float64 by gather, then r;
// zeros past column kp stay from newWorkspace), and accumulates each
// block's Gram matrix with gramLower.
func (k *kernel) gramTiled(ws *workspace, h *half, lo, hi int64) {
	kp, kk, ldy := h.kp, h.k, ws.ldy
	for s := lo; s < hi; s += int64(k.block) {
		nb := int(min(hi-s, int64(k.block)))
		y := ws.y[:nb*ldy]
		gather(y, ldy, h.fixed, kk, h.idx[s:s+int64(nb)])
		for l := 0; l < nb; l++ {
			row := y[l*ldy : l*ldy+kp+1]
			if h.bias {
				row[kk] = 1
			}
			row[kp] = h.target(s + int64(l))
		}
		gramLower(ws.a, ws.ld, y, ldy, nb, ws.ld, s > lo)
	}
}

// gramTiled32 is gramTiled with each block's Gram matrix summed in
// float32 (gramLower32: 8 lanes) and accumulated into ws.a32 in float64, so
// that float32 rounding reaches the sum over one block of k.block ratings
// only: each element of A and b is within about (block+2)·2⁻²⁴·Σ|terms|
// of the float64 assembly's, far below the ridge λ·n that every row adds
// to its diagonal (TestGram32Error measures the effect on solutions). The
// factor rows are copied as they are (float32 already); the bias column
// and the target r follow.
func (k *kernel) gramTiled32(ws *workspace, h *half, lo, hi int64) {
	kp, kk, ldy := h.kp, h.k, ws.ldy32
	for s := lo; s < hi; s += int64(k.block) {
		nb := int(min(hi-s, int64(k.block)))
		y := ws.y32[:nb*ldy]
		gather32(y, ldy, h.fixed, kk, h.idx[s:s+int64(nb)])
		for l := 0; l < nb; l++ {
			row := y[l*ldy : l*ldy+kp+1]
			if h.bias {
				row[kk] = 1
			}
			row[kp] = float32(h.target(s + int64(l)))
		}
		gramLower32(ws.a32, ws.ld32, y, ldy, nb, ws.ld32, s > lo)
	}
}

// choleskyBLAS is the gonum (Dpotf2) Cholesky that choleskyAug replaced,
// kept as BenchmarkCholesky's baseline. It solves A x = b in place for the symmetric positive definite
// n×n row-major A (row stride lda) whose lower triangle is set, leaving L
// (A = L·Lᵀ) in a's lower triangle and x in b; b must not overlap rows
// 0..n-1 of a. It reports whether A was positive definite. It allocates
// nothing.
func choleskyBLAS(a []float64, lda int, b []float64, n int) bool {
	// Dpotf2 is the unblocked LAPACK Cholesky (Dpotrf itself calls it for
	// n ≤ 64). Above 64 the blocked Dpotrf measured 1.5–2× slower at every
	// size up to 257, and for n > 256 its Dgemm starts goroutines and
	// allocates.
	if !lp.Dpotf2(blas.Lower, n, a, lda) {
		return false
	}
	// gonum's Dtrsv is plain Go; these two loops run on the assembly Ddot
	// and Daxpy instead.
	// L z = b.
	for i := 0; i < n; i++ {
		b[i] = (b[i] - bl.Ddot(i, a[i*lda:i*lda+i], 1, b[:i], 1)) / a[i*lda+i]
	}
	// Lᵀ x = z, by rows of L.
	for i := n - 1; i >= 0; i-- {
		b[i] /= a[i*lda+i]
		bl.Daxpy(i, -b[i], a[i*lda:i*lda+i], 1, b[:i], 1)
	}
	return true
}
