package cpu_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"movierec/als"
	"movierec/als/alstest"
	"movierec/cpu"
)

func TestSolver(t *testing.T) {
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			alstest.Run(t, func(*testing.T) als.Solver { return cpu.New(workers) })
		})
	}
}

// cgSolver is a cpu.Solver that fits with als.CG and a fixed number of
// steps, whatever the Params say.
type cgSolver struct {
	*cpu.Solver
	steps int
}

func (s cgSolver) Fit(ctx context.Context, dst *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	p.Solver, p.CGSteps = als.CG, s.steps
	return s.Solver.Fit(ctx, dst, r, p, progress)
}

// TestSolverCG runs the conformance suite on the CG solver with as many
// steps as it accepts (64, more than the suite's k' ≤ 9 unknowns per
// row): it must then solve each row to the suite's float32-level
// residual, as Cholesky does. Fewer steps are an approximation whose
// cost in training error TestCGTrainError bounds.
func TestSolverCG(t *testing.T) {
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			alstest.Run(t, func(*testing.T) als.Solver { return cgSolver{cpu.New(workers), als.MaxCGSteps} })
		})
	}
}

// TestCGTrainError checks the default CG's tolerance: after 10
// iterations with 3 steps per row, the training error is within 0.5% of
// the exact (Cholesky) fit's, explicit and implicit, and the CG fit is
// the same for any number of workers.
func TestCGTrainError(t *testing.T) {
	if testing.Short() {
		t.Skip("training-scale case")
	}
	r, _ := alstest.SyntheticBias(600, 900, 40000, 6, 0.3, 8)
	implicit := als.DefaultImplicitParams()
	implicit.Rank = 32
	// Skewed: implicit item halves are rotated, short rows solved by
	// Woodbury, the others by CG in the rotated basis.
	skewed := skewedRatings(400, 1500, 300, 9)
	for _, tc := range []struct {
		r *als.Ratings
		p als.Params
	}{
		{r, als.Params{Rank: 16, Iterations: 10, Lambda: 0.05, Seed: 3}},
		{r, als.Params{Rank: 16, Iterations: 10, Lambda: 0.05, Seed: 3, Bias: true}},
		{r, implicit},
		{skewed, implicit},
	} {
		r, p := tc.r, tc.p
		t.Run(fmt.Sprintf("nnz=%d/%v", r.NNZ(), p), func(t *testing.T) {
			var exact, cg, cg1 als.Model
			if err := cpu.New(2).Fit(t.Context(), &exact, r, p, nil); err != nil {
				t.Fatal(err)
			}
			q := p
			q.Solver = als.CG
			if err := cpu.New(2).Fit(t.Context(), &cg, r, q, nil); err != nil {
				t.Fatal(err)
			}
			if err := cpu.New(1).Fit(t.Context(), &cg1, r, q, nil); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cg.UserFactors, cg1.UserFactors) || !slices.Equal(cg.ItemFactors, cg1.ItemFactors) {
				t.Errorf("CG fit differs between 1 and 2 workers")
			}
			e, c := als.TrainError(&exact, r, p), als.TrainError(&cg, r, p)
			if c > e*1.005 {
				t.Errorf("CG train error %.5f, Cholesky %.5f: more than 0.5%% worse", c, e)
			}
			t.Logf("train error: Cholesky %.5f, CG %.5f (%+.3f%%)", e, c, 100*(c/e-1))
		})
	}
}

