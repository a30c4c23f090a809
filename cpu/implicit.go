package cpu

import (
	"math"

	"movierec/als"
	"movierec/internal/f32"
)

// This file holds the implicit objective's half-iteration (see als's
// implicit.go): each row solves
//
//	(w₀·G + Σ (c − w₀) y yᵀ + reg·I) x = Σ c y
//
// with G the fixed side's Gram matrix, formed once per half (fixedGram).
//
// Two bases. Most rows of MovieLens-like data are short (most movies
// have a handful of ratings), and for them a k×k system per row is
// wasted work: it is a fixed, shared matrix plus a correction of rank n.
// So a half whose short rows would save more than it costs is solved in
// the eigenbasis of G (rotate): G = Q·Λ·Qᵀ is decomposed once (LAPACK
// Dsyev on the k×k matrix), the fixed factors are rotated in place,
// ỹ = Qᵀy (one k×k product per fixed row), and the half is solved for
// x̃ = Qᵀx. There w₀·G + reg·I is the diagonal D = w₀Λ + reg, and the
// scores x̃·ỹ = x·y do not change, so the model stays consistent with
// both sides in the rotated basis. Fit accumulates the rotations and
// turns both sides back at the end (unrotate), so the model it returns
// is in the original basis: the rotation is exact arithmetic, and costs
// only the float32 rounding of the rotated factors.
//
// In the rotated basis a row of n < k ratings, all of them with a
// positive weight w = c − w₀, is solved by the Woodbury identity
// (solveWoodbury): with U the n×k matrix of rows √w·ỹ and
// V = U·D^(−½),
//
//	x̃ = D^(−½)·Vᵀ·(I + V·Vᵀ)⁻¹·(c/√w)
//
// an n×n Cholesky instead of a k×k one: O(n²k + n³) instead of
// O(nk² + k³). Every other row (long, or with a weight ≤ 0, for which
// the identity would need W⁻¹) assembles its k×k system as before,
// starting from D instead of a copy of w₀G. A half that is not rotated
// (few short rows against many fixed rows) copies w₀G into each row's
// system.
//
// The row's corrections go through the same gather and SYRK kernel as
// explicit rows: each gathered vector is scaled by √(c − w₀) and its
// augmented coordinate set to c/√(c − w₀), so the Gram matrix of the
// augmented vectors adds Σ (c − w₀) y yᵀ to A and leaves Σ c y in row
// kp. A row with a weight c − w₀ ≤ 0 (a confidence at or below the
// unobserved weight) takes the plain-Go path, which weighs each rank-1
// update directly.

// gramStripes is the number of stripes of fixed rows whose Gram matrices
// are formed in parallel and then summed in stripe order. It is a constant,
// not the worker count, so the sum (and the model) does not depend on the
// number of workers.
const gramStripes = 16

// gramStripeRows is the least number of fixed rows per stripe (but one).
const gramStripeRows = 256

// implicitHalf is the implicit part of a half: nil for explicit fits.
type implicitHalf struct {
	p     als.Params
	fixed int       // rows of the fixed side (N in the ridge)
	ld    int       // row stride of gram: gramDim(k)
	gram  []float64 // ld×ld: w₀·G in rows 0..k-1 (lower triangle), zero elsewhere; set by fixedGram

	// short is the number of rows that rotated would solve by Woodbury:
	// with 0 < n < k.woodburyMax(k) ratings, all with weights c − w₀ > 0.
	// saving estimates the flops Woodbury saves on them. Both are set
	// once per Fit by countShort.
	short    int
	saving   float64
	positive []bool  // per row: every weight c − w₀ > 0
	lens     []int   // lens[n]: rows of n ratings that short counts (n < woodburyMax(k))
	order    []int32 // the rows by length, longest first (stable), for runHalf

	// rotated is set by rotate for the current half: the fixed side has
	// been turned into G's eigenbasis and diag holds w₀Λ (clamped at 0),
	// the fixed side's w₀G in that basis.
	rotated bool
	diag    []float64 // k
	dis     []float64 // woodburyMax(k)×k: row n holds D^(−½) for rows of n ratings
	dis32   []float32 // dis in float32

	// als.CG only (cgShared): w₀G as a full k×k float32 matrix, and the
	// indices 0..k-1 of its rows.
	g32  []float32
	iota []int32
	// q is the rotation of the current half when rotated (k×k, the
	// eigenvectors by columns), and q32 a float32 copy: CG turns each
	// row's previous factors x into the new basis as x·q before starting
	// from them.
	q   []float64
	q32 []float32
}

