package eval

import "movierec/als"

// Fixed is a ranker whose scores are the same for every user: Fixed[i] is
// dense movie i's. Task.RankFixed ranks it by one sorted list; its Score
// method is the same ranker as a Scorer.
type Fixed []float64

// Score is a Scorer: it sets dst[i] = f[i] for each i in items.
func (f Fixed) Score(dst []float64, _ int, items []int32) {
	for _, i := range items {
		dst[i] = f[i]
	}
}

// MostRated ranks movies by their number of training ratings in r, the same
// list for everyone (less what each user rated): the popularity baseline.
func MostRated(r *als.Ratings) Fixed {
	count := make(Fixed, r.NumItems)
	for i := range r.NumItems {
		count[i] = float64(r.ItemPtr[i+1] - r.ItemPtr[i])
	}
	return count
}

// DefaultDamping is BestAverage's prior weight used by eval: a movie's mean
// is shrunk towards the global mean as if it had 10 more ratings at that
// mean, so a movie with three 5-star ratings (damped mean ≈ 3.8 on
// ml-latest-small) does not outrank one with hundreds averaging 4.3 (≈ 4.3).
const DefaultDamping = 10

// BestAverage ranks movies by their damped mean training rating in r, the
// same list for everyone: (Σ ratings + damping·μ) / (n + damping), μ the
// mean of all training ratings. damping ≥ 0; 0 is the plain mean (a movie
// without ratings then scores μ).
func BestAverage(r *als.Ratings, damping float64) Fixed {
	mu := r.Mean()
	avg := make(Fixed, r.NumItems)
	for i := range r.NumItems {
		var sum float64
		for _, v := range r.ItemVal[r.ItemPtr[i]:r.ItemPtr[i+1]] {
			sum += float64(v)
		}
		n := float64(r.ItemPtr[i+1] - r.ItemPtr[i])
		if n+damping == 0 {
			avg[i] = mu
			continue
		}
		avg[i] = (sum + damping*mu) / (n + damping)
	}
	return avg
}
