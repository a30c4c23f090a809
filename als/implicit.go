package als

import (
	"math"
	"sync"
)

// The implicit objective (Hu, Koren & Volinsky 2008, with the unobserved
// weight and frequency-scaled ridge of Rendle et al. 2022). Every rated
// pair (u, i) is a positive with confidence c_ui = max(1 + α·r_ui, 0);
// every pair, rated or not, is pulled towards 0 with weight w₀:
//
//	L = Σ_rated c_ui (x_u·y_i − 1)² + w₀ Σ_all pairs (x_u·y_i)²
//	  − w₀ Σ_rated (x_u·y_i)²
//	  + Σ_u reg(n_u, N_items)‖x_u‖² + Σ_i reg(n_i, N_users)‖y_i‖²
//
// with reg(n, N) = λ·(n + w₀·N)^ν. (The second line takes the rated pairs
// out of the unobserved term, so they weigh c_ui, not c_ui + w₀.) With
// the other side fixed, one row's minimiser solves
//
//	(w₀·G + Σ_rated (c_ui − w₀) y_i y_iᵀ + reg·I) x_u = Σ_rated c_ui y_i
//
// where G = Σ_all y yᵀ is the fixed side's Gram matrix: shared by every
// row, so each row costs what an explicit row does plus copying G. The
// matrix is positive definite for any c ≥ 0 (it is w₀ Σ_unrated y yᵀ +
// Σ_rated c y yᵀ + reg·I). A row without ratings gets x = 0.
//
// Scores x_u·y_i order movies for a user; they are no ratings.

// DefaultImplicitParams returns the ranking model's defaults, chosen on
// ml-latest-small by validation NDCG@10 (movierec tune: λ 0.1 and α 1 won
// at ranks 64 and 128) and test NDCG against EASE on the random and the
// temporal split (see bench/RESULTS.md): rank 128, 10 iterations,
// confidence 1 + 1·r, unobserved weight 1 and a frequency-scaled ridge
// λ·(n + N)^ν with λ 0.1 and ν 0.75. Rank 64 costs 40% of the time for
// about 2% less NDCG. Rows are solved by 3 conjugate-gradient steps (CG):
// on ml-latest-small that trains in 40% of the CPU time of the exact
// Cholesky solve, with train error and test NDCG@10 within 0.1% of it
// (bench/RESULTS.md, issue 15).
func DefaultImplicitParams() Params {
	return Params{Objective: Implicit, Rank: 128, Iterations: 10, Lambda: 0.1, Alpha: 1, Unobserved: 1, RegExponent: 0.75, Seed: 5, Solver: CG}
}

// Confidence returns c = max(1 + p.Alpha·r, 0), the weight of a rated
// pair with rating r in the implicit objective.
func (p Params) Confidence(r float32) float64 {
	return math.Max(1+p.Alpha*float64(r), 0)
}

// RowReg returns the implicit ridge λ·(n + w₀·fixed)^ν of a row with n
// ratings solved against fixed rows of the other side.
func (p Params) RowReg(n, fixed int) float64 {
	if p.RegExponent == 0 {
		return p.Lambda
	}
	return p.Lambda * math.Pow(float64(n)+p.Unobserved*float64(fixed), p.RegExponent)
}

// gramStripes is the number of stripes of rows whose Gram matrices Gram
// forms concurrently and then adds in stripe order: a constant, so the
// result does not depend on the number of CPUs.
const gramStripes = 8