// TestTolerance checks early stopping: with a tolerance, a fit stops at
// the first iteration whose training error changed by less than it,
// says so in that iteration's progress, and ends with the model an
// uncapped fit has after as many iterations.
func TestTolerance(t *testing.T) {
	r, _ := alstest.SyntheticBias(300, 200, 8000, 4, 0.3, 5)
	implicit := als.DefaultImplicitParams()
	implicit.Rank = 8
	for _, p := range []als.Params{
		{Rank: 8, Iterations: 40, Lambda: 0.1, Seed: 2, Tolerance: 0.005},
		{Rank: 8, Iterations: 40, Lambda: 0.1, Seed: 2, Tolerance: 0.005, Solver: als.CG},
		{Rank: 8, Iterations: 40, Lambda: 0.1, Seed: 2, Tolerance: 0.5},
		func() als.Params { q := implicit; q.Iterations, q.Tolerance = 40, 0.001; return q }(),
	} {
		t.Run(p.String(), func(t *testing.T) {
			var its []als.Iteration
			var m als.Model
			if err := cpu.New(2).Fit(t.Context(), &m, r, p, func(it als.Iteration) { its = append(its, it) }); err != nil {
				t.Fatal(err)
			}
			n := len(its)
			if n < 2 || n >= p.Iterations {
				t.Fatalf("Fit(%v) ran %d iterations, want 2..%d", p, n, p.Iterations-1)
			}
			for j, it := range its {
				change := math.Inf(1)
				if j > 0 {
					change = math.Abs(its[j-1].TrainRMSE-it.TrainRMSE) / its[j-1].TrainRMSE
				}
				if last := j == n-1; last != (change < p.Tolerance) || last != (it.Stopped != "") {
					t.Errorf("iteration %d: change %.3g, tolerance %g, Stopped %q", it.N, change, p.Tolerance, it.Stopped)
				}
			}
			q := p
			q.Tolerance, q.Iterations = 0, n
			var want als.Model
			if err := cpu.New(2).Fit(t.Context(), &want, r, q, nil); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(m.UserFactors, want.UserFactors) || !slices.Equal(m.ItemFactors, want.ItemFactors) {
				t.Errorf("stopped model differs from a %d-iteration fit", n)
			}
			// Without progress the fit stops at the same iteration.
			var quiet als.Model
			if err := cpu.New(1).Fit(t.Context(), &quiet, r, p, nil); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(quiet.UserFactors, want.UserFactors) {
				t.Errorf("fit without progress stopped elsewhere")
			}
		})
	}
}

// TestValidation checks early stopping on a held-out share: a fit with
// Params.Validation reports after each iteration the held-out RMSE a
// manual computation gives (a fit on the kept ratings, the held-out
// error read after each iteration), stops at the first iteration where
// that error rose or improved by less than the tolerance, says which,
// and ends with bit for bit the model a fit on the kept ratings capped at
// as many iterations has.
func TestValidation(t *testing.T) {
	r, _ := alstest.SyntheticBias(300, 200, 6000, 4, 0.5, 5)
	tests := []struct {
		name string
		p    als.Params
		why  string // the start of the Stopped reason
	}{
		// Rank 16 against a rank-4 truth with little regularisation
		// overfits: the held-out error turns up.
		{"overfits", als.Params{Rank: 16, Iterations: 30, Lambda: 0.001, Seed: 2, Bias: true, Tolerance: 0.0001, Validation: 0.1}, "held-out error rose"},
		{"overfits cg", als.Params{Rank: 16, Iterations: 30, Lambda: 0.005, Seed: 2, Bias: true, Tolerance: 0.001, Validation: 0.1, Solver: als.CG}, "held-out error rose"},
		{"converges", als.Params{Rank: 4, Iterations: 30, Lambda: 0.1, Seed: 3, Tolerance: 0.01, Validation: 0.05}, "held-out error improved by"},
		// With patience the fit runs on past the first rise and returns
		// the best iterate.
		{"patience", als.Params{Rank: 16, Iterations: 40, Lambda: 0.001, Seed: 2, Bias: true, Tolerance: 0.0001, Validation: 0.1, Patience: 4}, "held-out error did not improve"},
		{"patience cg", als.Params{Rank: 16, Iterations: 40, Lambda: 0.005, Seed: 2, Bias: true, Tolerance: 0.001, Validation: 0.1, Solver: als.CG, Patience: 6}, "held-out error did not improve"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			var m als.Model
			var its []als.Iteration
			if err := cpu.New(2).Fit(t.Context(), &m, r, p, func(it als.Iteration) { its = append(its, it) }); err != nil {
				t.Fatalf("Fit(%v) = %v", p, err)
			}

			// By hand: every iteration on the kept ratings, the held-out
			// error after each.
			kept, held := r.HoldOut(p.Validation, p.Seed)
			q := p
			q.Validation, q.Tolerance, q.Patience = 0, 0, 0
			var ref als.Model
			var errs []float64
			if err := cpu.New(1).Fit(t.Context(), &ref, kept, q, func(als.Iteration) { errs = append(errs, held.RMSE(&ref)) }); err != nil {
				t.Fatal(err)
			}
			// The rule: stop once Patience iterations in a row (at least
			// one) failed to improve the best held-out error by the
			// tolerance; return the best iterate.
			n, bestIt, stale := len(errs), 0, 0
			bestHeld := math.Inf(1)
			for j, cur := range errs {
				improved := j == 0 || (bestHeld-cur)/bestHeld >= p.Tolerance
				if cur < bestHeld {
					bestHeld, bestIt = cur, j+1
				}
				if improved {
					stale = 0
				} else {
					stale++
				}
				if stale >= max(p.Patience, 1) {
					n = j + 1
					break
				}
			}
			if n >= p.Iterations {
				t.Fatalf("held-out errors %v never stop a fit before %d iterations: not a test of stopping", errs, p.Iterations)
			}
			if len(its) != n {
				t.Fatalf("Fit(%v) ran %d iterations, want %d (held-out errors %v)", p, len(its), n, errs[:n])
			}
			// The last report describes the model returned.
			for j, it := range its {
				want := errs[j]
				if j == n-1 {
					want = errs[bestIt-1]
				}
				if it.ValidationRMSE != want {
					t.Errorf("iteration %d: ValidationRMSE %v, want %v", it.N, it.ValidationRMSE, want)
				}
				if last := j == n-1; last != (it.Stopped != "") {
					t.Errorf("iteration %d of %d: Stopped %q", it.N, n, it.Stopped)
				}
			}
			if got := its[n-1].Stopped; !strings.HasPrefix(got, tc.why) {
				t.Errorf("Stopped = %q, want %q…", got, tc.why)
			}
			t.Logf("stopped after %d: %s", n, its[n-1].Stopped)

			q.Iterations = bestIt
			if bestIt != n {
				if want := fmt.Sprintf("kept iteration %d's model", bestIt); !strings.HasSuffix(its[n-1].Stopped, want) {
					t.Errorf("Stopped = %q, want it to end %q", its[n-1].Stopped, want)
				}
			}
			var want als.Model
			if err := cpu.New(2).Fit(t.Context(), &want, kept, q, nil); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&want, &m); diff != "" {
				t.Errorf("stopped model differs from a %d-iteration fit on the kept ratings (-want +got):\n%s", q.Iterations, diff)
			}
			if got := held.RMSE(&m); got != slices.Min(errs[:n]) {
				t.Errorf("the model returned has held-out error %v, the best of %v is %v", got, errs[:n], slices.Min(errs[:n]))
			}
			// Without progress the fit stops at the same iteration.
			var quiet als.Model
			if err := cpu.New(1).Fit(t.Context(), &quiet, r, p, nil); err != nil {
				t.Fatal(err)
			}
			if !cmp.Equal(&quiet, &want) {
				t.Errorf("fit without progress stopped elsewhere")
			}
		})
	}
}

