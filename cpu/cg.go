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
	if ih != nil && len(h.fixed)*4 <= k.fused {
		// Implicit (no biases): t = w∘(Y·v) (or c − that for the
		// residual) and Yᵀ·t in one pass over the rows, each row's
		// product added while it is in L1 (the weights are computed
		// once per solve, solveRowCG).
		n := hi - lo
		var cf []float32
		if residual {
			cf = c.c[:n]
		}
		sdotsAxpys(q32, h.fixed, kk, h.idx[lo:hi], v32, c.w[:n], cf)
	} else {
		for s := lo; s < hi; s += int64(k.block) {
			nb := int(min(hi-s, int64(k.block)))
			ids := h.idx[s : s+int64(nb)]
			t := c.t[:nb]
			sdots(t, h.fixed, kk, ids, v32)
			if ih != nil {
				// The fused kernel's weights, rounded alike (the
				// conversion keeps the product from being fused).
				w := c.w[s-lo : s-lo+int64(nb)]
				if residual {
					cf := c.c[s-lo : s-lo+int64(nb)]
					for l, d := range t {
						t[l] = cf[l] - float32(w[l]*d)
					}
				} else {
					for l, d := range t {
						t[l] = w[l] * d
					}
				}
				saxpys(q32, h.fixed, kk, ids, t)
				continue
			}
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
		w0 := float32(ih.p.Unobserved)
		for l, v := range h.val[lo:hi] {
			cf := float32(confidence(&ih.p, v))
			c.c[l], c.w[l] = cf, cf-w0
		}
	}
	k.cgApply(ws, h, lo, hi, reg, x, r, true)
	copy(p, r)
	// The recurrences on the AVX2 float64 kernels (chol.go's): the
	// plain-Go loops were 5% of the ranking fit at k = 128.
	rs := dotArch(r, r)
	for range h.cg {
		if !(rs > 1e-30) {
			break
		}
		k.cgApply(ws, h, lo, hi, reg, p, q, false)
		pq := dotArch(p, q)
		if !(pq > 0) {
			break
		}
		alpha := rs / pq
		axpyArch(alpha, p, x)
		axpyArch(-alpha, q, r)
		rn := dotArch(r, r)
		beta := rn / rs
		xpby(p, r, beta)
		rs = rn
	}
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
