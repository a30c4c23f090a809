package eval

import (
	"cmp"
	"math"
	"slices"

	"movierec/engine"
)

// SplitByTime holds out each user's latest ratings: of a user's n ratings,
// the round(fraction·n) with the latest Time go to test (at most n − 1, so
// every user keeps a training rating). Ties in Time are broken by the
// higher movie id counting as later, then by the later position in rs, so
// the split is deterministic. Both parts keep the order of rs, which is not
// modified. fraction must be in [0, 1].
func SplitByTime(rs []engine.Rating, fraction float64) (train, test []engine.Rating) {
	if !(fraction >= 0 && fraction <= 1) {
		panic("eval: SplitByTime fraction not in [0, 1]")
	}
	// Group positions by user, then sort each group from latest to
	// earliest and mark the first round(fraction·n) as held out.
	byUser := make(map[int32][]int32)
	for k, r := range rs {
		byUser[r.User] = append(byUser[r.User], int32(k))
	}
	held := make([]bool, len(rs))
	nTest := 0
	for _, ks := range byUser {
		n := len(ks)
		h := min(int(math.Round(fraction*float64(n))), n-1)
		if h <= 0 {
			continue
		}
		slices.SortFunc(ks, func(a, b int32) int { // latest first
			ra, rb := rs[a], rs[b]
			if c := cmp.Compare(rb.Time, ra.Time); c != 0 {
				return c
			}
			if c := cmp.Compare(rb.Movie, ra.Movie); c != 0 {
				return c
			}
			return cmp.Compare(b, a)
		})
		for _, k := range ks[:h] {
			held[k] = true
		}
		nTest += h
	}
	train = make([]engine.Rating, 0, len(rs)-nTest)
	test = make([]engine.Rating, 0, nTest)
	for k, r := range rs {
		if held[k] {
			test = append(test, r)
		} else {
			train = append(train, r)
		}
	}
	return train, test
}