// TestValidationNothingHeldOut checks the fall-back of a share that
// holds out no rating (tiny data): the fit is the one without
// Validation, stopped by the training error.
func TestValidationNothingHeldOut(t *testing.T) {
	r, _ := alstest.Synthetic(10, 8, 25, 2, 0.3, 1)
	p := als.Params{Rank: 2, Iterations: 20, Lambda: 0.1, Seed: 0, Tolerance: 0.05, Validation: 0.02}
	for ; ; p.Seed++ {
		if _, held := r.HoldOut(p.Validation, p.Seed); held.Len() == 0 {
			break
		}
	}
	fit := func(p als.Params) (*als.Model, []als.Iteration) {
		var m als.Model
		var its []als.Iteration
		if err := cpu.New(1).Fit(t.Context(), &m, r, p, func(it als.Iteration) { it.Duration = 0; its = append(its, it) }); err != nil {
			t.Fatalf("Fit(%v) = %v", p, err)
		}
		return &m, its
	}
	m, its := fit(p)
	q := p
	q.Validation = 0
	want, wantIts := fit(q)
	if diff := cmp.Diff(wantIts, its); diff != "" {
		t.Errorf("progress of a fit holding out nothing (-without validation +with):\n%s", diff)
	}
	if !cmp.Equal(want, m) {
		t.Errorf("a fit holding out nothing differs from one without validation")
	}
	if len(its) == p.Iterations {
		t.Errorf("Fit(%v) ran every iteration: not a test of stopping by the training error", p)
	}
}