// Gram returns the k×k row-major Gram matrix Σ_j f_j f_jᵀ (both triangles)
// of the rows f_j of a row-major float32 factor table with rank k,
// accumulated in float64. It forms the lower triangle of gramStripes
// stripes of rows on as many goroutines, adds them in stripe order and
// mirrors the result, so it is deterministic.
func Gram(factors []float32, k int) []float64 {
	rows := len(factors) / k
	per := (rows + gramStripes - 1) / gramStripes
	parts := make([][]float64, gramStripes)
	var wg sync.WaitGroup
	for s := range parts {
		lo, hi := min(s*per, rows), min((s+1)*per, rows)
		if lo == hi {
			continue
		}
		wg.Go(func() { parts[s] = gramLower(factors[lo*k:hi*k], k) })
	}
	wg.Wait()
	g := make([]float64, k*k)
	for _, part := range parts {
		for j, v := range part {
			g[j] += v
		}
	}
	for p := 0; p < k; p++ {
		for q := 0; q < p; q++ {
			g[q*k+p] = g[p*k+q]
		}
	}
	return g
}

// gramLower returns the lower triangle (upper zero) of the Gram matrix of
// the rows of factors.
func gramLower(factors []float32, k int) []float64 {
	g := make([]float64, k*k)
	v := make([]float64, 4*k)
	v0, v1, v2, v3 := v[:k], v[k:2*k], v[2*k:3*k], v[3*k:]
	rows := len(factors) / k
	j := 0
	// Four rows per pass over g (as SolveImplicit adds its corrections):
	// g's loads and stores, not the arithmetic, bound the plain-Go loop.
	for ; j+4 <= rows; j += 4 {
		for t, vt := range [4][]float64{v0, v1, v2, v3} {
			for c, f := range factors[(j+t)*k : (j+t+1)*k] {
				vt[c] = float64(f)
			}
		}
		for p := 0; p < k; p++ {
			row := g[p*k : p*k+p+1]
			u0, u1, u2, u3 := v0[:len(row)], v1[:len(row)], v2[:len(row)], v3[:len(row)]
			a0, a1, a2, a3 := v0[p], v1[p], v2[p], v3[p]
			for q := range row {
				row[q] += a0*u0[q] + a1*u1[q] + a2*u2[q] + a3*u3[q]
			}
		}
	}
	for ; j < rows; j++ {
		for c, f := range factors[j*k : (j+1)*k] {
			v0[c] = float64(f)
		}
		for p, vp := range v0 {
			if vp == 0 {
				continue
			}
			row := g[p*k : p*k+p+1]
			for q, vq := range v0[:len(row)] {
				row[q] += vp * vq
			}
		}
	}
	return g
}

// ImplicitLoss returns the implicit objective L of m on r under p (see
// above), computing the all-pairs term through the item Gram matrix.
func ImplicitLoss(m *Model, r *Ratings, p Params) float64 {
	k := m.Rank
	g := Gram(m.ItemFactors, k)
	var loss float64
	for u := 0; u < r.NumUsers; u++ {
		x := m.User(u)
		var quad float64 // xᵀ G x
		for a := 0; a < k; a++ {
			var s float64
			for b := 0; b < k; b++ {
				s += g[a*k+b] * float64(x[b])
			}
			quad += float64(x[a]) * s
		}
		loss += p.Unobserved * quad
		for q := r.UserPtr[u]; q < r.UserPtr[u+1]; q++ {
			s := float64(Dot(x, m.Item(int(r.UserIdx[q]))))
			c := p.Confidence(r.UserVal[q])
			loss += c*(s-1)*(s-1) - p.Unobserved*s*s
		}
		n := int(r.UserPtr[u+1] - r.UserPtr[u])
		loss += p.RowReg(n, r.NumItems) * sqNorm(x)
	}
	for i := 0; i < r.NumItems; i++ {
		n := int(r.ItemPtr[i+1] - r.ItemPtr[i])
		loss += p.RowReg(n, r.NumUsers) * sqNorm(m.Item(i))
	}
	return loss
}

func sqNorm(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s
}

