package alstest

import (
	"movierec/als"
)

// ReferenceImplicitHalf is ReferenceHalf for the implicit objective (see
// als's implicit.go): for every row of side it forms, with plain float64
// loops over every row of the other side, the full matrix
//
//	Σ_all w₀ y yᵀ + Σ_rated (c − w₀) y yᵀ + λ·(n + w₀·N)^ν·I
//
// and the vector Σ_rated c y, without the shared Gram matrix the fast
// backends use, and solves them with als.CholeskySolve. Rows without
// ratings get zeros.
func ReferenceImplicitHalf(m *als.Model, r *als.Ratings, p als.Params, side Side) {
	rows, fixed := m.NumItems, m.NumUsers
	if side == Users {
		rows, fixed = m.NumUsers, m.NumItems
	}
	k := m.Rank
	a := make([]float64, k*k)
	b := make([]float64, k)
	for row := 0; row < rows; row++ {
		x, _ := solved(m, side, row)
		idx, val := ratingsOf(r, side, row)
		clear(x)
		if len(idx) == 0 {
			continue
		}
		clear(a)
		clear(b)
		for j := 0; j < fixed; j++ {
			addOuter(a, otherVec(m, side, j), p.Unobserved)
		}
		for q, j := range idx {
			y := otherVec(m, side, int(j))
			c := p.Confidence(val[q])
			addOuter(a, y, c-p.Unobserved)
			for s, v := range y {
				b[s] += c * float64(v)
			}
		}
		reg := p.RowReg(len(idx), fixed)
		for s := 0; s < k; s++ {
			a[s*k+s] += reg
		}
		if !als.CholeskySolve(a, b, k) {
			continue
		}
		for s := range x {
			x[s] = float32(b[s])
		}
	}
}

func addOuter(a []float64, y []float32, w float64) {
	k := len(y)
	for s := 0; s < k; s++ {
		for t := 0; t < k; t++ {
			a[s*k+t] += w * float64(y[s]) * float64(y[t])
		}
	}
}

func ratingsOf(r *als.Ratings, side Side, row int) ([]int32, []float32) {
	if side == Items {
		return r.ItemIdx[r.ItemPtr[row]:r.ItemPtr[row+1]], r.ItemVal[r.ItemPtr[row]:r.ItemPtr[row+1]]
	}
	return r.UserIdx[r.UserPtr[row]:r.UserPtr[row+1]], r.UserVal[r.UserPtr[row]:r.UserPtr[row+1]]
}

// otherVec returns the factor vector of row j of the side that side's
// rows are solved against.
func otherVec(m *als.Model, side Side, j int) []float32 {
	if side == Items {
		return m.User(j)
	}
	return m.Item(j)
}

// ImplicitLossBrute returns the implicit objective of m on r under p
// summed pair by pair over every user and item, without the Gram matrix
// that als.ImplicitLoss uses: the plain reference for it and for the
// solvers' monotone descent.
func ImplicitLossBrute(m *als.Model, r *als.Ratings, p als.Params) float64 {
	var loss float64
	for u := 0; u < r.NumUsers; u++ {
		x := m.User(u)
		q := r.UserPtr[u]
		for i := 0; i < r.NumItems; i++ {
			var s float64
			for c, v := range x {
				s += float64(v) * float64(m.Item(i)[c])
			}
			if q < r.UserPtr[u+1] && int(r.UserIdx[q]) == i {
				c := p.Confidence(r.UserVal[q])
				loss += c * (s - 1) * (s - 1)
				q++
			} else {
				loss += p.Unobserved * s * s
			}
		}
		loss += p.RowReg(int(r.UserPtr[u+1]-r.UserPtr[u]), r.NumItems) * sq(x)
	}
	for i := 0; i < r.NumItems; i++ {
		loss += p.RowReg(int(r.ItemPtr[i+1]-r.ItemPtr[i]), r.NumUsers) * sq(m.Item(i))
	}
	return loss
}

func sq(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s
}

// ImplicitParams returns implicit parameters for tests: rank, iterations,
// λ, α, the unobserved weight and ν, seed 42.
func ImplicitParams(rank, iterations int, lambda, alpha, unobserved, nu float64) als.Params {
	return als.Params{Objective: als.Implicit, Rank: rank, Iterations: iterations, Lambda: lambda,
		Alpha: alpha, Unobserved: unobserved, RegExponent: nu, Seed: 42}
}