// implicitScratch is the per-Fit scratch of fixedGram and rotate.
type implicitScratch struct {
	ids     []int32     // 0..max rows-1
	stripes [][]float64 // gramStripes buffers of ld×ld

	k       int
	q       []float64 // k×k: the eigenvectors of the current half's G, by columns
	rot     []float64 // k×k: R, the product of the rotations so far (stored = original·R), but for qacc's when pending
	qacc    []float64 // k×k: the last rotation, when pending (accumulate adds it to rot)
	tmp     []float64 // k×k
	mt      []float32 // k × f32.TileStride(k): rotateRows's matrix, by columns
	work    []float64 // syev's workspace
	zt      []float64 // k×k: syev's scratch
	turns   int       // rotations since rot was last the identity
	pending bool      // qacc is not yet in rot
}

func newImplicitScratch(ld, rows, k int) *implicitScratch {
	s := &implicitScratch{ids: make([]int32, rows), stripes: make([][]float64, gramStripes), k: k}
	for j := range s.ids {
		s.ids[j] = int32(j)
	}
	for j := range s.stripes {
		s.stripes[j] = make([]float64, ld*ld)
	}
	s.q = make([]float64, k*k)
	s.rot = make([]float64, k*k)
	s.tmp = make([]float64, k*k)
	s.qacc = make([]float64, k*k)
	s.mt = make([]float32, k*f32.TileStride(k))
	for j := 0; j < k; j++ {
		s.rot[j*k+j] = 1
	}
	s.work = make([]float64, syevWork(k))
	s.zt = make([]float64, k*k)
	return s
}

// woodburyMax returns the row length from which rank-k rows are
// assembled as k×k systems in a rotated half rather than solved by
// Woodbury: at most k (the n×n system must be the smaller), and 0 (never
// Woodbury) when k.woodbury is 0.
func (k *kernel) woodburyMax(kk int) int {
	return min(kk, int(k.woodbury*float64(kk)))
}

// countShort sets h.imp.short, saving, positive, lens and order. saving
// counts Woodbury's multiply-adds against a k×k factorisation for the
// short rows. (Under CG a rotation also makes every row's w₀G·v
// diagonal; counting that too made the user half of the ml-25m preset
// rotate, which measured about 18% more CPU time: its many rows of 16-24
// ratings then took the Woodbury solve, slower in practice than CG steps
// at that length.)
func (k *kernel) countShort(h *half) {
	ih := h.imp
	kk := float64(h.k)
	wmax := k.woodburyMax(h.k)
	ih.short, ih.saving = 0, 0
	ih.positive = make([]bool, h.rows())
	ih.lens = make([]int, max(wmax, 1))
	for row := range ih.positive {
		lo, hi := h.ptr[row], h.ptr[row+1]
		n := int(hi - lo)
		ih.positive[row] = positiveWeights(&ih.p, h.val[lo:hi])
		if n == 0 || n >= wmax || !ih.positive[row] {
			continue
		}
		ih.short++
		ih.lens[n]++
		fn := float64(n)
		ih.saving += kk*kk*kk/3 + kk*kk - (fn*fn*kk + fn*fn*fn/3 + 3*fn*kk)
	}
	// The rows by length, longest first (stable): a counting sort.
	maxN := 0
	for row := range ih.positive {
		maxN = max(maxN, int(h.ptr[row+1]-h.ptr[row]))
	}
	start := make([]int, maxN+2) // start[maxN-n+1]: rows longer than n
	for row := range ih.positive {
		start[maxN-int(h.ptr[row+1]-h.ptr[row])+1]++
	}
	for j := 1; j < len(start); j++ {
		start[j] += start[j-1]
	}
	ih.order = make([]int32, len(ih.positive))
	for row := range ih.positive {
		j := maxN - int(h.ptr[row+1]-h.ptr[row])
		ih.order[start[j]] = int32(row)
		start[j]++
	}
}