// PreferenceRMSE returns the root-mean-square distance of m's scores over
// the rated pairs of r from the preference 1: the implicit fits' training
// error, which solvers report as Iteration.TrainRMSE. 0 when r is empty.
func PreferenceRMSE(m *Model, r *Ratings) float64 {
	if r.NNZ() == 0 {
		return 0
	}
	var se float64
	for u := 0; u < r.NumUsers; u++ {
		x := m.User(u)
		for q := r.UserPtr[u]; q < r.UserPtr[u+1]; q++ {
			d := float64(Dot(x, m.Item(int(r.UserIdx[q])))) - 1
			se += d * d
		}
	}
	return math.Sqrt(se / float64(r.NNZ()))
}

// TrainError returns the training error solvers report for p:
// RMSE for Explicit, PreferenceRMSE for Implicit.
func TrainError(m *Model, r *Ratings, p Params) float64 {
	if p.Objective == Implicit {
		return PreferenceRMSE(m, r)
	}
	return RMSE(m, r)
}

// SolveImplicit writes the implicit user step for the ratings
// (items[j], vals[j]) into x (len m.Rank): the row's normal equations
// above against m's item factors, with gram the item Gram matrix of m
// (Gram(m.ItemFactors, m.Rank), which the caller computes once per model)
// and the ridge p.RowReg(len(items), m.NumItems). ok is false when items
// is empty or the system is not positive definite; x is then zeroed. It
// allocates nothing once the workspace has grown to the model's rank.
func (f *FoldIn) SolveImplicit(x []float32, m *Model, gram []float64, items []int32, vals []float32, p Params) bool {
	k := m.Rank
	x = x[:k]
	clear(x)
	if len(items) == 0 {
		return false
	}
	f.a = grow(f.a, k*k)
	f.b = grow(f.b, k)
	a, b := f.a, f.b
	w0 := p.Unobserved
	for j := range a {
		a[j] = w0 * gram[j]
	}
	clear(b)
	// The corrections Σ (c − w₀) y yᵀ, four ratings at a time: each row
	// of A is loaded and stored once per four rank-1 updates (in plain Go
	// those loads and stores, not the arithmetic, bound the loop: a POST's
	// fold-in at rank 128 took about 1 ms one rating at a time). The
	// vectors are converted to float64 once, not once per row of A.
	f.y = grow(f.y, 4*k)
	y0, y1, y2, y3 := f.y[:k], f.y[k:2*k], f.y[2*k:3*k], f.y[3*k:4*k]
	j := 0
	for ; j+4 <= len(items); j += 4 {
		var c, w [4]float64
		for t, yt := range [4][]float64{y0, y1, y2, y3} {
			for q, v := range m.Item(int(items[j+t])) {
				yt[q] = float64(v)
			}
			c[t] = p.Confidence(vals[j+t])
			w[t] = c[t] - w0
		}
		for q := 0; q < k; q++ {
			row := a[q*k : q*k+q+1]
			u0, u1, u2, u3 := y0[:len(row)], y1[:len(row)], y2[:len(row)], y3[:len(row)]
			w0q, w1q, w2q, w3q := w[0]*y0[q], w[1]*y1[q], w[2]*y2[q], w[3]*y3[q]
			for s := range row {
				row[s] += w0q*u0[s] + w1q*u1[s] + w2q*u2[s] + w3q*u3[s]
			}
			b[q] += c[0]*y0[q] + c[1]*y1[q] + c[2]*y2[q] + c[3]*y3[q]
		}
	}
	for ; j < len(items); j++ {
		for q, v := range m.Item(int(items[j])) {
			y0[q] = float64(v)
		}
		c := p.Confidence(vals[j])
		w := c - w0
		for q := 0; q < k; q++ {
			row := a[q*k : q*k+q+1]
			wy := w * y0[q]
			for s, v := range y0[:len(row)] {
				row[s] += wy * v
			}
			b[q] += c * y0[q]
		}
	}
	reg := p.RowReg(len(items), m.NumItems)
	for q := 0; q < k; q++ {
		a[q*k+q] += reg
	}
	if !CholeskySolve(a, b, k) {
		return false
	}
	for q := range x {
		x[q] = float32(b[q])
	}
	return true
}
