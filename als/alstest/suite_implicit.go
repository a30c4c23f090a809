package alstest

import (
	"math"
	"testing"

	"movierec/als"
)

// The implicit objective's part of Run.

func testImplicitInvalidParams(t *testing.T, s als.Solver) {
	r, _ := Synthetic(20, 15, 100, 2, 0.1, 1)
	biased := ImplicitParams(3, 1, 0.1, 1, 1, 0)
	biased.Bias = true
	explicitAlpha := params(3, 1, 0.1, false)
	explicitAlpha.Alpha = 1
	tests := []struct {
		name string
		p    als.Params
	}{
		{"bias", biased},
		{"alpha < 0", ImplicitParams(3, 1, 0.1, -1, 1, 0)},
		{"alpha NaN", ImplicitParams(3, 1, 0.1, math.NaN(), 1, 0)},
		{"unobserved 0", ImplicitParams(3, 1, 0.1, 1, 0, 0)},
		{"reg exponent 3", ImplicitParams(3, 1, 0.1, 1, 1, 3)},
		{"lambda 0", ImplicitParams(3, 1, 0, 1, 1, 0)},
		{"alpha on explicit", explicitAlpha},
		{"unknown objective", als.Params{Rank: 3, Iterations: 1, Lambda: 0.1, Objective: 7}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkInvalid(t, s, r, tc.p) })
	}
}

// testImplicitNormalEquations checks both halves of one implicit iteration
// against ReferenceImplicitHalf, which forms each row's system from every
// row of the other side without the shared Gram matrix: plain ridge,
// frequency-scaled ridge, and an unobserved weight above some confidences
// (negative corrections), at ranks 1, 5 and 8.
func testImplicitNormalEquations(t *testing.T, s als.Solver) {
	tests := []struct {
		name string
		p    als.Params
	}{
		{"rank 1", ImplicitParams(1, 1, 0.5, 1, 1, 0)},
		{"rank 5 frequency-scaled", ImplicitParams(5, 1, 0.01, 0.5, 0.3, 1)},
		{"rank 8 nu 0.5", ImplicitParams(8, 1, 0.2, 2, 1, 0.5)},
		{"rank 8 unobserved above confidence", ImplicitParams(8, 1, 0.5, 0.1, 1.3, 0)},
		{"rank 8 alpha 0", ImplicitParams(8, 1, 0.5, 0, 0.5, 0)},
	}
	r, _ := Synthetic(150, 100, 3000, 3, 0.3, 3)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := fit(t, s, r, tc.p)
			var init als.Model
			als.Prepare(&init, r, tc.p)
			half := init.Clone()
			ReferenceImplicitHalf(half, r, tc.p, Items)
			got := init.Clone()
			got.ItemFactors = m.ItemFactors
			if d := MaxRelDiff(got, half); d > 1e-3 {
				t.Errorf("item half differs from ReferenceImplicitHalf by %.3g relative", d)
			}
			ReferenceImplicitHalf(got, r, tc.p, Users)
			if d := MaxRelDiff(m, got); d > 1e-3 {
				t.Errorf("user half differs from ReferenceImplicitHalf by %.3g relative", d)
			}
		})
	}
}

// testImplicitLossDecreases checks that the implicit objective, computed
// pair by pair, never rises from one iteration to the next (each half
// minimises it exactly over one side), that the fit ends far below its
// start, and that TrainRMSE is als.PreferenceRMSE of the result.
func testImplicitLossDecreases(t *testing.T, s als.Solver) {
	r, _ := Synthetic(120, 90, 2500, 3, 0.3, 12)
	p := ImplicitParams(6, 1, 0.05, 1, 0.5, 1)
	var init als.Model
	als.Prepare(&init, r, p)
	prev := ImplicitLossBrute(&init, r, p)
	first := prev
	var m als.Model
	for it := 1; it <= 6; it++ {
		p.Iterations = it
		var its []als.Iteration
		if err := s.Fit(t.Context(), &m, r, p, func(i als.Iteration) { its = append(its, i) }); err != nil {
			t.Fatalf("Fit(%v) = %v", p, err)
		}
		loss := ImplicitLossBrute(&m, r, p)
		if loss > prev*(1+1e-5) {
			t.Errorf("implicit loss rose after iteration %d: %.6f → %.6f", it, prev, loss)
		}
		if got, want := its[len(its)-1].TrainRMSE, als.PreferenceRMSE(&m, r); math.Abs(got-want) > 1e-5*want {
			t.Errorf("iteration %d: TrainRMSE = %.9f, als.PreferenceRMSE = %.9f", it, got, want)
		}
		prev = loss
	}
	if !(prev < 0.5*first) {
		t.Errorf("implicit loss %.4f after 6 iterations, started at %.4f: want well below", prev, first)
	}
}

// testImplicitZeroRows checks that rows without ratings get zero factors
// and that fits are bit-identical run to run.
func testImplicitZeroRows(t *testing.T, s als.Solver) {
	r, _ := Synthetic(100, 80, 1500, 3, 0.3, 5)
	p := ImplicitParams(4, 2, 0.1, 1, 0.5, 0.5)
	m, _ := fit(t, s, r, p)
	for u := 0; u < r.NumUsers; u++ {
		if r.UserPtr[u+1] == r.UserPtr[u] && !allZero(m.User(u)) {
			t.Errorf("user %d has no ratings but factors %v", u, m.User(u))
		}
	}
	for i := 0; i < r.NumItems; i++ {
		if r.ItemPtr[i+1] == r.ItemPtr[i] && !allZero(m.Item(i)) {
			t.Errorf("item %d has no ratings but factors %v", i, m.Item(i))
		}
	}
	again, _ := fit(t, s, r, p)
	if !sameModel(m, again) {
		t.Errorf("two implicit fits differ by %.3g relative, want identical", MaxRelDiff(m, again))
	}
}
