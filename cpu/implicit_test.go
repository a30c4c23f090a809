package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"movierec/als"
	"movierec/als/alstest"
)

// testImplicitHalf returns the user half of a rank-k implicit problem
// whose users have the given numbers of ratings, against 300 items with
// random factors, with its Gram matrix formed (and rotated into its
// eigenbasis when rotated) as Fit would, and the workspaces and scratch
// that Fit would use with kern.
func testImplicitHalf(lens []int, p als.Params, kern kernel, rotated bool, seed uint64) (*half, []*workspace, *implicitScratch) {
	rng := rand.New(rand.NewPCG(seed, 2))
	const numItems = 300
	var users, items []int32
	var vals []float32
	for u, n := range lens {
		for _, i := range rng.Perm(numItems)[:n] {
			users = append(users, int32(u))
			items = append(items, int32(i))
			vals = append(vals, float32(0.5*float64(1+rng.IntN(10))))
		}
	}
	r := als.NewRatings(len(lens), numItems, users, items, vals)
	var m als.Model
	als.Prepare(&m, r, p)
	for j := range m.ItemFactors {
		m.ItemFactors[j] = float32(rng.NormFloat64())
	}
	_, h := newHalves(&m, r, p)
	k := p.Rank
	ld := gramDim(k)
	h.imp = &implicitHalf{p: p, fixed: numItems, ld: ld, gram: make([]float64, ld*ld), diag: make([]float64, k)}
	maxN := 0
	for _, n := range lens {
		maxN = max(maxN, n)
	}
	kern.countShort(h)
	ws := []*workspace{kern.newWorkspace(k, maxN)}
	kern.growImplicit(ws[0], k)
	sc := newImplicitScratch(ld, max(numItems, len(lens)), k)
	kern.fixedGram(newTeam(ws, 0, false), h, sc)
	if rotated {
		kern.rotateHalf(newTeam(ws, 0, false), h, sc)
	}
	return h, ws, sc
}

// TestWoodburyMatchesDense checks, in a rotated half, that the Woodbury
// path solves every short row as the k×k system does (both the tiled and
// the plain-Go assembly), and that the rotated solutions turned back
// match the unrotated half's.
func TestWoodburyMatchesDense(t *testing.T) {
	lens := []int{0, 1, 2, 3, 4, 5, 7, 8, 12, 16, 31, 33, 63, 100, 129}
	for _, k := range []int{1, 4, 8, 13, 20, 64, 100} {
		for _, nu := range []float64{0, 1} {
			p := als.Params{Objective: als.Implicit, Rank: k, Iterations: 1, Lambda: 0.3, Alpha: 1, Unobserved: 0.7, RegExponent: nu, Seed: 3}
			t.Run(fmt.Sprintf("k=%d/nu=%g", k, nu), func(t *testing.T) {
				wood := kernel{shortRow: defaultKernel.shortRow, smallK: defaultKernel.smallK, block: 16, woodbury: 1}
				dense := wood
				dense.woodbury = 0
				tiled := dense
				tiled.shortRow, tiled.smallK = 0, 0
				hw, wsw, _ := testImplicitHalf(lens, p, wood, true, uint64(k))
				hd, wsd, _ := testImplicitHalf(lens, p, dense, true, uint64(k))
				ht, wst, _ := testImplicitHalf(lens, p, tiled, true, uint64(k))
				hu, wsu, scu := testImplicitHalf(lens, p, dense, false, uint64(k))
				for row := range lens {
					if !wood.solveRow(wsw[0], hw, row) || !dense.solveRow(wsd[0], hd, row) ||
						!tiled.solveRow(wst[0], ht, row) || !dense.solveRow(wsu[0], hu, row) {
						t.Fatalf("row %d: not positive definite", row)
					}
				}
				// hw is rotated by the scratch of its own call; the same
				// seed gives the same rotation in all three.
				_ = scu
				if d := relDiff(hw.dst, hd.dst); d > 1e-5 {
					t.Errorf("Woodbury and plain-Go k×k solutions differ by %.3g relative", d)
				}
				if d := relDiff(ht.dst, hd.dst); d > 1e-5 {
					t.Errorf("tiled and plain-Go k×k solutions differ by %.3g relative", d)
				}
				// Scores x̃·ỹ of the rotated half against x·y of the
				// unrotated one.
				var diff, scale float64
				for row := range lens {
					for it := 0; it < 300; it++ {
						sr := float64(als.Dot(hw.dst[row*k:row*k+k], hw.fixed[it*k:it*k+k]))
						su := float64(als.Dot(hu.dst[row*k:row*k+k], hu.fixed[it*k:it*k+k]))
						diff = max(diff, math.Abs(sr-su))
						scale = max(scale, math.Abs(su))
					}
				}
				if diff > 1e-4*scale {
					t.Errorf("rotated scores differ from unrotated by %.3g relative", diff/scale)
				}
			})
		}
	}
}

