package eval_test

import (
	"math"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"movierec/als"
	"movierec/engine"
	"movierec/eval"
)

func ratings(n int) []engine.Rating {
	rs := make([]engine.Rating, n)
	for i := range rs {
		rs[i] = engine.Rating{User: int32(i % 37), Movie: int32(100 + i%53), Value: float32(1 + i%5), Time: int64(i)}
	}
	return rs
}

func TestSplitInPlaceMatchesSplit(t *testing.T) {
	rs := ratings(5000)
	train, test := eval.Split(rs, 0.2, 7)
	train2, test2 := eval.SplitInPlace(slices.Clone(rs), 0.2, 7)
	if diff := cmp.Diff(train, train2); diff != "" {
		t.Errorf("train differs (-Split +SplitInPlace):\n%s", diff)
	}
	if diff := cmp.Diff(test, test2); diff != "" {
		t.Errorf("test differs (-Split +SplitInPlace):\n%s", diff)
	}
	if f := float64(len(test)) / float64(len(rs)); math.Abs(f-0.2) > 0.03 {
		t.Errorf("test fraction = %.3f, want about 0.2", f)
	}
}

func TestMatrix(t *testing.T) {
	rs := []engine.Rating{
		{User: 9, Movie: 5, Value: 1},
		{User: 3, Movie: 7, Value: 2},
		{User: 9, Movie: 7, Value: 3},
		{User: 9, Movie: 5, Value: 4}, // replaces the first
		{User: 3, Movie: 1, Value: 5},
	}
	r, ix := eval.Matrix(rs)
	wantIx := eval.Index{Users: map[int32]int32{9: 0, 3: 1}, Movies: map[int32]int32{5: 0, 7: 1, 1: 2}}
	if diff := cmp.Diff(wantIx, ix); diff != "" {
		t.Fatalf("Index mismatch (-want +got):\n%s", diff)
	}
	want := als.NewRatings(2, 3, []int32{0, 0, 1, 1}, []int32{0, 1, 1, 2}, []float32{4, 3, 2, 5})
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("Matrix mismatch (-want +got):\n%s", diff)
	}
	if err := r.Validate(); err != nil {
		t.Error(err)
	}
}

func TestScoreSkipsColdPairs(t *testing.T) {
	r, ix := eval.Matrix([]engine.Rating{{User: 1, Movie: 1, Value: 4}})
	m := &als.Model{Rank: 1, NumUsers: r.NumUsers, NumItems: r.NumItems, UserFactors: []float32{2}, ItemFactors: []float32{1.5}}
	res := eval.Score(m, ix, engine.MovieLensScale, []engine.Rating{
		{User: 1, Movie: 1, Value: 2},  // predicted 3 → error 1
		{User: 1, Movie: 99, Value: 2}, // unknown movie: skipped
		{User: 42, Movie: 1, Value: 2}, // unknown user: skipped
	})
	if res.TestPairs != 1 || res.Skipped != 2 || res.RMSE != 1 || res.MAE != 1 {
		t.Errorf("Score() = %+v, want 1 pair with error 1 and 2 skipped", res)
	}
}
