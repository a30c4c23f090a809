package cpu

import (
	"math"

	"movierec/als"
	"movierec/internal/f32"
)

// This file holds the conjugate-gradient solver (als.CG). Each row's
// system A x = b, A = Σ w y yᵀ + S + reg·I (explicit: w = 1, S = 0, the
// augmented y with a trailing 1 when learning biases; implicit: w = c − w₀
// and S = w₀G, the fixed side's Gram matrix), is solved approximately by
// Params.Steps() CG steps started from the row's current factors, the
// previous iteration's solution (Takács, Pilászy & Tikk 2011; Hu et al.'s
// implicit objective as in benfred/implicit). The k×k matrix Σ w y yᵀ is
// never formed: A·v is two float32 passes over the row's gathered
// factor rows, straight from the factor table: t = Y·v (sdots), then
// Yᵀ·(w∘t) (saxpys), float32 AVX2/FMA kernels (internal/f32), each in
// blocks of kernel.block rows so the second pass finds them in cache; for
// the implicit objective against a fixed table that fits in cache
// (kernel.fused) the two passes are one fused kernel (sdotsAxpys) that
// adds each group of four rows right after the next group's dot
// products, while the rows are in L1. S·v is one more sdots over the rows of a
// float32 copy of S. The CG recurrences (x, r, p and their dot
// products) are float64 over k' elements.
//
// Per row and step that is 2·n·k multiply-adds (plus k² for the implicit
// S), against n·k²/2 + k³/3 for assembling and factorising; the price is
// an approximate solve, whose error the next iterations keep shrinking
// because each starts where the last one ended.

// sdots and saxpys are the f32 kernels (internal/f32) the CG solver and
// the training error run on: t[j] = src[idx[j]·k:][:k]·p, and
// dst += Σ t[j]·src[idx[j]·k:][:k]. They are the unchecked kernels: every
// index they get is a rating's, which Fit checked once against the factor
// tables (checkIndices), or one of a fixed table's own rows; checking
// each call again cost 7% of a CG iteration at 25M ratings.
func sdots(t, src []float32, k int, idx []int32, p []float32) {
	f32.DotsIdxUnchecked(t, src, k, idx, p)
}

func saxpys(dst, src []float32, k int, idx []int32, t []float32) {
	f32.AxpysIdxUnchecked(dst, src, k, idx, t)
}

// sdotsAxpys is the f32 kernel that fuses the two: dst += Σ s_j·y_j with
// y_j = src[idx[j]·k:][:k] and s_j = w[j]·(y_j·p), or c[j] − w[j]·(y_j·p)
// when c is not nil; bit for bit sdots, the float32 weights and saxpys
// (f32.DotsAxpysIdx). Unchecked, as those.
func sdotsAxpys(dst, src []float32, k int, idx []int32, p, w, c []float32) {
	f32.DotsAxpysIdxUnchecked(dst, src, k, idx, p, w, c)
}

// cgScratch is one worker's CG scratch, sized once per Fit by growCG.
type cgScratch struct {
	x, r, p, q []float64 // kp each: the CG iterate, residual, direction, A·p
	v32, q32   []float32 // k: a vector for the kernels, and their sum
	t          []float32 // block (or k): per-rating dot products, then weights
	w, c       []float32 // implicit: the row's weights c − w₀ and confidences c

	group *cgGroup // implicit: solveRowsCG's scratch
}

// groupRows is the number of rows solveRowsCG takes in lockstep: the
// vectors f32.DotsTile multiplies by one pass over a k×k matrix.
const groupRows = 3

// cgGroup is solveRowsCG's scratch: the CG state of groupRows rows.
type cgGroup struct {
	x, r, p, q [groupRows][]float64 // kp each
	q32        [groupRows][]float32 // k each: the rows' part of a product
	w, c       [groupRows][]float32 // maxN each: weights and confidences
	v32        []float32            // groupRows × k: the vectors multiplied
	s          []float32            // groupRows × k: the shared matrix times them
	reg, rs    [groupRows]float64
	n          [groupRows]int
	live       [groupRows]bool // still iterating
}

