package eval

import (
	"math"

	"movierec/engine"
)

// Relevant returns the relevance threshold of the ranking metrics for data
// on scale s: a test rating is relevant when it is at least this, the top
// fifth of the scale's range, Min + 0.8·(Max − Min), rounded to the
// nearest value of a stepped scale. That is 4 stars on MovieLens's half
// stars (0.5:5:0.5: 4.1 → 4) and whole stars (1:5:1: 4.2 → 4), 8 on
// 1:10:1 (8.2 → 8), 0.6 on the continuous -1:1. An unbounded scale has no
// range: the range of the ratings given (the training ratings) stands in,
// and 0 is returned when there are none.
func Relevant(s engine.Scale, ratings []engine.Rating) float64 {
	lo, hi := float64(s.Min), float64(s.Max)
	if !s.Bounded() {
		if len(ratings) == 0 {
			return 0
		}
		lo, hi = math.Inf(1), math.Inf(-1)
		for _, r := range ratings {
			lo, hi = math.Min(lo, float64(r.Value)), math.Max(hi, float64(r.Value))
		}
	}
	return s.Nearest(lo + 0.8*(hi-lo))
}