func relDiff(got, want []float32) float64 {
	var diff, scale float64
	for j := range want {
		diff = max(diff, math.Abs(float64(got[j])-float64(want[j])))
		scale = max(scale, math.Abs(float64(want[j])))
	}
	if scale == 0 {
		return diff
	}
	return diff / scale
}

func TestSolveImplicitRowZeroAllocs(t *testing.T) {
	lens := []int{0, 1, 3, 17, 40, 100, 129, 290}
	for _, k := range []int{1, 8, 64, 256} {
		p := als.Params{Objective: als.Implicit, Rank: k, Iterations: 1, Lambda: 0.1, Alpha: 1, Unobserved: 1, RegExponent: 0.75, Seed: 3}
		for _, rotated := range []bool{false, true} {
			h, ws, _ := testImplicitHalf(lens, p, defaultKernel, rotated, 5)
			for row, n := range lens {
				allocs := testing.AllocsPerRun(3, func() {
					if !defaultKernel.solveRow(ws[0], h, row) {
						t.Fatalf("k=%d row %d: not positive definite", k, row)
					}
				})
				if allocs != 0 {
					t.Errorf("k=%d rotated=%t n=%d: solveRow allocates %v times per row, want 0", k, rotated, n, allocs)
				}
			}
		}
	}
}

// TestFitWoodbury fits an implicit model on data shaped like
// ml-latest-small (few users, many movies with a handful of ratings),
// whose item half is rotated and solved by Woodbury: it must match
// alstest.Reference. The item half, prepared as Fit prepares it, must be
// rotated, so the fit went through Woodbury.
func TestFitWoodbury(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const users, items = 40, 1200
	var us, is []int32
	var vs []float32
	for i := range items {
		n := min(users, max(1, int(60/math.Pow(float64(i+1), 0.6))))
		for _, u := range rng.Perm(users)[:n] {
			us = append(us, int32(u))
			is = append(is, int32(i))
			vs = append(vs, float32(0.5*float64(1+rng.IntN(10))))
		}
	}
	r := als.NewRatings(users, items, us, is, vs)
	for _, method := range []als.Method{als.Cholesky, als.CG} {
		t.Run(method.String(), func(t *testing.T) {
			p := als.DefaultImplicitParams()
			p.Rank, p.Iterations, p.Solver = 16, 3, method
			if method == als.CG {
				p.CGSteps = 32 // converged, to compare with the exact reference
			}
			if !firstItemHalfRotated(r, p, defaultKernel) {
				t.Fatal("the first item half is not rotated: the test checks nothing")
			}
			var want, got als.Model
			alstest.Reference(&want, r, p)
			if err := New(2).Fit(t.Context(), &got, r, p, nil); err != nil {
				t.Fatal(err)
			}
			if d := alstest.MaxRelDiff(&got, &want); d > 1e-4 {
				t.Errorf("differs from alstest.Reference by %.3g relative", d)
			}
		})
	}
}

// TestRowOrder checks countShort's row order: every row once, longest
// first, rows of equal length in index order.
func TestRowOrder(t *testing.T) {
	lens := []int{3, 0, 7, 3, 1, 7, 0, 12, 3}
	p := als.DefaultImplicitParams()
	p.Rank = 8
	h, _, _ := testImplicitHalf(lens, p, defaultKernel, false, 1)
	want := []int32{7, 2, 5, 0, 3, 8, 4, 1, 6}
	if !slices.Equal(h.imp.order, want) {
		t.Errorf("order = %v, want %v", h.imp.order, want)
	}
}

// firstItemHalfRotated reports whether the first item half of a Fit of p
// on r with kern is rotated, preparing it as Fit does.
func firstItemHalfRotated(r *als.Ratings, p als.Params, kern kernel) bool {
	var m als.Model
	als.Prepare(&m, r, p)
	items, _ := newHalves(&m, r, p)
	if p.Solver == als.CG {
		items.cg = p.Steps()
	}
	ld := gramDim(p.Rank)
	items.imp = &implicitHalf{p: p, fixed: r.NumUsers, ld: ld, gram: make([]float64, ld*ld), diag: make([]float64, p.Rank)}
	kern.countShort(items)
	ws := kern.newWorkspace(p.Rank, max(maxRowLen(r.UserPtr), maxRowLen(r.ItemPtr)))
	kern.growImplicit(ws, p.Rank)
	tm := newTeam([]*workspace{ws}, 0, false)
	defer tm.close()
	sc := newImplicitScratch(ld, max(r.NumUsers, r.NumItems), p.Rank)
	kern.fixedGram(tm, items, sc)
	kern.rotate(tm, items, sc)
	return items.imp.rotated
}