// growCG sizes ws's CG scratch for systems of size kp (rank kk), blocks
// of k.block ratings and, with implicit, rows of up to maxN ratings.
func (k *kernel) growCG(ws *workspace, kk, kp, maxN int, implicit bool) {
	n := max(k.block, kk)
	ws.cg = &cgScratch{
		x: make([]float64, kp), r: make([]float64, kp), p: make([]float64, kp), q: make([]float64, kp),
		v32: make([]float32, kk), q32: make([]float32, kk), t: make([]float32, n),
	}
	if implicit {
		ws.cg.w, ws.cg.c = make([]float32, maxN), make([]float32, maxN)
		g := &cgGroup{v32: make([]float32, groupRows*kk), s: make([]float32, groupRows*kk)}
		for m := range groupRows {
			g.x[m], g.r[m], g.p[m], g.q[m] = make([]float64, kp), make([]float64, kp), make([]float64, kp), make([]float64, kp)
			g.q32[m], g.w[m], g.c[m] = make([]float32, kk), make([]float32, maxN), make([]float32, maxN)
		}
		ws.cg.group = g
	}
}

// implicitRows adds to q32 the rows' part of an implicit product,
// Σ_j s_j·y_j over the ratings lo..hi-1 with s_j = w_j·(y_j·v), or
// c_j − that when cf is not nil (the residual's b − …); w and cf hold the
// row's weights from index 0. Against a fixed table that fits in cache
// (kernel.fused) it is one pass over the rows, each row's product added
// while it is in L1 (sdotsAxpys); otherwise two passes by blocks (sdots,
// the weights, saxpys), t their scratch. Both give the same bits.
func (k *kernel) implicitRows(t []float32, h *half, lo, hi int64, v32, q32, w, cf []float32) {
	kk := h.k
	if len(h.fixed)*4 <= k.fused {
		n := hi - lo
		if cf != nil {
			cf = cf[:n]
		}
		sdotsAxpys(q32, h.fixed, kk, h.idx[lo:hi], v32, w[:n], cf)
		return
	}
	for s := lo; s < hi; s += int64(k.block) {
		nb := int(min(hi-s, int64(k.block)))
		ids := h.idx[s : s+int64(nb)]
		tb := t[:nb]
		sdots(tb, h.fixed, kk, ids, v32)
		// The fused kernel's weights, rounded alike (the conversion
		// keeps the product from being fused).
		wb := w[s-lo : s-lo+int64(nb)]
		if cf != nil {
			cb := cf[s-lo : s-lo+int64(nb)]
			for l, d := range tb {
				tb[l] = cb[l] - float32(wb[l]*d)
			}
		} else {
			for l, d := range tb {
				tb[l] = wb[l] * d
			}
		}
		saxpys(q32, h.fixed, kk, ids, tb)
	}
}

// cgApply sets q = A·v for row's system, or q = b − A·v with residual
// (see the top of the file). v and q have length kp and must not overlap.
func (k *kernel) cgApply(ws *workspace, h *half, lo, hi int64, reg float64, v, q []float64, residual bool) {
	c := ws.cg
	kk := h.k
	v32, q32 := c.v32[:kk], c.q32[:kk]
	// The O(k) loops here are resliced to kk so that they run without
	// bounds checks: together they were 4% of the ranking fit at k = 128.
	to32(v32, v)
	clear(q32)
	var vb, qb float64 // the bias coordinate of v and of the sum
	if h.bias {
		vb = v[kk]
	}
	ih := h.imp
	if ih != nil {
		var cf []float32
		if residual {
			cf = c.c
		}
		k.implicitRows(c.t, h, lo, hi, v32, q32, c.w, cf)
	} else {
		for s := lo; s < hi; s += int64(k.block) {
			nb := int(min(hi-s, int64(k.block)))
			ids := h.idx[s : s+int64(nb)]
			t := c.t[:nb]
			sdots(t, h.fixed, kk, ids, v32)
			for l, d := range t {
				e := float64(d) + vb
				if residual {
					// Only b needs the target: the other passes skip its
					// lookup of the fixed side's bias.
					e = h.target(s+int64(l)) - e
				}
				t[l] = float32(e)
				qb += e
			}
			saxpys(q32, h.fixed, kk, ids, t)
		}
	}
	sign := 1.0
	if residual {
		sign = -1
	}
	if ih != nil && ih.rotated {
		// In the eigenbasis of G, S = w₀G is the diagonal ih.diag.
		diagApply(q[:kk], q32, ih.diag, v, reg, sign)
	} else if ih != nil {
		// S·v = Σ v_i S_i over the rows of the symmetric S: one axpy
		// pass (2.5× the speed of k dot products with their reductions).
		t := c.t[:kk]
		clear(t)
		saxpys(t, ih.g32, kk, ih.iota, v32)
		gramApply(q[:kk], q32, t, v, reg, sign)
	} else {
		for i, s := range q32 {
			q[i] = float64(s) + sign*reg*v[i]
		}
	}
	if h.bias {
		q[kk] = qb + sign*reg*vb
	}
}

