package als_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"movierec/als"
	"movierec/als/alstest"
)

type pair struct{ u, i int32 }

// entries returns r's ratings by (user, item), read from its by-user form.
func entries(r *als.Ratings) map[pair]float32 {
	m := make(map[pair]float32, r.NNZ())
	for u := 0; u < r.NumUsers; u++ {
		for p := r.UserPtr[u]; p < r.UserPtr[u+1]; p++ {
			m[pair{int32(u), r.UserIdx[p]}] = r.UserVal[p]
		}
	}
	return m
}

// TestHoldOut checks that HoldOut partitions the ratings: the kept ones
// form a valid Ratings whose by-item form is the transpose of its by-user
// form, the held-out ones are ordered by user then item, kept and held
// out together are the input, and the held-out share is within four
// standard deviations of the fraction (binomial).
func TestHoldOut(t *testing.T) {
	r, _ := alstest.Synthetic(300, 200, 20000, 4, 0.3, 7)
	tests := []struct {
		fraction float64
		seed     int64
	}{
		{0.02, 1},
		{0.02, 2},
		{0.1, -5},
		{0.5, 42},
		{0.99, 3},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("fraction=%g/seed=%d", tc.fraction, tc.seed), func(t *testing.T) {
			kept, held := r.HoldOut(tc.fraction, tc.seed)
			if err := kept.Validate(); err != nil {
				t.Fatalf("HoldOut(%g, %d) kept ratings: Validate() = %v", tc.fraction, tc.seed, err)
			}
			if kept.NumUsers != r.NumUsers || kept.NumItems != r.NumItems {
				t.Errorf("kept ratings %d×%d, want %d×%d", kept.NumUsers, kept.NumItems, r.NumUsers, r.NumItems)
			}
			// By-item form: exactly the transpose of the by-user form.
			if diff := cmp.Diff(als.NewRatingsCSR(kept.NumUsers, kept.NumItems, kept.UserPtr, kept.UserIdx, kept.UserVal), kept); diff != "" {
				t.Errorf("kept by-item form is not the transpose of its by-user form (-transpose +kept):\n%s", diff)
			}
			if len(held.Users) != held.Len() || len(held.Items) != held.Len() {
				t.Fatalf("HeldOut lengths %d users, %d items, %d values", len(held.Users), len(held.Items), held.Len())
			}
			all := entries(r)
			for j := range held.Vals {
				if j > 0 && (held.Users[j] < held.Users[j-1] || held.Users[j] == held.Users[j-1] && held.Items[j] <= held.Items[j-1]) {
					t.Fatalf("held out #%d (%d, %d) not after #%d (%d, %d)", j, held.Users[j], held.Items[j], j-1, held.Users[j-1], held.Items[j-1])
				}
				k := pair{held.Users[j], held.Items[j]}
				if v, ok := all[k]; !ok || v != held.Vals[j] {
					t.Fatalf("held out %v = %v, input has %v (%t)", k, held.Vals[j], v, ok)
				}
				delete(all, k)
			}
			for k, v := range entries(kept) {
				if w, ok := all[k]; !ok || w != v {
					t.Fatalf("kept %v = %v, input less held out has %v (%t)", k, v, w, ok)
				}
				delete(all, k)
			}
			if len(all) != 0 {
				t.Errorf("%d ratings neither kept nor held out", len(all))
			}
			n, f := float64(r.NNZ()), tc.fraction
			if d := math.Abs(float64(held.Len()) - f*n); d > 4*math.Sqrt(n*f*(1-f)) {
				t.Errorf("held out %d of %d, want %.0f ± %.0f", held.Len(), r.NNZ(), f*n, 4*math.Sqrt(n*f*(1-f)))
			}
		})
	}
}

