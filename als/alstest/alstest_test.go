package alstest_test

import (
	"math"
	"slices"
	"testing"

	"movierec/als"
	"movierec/als/alstest"
)

func TestRunReference(t *testing.T) {
	alstest.Run(t, func(*testing.T) als.Solver { return alstest.ReferenceSolver{} })
}

func TestReferenceMatchesReferenceHalf(t *testing.T) {
	r, _ := alstest.SyntheticBias(50, 40, 600, 2, 0.2, 1)
	p := als.Params{Rank: 3, Iterations: 3, Lambda: 0.1, Seed: 1, Bias: true}
	var got als.Model
	alstest.Reference(&got, r, p)
	var s alstest.ReferenceSolver
	var want als.Model
	if err := s.Fit(t.Context(), &want, r, p, nil); err != nil {
		t.Fatal(err)
	}
	if d := alstest.MaxRelDiff(&got, &want); d != 0 {
		t.Errorf("Reference differs from the ReferenceHalf loop by %.3g", d)
	}
}

func TestSynthetic(t *testing.T) {
	tests := []struct {
		name                   string
		users, items, nnz, k   int
		bias                   bool
		wantLong               int // some row at least this long
		wantZeroUser, wantOnes bool
	}{
		{"tiny", 5, 4, 6, 1, false, 1, true, true},
		{"small", 200, 150, 6000, 4, false, 120, true, true},
		{"dense", 50, 40, 1800, 3, true, 39, true, true},
		{"skewed", 2000, 3000, 60000, 5, true, 1000, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gen := alstest.Synthetic
			if tc.bias {
				gen = alstest.SyntheticBias
			}
			r, truth := gen(tc.users, tc.items, tc.nnz, tc.k, 0.3, 7)
			if err := r.Validate(); err != nil {
				t.Fatalf("Validate() = %v", err)
			}
			if r.NNZ() != tc.nnz || r.NumUsers != tc.users || r.NumItems != tc.items {
				t.Fatalf("shape %d×%d nnz %d, want %d×%d nnz %d", r.NumUsers, r.NumItems, r.NNZ(), tc.users, tc.items, tc.nnz)
			}
			if truth.Rank != tc.k || truth.Bias != tc.bias || truth.NumUsers != tc.users {
				t.Errorf("truth rank %d bias %t users %d", truth.Rank, truth.Bias, truth.NumUsers)
			}
			for u := 0; u < r.NumUsers; u++ {
				row := r.UserIdx[r.UserPtr[u]:r.UserPtr[u+1]]
				for j := 1; j < len(row); j++ {
					if row[j] == row[j-1] {
						t.Fatalf("user %d rates item %d twice", u, row[j])
					}
				}
			}
			for _, v := range r.UserVal {
				if v < 0.5 || v > 5 {
					t.Fatalf("rating %v outside [0.5, 5]", v)
				}
			}
			lens := func(ptr []int64) (zeros, ones, longest int) {
				for j := 1; j < len(ptr); j++ {
					switch n := int(ptr[j] - ptr[j-1]); n {
					case 0:
						zeros++
					case 1:
						ones++
					default:
						longest = max(longest, n)
					}
				}
				return
			}
			uz, uo, ul := lens(r.UserPtr)
			iz, _, il := lens(r.ItemPtr)
			if uz == 0 || iz == 0 || uo == 0 {
				t.Errorf("%d empty users, %d empty items, %d one-rating users; want some of each", uz, iz, uo)
			}
			if max(ul, il) < tc.wantLong {
				t.Errorf("longest row %d, want ≥ %d", max(ul, il), tc.wantLong)
			}
			// Noise-free residual of the truth is about the noise level.
			if got := als.RMSE(truth, r); got > 0.4 || got < 0.15 {
				t.Errorf("RMSE of the truth = %.3f, want about the noise 0.3", got)
			}
			r2, _ := gen(tc.users, tc.items, tc.nnz, tc.k, 0.3, 7)
			if !slices.Equal(r.UserIdx, r2.UserIdx) || !slices.Equal(r.UserVal, r2.UserVal) {
				t.Errorf("same seed gave different ratings")
			}
		})
	}
}

func TestSizes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the benchmark-size problems")
	}
	for _, s := range alstest.Sizes {
		r := s.Ratings(1)
		if r.NumUsers != s.Users || r.NumItems != s.Items || r.NNZ() != s.NNZ {
			t.Errorf("%s: %d×%d nnz %d, want %d×%d nnz %d", s.Name, r.NumUsers, r.NumItems, r.NNZ(), s.Users, s.Items, s.NNZ)
		}
		if m := r.Mean(); math.Abs(m-3.5) > 0.3 {
			t.Errorf("%s: mean rating %.2f, want about 3.5", s.Name, m)
		}
	}
}

// TestImplicitLoss checks als.ImplicitLoss, which sums the unobserved term
// through the item Gram matrix, against ImplicitLossBrute, which sums
// every pair, and als.Gram against plain loops, for several row counts
// (fewer rows than Gram's stripes, and not a multiple of them).
func TestImplicitLoss(t *testing.T) {
	for _, tc := range []struct{ users, items, nnz, rank int }{
		{5, 3, 8, 2}, {40, 30, 300, 4}, {120, 97, 2500, 7},
	} {
		r, _ := alstest.Synthetic(tc.users, tc.items, tc.nnz, 3, 0.3, 21)
		p := alstest.ImplicitParams(tc.rank, 2, 0.05, 1, 0.5, 0.75)
		var m als.Model
		if err := (alstest.ReferenceSolver{}).Fit(t.Context(), &m, r, p, nil); err != nil {
			t.Fatal(err)
		}
		got, want := als.ImplicitLoss(&m, r, p), alstest.ImplicitLossBrute(&m, r, p)
		if math.Abs(got-want) > 1e-6*math.Abs(want) { // the observed scores are float32 dot products
			t.Errorf("%d×%d rank %d: ImplicitLoss = %.12g, brute force %.12g", tc.users, tc.items, tc.rank, got, want)
		}
		g := als.Gram(m.ItemFactors, m.Rank)
		k := m.Rank
		for a := 0; a < k; a++ {
			for b := 0; b < k; b++ {
				var s float64
				for i := 0; i < m.NumItems; i++ {
					s += float64(m.Item(i)[a]) * float64(m.Item(i)[b])
				}
				if math.Abs(g[a*k+b]-s) > 1e-12*(1+math.Abs(s)) {
					t.Errorf("%d items rank %d: Gram[%d,%d] = %v, want %v", tc.items, k, a, b, g[a*k+b], s)
				}
			}
		}
	}
}
