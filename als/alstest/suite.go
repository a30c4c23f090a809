package alstest

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"movierec/als"
)

// Run is the conformance suite every als.Solver must pass. newSolver
// returns a fresh solver for each subtest; Run closes it. The problems are
// small (at most 8,000 ratings, rank ≤ 8) so the suite suits -race; none
// is skipped by -short.
//
// It checks that:
//   - invalid Params (rank 0 or > MaxRank, λ ≤ 0 or NaN, iterations < 0)
//     give an error wrapping als.ErrInvalidParams and no progress;
//   - TrainRMSE is non-increasing (to 1e-4 relative) from the third
//     iteration on and ends near the noise level of a synthetic problem,
//     and the last one equals als.RMSE of the result to 1e-5 relative;
//   - after one iteration every item row solves its normal equations
//     against the initial user factors and every user row against the new
//     item factors (backward error ≤ 1e-4, a float32 tolerance), and both
//     halves match ReferenceHalf to 1e-3 relative, for ranks 1, 5 (with
//     biases) and 8;
//   - learning biases does not raise the RMSE on a biased problem;
//   - rows without ratings get zero factors and zero biases, also when
//     there are no ratings at all;
//   - progress is called Iterations times with N = 1..Iterations, and a
//     nil progress is allowed;
//   - a context cancelled before Fit, or from progress during it, makes
//     Fit return an error wrapping context.Canceled;
//   - two fits with the same seed are bit-identical, also into a reused
//     destination model;
//   - Iterations = 0 leaves exactly als.Prepare's initialisation;
//   - with Params.Validation, unless the solver ignores it (reports no
//     ValidationRMSE, as the Solver doc allows), a fit stops at the first
//     iteration whose reported held-out error rose or improved by less
//     than the tolerance (Params.HeldOutConverged), the last reports are
//     the held-out and training RMSEs of the result (Ratings.HoldOut,
//     1e-5 relative), and the model is the same solver's fit on the kept
//     ratings capped at as many iterations, bit for bit;
//   - for the implicit objective: invalid implicit Params are rejected;
//     both halves of an iteration match ReferenceImplicitHalf (no shared
//     Gram matrix) to 1e-3 relative, with plain and frequency-scaled
//     ridges and with an unobserved weight above some confidences; the
//     objective (ImplicitLossBrute) never rises between iterations;
//     TrainRMSE is als.PreferenceRMSE; rows without ratings are zero.
func Run(t *testing.T, newSolver func(t *testing.T) als.Solver) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s als.Solver)
	}{
		{"InvalidParams", testInvalidParams},
		{"RMSEDecreases", testRMSEDecreases},
		{"NormalEquations", testNormalEquations},
		{"RegOffset", testRegOffset},
		{"Bias", testBias},
		{"ZeroRatingRows", testZeroRatingRows},
		{"EmptyRatings", testEmptyRatings},
		{"Progress", testProgress},
		{"CanceledBefore", testCanceledBefore},
		{"CanceledDuring", testCanceledDuring},
		{"Deterministic", testDeterministic},
		{"ZeroIterations", testZeroIterations},
		{"Validation", testValidation},
		{"ImplicitInvalidParams", testImplicitInvalidParams},
		{"ImplicitNormalEquations", testImplicitNormalEquations},
		{"ImplicitLossDecreases", testImplicitLossDecreases},
		{"ImplicitZeroRows", testImplicitZeroRows},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSolver(t)
			defer func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close() = %v", err)
				}
			}()
			tc.fn(t, s)
		})
	}
}

// fit runs s.Fit into a fresh model and fails t on error. It returns the
// model and the progress reports.
func fit(t *testing.T, s als.Solver, r *als.Ratings, p als.Params) (*als.Model, []als.Iteration) {
	t.Helper()
	var m als.Model
	var its []als.Iteration
	if err := s.Fit(t.Context(), &m, r, p, func(it als.Iteration) { its = append(its, it) }); err != nil {
		t.Fatalf("Fit(%v) = %v", p, err)
	}
	return &m, its
}

func params(rank, iterations int, lambda float64, bias bool) als.Params {
	return als.Params{Rank: rank, Iterations: iterations, Lambda: lambda, Seed: 42, Bias: bias}
}