// positiveWeights reports whether every rating in vals has a weight
// c − w₀ > 0.
func positiveWeights(p *als.Params, vals []float32) bool {
	for _, v := range vals {
		if !(confidence(p, v) > p.Unobserved) {
			return false
		}
	}
	return true
}

// rotate decides whether h is solved in the eigenbasis of its fixed
// side's Gram matrix (h.imp.gram, set by fixedGram) and, if so,
// decomposes it (decompose) and turns the half into that basis
// (applyRotation). It rotates when wantRotate says so and the
// decomposition succeeds.
func (k *kernel) rotate(t *team, h *half, sc *implicitScratch) {
	h.imp.rotated = false
	if k.wantRotate(h) {
		k.rotateHalf(t, h, sc)
	}
}

// wantRotate reports whether the flops h's short rows save in the rotated
// basis exceed those of rotating the fixed side (2k² per row) and of the
// decomposition (counted as 30k³, set when it was gonum's plain-Go Dsyev;
// syev now takes about a third of that time, so the count is
// conservative: not re-measured). It depends only on the ratings and the
// parameters (countShort), so it is the same for every iteration of a
// Fit.
func (k *kernel) wantRotate(h *half) bool {
	ih := h.imp
	fk := float64(h.k)
	rows := len(h.fixed) / h.k
	return ih.short > 0 && ih.saving > 2*fk*fk*float64(rows)+30*fk*fk*fk
}

// rotateHalf is rotate without the decision.
func (k *kernel) rotateHalf(t *team, h *half, sc *implicitScratch) {
	h.imp.rotated = false
	if k.decompose(h, sc) {
		k.applyRotation(t, h, sc)
	}
}

// decompose sets sc.q to the eigenvectors of h.imp.gram (by columns) and
// h.imp.diag to its eigenvalues, clamped at 0, and reports whether the
// decomposition succeeded. It is serial (syev) and reads nothing but the
// Gram matrix, so the caller may run other work that only reads the
// factors beside it (Fit computes the previous iteration's training error
// there).
func (k *kernel) decompose(h *half, sc *implicitScratch) bool {
	ih := h.imp
	kk := h.k
	q := sc.q
	for i := 0; i < kk; i++ {
		copy(q[i*kk:i*kk+i+1], ih.gram[i*ih.ld:i*ih.ld+i+1])
	}
	if !syev(kk, q, ih.diag, sc.work, sc.zt) {
		return false
	}
	for j, v := range ih.diag {
		// Rounding can leave G's smallest eigenvalues slightly
		// negative; G is positive semi-definite.
		ih.diag[j] = max(v, 0)
	}
	return true
}