// TestReportDuringDecomposition checks the reports of a fit whose item
// half rotates, which come during the next iteration's decomposition: one
// per iteration, in order, each with the training error of the model the
// callback can read then (so no rotation or half of the next iteration
// has touched it); and a fit stopped by its tolerance returns the model
// of the iteration it stopped at, as a fit of that many iterations does.
func TestReportDuringDecomposition(t *testing.T) {
	r, _ := alstest.Synthetic(300, 3000, 15000, 4, 0, 3)
	for _, solver := range []als.Method{als.Cholesky, als.CG} {
		p := alstest.ImplicitParams(32, 12, 0.1, 1, 1, 0.75)
		p.Solver = solver
		t.Run(p.String(), func(t *testing.T) {
			var m als.Model
			als.Prepare(&m, r, p)
			items, _ := newHalves(&m, r, p)
			items.imp = &implicitHalf{p: p, fixed: r.NumUsers}
			defaultKernel.countShort(items)
			if !defaultKernel.wantRotate(items) {
				t.Fatal("the item half does not rotate: the test checks nothing")
			}
			var its []als.Iteration
			var errs []float64
			p.Tolerance = 0.002
			if err := New(2).Fit(t.Context(), &m, r, p, func(it als.Iteration) {
				its = append(its, it)
				errs = append(errs, als.PreferenceRMSE(&m, r))
			}); err != nil {
				t.Fatal(err)
			}
			n := len(its)
			if n < 2 || n >= p.Iterations || its[n-1].Stopped == "" {
				t.Fatalf("ran %d iterations (last stopped: %q), want 2..%d and a stop", n, its[n-1].Stopped, p.Iterations-1)
			}
			for j, it := range its {
				if it.N != j+1 || it.Of != p.Iterations {
					t.Fatalf("report %d is iteration %d of %d", j, it.N, it.Of)
				}
				if d := math.Abs(it.TrainRMSE-errs[j]) / errs[j]; d > 1e-5 {
					t.Errorf("iteration %d: reported error %.7g, the model read in the callback has %.7g", it.N, it.TrainRMSE, errs[j])
				}
			}
			q := p
			q.Tolerance, q.Iterations = 0, n
			var want als.Model
			if err := New(2).Fit(t.Context(), &want, r, q, nil); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(m.UserFactors, want.UserFactors) || !slices.Equal(m.ItemFactors, want.ItemFactors) {
				t.Errorf("stopped model differs from a %d-iteration fit", n)
			}
			// One worker reports at once (no overlap): the same reports
			// and model.
			var one als.Model
			var oneIts []als.Iteration
			if err := New(1).Fit(t.Context(), &one, r, p, func(it als.Iteration) { oneIts = append(oneIts, it) }); err != nil {
				t.Fatal(err)
			}
			if len(oneIts) != n || !slices.Equal(one.UserFactors, m.UserFactors) || !slices.Equal(one.ItemFactors, m.ItemFactors) {
				t.Fatalf("one worker: %d reports, model equal: %v; want %d and true", len(oneIts), slices.Equal(one.ItemFactors, m.ItemFactors), n)
			}
			for j := range oneIts {
				if oneIts[j].TrainRMSE != its[j].TrainRMSE || oneIts[j].Stopped != its[j].Stopped {
					t.Errorf("iteration %d: one worker reports %v %q, two %v %q", j+1, oneIts[j].TrainRMSE, oneIts[j].Stopped, its[j].TrainRMSE, its[j].Stopped)
				}
			}
		})
	}
}

// TestLazyInit checks that drawing the items' starting factors as the
// first item half reads them gives the model a fit that draws them all
// first (als.Prepare) gives, bit for bit: implicit fits whose item half
// rotates (CG and Cholesky) and explicit ones, into a model that held
// another fit's factors before.
func TestLazyInit(t *testing.T) {
	r, _ := alstest.Synthetic(300, 3000, 15000, 4, 0, 3)
	cg := alstest.ImplicitParams(32, 3, 0.1, 1, 1, 0.75)
	cg.Solver = als.CG
	for _, p := range []als.Params{
		alstest.ImplicitParams(32, 3, 0.1, 1, 1, 0.75),
		cg,
		{Rank: 8, Iterations: 3, Lambda: 0.1, Seed: 2, Solver: als.CG},
		{Rank: 8, Iterations: 3, Lambda: 0.1, Seed: 2, Bias: true},
	} {
		t.Run(p.String(), func(t *testing.T) {
			var got [2]als.Model
			for j, lazy := range []bool{false, true} {
				s := &Solver{opts: Options{Workers: 2}, kern: defaultKernel}
				s.kern.lazyInit = lazy
				// A model holding another fit's factors, as a retrain's
				// reused destination does.
				q := p
				q.Seed = 99
				if err := s.Fit(t.Context(), &got[j], r, q, nil); err != nil {
					t.Fatal(err)
				}
				if err := s.Fit(t.Context(), &got[j], r, p, nil); err != nil {
					t.Fatal(err)
				}
			}
			if !slices.Equal(got[0].UserFactors, got[1].UserFactors) || !slices.Equal(got[0].ItemFactors, got[1].ItemFactors) ||
				!slices.Equal(got[0].UserBias, got[1].UserBias) || !slices.Equal(got[0].ItemBias, got[1].ItemBias) {
				t.Error("the fit with lazy initialisation differs from one initialised first")
			}
		})
	}
}
