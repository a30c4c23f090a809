package cpu

import (
	"gonum.org/v1/gonum/blas"
	blasgonum "gonum.org/v1/gonum/blas/gonum"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"
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
	lambda float64 // ALS-WR ridge weight; row u's diagonal gets lambda·n_u
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

// kernel selects how a row is solved. The zero thresholds force the BLAS
// paths; math.MaxInt forces the plain-Go paths (tests use both).
type kernel struct {
	// shortRow: rows with n·kp < shortRow are assembled with plain-Go
	// rank-1 updates instead of gather + Dgemv.
	shortRow int
	// smallK: systems with kp ≤ smallK are factorised with the plain-Go
	// Cholesky instead of Dpotf2.
	smallK int
	// block is the most ratings gathered at once; longer rows are
	// accumulated block by block, which bounds the workspace and keeps
	// the gathered block in cache.
	block int
}

// defaultKernel holds thresholds measured with BenchmarkSolveRow on the
// 2-core AMD EPYC build machine (gonum's assembly is SSE2 only). The block
// size hardly matters between 128 and 768.
var defaultKernel = kernel{shortRow: 48, smallK: 20, block: 384}

// workspace is one worker's scratch space, sized once per Fit. It is owned
// by a single goroutine.
type workspace struct {
	yt []float64 // kp × leadingDim(block): gathered fixed-side vectors, transposed
	r  []float64 // block: targets of the gathered ratings
	a  []float64 // kp × kp: normal matrix, lower triangle used
	b  []float64 // kp: right-hand side, then the solution
	y  []float64 // kp: one gathered vector (plain-Go path)
}

// newWorkspace returns a workspace for systems of size kp and rows of at
// most maxN ratings.
func (k *kernel) newWorkspace(kp, maxN int) *workspace {
	nb := max(min(maxN, k.block), 1)
	return &workspace{
		yt: make([]float64, kp*leadingDim(nb)),
		r:  make([]float64, nb),
		a:  make([]float64, kp*kp),
		b:  make([]float64, kp),
		y:  make([]float64, kp),
	}
}

// solveRow solves row's normal equations (A + λ·n·I) x = b and stores x
// (and the bias, with h.bias) in the row's slots of h.dst and h.dstBias.
// A row without ratings gets zeros. It returns false, leaving zeros, when
// the system is not positive definite (only possible with non-finite
// data). On return ws.b[:kp] holds the float64 solution. It allocates
// nothing.
func (k *kernel) solveRow(ws *workspace, h *half, row int) bool {
	lo, hi := h.ptr[row], h.ptr[row+1]
	n := int(hi - lo)
	kp := h.kp
	x := h.dst[row*h.k : (row+1)*h.k]
	if n == 0 {
		k.store(x, h, row, nil)
		return true
	}
	a, b := ws.a[:kp*kp], ws.b[:kp]
	if n*kp < k.shortRow {
		gramGo(a, b, ws.y, h, lo, hi)
	} else {
		k.gramBLAS(a, b, ws, h, lo, hi)
	}
	reg := h.lambda * float64(n)
	for j := 0; j < kp; j++ {
		a[j*kp+j] += reg
	}
	var ok bool
	if kp <= k.smallK {
		ok = choleskyGo(a, b, kp)
	} else {
		ok = choleskyBLAS(a, b, kp)
	}
	if !ok {
		k.store(x, h, row, nil)
		return false
	}
	k.store(x, h, row, b)
	return true
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
	for c := range x {
		x[c] = float32(sol[c])
	}
	if h.bias {
		h.dstBias[row] = float32(sol[h.k])
	}
}

// gramBLAS overwrites the lower triangle of a (kp×kp, row-major) with
// Σ y yᵀ and b with Σ r y over the ratings lo..hi-1, gathering at most
// k.block ratings at a time into ws.yt as a kp×nb row-major matrix Yt
// (row stride leadingDim(nb)) whose row c holds coordinate c of each
// gathered vector. Row j of the lower triangle is then Yt[0:j+1]·Yt[j],
// one Dgemv.
func (k *kernel) gramBLAS(a, b []float64, ws *workspace, h *half, lo, hi int64) {
	kp, kk := h.kp, h.k
	beta := 0.0 // the first block overwrites a and b
	for s := lo; s < hi; s += int64(k.block) {
		nb := int(min(hi-s, int64(k.block)))
		ld := leadingDim(nb)
		yt, r := ws.yt[:kp*ld], ws.r[:nb]
		idx := h.idx[s : s+int64(nb)]
		l := 0
		// Four ratings at a time: one bounds check per four stores, and
		// each row of yt is written 32 bytes at a time.
		for ; l+4 <= nb; l += 4 {
			y0 := h.fixed[int(idx[l])*kk : int(idx[l])*kk+kk]
			y1 := h.fixed[int(idx[l+1])*kk : int(idx[l+1])*kk+kk]
			y2 := h.fixed[int(idx[l+2])*kk : int(idx[l+2])*kk+kk]
			y3 := h.fixed[int(idx[l+3])*kk : int(idx[l+3])*kk+kk]
			for c, v := range y0 {
				d := yt[c*ld+l : c*ld+l+4]
				d[0], d[1], d[2], d[3] = float64(v), float64(y1[c]), float64(y2[c]), float64(y3[c])
			}
		}
		for ; l < nb; l++ {
			for c, v := range h.fixed[int(idx[l])*kk : int(idx[l])*kk+kk] {
				yt[c*ld+l] = float64(v)
			}
		}
		for l := range r {
			r[l] = h.target(s + int64(l))
		}
		if h.bias {
			ones := yt[kk*ld : kk*ld+nb]
			for l := range ones {
				ones[l] = 1
			}
		}
		for j := 0; j < kp; j++ {
			bl.Dgemv(blas.NoTrans, j+1, nb, 1, yt, ld, yt[j*ld:j*ld+nb], 1, beta, a[j*kp:j*kp+j+1], 1)
		}
		bl.Dgemv(blas.NoTrans, kp, nb, 1, yt, ld, r, 1, beta, b, 1)
		beta = 1
	}
}

// leadingDim returns the row stride of a gathered block of nb ratings: nb
// rounded up to whole 64-byte cache lines, made an odd number of lines so
// that the kp rows of the block fall in different cache sets. (With a
// stride of 384 float64s, 65 rows shared 4 of the 64 L1 sets.)
func leadingDim(nb int) int {
	ld := (nb + 7) &^ 7
	if ld/8%2 == 0 {
		ld += 8
	}
	return ld
}

// choleskyBLAS solves A x = b in place for the symmetric positive definite
// n×n row-major A whose lower triangle is set, leaving L (A = L·Lᵀ) in a's
// lower triangle and x in b. It reports whether A was positive definite.
// It allocates nothing.
func choleskyBLAS(a, b []float64, n int) bool {
	// Dpotf2 is the unblocked LAPACK Cholesky (Dpotrf itself calls it for
	// n ≤ 64). Above 64 the blocked Dpotrf measured 1.5–2× slower at every
	// size up to 257, and for n > 256 its Dgemm starts goroutines and
	// allocates.
	if !lp.Dpotf2(blas.Lower, n, a, n) {
		return false
	}
	// gonum's Dtrsv is plain Go; these two loops run on the assembly Ddot
	// and Daxpy instead.
	// L z = b.
	for i := 0; i < n; i++ {
		b[i] = (b[i] - bl.Ddot(i, a[i*n:i*n+i], 1, b[:i], 1)) / a[i*n+i]
	}
	// Lᵀ x = z, by rows of L.
	for i := n - 1; i >= 0; i-- {
		b[i] /= a[i*n+i]
		bl.Daxpy(i, -b[i], a[i*n:i*n+i], 1, b[:i], 1)
	}
	return true
}