// applyRotation turns h into the eigenbasis decompose found: it rotates
// h.fixed in place, accumulates the rotation in sc.rot, and sets
// h.imp.rotated, q, q32 and dis.
func (k *kernel) applyRotation(t *team, h *half, sc *implicitScratch) {
	ih := h.imp
	kk := h.k
	q := sc.q
	rotateRows(t, h.fixed, kk, q, sc)
	// R ← R·Q waits (accumulate): Fit does it beside the next
	// decomposition, when the cores would wait for it.
	sc.accumulate(t)
	copy(sc.qacc, q)
	sc.pending = true
	sc.turns++
	ih.rotated = true
	ih.q = q
	ih.q32 = grow32(ih.q32, kk*kk)
	for i, v := range q {
		ih.q32[i] = float32(v)
	}
	if len(ih.iota) != kk {
		ih.iota = make([]int32, kk)
		for j := range ih.iota {
			ih.iota[j] = int32(j)
		}
	}
	// D^(−½) = (w₀Λ + reg(n))^(−½) for every n that takes Woodbury.
	wmax := k.woodburyMax(kk)
	ih.dis = grow(ih.dis, wmax*kk)
	ih.dis32 = grow32(ih.dis32, wmax*kk)
	for n := 1; n < wmax; n++ {
		reg := ih.p.RowReg(n, ih.fixed)
		dn, d32 := ih.dis[n*kk:n*kk+kk], ih.dis32[n*kk:n*kk+kk]
		for l, d := range ih.diag {
			dn[l] = 1 / math.Sqrt(d+reg)
			d32[l] = float32(dn[l])
		}
	}
}

