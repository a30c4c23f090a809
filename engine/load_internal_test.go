package engine

import (
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"movierec/als"
)

// TestLoadSortedMatchesShuffled checks load's two paths: ratings as the
// stores read them (each user's in one run, by movie: rows are runs of one
// array) and the same ratings shuffled, with a duplicate (sorted per row,
// the later rating winning) build the same rows, counts and sums; and a
// write to a row of the first does not reach its neighbours.
func TestLoadSortedMatchesShuffled(t *testing.T) {
	var movies []Movie
	for i := range 40 {
		movies = append(movies, Movie{ID: int32(2 * i), Title: "m"})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var sorted []Rating
	for u := int32(5); u < 60; u += 1 + u%3 {
		for _, i := range rng.Perm(40)[:1+rng.IntN(12)] {
			sorted = append(sorted, Rating{User: u, Movie: int32(2 * i), Value: float32(1+rng.IntN(10)) / 2})
		}
	}
	// By user, then movie: the stores' order.
	slices.SortFunc(sorted, func(a, b Rating) int {
		if a.User != b.User {
			return int(a.User - b.User)
		}
		return int(a.Movie - b.Movie)
	})
	shuffled := slices.Clone(sorted)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	// A duplicate earlier in the input, which the later rating replaces.
	dup := shuffled[len(shuffled)-1]
	dup.Value = 0.5
	shuffled = append([]Rating{dup}, shuffled...)
	cfg := Config{Params: als.DefaultParams(), Scale: MovieLensScale}
	a, err := New(cfg, nil, movies, sorted)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(cfg, nil, movies, shuffled)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.rows) != len(b.rows) {
		t.Fatalf("%d rows sorted, %d shuffled", len(a.rows), len(b.rows))
	}
	for ua, id := range a.userIDs {
		ub := b.userIx[id]
		ra, rb := a.rows[ua], b.rows[ub]
		if !slices.Equal(ra.movies, rb.movies) || !slices.Equal(ra.vals, rb.vals) {
			t.Fatalf("user %d: row %v %v sorted, %v %v shuffled", id, ra.movies, ra.vals, rb.movies, rb.vals)
		}
		if cap(ra.movies) != len(ra.movies) || cap(ra.vals) != len(ra.vals) {
			t.Fatalf("user %d: a shared row's capacity exceeds its length", id)
		}
	}
	ca, cb := a.cat.Load(), b.cat.Load()
	for i := range ca.counts {
		if ca.counts[i].Load() != cb.counts[i].Load() || ca.sums[i].Load() != cb.sums[i].Load() {
			t.Fatalf("movie %d: count %d sum %v sorted, %d %v shuffled", i, ca.counts[i].Load(), ca.sums[i].Load(), cb.counts[i].Load(), cb.sums[i].Load())
		}
	}
	// The sorted input took the shared arrays: row 1 follows row 0.
	r0, r1 := a.rows[0].movies, a.rows[1].movies
	if uintptr(unsafe.Pointer(unsafe.SliceData(r1))) != uintptr(unsafe.Pointer(unsafe.SliceData(r0)))+4*uintptr(len(r0)) {
		t.Error("sorted ratings did not load as runs of one array")
	}
	// Appending to a shared row must not overwrite the next one.
	next := slices.Clone(a.rows[1].movies)
	_ = append(a.rows[0].movies, -7)
	if !slices.Equal(a.rows[1].movies, next) {
		t.Fatal("appending to row 0 changed row 1")
	}
}