func testInvalidParams(t *testing.T, s als.Solver) {
	r, _ := Synthetic(20, 15, 100, 2, 0.1, 1)
	tests := []struct {
		name string
		p    als.Params
	}{
		{"rank 0", params(0, 1, 0.1, false)},
		{"rank > MaxRank", params(als.MaxRank+1, 1, 0.1, false)},
		{"lambda 0", params(4, 1, 0, false)},
		{"lambda < 0", params(4, 1, -0.1, true)},
		{"lambda NaN", params(4, 1, math.NaN(), false)},
		{"iterations < 0", params(4, -1, 0.1, false)},
		{"validation without tolerance", func() als.Params { p := params(4, 1, 0.1, false); p.Validation = 0.1; return p }()},
		{"validation > 0.5", func() als.Params { p := params(4, 1, 0.1, false); p.Validation, p.Tolerance = 0.6, 0.01; return p }()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkInvalid(t, s, r, tc.p) })
	}
}

// checkInvalid fails t unless Fit with p returns an error wrapping
// als.ErrInvalidParams without calling progress.
func checkInvalid(t *testing.T, s als.Solver, r *als.Ratings, p als.Params) {
	t.Helper()
	called := false
	err := s.Fit(t.Context(), &als.Model{}, r, p, func(als.Iteration) { called = true })
	if !errors.Is(err, als.ErrInvalidParams) {
		t.Errorf("Fit(%v) = %v, want an error wrapping ErrInvalidParams", p, err)
	}
	if called {
		t.Errorf("Fit(%v) called progress", p)
	}
}

func testRMSEDecreases(t *testing.T, s als.Solver) {
	const noise = 0.3
	r, _ := Synthetic(200, 150, 8000, 4, noise, 2)
	p := params(4, 12, 0.02, false)
	m, its := fit(t, s, r, p)
	if len(its) != p.Iterations {
		t.Fatalf("progress called %d times, want %d", len(its), p.Iterations)
	}
	for j := 2; j < len(its); j++ {
		if prev, cur := its[j-1].TrainRMSE, its[j].TrainRMSE; cur > prev*(1+1e-4) {
			t.Errorf("TrainRMSE rose at iteration %d: %.6f → %.6f", its[j].N, prev, cur)
		}
	}
	last := its[len(its)-1].TrainRMSE
	if last < 0.7*noise || last > 1.25*noise {
		t.Errorf("final TrainRMSE = %.4f, want near the noise level %.2f", last, noise)
	}
	if want := als.RMSE(m, r); math.Abs(last-want) > 1e-5*want {
		t.Errorf("final TrainRMSE = %.9f, als.RMSE of the result = %.9f", last, want)
	}
}

// testNormalEquations checks that after one iteration each item row
// solves its normal equations against the initial user factors and each
// user row against the new item factors, and that both halves agree with
// ReferenceHalf.
func testNormalEquations(t *testing.T, s als.Solver) {
	tests := []struct {
		name string
		rank int
		bias bool
	}{
		{"rank 1", 1, false},
		{"rank 5 bias", 5, true},
		{"rank 8", 8, false},
	}
	r, _ := SyntheticBias(150, 100, 3000, 3, 0.3, 3)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := params(tc.rank, 1, 0.1, tc.bias)
			m, _ := fit(t, s, r, p)
			var init als.Model
			als.Prepare(&init, r, p)

			// Item half: items against the initial users.
			half := init.Clone()
			half.ItemFactors, half.ItemBias = m.ItemFactors, m.ItemBias
			checkResiduals(t, half, r, p, Items)
			ref := init.Clone()
			ReferenceHalf(ref, r, p.Lambda, Items)
			if d := MaxRelDiff(half, ref); d > 1e-3 {
				t.Errorf("item half differs from ReferenceHalf by %.3g relative", d)
			}
			// User half: users against the new items.
			checkResiduals(t, m, r, p, Users)
			ReferenceHalf(half, r, p.Lambda, Users)
			if d := MaxRelDiff(m, half); d > 1e-3 {
				t.Errorf("user half differs from ReferenceHalf by %.3g relative", d)
			}
		})
	}
}