// solveRowCG is solveRow for als.CG: h.cg steps from the row's current
// factors (and bias). It returns false, leaving zeros, when the solution
// is not finite (only possible with non-finite data). It allocates
// nothing.
func (k *kernel) solveRowCG(ws *workspace, h *half, row int) bool {
	lo, hi := h.ptr[row], h.ptr[row+1]
	n := int(hi - lo)
	kk, kp := h.k, h.kp
	dst := h.dst[row*kk : (row+1)*kk]
	if n == 0 {
		k.store(dst, h, row, nil)
		return true
	}
	c := ws.cg
	x, r, p, q := c.x[:kp], c.r[:kp], c.p[:kp], c.q[:kp]
	ih := h.imp
	if ih != nil && ih.rotated && ih.positive[row] && n < k.cgWoodburyMax(kk) {
		// Short rows are solved exactly, and cheaper.
		return k.solveWoodbury(ws, h, lo, hi, dst)
	}
	if h.initPending {
		als.InitFactorRows(h.dst, kk, h.initSeed, 1, row, row+1) // the row's starting factors, read below
	}
	if ih != nil && ih.rotated {
		// The previous factors are in the previous basis: x = dst·q =
		// Σ dst_i q_i over q's rows, one float32 axpy pass (a warm start
		// needs no more).
		t := c.v32[:kk]
		clear(t)
		saxpys(t, ih.q32, kk, ih.iota, dst)
		to64(x[:kk], t)
	} else {
		to64(x[:kk], dst)
	}
	if h.bias {
		x[kk] = float64(h.dstBias[row])
	}
	// The ridge, after the Woodbury rows have gone: its math.Pow for
	// every row was 2% of the ranking fit on ml-latest-small.
	var reg float64
	if h.imp != nil {
		reg = h.imp.p.RowReg(n, h.imp.fixed)
	} else {
		reg = h.lambda * (float64(n) + h.offset)
	}
	if ih := h.imp; ih != nil {
		cgWeights(c.c, c.w, h.val[lo:hi], &ih.p)
	}
	k.cgApply(ws, h, lo, hi, reg, x, r, true)
	copy(p, r)
	rs := dotArch(r, r)
	for range h.cg {
		if !(rs > 1e-30) {
			break
		}
		k.cgApply(ws, h, lo, hi, reg, p, q, false)
		var ok bool
		if rs, ok = cgStep(x, r, p, q, rs); !ok {
			break
		}
	}
	return k.storeFinite(dst, h, row, x)
}

// cgStep takes one CG step given q = A·p and rs = r·r: x += α·p,
// r −= α·q and p ← r + β·p, with α = rs/(p·q) and β = r·r (new)/rs, on the
// AVX2 float64 kernels (chol.go's; the plain-Go loops were 5% of the
// ranking fit at k = 128). It returns the new r·r, or false, changing
// nothing, when p·q ≤ 0 (no curvature left: the solve stops there).
func cgStep(x, r, p, q []float64, rs float64) (float64, bool) {
	pq := dotArch(p, q)
	if !(pq > 0) {
		return rs, false
	}
	alpha := rs / pq
	axpyArch(alpha, p, x)
	axpyArch(-alpha, q, r)
	rn := dotArch(r, r)
	xpby(p, r, rn/rs)
	return rn, true
}

// storeFinite stores the CG solution x into row's factors (and bias) and
// reports true, or stores zeros and reports false when x is not finite
// (only possible with non-finite data).
func (k *kernel) storeFinite(dst []float32, h *half, row int, x []float64) bool {
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			k.store(dst, h, row, nil)
			return false
		}
	}
	k.store(dst, h, row, x)
	return true
}

// cgWoodburyMax returns the row length from which a rotated half under
// CG takes CG steps rather than the Woodbury solve: Woodbury costs about
// n²k/2, CG about 8nk plus k² to turn the warm start into the new basis,
// which cross near n = k/5 at k = 128.
func (k *kernel) cgWoodburyMax(kk int) int {
	return min(k.woodburyMax(kk), int(k.cgWoodbury*float64(kk)))
}

