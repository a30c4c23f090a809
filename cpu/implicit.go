package cpu

import (
	"math"

	"movierec/als"
)

// This file holds the implicit objective's half-iteration (see als's
// implicit.go): each row solves
//
//	(w₀·G + Σ (c − w₀) y yᵀ + reg·I) x = Σ c y
//
// with G the fixed side's Gram matrix, formed once per half (fixedGram)
// and copied into each row's system. The row's corrections go through the
// same gather and SYRK kernel as explicit rows: each gathered vector is
// scaled by √(c − w₀) and its augmented coordinate set to c/√(c − w₀), so
// the Gram matrix of the augmented vectors adds Σ (c − w₀) y yᵀ to A and
// leaves Σ c y in row kp. A row with a weight c − w₀ ≤ 0 (a confidence at
// or below the unobserved weight) takes the plain-Go path, which weighs
// each rank-1 update directly.

// gramStripes is the number of stripes of fixed rows whose Gram matrices
// are formed in parallel and then summed in stripe order. It is a constant,
// not the worker count, so the sum (and the model) does not depend on the
// number of workers.
const gramStripes = 16

// implicitHalf is the implicit part of a half: nil for explicit fits.
type implicitHalf struct {
	p     als.Params
	fixed int       // rows of the fixed side (N in the ridge)
	ld    int       // row stride of gram: gramDim(k)
	gram  []float64 // ld×ld: w₀·G in rows 0..k-1 (lower triangle), zero elsewhere; set by fixedGram
}

// implicitScratch is the per-Fit scratch of fixedGram.
type implicitScratch struct {
	ids     []int32     // 0..max rows-1
	stripes [][]float64 // gramStripes buffers of ld×ld
}

func newImplicitScratch(ld, rows int) *implicitScratch {
	s := &implicitScratch{ids: make([]int32, rows), stripes: make([][]float64, gramStripes)}
	for j := range s.ids {
		s.ids[j] = int32(j)
	}
	for j := range s.stripes {
		s.stripes[j] = make([]float64, ld*ld)
	}
	return s
}

// fixedGram sets h.imp.gram to w₀ times the Gram matrix of h.fixed, in
// float64: gramStripes stripes of rows are gathered block by block and
// accumulated with the SYRK kernel on the workers, then summed in stripe
// order.
func fixedGram(ws []*workspace, h *half, sc *implicitScratch) {
	ih := h.imp
	ld, k := ih.ld, h.k
	rows := len(h.fixed) / k
	per := (rows + gramStripes - 1) / gramStripes
	parallel(len(ws), gramStripes, func(w, c int) {
		g := sc.stripes[c]
		clear(g)
		y, ldy := ws[w].y, ws[w].ldy
		nb := len(y) / ldy
		for lo := c * per; lo < min((c+1)*per, rows); lo += nb {
			hi := min(lo+nb, (c+1)*per, rows)
			gather(y, ldy, h.fixed, k, sc.ids[lo:hi])
			for l := 0; l < hi-lo; l++ {
				clear(y[l*ldy+k : l*ldy+ld])
			}
			gramLower(g, ld, y, ldy, hi-lo, ld, true)
		}
	})
	g := ih.gram
	clear(g)
	for _, s := range sc.stripes {
		for i := 0; i < k; i++ {
			gi, si := g[i*ld:i*ld+i+1], s[i*ld:i*ld+i+1]
			for j, v := range si {
				gi[j] += v
			}
		}
	}
	w0 := ih.p.Unobserved
	for i := 0; i < k; i++ {
		gi := g[i*ld : i*ld+i+1]
		for j := range gi {
			gi[j] *= w0
		}
	}
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
	a, ld, b := ws.a, ws.ld, ws.b
	// A = w₀G (the lower triangle and its diagonal 4×4 blocks, which
	// gramLower accumulates into), b = 0.
	for i := 0; i < ld; i++ {
		e := min(i&^3+4, ld)
		copy(a[i*ld:i*ld+e], ih.gram[i*ld:i*ld+e])
	}
	positive := true
	for p := lo; p < hi; p++ {
		if !(ih.p.Confidence(h.val[p]) > ih.p.Unobserved) {
			positive = false
			break
		}
	}
	if positive && n*kk >= k.shortRow {
		k.implicitTiled(ws, h, lo, hi)
	} else {
		implicitGo(a, ld, b, ws.v, h, lo, hi)
	}
	reg := ih.p.RowReg(n, ih.fixed)
	for j := 0; j < kk; j++ {
		a[j*ld+j] += reg
	}
	var ok bool
	if kk <= k.smallK {
		ok = choleskyGo(a, ld, b, kk)
	} else {
		ok = choleskyAug(a, ld, kk)
	}
	if !ok {
		clear(x)
		return false
	}
	for c := range x {
		x[c] = float32(b[c])
	}
	return true
}

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
			c := p.Confidence(h.val[s+int64(l)])
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
		c := p.Confidence(h.val[q])
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