// testRegOffset checks the smoothed ridge λ·(n + c) (Params.RegOffset):
// after one iteration, and after two from the same start, the model
// equals the reference's with the same parameters, and differs from
// the one without the offset. A backend may refuse the offset (an error
// wrapping als.ErrInvalidParams) but never ignore it.
func testRegOffset(t *testing.T, s als.Solver) {
	r, _ := SyntheticBias(150, 100, 3000, 3, 0.3, 3)
	for _, tc := range []struct {
		name       string
		rank       int
		bias       bool
		iterations int
	}{
		{"rank 4", 4, false, 1},
		{"rank 5 bias", 5, true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := params(tc.rank, tc.iterations, 0.05, tc.bias)
			p.RegOffset = 7
			var m als.Model
			err := s.Fit(t.Context(), &m, r, p, nil)
			if errors.Is(err, als.ErrInvalidParams) {
				t.Logf("the backend refuses a ridge offset: %v", err)
				return
			}
			if err != nil {
				t.Fatalf("Fit(%v) = %v", p, err)
			}
			if p.Iterations == 1 {
				checkResiduals(t, &m, r, p, Users)
			}
			var want als.Model
			Reference(&want, r, p)
			if d := MaxRelDiff(&m, &want); d > 1e-3 {
				t.Errorf("Fit with offset %g differs from Reference by %.3g relative", p.RegOffset, d)
			}
			plain := p
			plain.RegOffset = 0
			var without als.Model
			Reference(&without, r, plain)
			if d := MaxRelDiff(&m, &without); d < 1e-2 {
				t.Errorf("Fit with offset %g is within %.3g of the fit without it: the offset was ignored", p.RegOffset, d)
			}
		})
	}
}

// checkResiduals fails t for each row of side whose solution x (with its
// bias) leaves ‖A x − b‖∞ > 1e-4 (‖A‖∞‖x‖∞ + ‖b‖∞), a float32-level
// backward error; rows without ratings must be zero.
func checkResiduals(t *testing.T, m *als.Model, r *als.Ratings, p als.Params, side Side) {
	t.Helper()
	rows := m.NumItems
	if side == Users {
		rows = m.NumUsers
	}
	bad := 0
	for row := 0; row < rows; row++ {
		a, b, n := normalEquations(m, r, p, side, row)
		xf, bias := solved(m, side, row)
		x := make([]float64, len(b))
		for c, v := range xf {
			x[c] = float64(v)
		}
		if bias != nil {
			x[m.Rank] = float64(*bias)
		}
		if n == 0 {
			if slices.ContainsFunc(x, func(v float64) bool { return v != 0 }) {
				t.Errorf("%s row %d has no ratings but solution %v", side, row, x)
			}
			continue
		}
		var res, na, nx, nb float64
		kp := len(b)
		for p := 0; p < kp; p++ {
			s, rowSum := -b[p], 0.0
			for q := 0; q < kp; q++ {
				s += a[p*kp+q] * x[q]
				rowSum += math.Abs(a[p*kp+q])
			}
			res = max(res, math.Abs(s))
			na = max(na, rowSum)
			nx = max(nx, math.Abs(x[p]))
			nb = max(nb, math.Abs(b[p]))
		}
		if !(res <= 1e-4*(na*nx+nb)) {
			if bad++; bad <= 5 {
				t.Errorf("%s row %d (%d ratings): residual %.3g, want ≤ %.3g", side, row, n, res, 1e-4*(na*nx+nb))
			}
		}
	}
	if bad > 5 {
		t.Errorf("%d %s rows in all fail their normal equations", bad, side)
	}
}

func testBias(t *testing.T, s als.Solver) {
	r, _ := SyntheticBias(200, 150, 8000, 3, 0.3, 4)
	_, plain := fit(t, s, r, params(3, 10, 0.05, false))
	_, biased := fit(t, s, r, params(3, 10, 0.05, true))
	got, without := biased[len(biased)-1].TrainRMSE, plain[len(plain)-1].TrainRMSE
	if got > without*(1+1e-3) {
		t.Errorf("TrainRMSE with biases = %.4f, without = %.4f, want no worse", got, without)
	}
}