// cgShared sets h.imp.g32 to the full symmetric float32 copy of h.imp.gram
// (w₀G, lower triangle, stride ld) and h.imp.iota to 0..k-1, for cgApply.
func cgShared(h *half) {
	ih := h.imp
	kk, ld := h.k, ih.ld
	if len(ih.g32) != kk*kk {
		ih.g32 = make([]float32, kk*kk)
		ih.iota = make([]int32, kk)
		for j := range ih.iota {
			ih.iota[j] = int32(j)
		}
	}
	for i := 0; i < kk; i++ {
		for j := 0; j <= i; j++ {
			v := float32(ih.gram[i*ld+j])
			ih.g32[i*kk+j] = v
			ih.g32[j*kk+i] = v
		}
	}
}

// lockstep reports whether runHalf solves h's rows groupRows at a time
// by solveRowsCG: an implicit CG half that is not rotated, whose every
// product adds the dense w₀G·v (k² multiply-adds against the rows' 2nk),
// at a rank f32.DotsTile takes without padding (k a multiple of 8).
func lockstep(h *half) bool {
	return h.cg > 0 && h.imp != nil && !h.imp.rotated && h.k%8 == 0
}

// solveRowsCG is solveRowCG for up to groupRows rows of a lockstep half,
// their CG steps taken together: each product's w₀G·v for all of them is
// one f32.DotsTile pass over w₀G (each of its rows loaded once for the
// three vectors, where saxpys loads them once per vector: 1.06 against
// 1.72 µs for three at k = 128), the rest per row as solveRowCG. A row
// stops as solveRowCG would (residual or curvature gone) while the others
// go on. It returns the number of rows whose solution was not finite
// (left as zeros) and allocates nothing.
func (k *kernel) solveRowsCG(ws *workspace, h *half, rows []int32) int {
	g, c, ih := ws.cg.group, ws.cg, h.imp
	kk, nr := h.k, len(rows)
	for m, row := range rows {
		lo, hi := h.ptr[row], h.ptr[row+1]
		n := int(hi - lo)
		g.n[m], g.live[m] = n, n > 0
		dst := h.dst[int(row)*kk : int(row+1)*kk]
		if n == 0 {
			k.store(dst, h, int(row), nil)
			continue
		}
		if h.initPending {
			als.InitFactorRows(h.dst, kk, h.initSeed, 1, int(row), int(row)+1)
		}
		to64(g.x[m][:kk], dst)
		g.reg[m] = ih.p.RowReg(n, ih.fixed)
		cgWeights(g.c[m], g.w[m], h.val[lo:hi], &ih.p)
	}
	// apply sets out[m] = A·v[m] (or b − A·v[m] with residual) for the
	// live rows, as cgApply does.
	apply := func(v, out *[groupRows][]float64, residual bool) {
		for m, row := range rows {
			if !g.live[m] {
				continue
			}
			v32, q32 := g.v32[m*kk:(m+1)*kk], g.q32[m]
			to32(v32, v[m])
			clear(q32)
			var cf []float32
			if residual {
				cf = g.c[m]
			}
			k.implicitRows(c.t, h, h.ptr[row], h.ptr[row+1], v32, q32, g.w[m], cf)
		}
		// S·v of every row at once (the stale vectors of rows no longer
		// live cost nothing more: a pass serves three).
		f32.DotsTile(g.s, kk, ih.g32, kk, g.v32, nr, kk)
		sign := 1.0
		if residual {
			sign = -1
		}
		for m := range rows {
			if g.live[m] {
				gramApply(out[m][:kk], g.q32[m], g.s[m*kk:(m+1)*kk], v[m], g.reg[m], sign)
			}
		}
	}
	apply(&g.x, &g.r, true)
	for m := range rows {
		if g.live[m] {
			copy(g.p[m], g.r[m])
			g.rs[m] = dotArch(g.r[m], g.r[m])
		}
	}
	for range h.cg {
		any := false
		for m := range rows {
			g.live[m] = g.live[m] && g.rs[m] > 1e-30
			any = any || g.live[m]
		}
		if !any {
			break
		}
		apply(&g.p, &g.q, false)
		for m := range rows {
			if !g.live[m] {
				continue
			}
			g.rs[m], g.live[m] = cgStep(g.x[m], g.r[m], g.p[m], g.q[m], g.rs[m])
		}
	}
	bad := 0
	for m, row := range rows {
		if g.n[m] > 0 && !k.storeFinite(h.dst[int(row)*kk:int(row+1)*kk], h, int(row), g.x[m]) {
			bad++
		}
	}
	return bad
}
