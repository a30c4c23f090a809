package cpu

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"movierec/als"
	"movierec/als/alstest"
)

// orderSolver is a Solver whose fits always train in the degree order
// (kernel.order = 1 byte) or never (0), with the CG solver and steps when
// cg > 0.
type orderSolver struct {
	s  *Solver
	cg int
}

func newOrderSolver(workers, order, cg int) orderSolver {
	k := defaultKernel
	k.order = order
	return orderSolver{&Solver{opts: Options{Workers: workers}, kern: k}, cg}
}

func (o orderSolver) Fit(ctx context.Context, dst *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	if o.cg > 0 {
		p.Solver, p.CGSteps = als.CG, o.cg
	}
	return o.s.Fit(ctx, dst, r, p, progress)
}

func (o orderSolver) Close() error { return nil }

// TestOrderConformance runs the conformance suite on fits that always
// renumber by degree, with both solvers.
func TestOrderConformance(t *testing.T) {
	for _, cg := range []int{0, als.MaxCGSteps} {
		t.Run(fmt.Sprintf("cg=%d", cg), func(t *testing.T) {
			alstest.Run(t, func(*testing.T) als.Solver { return newOrderSolver(2, 1, cg) })
		})
	}
}

// scatteredRatings returns ratings whose row and column counts are skewed
// and whose popular users and items sit at random indices, so that the
// degree order really moves rows.
func scatteredRatings(users, items, top int, seed uint64) *als.Ratings {
	rng := rand.New(rand.NewPCG(seed, 5))
	uperm, iperm := rng.Perm(users), rng.Perm(items)
	var us, is []int32
	var vs []float32
	for j := 0; j < items; j++ {
		n := min(users, max(1, int(float64(top)/math.Pow(float64(j+1), 0.8))))
		for _, u := range rng.Perm(users)[:n] {
			// Skew the users too: low-numbered ones (before uperm)
			// are drawn more often.
			u = u * u / users
			us = append(us, int32(uperm[u]))
			is = append(is, int32(iperm[j]))
			vs = append(vs, float32(0.5*float64(1+rng.IntN(10))))
		}
	}
	// Drop the duplicate pairs the user skew made.
	seen := map[[2]int32]bool{}
	w := 0
	for k := range us {
		key := [2]int32{us[k], is[k]}
		if !seen[key] {
			seen[key] = true
			us[w], is[w], vs[w] = us[k], is[k], vs[k]
			w++
		}
	}
	return als.NewRatings(users, items, us[:w], is[:w], vs[:w])
}

// TestOrderRatings checks the renumbered copy: rows by descending count
// (ties by index), the same ratings under the renumbering in both forms,
// and a held-out share renumbered alike.
func TestOrderRatings(t *testing.T) {
	r := scatteredRatings(300, 500, 200, 1)
	o := newOrder(r)
	t1 := newTeam([]*workspace{{}, {}}, 0, false)
	defer t1.close()
	n := o.ratings(t1, r)
	if err := n.Validate(); err != nil {
		t.Fatalf("renumbered ratings invalid: %v", err)
	}
	for _, side := range []struct {
		name      string
		ptr, nptr []int64
		rows, at  []int32
		idx, nidx []int32
		val, nval []float32
		colAt     []int32
		numRows   int
	}{
		{"users", r.UserPtr, n.UserPtr, o.users, o.userAt, r.UserIdx, n.UserIdx, r.UserVal, n.UserVal, o.itemAt, r.NumUsers},
		{"items", r.ItemPtr, n.ItemPtr, o.items, o.itemAt, r.ItemIdx, n.ItemIdx, r.ItemVal, n.ItemVal, o.userAt, r.NumItems},
	} {
		moved := 0
		for j := 0; j < side.numRows; j++ {
			i := side.rows[j]
			if side.at[i] != int32(j) {
				t.Fatalf("%s: at[rows[%d]] = %d", side.name, j, side.at[i])
			}
			if int(i) != j {
				moved++
			}
			ln := side.nptr[j+1] - side.nptr[j]
			if ln != side.ptr[i+1]-side.ptr[i] {
				t.Fatalf("%s: new row %d has %d ratings, its row %d has %d", side.name, j, ln, i, side.ptr[i+1]-side.ptr[i])
			}
			if j > 0 {
				prev := side.nptr[j] - side.nptr[j-1]
				if prev < ln || (prev == ln && side.rows[j-1] > i) {
					t.Fatalf("%s: new rows %d and %d (lengths %d, %d; rows %d, %d) out of order", side.name, j-1, j, prev, ln, side.rows[j-1], i)
				}
			}
			for l := int64(0); l < ln; l++ {
				a, b := side.ptr[i]+l, side.nptr[j]+l
				if side.nidx[b] != side.colAt[side.idx[a]] || side.nval[b] != side.val[a] {
					t.Fatalf("%s: new row %d rating %d is (%d, %v), want (%d, %v)", side.name, j, l, side.nidx[b], side.nval[b], side.colAt[side.idx[a]], side.val[a])
				}
			}
		}
		if moved < side.numRows/2 {
			t.Errorf("%s: only %d of %d rows moved; the test data should be scattered", side.name, moved, side.numRows)
		}
	}

	_, held := r.HoldOut(0.2, 3)
	h := o.heldOut(held)
	for j := range held.Vals {
		if h.Users[j] != o.userAt[held.Users[j]] || h.Items[j] != o.itemAt[held.Items[j]] || h.Vals[j] != held.Vals[j] {
			t.Fatalf("held-out rating %d renumbered wrongly", j)
		}
	}
}

