package als_test

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"movierec/als"
)

func TestNewRatingsForms(t *testing.T) {
	users := []int32{2, 0, 1, 0, 2}
	items := []int32{1, 2, 0, 0, 2}
	vals := []float32{5, 4, 3, 2, 1}
	r := als.NewRatings(3, 3, users, items, vals)
	want := &als.Ratings{
		NumUsers: 3, NumItems: 3,
		UserPtr: []int64{0, 2, 3, 5}, UserIdx: []int32{0, 2, 0, 1, 2}, UserVal: []float32{2, 4, 3, 5, 1},
		ItemPtr: []int64{0, 2, 3, 5}, ItemIdx: []int32{0, 1, 2, 0, 2}, ItemVal: []float32{2, 3, 5, 4, 1},
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Fatalf("NewRatings mismatch (-want +got):\n%s", diff)
	}
	if err := r.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	c := als.NewRatingsCSR(3, 3, want.UserPtr, want.UserIdx, want.UserVal)
	if diff := cmp.Diff(want, c); diff != "" {
		t.Fatalf("NewRatingsCSR mismatch (-want +got):\n%s", diff)
	}
	if got := r.Mean(); got != 3 {
		t.Errorf("Mean() = %v, want 3", got)
	}
}

func TestValidateRejects(t *testing.T) {
	good := func() *als.Ratings { return als.NewRatings(2, 2, []int32{0, 1}, []int32{1, 0}, []float32{1, 2}) }
	tests := []struct {
		name   string
		mutate func(r *als.Ratings)
	}{
		{"index out of range", func(r *als.Ratings) { r.UserIdx[0] = 7 }},
		{"short ptr", func(r *als.Ratings) { r.ItemPtr = r.ItemPtr[:2] }},
		{"decreasing ptr", func(r *als.Ratings) { r.UserPtr[1] = 3; r.UserPtr[2] = 2 }},
		{"nan value", func(r *als.Ratings) { r.ItemVal[1] = float32(nan()) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := good()
			tc.mutate(r)
			if err := r.Validate(); err == nil {
				t.Errorf("Validate() = nil, want error")
			}
		})
	}
}

func nan() float64 { return math.NaN() }

func TestCholeskySolve(t *testing.T) {
	// A = [[4,2,0],[2,5,1],[0,1,3]], x = [1,-1,2] → b = A·x.
	a := []float64{4, 0, 0, 2, 5, 0, 0, 1, 3}
	x := []float64{1, -1, 2}
	full := [][]float64{{4, 2, 0}, {2, 5, 1}, {0, 1, 3}}
	b := make([]float64, 3)
	for i := range full {
		for j := range full[i] {
			b[i] += full[i][j] * x[j]
		}
	}
	if !als.CholeskySolve(a, b, 3) {
		t.Fatal("CholeskySolve() = false, want true")
	}
	for i := range x {
		if d := b[i] - x[i]; d > 1e-12 || d < -1e-12 {
			t.Errorf("x[%d] = %v, want %v", i, b[i], x[i])
		}
	}
	if als.CholeskySolve([]float64{0, 0, 0, -1}, []float64{1, 1}, 2) {
		t.Error("CholeskySolve(not PD) = true, want false")
	}
}

func TestFoldInMatchesNormalEquations(t *testing.T) {
	m := &als.Model{Rank: 2, NumUsers: 1, NumItems: 3,
		UserFactors: make([]float32, 2),
		ItemFactors: []float32{1, 0, 0, 1, 1, 1}}
	var f als.FoldIn
	x := make([]float32, 2)
	_, ok := f.Solve(x, m, []int32{0, 2}, []float32{4, 2}, als.Params{Lambda: 0.5})
	if !ok {
		t.Fatal("Solve ok = false")
	}
	// A = y0y0ᵀ + y2y2ᵀ + λ·2·I = [[3,1],[1,2]], b = [4+2, 2] = [6,2] → x = [2, 0].
	if d := x[0] - 2; d*d > 1e-10 || x[1]*x[1] > 1e-10 {
		t.Errorf("Solve x = %v, want [2 0]", x)
	}
	if allocs := testing.AllocsPerRun(100, func() { f.Solve(x, m, []int32{0, 2}, []float32{4, 2}, als.Params{Lambda: 0.5}) }); allocs != 0 {
		t.Errorf("Solve allocs = %v, want 0", allocs)
	}
	if _, ok := f.Solve(x, m, nil, nil, als.Params{Lambda: 0.5}); ok {
		t.Error("Solve(no ratings) ok = true, want false")
	}
	// With a ridge offset of 2: λ·(2 + 2) = 2 on the diagonal, A = [[4,1],[1,3]]
	// → x = [16/11, 2/11].
	if _, ok := f.Solve(x, m, []int32{0, 2}, []float32{4, 2}, als.Params{Lambda: 0.5, RegOffset: 2}); !ok {
		t.Fatal("Solve with an offset: ok = false")
	}
	if d0, d1 := float64(x[0])-16.0/11, float64(x[1])-2.0/11; d0*d0 > 1e-10 || d1*d1 > 1e-10 {
		t.Errorf("Solve with an offset: x = %v, want [%v %v]", x, 16.0/11, 2.0/11)
	}
}