func TestMatchesReference(t *testing.T) {
	tests := []struct {
		name                 string
		users, items, nnz, k int
		p                    als.Params
	}{
		{"rank 1", 200, 150, 5000, 2, als.Params{Rank: 1, Iterations: 10, Lambda: 0.1, Seed: 1}},
		{"rank 8", 300, 200, 8000, 4, als.Params{Rank: 8, Iterations: 10, Lambda: 0.1, Seed: 2}},
		{"rank 8 bias", 300, 200, 8000, 4, als.Params{Rank: 8, Iterations: 10, Lambda: 0.1, Seed: 3, Bias: true}},
		// Items with over 128 ratings are gathered in several blocks.
		{"rank 20 bias long rows", 1200, 150, 30000, 5, als.Params{Rank: 20, Iterations: 10, Lambda: 0.05, Seed: 4, Bias: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.nnz > 10000 {
				t.Skip("training-scale case")
			}
			r, _ := alstest.SyntheticBias(tc.users, tc.items, tc.nnz, tc.k, 0.3, 5)
			var want, got als.Model
			alstest.Reference(&want, r, tc.p)
			if err := cpu.New(2).Fit(t.Context(), &got, r, tc.p, nil); err != nil {
				t.Fatalf("Fit(%v) = %v", tc.p, err)
			}
			if d := alstest.MaxRelDiff(&got, &want); d > 1e-4 {
				t.Errorf("Fit(%v) differs from alstest.Reference by %.3g relative, want ≤ 1e-4", tc.p, d)
			}
		})
	}
}

