package alstest

import (
	"fmt"
	"math"

	"movierec/als"
)

// Side names a half of an ALS iteration by the rows it solves.
type Side int

const (
	// Items solves every item against the fixed user factors.
	Items Side = iota
	// Users solves every user against the fixed item factors.
	Users
)

func (s Side) String() string {
	if s == Items {
		return "items"
	}
	return "users"
}

// Reference fits dst to r the slow, obviously correct way: als.Prepare,
// then p.Iterations times ReferenceHalf(Items) and ReferenceHalf(Users)
// (ReferenceImplicitHalf for the implicit objective).
// Faster backends are compared against it. It panics if p is invalid.
func Reference(dst *als.Model, r *als.Ratings, p als.Params) {
	if err := p.Validate(); err != nil {
		panic(fmt.Sprintf("alstest: Reference: %v", err))
	}
	als.Prepare(dst, r, p)
	for it := 0; it < p.Iterations; it++ {
		referenceIteration(dst, r, p)
	}
}

// referenceIteration runs one iteration of p's objective: items, then
// users.
func referenceIteration(m *als.Model, r *als.Ratings, p als.Params) {
	if p.Objective == als.Implicit {
		ReferenceImplicitHalf(m, r, p, Items)
		ReferenceImplicitHalf(m, r, p, Users)
		return
	}
	referenceHalf(m, r, p, Items)
	referenceHalf(m, r, p, Users)
}

// ReferenceHalf solves, in place, every row of side of m against the
// other side's current factors: for a row with n ratings it forms the
// full normal equations (Σ y yᵀ + λ·n·I) x = Σ r y in float64 with plain
// loops, augmented by the bias coordinate when m.Bias, and solves them
// with als.CholeskySolve. Rows without ratings (or, with non-finite data,
// whose system is not positive definite) get zeros.
func ReferenceHalf(m *als.Model, r *als.Ratings, lambda float64, side Side) {
	referenceHalf(m, r, als.Params{Lambda: lambda}, side)
}

// referenceHalf is ReferenceHalf with p's explicit ridge, p.Ridge(n).
func referenceHalf(m *als.Model, r *als.Ratings, p als.Params, side Side) {
	rows := m.NumItems
	if side == Users {
		rows = m.NumUsers
	}
	for row := 0; row < rows; row++ {
		a, b, n := normalEquations(m, r, p, side, row)
		x, bias := solved(m, side, row)
		clear(x)
		if bias != nil {
			*bias = 0
		}
		if n == 0 || !als.CholeskySolve(a, b, len(b)) {
			continue
		}
		for c := range x {
			x[c] = float32(b[c])
		}
		if bias != nil {
			*bias = float32(b[m.Rank])
		}
	}
}

// solved returns the factor vector and the bias (nil without m.Bias) of
// row of side, aliasing m.
func solved(m *als.Model, side Side, row int) ([]float32, *float32) {
	if side == Items {
		if m.Bias {
			return m.Item(row), &m.ItemBias[row]
		}
		return m.Item(row), nil
	}
	if m.Bias {
		return m.User(row), &m.UserBias[row]
	}
	return m.User(row), nil
}

// normalEquations returns the full (both triangles) k'×k' matrix
// Σ y yᵀ + pr.Ridge(n)·I and the vector Σ t y of row of side, where y runs over the
// other side's vectors of the row's ratings (with a trailing 1 when
// m.Bias) and t over their targets (the rating, less the mean and the
// other side's bias when m.Bias); n is the row's rating count.
func normalEquations(m *als.Model, r *als.Ratings, pr als.Params, side Side, row int) (a, b []float64, n int) {
	k := m.Rank
	kp := k
	if m.Bias {
		kp++
	}
	var idx []int32
	var val []float32
	if side == Items {
		idx = r.ItemIdx[r.ItemPtr[row]:r.ItemPtr[row+1]]
		val = r.ItemVal[r.ItemPtr[row]:r.ItemPtr[row+1]]
	} else {
		idx = r.UserIdx[r.UserPtr[row]:r.UserPtr[row+1]]
		val = r.UserVal[r.UserPtr[row]:r.UserPtr[row+1]]
	}
	a = make([]float64, kp*kp)
	b = make([]float64, kp)
	y := make([]float64, kp)
	for j, other := range idx {
		var f []float32
		t := float64(val[j])
		if side == Items {
			f = m.User(int(other))
			if m.Bias {
				t -= float64(m.Mean) + float64(m.UserBias[other])
			}
		} else {
			f = m.Item(int(other))
			if m.Bias {
				t -= float64(m.Mean) + float64(m.ItemBias[other])
			}
		}
		for c, v := range f {
			y[c] = float64(v)
		}
		if m.Bias {
			y[k] = 1
		}
		for p := 0; p < kp; p++ {
			for q := 0; q < kp; q++ {
				a[p*kp+q] += y[p] * y[q]
			}
			b[p] += t * y[p]
		}
	}
	n = len(idx)
	for p := 0; p < kp; p++ {
		a[p*kp+p] += pr.Ridge(n)
	}
	return a, b, n
}

// MaxRelDiff returns how far got is from want: over the user factors, item
// factors and both bias slices, the largest max|got−want| divided by
// max|want| (by 1 when want is all zeros). It is +Inf when the shapes
// differ.
func MaxRelDiff(got, want *als.Model) float64 {
	if got.Rank != want.Rank || got.NumUsers != want.NumUsers || got.NumItems != want.NumItems || got.Bias != want.Bias {
		return math.Inf(1)
	}
	d := 0.0
	for _, pair := range [][2][]float32{
		{got.UserFactors, want.UserFactors},
		{got.ItemFactors, want.ItemFactors},
		{got.UserBias, want.UserBias},
		{got.ItemBias, want.ItemBias},
	} {
		g, w := pair[0], pair[1]
		if len(g) != len(w) {
			return math.Inf(1)
		}
		var diff, scale float64
		for j := range w {
			diff = max(diff, math.Abs(float64(g[j])-float64(w[j])))
			scale = max(scale, math.Abs(float64(w[j])))
		}
		if scale == 0 {
			scale = 1
		}
		if math.IsNaN(diff) {
			return math.Inf(1)
		}
		d = max(d, diff/scale)
	}
	return d
}
