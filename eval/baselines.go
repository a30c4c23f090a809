package eval

import "movierec/als"

// MostRated ranks movies by their number of training ratings in r, the same
// list for everyone (less what each user rated): the popularity baseline.
func MostRated(r *als.Ratings) Scorer {
	count := make([]float64, r.NumItems)
	for i := range r.NumItems {
		count[i] = float64(r.ItemPtr[i+1] - r.ItemPtr[i])
	}
	return func(dst []float64, _ int, items []int32) {
		for _, i := range items {
			dst[i] = count[i]
		}
	}
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
func BestAverage(r *als.Ratings, damping float64) Scorer {
	mu := r.Mean()
	avg := make([]float64, r.NumItems)
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
	return func(dst []float64, _ int, items []int32) {
		for _, i := range items {
			dst[i] = avg[i]
		}
	}
}
