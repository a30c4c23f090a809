package gpu

import (
	"fmt"
	"math"

	"movierec/als"
)

// hostHalf is one half-iteration's data on the host, for resolveRows: the
// CSR ratings of the side being solved (ptr, idx, val), the fixed side's
// current factors y (nfixed × k) and biases yb (nil without biases), the
// global mean and the parameters. It is read only.
type hostHalf struct {
	ptr    []int64
	idx    []int32
	val    []float32
	y, yb  []float32
	nfixed int
	mu     float32
	p      als.Params
}

// resolveRows solves rows of h again in float64 (assembly, Cholesky and
// solves), as the kernels would without rounding to float32: it is the
// fall-back for the rows a kernel reported in its failed list (a pivot ≤ 0
// in float32). A row without ratings gets zeros, as in the kernels. It
// writes row rows[i]'s factors to dst[i·k:(i+1)·k] and,
// with biases, its bias to dstBias[i]. dst must hold len(rows)·k floats and
// dstBias len(rows) (or be nil without biases).
//
// The error says how many rows are not positive definite even in float64
// (their output is zero); it happens only with non-finite inputs. The
// function allocates its workspace once per call (a k×k matrix, and for
// the implicit objective the fixed side's Gram matrix, formed here in
// O(nfixed·k²)): the path is rare. It is safe for concurrent use on
// distinct dst.
func resolveRows(dst, dstBias []float32, h hostHalf, rows []int32) error {
	p := h.p
	k, ka := p.Rank, p.AugmentedRank()
	implicit := p.Objective == als.Implicit
	if len(dst) != len(rows)*k || (p.Bias && len(dstBias) != len(rows)) {
		panic(fmt.Sprintf("gpu: resolveRows: dst %d, dstBias %d for %d rows of rank %d", len(dst), len(dstBias), len(rows), k))
	}
	var g []float64 // implicit: w₀·Σ y yᵀ over the fixed side, full ka×ka
	if implicit && len(rows) > 0 {
		g = make([]float64, ka*ka)
		for j := range h.nfixed {
			y := h.y[j*k : (j+1)*k]
			for a := range k {
				ya := float64(y[a])
				for b := 0; b <= a; b++ {
					g[a*ka+b] += ya * float64(y[b])
				}
			}
		}
		for i := range g {
			g[i] *= p.Unobserved
		}
	}
	A := make([]float64, ka*ka)
	b := make([]float64, ka)
	yv := make([]float64, ka)
	bad := 0
	for i, row := range rows {
		lo, hi := h.ptr[row], h.ptr[row+1]
		n := float64(hi - lo)
		out := dst[i*k : (i+1)*k]
		if hi == lo { // as the kernels: zeros, and no failure
			clear(out)
			if p.Bias {
				dstBias[i] = 0
			}
			continue
		}
		if g != nil {
			copy(A, g)
		} else {
			clear(A)
		}
		clear(b)
		for q := lo; q < hi; q++ {
			j := int(h.idx[q])
			for c := range k {
				yv[c] = float64(h.y[j*k+c])
			}
			t, w := float64(h.val[q]), 1.0
			switch {
			case implicit:
				t = math.Max(1+p.Alpha*t, 0) // confidence c
				w = t - p.Unobserved         // weight c − w₀
			case p.Bias:
				yv[k] = 1
				t -= float64(h.mu) + float64(h.yb[j])
			}
			for a := range ka {
				wa := w * yv[a]
				for c := 0; c <= a; c++ {
					A[a*ka+c] += wa * yv[c]
				}
				b[a] += t * yv[a]
			}
		}
		reg := p.Lambda * n
		if implicit {
			reg = p.Lambda * math.Pow(n+p.Unobserved*float64(h.nfixed), p.RegExponent)
		}
		for a := range ka {
			A[a*ka+a] += reg
		}
		if !als.CholeskySolve(A, b, ka) {
			bad++
			clear(out)
			if p.Bias {
				dstBias[i] = 0
			}
			continue
		}
		for c := range k {
			out[c] = float32(b[c])
		}
		if p.Bias {
			dstBias[i] = float32(b[k])
		}
	}
	if bad > 0 {
		return fmt.Errorf("gpu: %d of %d rows are not positive definite even in float64 (non-finite input?)", bad, len(rows))
	}
	return nil
}
