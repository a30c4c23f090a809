package cpu_test

import (
	"fmt"
	"slices"
	"testing"

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
	for _, p := range []als.Params{
		{Rank: 7, Iterations: 3, Lambda: 0.05, Seed: 7},
		{Rank: 20, Iterations: 3, Lambda: 0.05, Seed: 8, Bias: true},
	} {
		var one, three als.Model
		var rmse1, rmse3 []float64
		if err := cpu.New(1).Fit(t.Context(), &one, r, p, func(it als.Iteration) { rmse1 = append(rmse1, it.TrainRMSE) }); err != nil {
			t.Fatalf("Fit(workers 1, %v) = %v", p, err)
		}
		if err := cpu.New(3).Fit(t.Context(), &three, r, p, func(it als.Iteration) { rmse3 = append(rmse3, it.TrainRMSE) }); err != nil {
			t.Fatalf("Fit(workers 3, %v) = %v", p, err)
		}
		if !slices.Equal(one.UserFactors, three.UserFactors) || !slices.Equal(one.ItemFactors, three.ItemFactors) ||
			!slices.Equal(one.UserBias, three.UserBias) || !slices.Equal(one.ItemBias, three.ItemBias) {
			t.Errorf("Fit(%v) with 1 and 3 workers differ by %.3g relative, want bit-identical", p, alstest.MaxRelDiff(&three, &one))
		}
		if !slices.Equal(rmse1, rmse3) {
			t.Errorf("Fit(%v) TrainRMSE with 1 worker %v, with 3 %v, want identical", p, rmse1, rmse3)
		}
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