func testZeroRatingRows(t *testing.T, s als.Solver) {
	r, _ := Synthetic(100, 80, 1500, 3, 0.3, 5)
	var users, items []int
	for u := 0; u < r.NumUsers; u++ {
		if r.UserPtr[u+1] == r.UserPtr[u] {
			users = append(users, u)
		}
	}
	for i := 0; i < r.NumItems; i++ {
		if r.ItemPtr[i+1] == r.ItemPtr[i] {
			items = append(items, i)
		}
	}
	if len(users) == 0 || len(items) == 0 {
		t.Fatalf("Synthetic gave %d empty users and %d empty items, want some of each", len(users), len(items))
	}
	for _, bias := range []bool{false, true} {
		m, _ := fit(t, s, r, params(4, 2, 0.1, bias))
		for _, u := range users {
			if !allZero(m.User(u)) || (bias && m.UserBias[u] != 0) {
				t.Errorf("bias=%t: user %d has no ratings but factors %v", bias, u, m.User(u))
			}
		}
		for _, i := range items {
			if !allZero(m.Item(i)) || (bias && m.ItemBias[i] != 0) {
				t.Errorf("bias=%t: item %d has no ratings but factors %v", bias, i, m.Item(i))
			}
		}
	}
}

func allZero(x []float32) bool {
	return !slices.ContainsFunc(x, func(v float32) bool { return v != 0 })
}

func testEmptyRatings(t *testing.T, s als.Solver) {
	r := als.NewRatings(3, 4, nil, nil, nil)
	for _, bias := range []bool{false, true} {
		m, its := fit(t, s, r, params(2, 2, 0.1, bias))
		if !allZero(m.UserFactors) || !allZero(m.ItemFactors) || !allZero(m.UserBias) || !allZero(m.ItemBias) {
			t.Errorf("bias=%t: model of no ratings = %+v, want all zeros", bias, m)
		}
		if len(its) != 2 || its[1].TrainRMSE != 0 {
			t.Errorf("bias=%t: progress = %+v, want 2 reports of RMSE 0", bias, its)
		}
	}
}

func testProgress(t *testing.T, s als.Solver) {
	r, _ := Synthetic(60, 50, 800, 3, 0.3, 6)
	p := params(3, 4, 0.1, true)
	m, its := fit(t, s, r, p)
	if len(its) != p.Iterations {
		t.Fatalf("progress called %d times, want %d", len(its), p.Iterations)
	}
	for j, it := range its {
		if it.N != j+1 || it.Of != p.Iterations || it.Duration < 0 || !(it.TrainRMSE > 0) || math.IsInf(it.TrainRMSE, 0) {
			t.Errorf("progress report %d = %+v, want N %d of %d, finite positive RMSE", j, it, j+1, p.Iterations)
		}
	}
	if got, want := its[len(its)-1].TrainRMSE, als.RMSE(m, r); math.Abs(got-want) > 1e-5*want {
		t.Errorf("last TrainRMSE = %.9f, als.RMSE of the result = %.9f", got, want)
	}
	// A nil progress is allowed.
	var m2 als.Model
	if err := s.Fit(t.Context(), &m2, r, p, nil); err != nil {
		t.Fatalf("Fit(nil progress) = %v", err)
	}
}

func testCanceledBefore(t *testing.T, s als.Solver) {
	r, _ := Synthetic(30, 20, 200, 2, 0.3, 7)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	called := false
	err := s.Fit(ctx, &als.Model{}, r, params(2, 3, 0.1, false), func(als.Iteration) { called = true })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Fit(canceled ctx) = %v, want an error wrapping context.Canceled", err)
	}
	if called {
		t.Errorf("Fit(canceled ctx) called progress")
	}
}