func TestWorkersIndependent(t *testing.T) {
	// Long item rows span several gather blocks.
	r, _ := alstest.SyntheticBias(1000, 300, 20000, 4, 0.3, 6)
	// Skewed: implicit item halves are rotated, short rows by Woodbury.
	skewed := skewedRatings(400, 1500, 300, 9)
	for _, tc := range []struct {
		r *als.Ratings
		p als.Params
	}{
		{r, als.Params{Rank: 7, Iterations: 3, Lambda: 0.05, Seed: 7}},
		{r, als.Params{Rank: 20, Iterations: 3, Lambda: 0.05, Seed: 8, Bias: true}},
		{r, alstest.ImplicitParams(20, 3, 0.1, 1, 1, 0.75)},
		{skewed, alstest.ImplicitParams(24, 3, 0.1, 1, 1, 0.75)},
		{skewed, alstest.ImplicitParams(8, 3, 0.5, 0.1, 1.3, 0)},
	} {
		r, p := tc.r, tc.p
		var one als.Model
		var rmse1 []float64
		if err := cpu.New(1).Fit(t.Context(), &one, r, p, func(it als.Iteration) { rmse1 = append(rmse1, it.TrainRMSE) }); err != nil {
			t.Fatalf("Fit(workers 1, %v) = %v", p, err)
		}
		// Neither the worker count nor how the workers share the
		// machine (a lowered priority, yielding) changes the model.
		for _, o := range []cpu.Options{
			{Workers: 3},
			{Workers: 2, Nice: 5, Yield: true},
			{Workers: 1, Nice: 3},
		} {
			var got als.Model
			var rmse []float64
			if err := cpu.NewWithOptions(o).Fit(t.Context(), &got, r, p, func(it als.Iteration) { rmse = append(rmse, it.TrainRMSE) }); err != nil {
				t.Fatalf("Fit(%+v, %v) = %v", o, p, err)
			}
			if !slices.Equal(one.UserFactors, got.UserFactors) || !slices.Equal(one.ItemFactors, got.ItemFactors) ||
				!slices.Equal(one.UserBias, got.UserBias) || !slices.Equal(one.ItemBias, got.ItemBias) {
				t.Errorf("Fit(%v) with 1 worker and with %+v differ by %.3g relative, want bit-identical", p, o, alstest.MaxRelDiff(&got, &one))
			}
			if !slices.Equal(rmse1, rmse) {
				t.Errorf("Fit(%v) TrainRMSE with 1 worker %v, with %+v %v, want identical", p, rmse1, o, rmse)
			}
		}
	}
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		in, want cpu.Options
	}{
		{cpu.Options{}, cpu.Options{Workers: runtime.GOMAXPROCS(0)}},
		{cpu.Options{Workers: -2, Nice: 4}, cpu.Options{Workers: runtime.GOMAXPROCS(0), Nice: 4}},
		{cpu.Options{Workers: 1, Nice: 10, Yield: true}, cpu.Options{Workers: 1, Nice: 10, Yield: true}},
	} {
		if got := cpu.NewWithOptions(tc.in).Options(); got != tc.want {
			t.Errorf("NewWithOptions(%+v).Options() = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	if got, want := (&cpu.Solver{}).Options(), (cpu.Options{Workers: runtime.GOMAXPROCS(0)}); got != want {
		t.Errorf("zero Solver's Options() = %+v, want %+v", got, want)
	}
	if got := cpu.New(3).Options(); got != (cpu.Options{Workers: 3}) {
		t.Errorf("New(3).Options() = %+v, want {Workers: 3}", got)
	}
}

// TestDefaultWorkers checks that New(-1) and the zero Solver (both
// GOMAXPROCS workers) train the same model as New(1).
func TestDefaultWorkers(t *testing.T) {
	r, _ := alstest.Synthetic(50, 40, 500, 2, 0.3, 10)
	p := als.DefaultParams()
	var want als.Model
	if err := cpu.New(1).Fit(t.Context(), &want, r, p, nil); err != nil {
		t.Fatalf("Fit() = %v", err)
	}
	for _, tc := range []struct {
		name string
		s    *cpu.Solver
	}{
		{"New(-1)", cpu.New(-1)},
		{"zero Solver", &cpu.Solver{}},
	} {
		var got als.Model
		if err := tc.s.Fit(t.Context(), &got, r, p, nil); err != nil {
			t.Fatalf("%s: Fit() = %v", tc.name, err)
		}
		if !slices.Equal(got.UserFactors, want.UserFactors) || !slices.Equal(got.ItemFactors, want.ItemFactors) {
			t.Errorf("%s: model differs from New(1)'s by %.3g relative", tc.name, alstest.MaxRelDiff(&got, &want))
		}
	}
}

// skewedRatings returns ratings where item i has about top/(i+1)^0.8
// ratings (at least one, at most every user), as in MovieLens: a few
// long item rows (over 128 ratings, gathered in several blocks) and many
// short ones, with ratings 0.5..5 in steps of 0.5.
func skewedRatings(users, items, top int, seed uint64) *als.Ratings {
	rng := rand.New(rand.NewPCG(seed, 3))
	var us, is []int32
	var vs []float32
	for i := 0; i < items; i++ {
		n := min(users, max(1, int(float64(top)/math.Pow(float64(i+1), 0.8))))
		for _, u := range rng.Perm(users)[:n] {
			us = append(us, int32(u))
			is = append(is, int32(i))
			vs = append(vs, float32(0.5*float64(1+rng.IntN(10))))
		}
	}
	return als.NewRatings(users, items, us, is, vs)
}

// TestMatchesReferenceImplicit checks implicit fits against
// alstest.Reference, which forms every row's full system from every row
// of the other side. The data are skewed so that the item halves are
// solved in G's eigenbasis, short rows by Woodbury, long ones as k×k
// systems, and the user halves (few short rows) in the original basis.
func TestMatchesReferenceImplicit(t *testing.T) {
	tests := []struct {
		name                  string
		users, items, top     int
		rank, iters           int
		lambda, alpha, w0, nu float64
	}{
		{"rank 1", 200, 300, 150, 1, 5, 0.5, 1, 1, 0},
		{"rank 8 frequency-scaled", 300, 600, 250, 8, 5, 0.05, 0.5, 0.3, 1},
		{"rank 20 nu 0", 250, 600, 200, 20, 3, 0.5, 1, 1, 0},
		{"rank 20 unobserved above confidence", 250, 600, 200, 20, 3, 0.5, 0.1, 1.3, 0},
		{"rank 64 nu 1", 140, 700, 150, 64, 2, 0.02, 2, 0.5, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.rank > 20 {
				t.Skip("large rank")
			}
			r := skewedRatings(tc.users, tc.items, tc.top, uint64(tc.rank))
			p := alstest.ImplicitParams(tc.rank, tc.iters, tc.lambda, tc.alpha, tc.w0, tc.nu)
			var want, got als.Model
			alstest.Reference(&want, r, p)
			if err := cpu.New(2).Fit(t.Context(), &got, r, p, nil); err != nil {
				t.Fatalf("Fit(%v) = %v", p, err)
			}
			if d := alstest.MaxRelDiff(&got, &want); d > 1e-4 {
				t.Errorf("Fit(%v) differs from alstest.Reference by %.3g relative, want ≤ 1e-4", p, d)
			}
		})
	}
}

