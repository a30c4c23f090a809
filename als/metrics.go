package als

import "math"

// RMSE returns the root-mean-square error of m's raw predictions over every
// rating in r (by-user form), or 0 when r is empty.
func RMSE(m *Model, r *Ratings) float64 {
	if r.NNZ() == 0 {
		return 0
	}
	var se float64
	for u := 0; u < r.NumUsers; u++ {
		x := m.User(u)
		for p := r.UserPtr[u]; p < r.UserPtr[u+1]; p++ {
			i := int(r.UserIdx[p])
			pred := float64(Dot(x, m.Item(i)))
			if m.Bias {
				pred += float64(m.Mean) + float64(m.UserBias[u]) + float64(m.ItemBias[i])
			}
			d := pred - float64(r.UserVal[p])
			se += d * d
		}
	}
	return math.Sqrt(se / float64(r.NNZ()))
}
