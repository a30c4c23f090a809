package eval_test

import (
	"testing"

	"movierec/engine"
	"movierec/eval"
)

func TestRelevant(t *testing.T) {
	rs := []engine.Rating{{Value: -2}, {Value: 3}, {Value: 0.5}}
	tests := []struct {
		s    engine.Scale
		want float64
	}{
		{engine.MovieLensScale, 4},
		{engine.WholeStarScale, 4},
		{engine.Scale{Min: 1, Max: 10, Step: 1}, 8},
		{engine.Scale{Min: 0.1, Max: 1, Step: 0.1}, 0.8},
		{engine.Scale{Min: 0, Max: 10}, 8},
		{engine.Unbounded, 2},
	}
	for _, tc := range tests {
		if got := eval.Relevant(tc.s, rs); got != tc.want {
			t.Errorf("Relevant(%s) = %v, want %v", tc.s.Spec(), got, tc.want)
		}
	}
	if got := eval.Relevant(engine.Unbounded, nil); got != 0 {
		t.Errorf("Relevant(unbounded, no ratings) = %v, want 0", got)
	}
}