// TestFitRejectsBadIndices checks that Fit refuses ratings whose indices
// name no row of the factor tables (its kernels read them unchecked),
// with an error and without touching memory outside the tables.
func TestFitRejectsBadIndices(t *testing.T) {
	good := func() *als.Ratings {
		return als.NewRatings(3, 4, []int32{0, 1, 2, 2}, []int32{0, 3, 1, 2}, []float32{1, 2, 3, 4})
	}
	for _, tc := range []struct {
		name  string
		spoil func(r *als.Ratings)
	}{
		{"item index too large", func(r *als.Ratings) { r.UserIdx[1] = 4 }},
		{"negative user index", func(r *als.Ratings) { r.ItemIdx[0] = -1 }},
		{"lengths differ", func(r *als.Ratings) { r.ItemIdx = r.ItemIdx[:3] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := good()
			tc.spoil(r)
			var m als.Model
			for _, solver := range []als.Method{als.Cholesky, als.CG} {
				p := als.Params{Rank: 2, Iterations: 2, Lambda: 0.1, Seed: 1, Solver: solver}
				if err := cpu.New(1).Fit(t.Context(), &m, r, p, nil); err == nil || !strings.Contains(err.Error(), "ratings:") {
					t.Errorf("%v: Fit = %v, want an error about the ratings", solver, err)
				}
			}
		})
	}
	var m als.Model
	if err := cpu.New(1).Fit(t.Context(), &m, good(), als.Params{Rank: 2, Iterations: 2, Lambda: 0.1, Seed: 1, Solver: als.CG}, nil); err != nil {
		t.Errorf("valid ratings: Fit = %v", err)
	}
}

// TestFitFrom checks the warm start: with no iterations the model is the
// starting one (rows it lacks are Prepare's random ones); a fit from a
// converged model moves it little; a start of another rank is refused.
func TestFitFrom(t *testing.T) {
	r, _ := alstest.Synthetic(60, 40, 900, 3, 0.2, 3)
	p := als.DefaultImplicitParams()
	p.Rank, p.Iterations = 8, 10
	s := cpu.New(2)
	var conv als.Model
	if err := s.Fit(t.Context(), &conv, r, p, nil); err != nil {
		t.Fatal(err)
	}
	// A model of fewer users and items: the first rows copied.
	small := conv
	small.NumUsers, small.NumItems = 50, 30
	small.UserFactors, small.ItemFactors = conv.UserFactors[:50*8], conv.ItemFactors[:30*8]
	q := p
	q.Iterations = 0
	var got, random als.Model
	if err := s.FitFrom(t.Context(), &got, &small, r, q, nil); err != nil {
		t.Fatal(err)
	}
	als.Prepare(&random, r, p)
	if !slices.Equal(got.UserFactors[:50*8], small.UserFactors) || !slices.Equal(got.ItemFactors[:30*8], small.ItemFactors) {
		t.Error("FitFrom with no iterations: the rows the start has differ from it")
	}
	if !slices.Equal(got.UserFactors[50*8:], random.UserFactors[50*8:]) || !slices.Equal(got.ItemFactors[30*8:], random.ItemFactors[30*8:]) {
		t.Error("FitFrom with no iterations: the rows the start lacks are not Prepare's")
	}
	// Two more iterations from the converged model stay close to it;
	// two from random factors do not get as close.
	q.Iterations = 2
	var warm, cold als.Model
	if err := s.FitFrom(t.Context(), &warm, &conv, r, q, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Fit(t.Context(), &cold, r, q, nil); err != nil {
		t.Fatal(err)
	}
	dist := func(m *als.Model) float64 {
		var d float64
		for i := range m.UserFactors {
			x := float64(m.UserFactors[i] - conv.UserFactors[i])
			d += x * x
		}
		return d
	}
	if dw, dc := dist(&warm), dist(&cold); !(dw < dc/10) {
		t.Errorf("distance from the converged model after 2 iterations: warm %g, cold %g; want warm far smaller", dw, dc)
	}
	other := p
	other.Rank = 4
	if err := s.FitFrom(t.Context(), &got, &conv, r, other, nil); !errors.Is(err, als.ErrInvalidParams) {
		t.Errorf("FitFrom with a start of another rank = %v, want ErrInvalidParams", err)
	}
}