func testCanceledDuring(t *testing.T, s als.Solver) {
	r, _ := Synthetic(60, 50, 800, 3, 0.3, 8)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	p := params(3, 20, 0.1, false)
	calls := 0
	err := s.Fit(ctx, &als.Model{}, r, p, func(it als.Iteration) {
		calls++
		if it.N == 2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Fit(cancel at iteration 2) = %v, want an error wrapping context.Canceled", err)
	}
	if calls >= p.Iterations {
		t.Errorf("Fit(cancel at iteration 2) ran all %d iterations", calls)
	}
}

func testDeterministic(t *testing.T, s als.Solver) {
	r, _ := SyntheticBias(120, 90, 2500, 3, 0.3, 9)
	p := params(6, 3, 0.05, true)
	a, _ := fit(t, s, r, p)
	b, _ := fit(t, s, r, p)
	if !sameModel(a, b) {
		t.Errorf("two fits with seed %d differ by %.3g relative, want identical", p.Seed, MaxRelDiff(a, b))
	}
	// A destination that held a bigger, different model is fully reset.
	big, _ := Synthetic(200, 150, 3000, 3, 0.3, 10)
	var reused als.Model
	if err := s.Fit(t.Context(), &reused, big, params(8, 1, 0.1, true), nil); err != nil {
		t.Fatalf("Fit(big) = %v", err)
	}
	if err := s.Fit(t.Context(), &reused, r, p, nil); err != nil {
		t.Fatalf("Fit(reused dst) = %v", err)
	}
	if !sameModel(&reused, a) {
		t.Errorf("fit into a reused model differs from a fresh fit by %.3g relative", MaxRelDiff(&reused, a))
	}
}

func testValidation(t *testing.T, s als.Solver) {
	// Rank 8 against a rank-2 truth with little regularisation overfits:
	// the held-out error turns up after a few iterations.
	r, _ := SyntheticBias(200, 150, 3000, 2, 0.5, 12)
	p := params(8, 25, 0.001, true)
	p.Validation, p.Tolerance = 0.1, 0.001
	m, its := fit(t, s, r, p)
	if !slices.ContainsFunc(its, func(it als.Iteration) bool { return it.ValidationRMSE != 0 }) {
		if len(its) != p.Iterations {
			t.Errorf("Fit(%v) reports no held-out error yet ran %d of %d iterations", p, len(its), p.Iterations)
		}
		t.Skip("the solver ignores Params.Validation")
	}
	n := len(its)
	for j := 1; j < len(its); j++ {
		if stop, _ := p.HeldOutConverged(its[j-1].ValidationRMSE, its[j].ValidationRMSE); stop {
			n = j + 1
			break
		}
	}
	if n == p.Iterations {
		t.Fatalf("held-out errors never stop the fit: not a test of stopping")
	}
	if len(its) != n {
		t.Fatalf("Fit(%v) ran %d iterations, want %d by its held-out errors", p, len(its), n)
	}
	// A rise keeps the iterate before it, the best, and the last report
	// describes the model returned: the errors of the one before. (Not
	// every transport carries Stopped, which says so too.)
	best := n
	if its[n-1].ValidationRMSE == its[n-2].ValidationRMSE && its[n-1].TrainRMSE == its[n-2].TrainRMSE {
		best = n - 1
	}
	kept, held := r.HoldOut(p.Validation, p.Seed)
	last := its[n-1]
	if got, want := last.ValidationRMSE, held.RMSE(m); math.Abs(got-want) > 1e-5*want {
		t.Errorf("last ValidationRMSE = %.9f, held-out RMSE of the result = %.9f", got, want)
	}
	if got, want := last.TrainRMSE, als.RMSE(m, kept); math.Abs(got-want) > 1e-5*want {
		t.Errorf("last TrainRMSE = %.9f, RMSE of the result on the kept ratings = %.9f", got, want)
	}
	q := p
	q.Validation, q.Tolerance, q.Iterations = 0, 0, best
	if want, _ := fit(t, s, kept, q); !sameModel(m, want) {
		t.Errorf("stopped after %d iterations (%s), the model differs from a %d-iteration fit on the kept ratings by %.3g relative", n, last.Stopped, best, MaxRelDiff(m, want))
	}
}

func sameModel(a, b *als.Model) bool {
	return a.Rank == b.Rank && a.NumUsers == b.NumUsers && a.NumItems == b.NumItems &&
		a.Bias == b.Bias && a.Mean == b.Mean &&
		slices.Equal(a.UserFactors, b.UserFactors) && slices.Equal(a.ItemFactors, b.ItemFactors) &&
		slices.Equal(a.UserBias, b.UserBias) && slices.Equal(a.ItemBias, b.ItemBias)
}

func testZeroIterations(t *testing.T, s als.Solver) {
	r, _ := Synthetic(40, 30, 300, 2, 0.3, 11)
	for _, bias := range []bool{false, true} {
		p := params(5, 0, 0.1, bias)
		m, its := fit(t, s, r, p)
		var want als.Model
		als.Prepare(&want, r, p)
		if !sameModel(m, &want) {
			t.Errorf("bias=%t: Fit with 0 iterations differs from Prepare by %.3g relative", bias, MaxRelDiff(m, &want))
		}
		if len(its) != 0 {
			t.Errorf("bias=%t: progress called %d times, want 0", bias, len(its))
		}
	}
}
