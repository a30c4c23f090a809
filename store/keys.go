package store

import (
	"cmp"
	"slices"

	"movierec/engine"
)

// Both stores keep ratings in key order, by user and then movie: their
// reads return it and their snapshots are encoded in it. These helpers
// are pure and safe for concurrent use on distinct slices.

// CompareKey orders ratings by user, then movie.
func CompareKey(a, b engine.Rating) int {
	if c := cmp.Compare(a.User, b.User); c != 0 {
		return c
	}
	return cmp.Compare(a.Movie, b.Movie)
}

// SortedByKey reports whether rs is strictly increasing by (user, movie).
func SortedByKey(rs []engine.Rating) bool {
	for i := 1; i < len(rs); i++ {
		if a, b := rs[i-1], rs[i]; a.User > b.User || a.User == b.User && a.Movie >= b.Movie {
			return false
		}
	}
	return true
}

// LastOfEachKey returns ratings ordered by (user, movie) with only the
// last of each (user, movie) pair in input order, the rule the engine and
// both stores follow (a later line of a file is a later rating). It
// returns ratings itself when it already is so ordered, else a new slice.
func LastOfEachKey(ratings []engine.Rating) []engine.Rating {
	if SortedByKey(ratings) {
		return ratings
	}
	rs := slices.Clone(ratings)
	slices.SortStableFunc(rs, CompareKey)
	out := rs[:0]
	for i, r := range rs {
		if i+1 < len(rs) && rs[i+1].User == r.User && rs[i+1].Movie == r.Movie {
			continue // a later rating of the pair follows: it wins
		}
		out = append(out, r)
	}
	return out
}

// ApplyChanges returns rs (ordered by key, one rating a key) with the
// changes ch applied in their order (of two changes of one pair the later
// wins), still ordered by key. It reorders ch; rs may be modified and
// returned, or a new slice returned.
func ApplyChanges(rs []engine.Rating, ch []engine.Change) []engine.Rating {
	if len(ch) == 0 {
		return rs
	}
	slices.SortStableFunc(ch, func(a, b engine.Change) int { return CompareKey(a.Rating, b.Rating) })
	last := ch[:0]
	for i, c := range ch {
		if i+1 < len(ch) && ch[i+1].User == c.User && ch[i+1].Movie == c.Movie {
			continue
		}
		last = append(last, c)
	}
	inPlace := true // only rerates of stored pairs: no slice to build
	for _, c := range last {
		k, found := slices.BinarySearchFunc(rs, c.Rating, CompareKey)
		if !found || c.Deleted {
			inPlace = false
			break
		}
		rs[k] = c.Rating
	}
	if inPlace {
		return rs
	}
	out := make([]engine.Rating, 0, len(rs)+len(last))
	i := 0
	for _, c := range last {
		r := c.Rating
		for i < len(rs) && CompareKey(rs[i], r) < 0 {
			out = append(out, rs[i])
			i++
		}
		if i < len(rs) && CompareKey(rs[i], r) == 0 {
			i++
		}
		if !c.Deleted {
			out = append(out, r)
		}
	}
	return append(out, rs[i:]...)
}
