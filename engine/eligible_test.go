package engine_test

import (
	"slices"
	"testing"

	"movierec/engine"
)

// TestTopFollowsTheRatingFloor: a top-N list walks a cached list of the
// movies at or above the rating floor; a movie that reaches the floor by a
// POST must appear in the next list, and one that drops below it by a
// deletion must leave it, with the cache built before either change.
func TestTopFollowsTheRatingFloor(t *testing.T) {
	const floor = 8
	e := newEngine(t, &foldSolver{}, nil, floor)
	if _, err := e.Retrain(t.Context()); err != nil {
		t.Fatal(err)
	}
	counts := func(id int32) int {
		_, n, _, err := e.MovieStats(id)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	const user = 1000 // rates one movie so it has a personal list
	if _, err := e.AddRatings(t.Context(), user, []engine.RatingInput{{Movie: 10, Value: 4}}); err != nil {
		t.Fatal(err)
	}
	listed := func() []int32 {
		ps, err := e.Top(t.Context(), user, 1000)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]int32, len(ps))
		for i, p := range ps {
			ids[i] = p.Movie.ID
			if n := counts(p.Movie.ID); n < floor {
				t.Errorf("Top lists movie %d with %d ratings, below the floor of %d", p.Movie.ID, n, floor)
			}
		}
		return ids
	}
	// A movie with fewer than floor ratings, which the user has not rated.
	var low int32 = -1
	for id := int32(49); id >= 11; id-- {
		if n := counts(id); n > 0 && n < floor {
			low = id
			break
		}
	}
	if low < 0 {
		t.Fatal("world has no movie below the floor")
	}
	if slices.Contains(listed(), low) {
		t.Fatalf("movie %d with %d ratings listed before reaching the floor", low, counts(low))
	}
	var raters []int32
	for u := int32(2000); counts(low) < floor; u++ {
		if _, err := e.AddRatings(t.Context(), u, []engine.RatingInput{{Movie: low, Value: 5}}); err != nil {
			t.Fatal(err)
		}
		raters = append(raters, u)
	}
	if !slices.Contains(listed(), low) {
		t.Errorf("movie %d not listed after reaching the floor (%d ratings)", low, counts(low))
	}
	if _, err := e.DeleteRating(t.Context(), raters[len(raters)-1], low); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(listed(), low) {
		t.Errorf("movie %d still listed after dropping below the floor (%d ratings)", low, counts(low))
	}
}