// TestHoldOutDeterministic checks that the choice of a rating depends on
// its (user, item) and the seed only: the same call twice agrees, a
// matrix with a third of the ratings removed holds out exactly those of
// the full matrix's held-out ratings it still has, and another seed holds
// out others.
func TestHoldOutDeterministic(t *testing.T) {
	r, _ := alstest.Synthetic(200, 150, 10000, 4, 0.3, 3)
	const f, seed = 0.05, 9
	_, held := r.HoldOut(f, seed)
	if _, again := r.HoldOut(f, seed); !cmp.Equal(held, again) {
		t.Errorf("HoldOut(%g, %d) differs between two calls", f, seed)
	}

	// The same ratings less every third.
	var us, is []int32
	var vs []float32
	n := 0
	for u := 0; u < r.NumUsers; u++ {
		for p := r.UserPtr[u]; p < r.UserPtr[u+1]; p++ {
			if n++; n%3 != 0 {
				us, is, vs = append(us, int32(u)), append(is, r.UserIdx[p]), append(vs, r.UserVal[p])
			}
		}
	}
	sub := als.NewRatings(r.NumUsers, r.NumItems, us, is, vs)
	_, subHeld := sub.HoldOut(f, seed)
	in := entries(sub)
	var want als.HeldOut
	for j := range held.Vals {
		if _, ok := in[pair{held.Users[j], held.Items[j]}]; ok {
			want.Users, want.Items, want.Vals = append(want.Users, held.Users[j]), append(want.Items, held.Items[j]), append(want.Vals, held.Vals[j])
		}
	}
	if diff := cmp.Diff(want, subHeld); diff != "" {
		t.Errorf("held out of a subset differs from the full set's held out ratings in it (-want +got):\n%s", diff)
	}

	_, other := r.HoldOut(f, seed+1)
	same := 0
	mine := make(map[pair]bool, held.Len())
	for j := range held.Vals {
		mine[pair{held.Users[j], held.Items[j]}] = true
	}
	for j := range other.Vals {
		if mine[pair{other.Users[j], other.Items[j]}] {
			same++
		}
	}
	// Independent choices share about f² of the ratings (25 here).
	if same > held.Len()/2 {
		t.Errorf("seeds %d and %d hold out %d ratings in common of %d and %d", seed, seed+1, same, held.Len(), other.Len())
	}
}

func TestHoldOutZero(t *testing.T) {
	r, _ := alstest.Synthetic(20, 15, 100, 2, 0.1, 1)
	kept, held := r.HoldOut(0, 1)
	if kept != r || held.Len() != 0 {
		t.Errorf("HoldOut(0, 1) = %p with %d held out, want the input %p and none", kept, held.Len(), r)
	}
	if got := held.RMSE(&als.Model{}); got != 0 {
		t.Errorf("empty HeldOut.RMSE = %v, want 0", got)
	}
}

func TestHoldOutPanics(t *testing.T) {
	r, _ := alstest.Synthetic(20, 15, 100, 2, 0.1, 1)
	for _, f := range []float64{-0.1, 1, 1.5, math.NaN()} {
		t.Run(fmt.Sprint(f), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("HoldOut(%v, 1) did not panic", f)
				}
			}()
			r.HoldOut(f, 1)
		})
	}
}

// TestHeldOutRMSE checks HeldOut.RMSE against als.RMSE over the same
// ratings, with and without biases: the same predictions summed in the
// same order, so the same bits.
func TestHeldOutRMSE(t *testing.T) {
	for _, bias := range []bool{false, true} {
		t.Run(fmt.Sprintf("bias=%t", bias), func(t *testing.T) {
			r, truth := alstest.SyntheticBias(100, 80, 3000, 3, 0.3, 4)
			if !bias {
				r, truth = alstest.Synthetic(100, 80, 3000, 3, 0.3, 4)
			}
			_, held := r.HoldOut(0.2, 11)
			hr := als.NewRatings(r.NumUsers, r.NumItems, held.Users, held.Items, held.Vals)
			if got, want := held.RMSE(truth), als.RMSE(truth, hr); got != want || !(got > 0) {
				t.Errorf("HeldOut.RMSE = %v, als.RMSE of the same ratings = %v", got, want)
			}
		})
	}
}