// grow32 is grow for float32.
func grow32(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// grow returns s resliced to n, reallocated when too short.
func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// accumulate sets R ← R·Q for the rotation applyRotation left pending
// (Q in qacc), rows of R in blocks of 16 on t's workers, if there is one.
// It writes rot and tmp only, so it may run beside decompose.
func (sc *implicitScratch) accumulate(t *team) {
	if !sc.pending {
		return
	}
	kk, q := sc.k, sc.qacc
	t.parallel((kk+15)/16, func(_, c int) {
		for i := c * 16; i < min(c*16+16, kk); i++ {
			ti := sc.tmp[i*kk : i*kk+kk]
			clear(ti)
			for j, r := range sc.rot[i*kk : i*kk+kk] {
				axpyArch(r, q[j*kk:j*kk+kk], ti)
			}
		}
	})
	copy(sc.rot, sc.tmp)
	sc.pending = false
}

// unrotate turns both factor tables of a fit back into the original
// basis (stored·Rᵀ) and resets R to the identity.
func unrotate(t *team, sc *implicitScratch, factors ...[]float32) {
	if sc.turns == 0 {
		return
	}
	sc.accumulate(t)
	kk := sc.k
	for i := 0; i < kk; i++ {
		for j := 0; j < kk; j++ {
			sc.tmp[i*kk+j] = sc.rot[j*kk+i]
		}
	}
	for _, f := range factors {
		rotateRows(t, f, kk, sc.tmp, sc)
	}
	clear(sc.rot)
	for j := 0; j < kk; j++ {
		sc.rot[j*kk+j] = 1
	}
	sc.turns = 0
}

// rotateRows sets every row f of the row-major rank-k table rows to f·m,
// m k×k row-major: f's new coordinates are its dot products with m's
// columns, which the float32 DotsTile kernel forms chunk rows at a time
// on the workers (each row on its own, so the result does not depend on
// their number). sc.mt holds m's columns as float32 rows.
//
// (It summed in float64, one axpy per coordinate: 20 ms of a 0.4 s fit
// on ml-latest-small at rank 128 for the final unrotate alone. The
// float32 sums add a rounding of about √k·2⁻²⁴ relative per rotation, the
// order of the rounding of the stored factors.)
func rotateRows(tm *team, rows []float32, k int, m []float64, sc *implicitScratch) {
	ld := f32.TileStride(k)
	mt := sc.mt[:k*ld]
	for i := 0; i < k; i++ {
		for j, v := range m[i*k : i*k+k] {
			mt[j*ld+i] = float32(v)
		}
	}
	n := len(rows) / k
	tm.parallel((n+chunk-1)/chunk, func(w, c int) {
		ws := tm.ws[w]
		lo, hi := c*chunk, min((c+1)*chunk, n)
		in := rows[lo*k : hi*k]
		if ld != k {
			// DotsTile reads rows of stride ld, zero past column k.
			p := ws.rotIn[:(hi-lo)*ld]
			for r := 0; r < hi-lo; r++ {
				copy(p[r*ld:r*ld+k], in[r*k:r*k+k])
			}
			in = p
		}
		out := ws.rotOut[:(hi-lo)*k]
		f32.DotsTile(out, k, mt, k, in, hi-lo, k)
		copy(rows[lo*k:hi*k], out)
	})
}

// fixedGram sets h.imp.gram to w₀ times the Gram matrix of h.fixed, in
// float64: gramStripes stripes of rows are gathered block by block and
// accumulated with the SYRK kernel on the workers, then summed in stripe
// order. From rank k.gram32 on (when the workspaces have the float32
// scratch) each block of rows is summed in float32 by gramLower32 and
// added in float64, as the explicit assembly does: about twice the speed
// of the float64 kernel.
func (k *kernel) fixedGram(t *team, h *half, sc *implicitScratch) {
	ih := h.imp
	ld, kk := ih.ld, h.k
	rows := len(h.fixed) / kk
	// Stripes of at least gramStripeRows rows (the count depends on the
	// rows only, so the sum does not depend on the workers): 16 stripes
	// of ml-latest-small's 610 users cost more in clearing and summing
	// 16 k×k matrices than the products they split.
	nst := max(1, min(gramStripes, rows/gramStripeRows))
	per := (rows + nst - 1) / nst
	m32 := (kk + 7) &^ 7
	t.parallel(nst, func(w, c int) {
		g := sc.stripes[c]
		clear(g)
		ws := t.ws[w]
		if ws.y32 != nil && m32 <= ld && ws.ldy32 >= m32 {
			y, ldy := ws.y32, ws.ldy32
			nb := len(y) / ldy
			for lo := c * per; lo < min((c+1)*per, rows); lo += nb {
				hi := min(lo+nb, (c+1)*per, rows)
				gather32(y, ldy, h.fixed, kk, sc.ids[lo:hi])
				for l := 0; l < hi-lo; l++ {
					clear(y[l*ldy+kk : l*ldy+m32])
				}
				gramLower32(g, ld, y, ldy, hi-lo, m32, true)
			}
			return
		}
		y, ldy := ws.y, ws.ldy
		nb := len(y) / ldy
		for lo := c * per; lo < min((c+1)*per, rows); lo += nb {
			hi := min(lo+nb, (c+1)*per, rows)
			gather(y, ldy, h.fixed, kk, sc.ids[lo:hi])
			for l := 0; l < hi-lo; l++ {
				clear(y[l*ldy+kk : l*ldy+ld])
			}
			gramLower(g, ld, y, ldy, hi-lo, ld, true)
		}
	})
	// The stripes' sum, times w₀, in stripe order for every element, by
	// rows on the workers (it ran serially on one core: 2.4% of the
	// ranking fit's CPU profile on ml-latest-small at k = 128, and the
	// other core idle meanwhile). Each element is ((s₀ + s₁) + …)·w₀, as
	// when the stripes were added into a cleared g and then scaled.
	g := ih.gram
	clear(g)
	w0 := ih.p.Unobserved
	const rowsPer = 16
	t.parallel((kk+rowsPer-1)/rowsPer, func(_, c int) {
		for i := c * rowsPer; i < min((c+1)*rowsPer, kk); i++ {
			gi := g[i*ld : i*ld+i+1]
			copy(gi, sc.stripes[0][i*ld:i*ld+i+1])
			for _, s := range sc.stripes[1:nst] {
				for j, v := range s[i*ld : i*ld+i+1] {
					gi[j] += v
				}
			}
			for j := range gi {
				gi[j] *= w0
			}
		}
	})
}

// solveImplicitRow is solveRow for the implicit objective. It allocates
// nothing.
func (k *kernel) solveImplicitRow(ws *workspace, h *half, row int) bool {
	lo, hi := h.ptr[row], h.ptr[row+1]
	n := int(hi - lo)
	kk := h.k
	x := h.dst[row*kk : (row+1)*kk]
	if n == 0 {
		clear(x)
		return true
	}
	ih := h.imp
	positive := ih.positive[row]
	if ih.rotated && positive && n < k.woodburyMax(kk) {
		return k.solveWoodbury(ws, h, lo, hi, x)
	}
	reg := ih.p.RowReg(n, ih.fixed)
	a, ld, b := ws.a, ws.ld, ws.b
	// A = w₀G (the lower triangle and its diagonal 4×4 blocks, which
	// gramLower accumulates into), b = 0.
	if ih.rotated {
		for i := 0; i < ld; i++ {
			clear(a[i*ld : i*ld+min(i&^3+4, ld)])
		}
		for j, d := range ih.diag {
			a[j*ld+j] = d
		}
	} else {
		for i := 0; i < ld; i++ {
			e := min(i&^3+4, ld)
			copy(a[i*ld:i*ld+e], ih.gram[i*ld:i*ld+e])
		}
	}
	if positive && n*kk >= k.shortRow {
		k.implicitTiled(ws, h, lo, hi)
	} else {
		implicitGo(a, ld, b, ws.v, h, lo, hi)
	}
	for j := 0; j < kk; j++ {
		a[j*ld+j] += reg
	}
	if !k.cholesky(a, ld, kk) {
		clear(x)
		return false
	}
	for c := range x {
		x[c] = float32(b[c])
	}
	return true
}

// solveWoodbury solves the row lo..hi-1 (n < k ratings, all weights
// w = c − w₀ positive) of a rotated half, whose system is
// D + Uᵀ·U with D = h.imp.diag + reg and U the n×k rows √w·ỹ, by the
// Woodbury identity (see the top of the file). With T the row's fixed
// rows scaled by D^(−½) (float32, k multiplications a rating into
// ws.wrows), V's rows are √w_j·T_j, so S = I + V·Vᵀ takes the lower
// triangle of T's Gram matrix (f32.GramIdx's tiles from woodburyTiles
// ratings, else a DotsIdx pass per row), S·z = c/√w is an n×n float64
// Cholesky, and x̃ = D^(−½)·Σ z_j·√w_j·T_j one float32 axpy pass (saxpys)
// and a scaling. It allocates nothing.
//
// (It used float64 rows and n(n+1)/2 float64 dot products, each its own
// call: per row at k = 128, n = 10, 5.3 µs against 1.8 µs.
// BenchmarkSolveImplicitRow. Per-length tables of the whole fixed side
// scaled by D^(−½), rebuilt every half, saved the scaling per rating but
// cost more than it: 110 against 102 ms for the ranking fit on
// ml-latest-small, once the scaling was AVX2.)
func (k *kernel) solveWoodbury(ws *workspace, h *half, lo, hi int64, x []float32) bool {
	ih := h.imp
	kk := h.k
	n := int(hi - lo)
	d := ih.dis32[n*kk : n*kk+kk]
	src, ids := ws.wrows[:n*kk], ih.iota[:n]
	for j, it := range h.idx[lo:hi] {
		f32.Mul(src[j*kk:j*kk+kk], h.fixed[int(it)*kk:int(it)*kk+kk], d)
	}
	dis := ih.dis[n*kk : n*kk+kk]
	lds := gramDim(n) // ≥ n+1: S in rows 0..n-1, the right-hand side in row n
	a := ws.a
	rhs := a[n*lds : n*lds+n]
	sw := ws.v[:n]
	t := ws.wt32[:n]
	w0 := ih.p.Unobserved
	for j, r := range h.val[lo:hi] {
		c := confidence(&ih.p, r)
		sw[j] = math.Sqrt(c - w0)
		rhs[j] = c / sw[j]
	}
	if n < woodburyTiles {
		for j, it := range ids {
			sdots(t[:j+1], src, kk, ids[:j+1], src[int(it)*kk:int(it)*kk+kk])
			sj := a[j*lds : j*lds+j+1]
			for i, d := range t[:j+1] {
				sj[i] = sw[i] * sw[j] * float64(d)
			}
			sj[j]++
		}
	} else {
		// V·Vᵀ's triangle by GramIdx's tiles, on the rows padded to a
		// multiple of 4 with copies of the first.
		n4 := (n + 3) &^ 3
		pid := ws.wids[:n4]
		copy(pid, ids)
		for j := n; j < n4; j++ {
			pid[j] = ids[0]
		}
		g := ws.wgram[:n4*n4]
		f32.GramIdxUnchecked(g, n4, src, kk, pid)
		for j := range n {
			sj := a[j*lds : j*lds+j+1]
			for i, d := range g[j*n4 : j*n4+j+1] {
				sj[i] = sw[i] * sw[j] * float64(d)
			}
			sj[j]++
		}
	}
	if !k.cholesky(a, lds, n) {
		clear(x)
		return false
	}
	for j, z := range rhs {
		t[j] = float32(z * sw[j])
	}
	acc := ws.acc32[:kk]
	clear(acc)
	saxpys(acc, src, kk, ids, t)
	scaleTo32(x, acc, dis)
	return true
}

// woodburyTiles is the least row length whose Woodbury solve forms V·Vᵀ
// with f32.GramIdx (2×4 tiles of dot products on AVX2) rather than a
// DotsIdx pass per row: at k = 128, 46 against 72 ns for n = 4, 841
// against 1,292 ns for n = 24 (BenchmarkGramIdx); shorter rows would
// compute a tile of eight products for fewer than six.
const woodburyTiles = 4

// implicitTiled adds Σ (c − w₀) y yᵀ to rows 0..k-1 of ws.a and Σ c y to
// row k over the ratings lo..hi-1, all of whose weights c − w₀ are
// positive, by gathering scaled augmented vectors (√w·y, c/√w) and
// accumulating their Gram matrix with gramLower.
func (k *kernel) implicitTiled(ws *workspace, h *half, lo, hi int64) {
	kk, ldy := h.k, ws.ldy
	p := &h.imp.p
	w0 := p.Unobserved
	for s := lo; s < hi; s += int64(k.block) {
		nb := int(min(hi-s, int64(k.block)))
		y := ws.y[:nb*ldy]
		gather(y, ldy, h.fixed, kk, h.idx[s:s+int64(nb)])
		for l := 0; l < nb; l++ {
			c := confidence(p, h.val[s+int64(l)])
			sw := math.Sqrt(c - w0)
			row := y[l*ldy : l*ldy+kk+1]
			for j := range row[:kk] {
				row[j] *= sw
			}
			row[kk] = c / sw
		}
		gramLower(ws.a, ws.ld, y, ldy, nb, ws.ld, true)
	}
}

// implicitGo adds Σ (c − w₀) y yᵀ to the lower triangle of rows 0..k-1 of
// a and sets b = Σ c y over the ratings lo..hi-1 by weighted rank-1
// updates; v is scratch of length k.
func implicitGo(a []float64, lda int, b, v []float64, h *half, lo, hi int64) {
	kk := h.k
	p := &h.imp.p
	clear(b[:kk])
	v = v[:kk]
	for q := lo; q < hi; q++ {
		it := int(h.idx[q])
		for c, f := range h.fixed[it*kk : it*kk+kk] {
			v[c] = float64(f)
		}
		c := confidence(p, h.val[q])
		w := c - p.Unobserved
		for j, vj := range v {
			row := a[j*lda : j*lda+j+1]
			wv := w * vj
			for s, vs := range v[:j+1] {
				row[s] += wv * vs
			}
			b[j] += c * vj
		}
	}
}

// confidence is p.Confidence(r), max(1 + α·r, 0), without math.Max's
// care for signed zeros, which measured a tenth of a rank-8 fit; NaN
// stays NaN.
func confidence(p *als.Params, r float32) float64 {
	c := 1 + p.Alpha*float64(r)
	if c < 0 {
		return 0
	}
	return c
}