// TestOrderMatchesPlain checks that a fit in the degree order returns the
// caller's numbering and the fit without it: bit for bit for explicit
// fits (each row sums its own ratings in the same order either way), to
// rounding for implicit ones (the fixed side's Gram matrix sums its rows in
// another order); also with a warm start, a held-out share, and for the
// model the progress callback sees after each iteration.
func TestOrderMatchesPlain(t *testing.T) {
	r := scatteredRatings(400, 700, 300, 2)
	explicit := als.Params{Rank: 12, Iterations: 4, Lambda: 0.05, Seed: 3, Bias: true, RegOffset: 5}
	cg := explicit
	cg.Solver, cg.CGSteps = als.CG, 3
	held := explicit
	held.Validation, held.Tolerance, held.Iterations = 0.1, 0.05, 8
	implicit := alstest.ImplicitParams(24, 3, 0.1, 1, 1, 0.75)
	implicitCG := implicit
	implicitCG.Solver, implicitCG.CGSteps = als.CG, 3
	for _, tc := range []struct {
		name  string
		p     als.Params
		exact bool
		warm  bool
	}{
		{"explicit", explicit, true, false},
		{"explicit/cg", cg, true, false},
		{"explicit/warm", cg, true, true},
		{"explicit/held-out", held, true, false},
		{"implicit", implicit, false, false},
		{"implicit/cg", implicitCG, false, false},
		{"implicit/warm", implicitCG, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var from *als.Model
			if tc.warm {
				from = &als.Model{}
				als.Prepare(from, r, tc.p)
				for i := range from.ItemFactors {
					from.ItemFactors[i] *= 0.5
				}
			}
			var got [2]als.Model
			var seen [2][]float64 // the RMSE of dst as the callback sees it
			for j, ord := range []int{0, 1} {
				s := newOrderSolver(2, ord, 0).s
				progress := func(it als.Iteration) {
					seen[j] = append(seen[j], als.RMSE(&got[j], r))
				}
				var err error
				if from != nil {
					err = s.FitFrom(t.Context(), &got[j], from, r, tc.p, progress)
				} else {
					err = s.Fit(t.Context(), &got[j], r, tc.p, progress)
				}
				if err != nil {
					t.Fatalf("Fit(order %d) = %v", ord, err)
				}
			}
			if tc.exact {
				if !slices.Equal(got[0].UserFactors, got[1].UserFactors) || !slices.Equal(got[0].ItemFactors, got[1].ItemFactors) ||
					!slices.Equal(got[0].UserBias, got[1].UserBias) || !slices.Equal(got[0].ItemBias, got[1].ItemBias) || got[0].Mean != got[1].Mean {
					t.Errorf("fit in degree order differs by %.3g relative, want bit-identical", alstest.MaxRelDiff(&got[1], &got[0]))
				}
				if !slices.Equal(seen[0], seen[1]) {
					t.Errorf("progress saw RMSE %v in degree order, %v without", seen[1], seen[0])
				}
			} else {
				if d := alstest.MaxRelDiff(&got[1], &got[0]); d > 1e-3 {
					t.Errorf("fit in degree order differs by %.3g relative, want ≤ 1e-3", d)
				}
				for i := range seen[0] {
					if math.Abs(seen[0][i]-seen[1][i]) > 1e-4*seen[0][i] {
						t.Errorf("progress saw RMSE %v in degree order, %v without", seen[1], seen[0])
						break
					}
				}
			}
			if len(seen[0]) == 0 {
				t.Fatal("no progress reported")
			}
		})
	}
}

func TestWantOrder(t *testing.T) {
	r := &als.Ratings{NumUsers: 1000, NumItems: 300}
	k := defaultKernel
	k.order = 4 * 9 * 1000 // rank 8 with biases: k' = 9
	for _, tc := range []struct {
		p    als.Params
		want bool
	}{
		{als.Params{Rank: 8, Bias: true}, true},
		{als.Params{Rank: 8}, false},
		{als.Params{Rank: 16}, true},
	} {
		if got := k.wantOrder(r, tc.p); got != tc.want {
			t.Errorf("wantOrder(%d×%d, rank %d bias %v) = %v, want %v", r.NumUsers, r.NumItems, tc.p.Rank, tc.p.Bias, got, tc.want)
		}
	}
	k.order = 0
	if k.wantOrder(r, als.Params{Rank: 256}) {
		t.Error("wantOrder with order 0 = true, want false")
	}
}
