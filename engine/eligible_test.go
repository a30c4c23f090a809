package engine_test

import (
	"slices"
	"testing"

	"movierec/als"
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

// TestPackedScoringMatchesScan: with the engine's own rating floor a list
// is chosen from the 8-bit rows of the eligible movies (its finalists
// scored exactly); with the same floor given per query to an engine whose
// default is none, it scans every movie. Both must give the same lists,
// genre filters and biases included (TestQuantizedListsMatchFullPass
// checks many more cases).
func TestPackedScoringMatchesScan(t *testing.T) {
	const floor = 5
	for _, bias := range []bool{false, true} {
		movies, rs := world(t)
		p := als.Params{Rank: 4, Iterations: 5, Lambda: 0.1, Seed: 5, Bias: bias}
		build := func(minRatings int) *engine.Engine {
			e, err := engine.New(engine.Config{Params: p, MinRatings: minRatings, Scale: engine.MovieLensScale}, &foldSolver{}, movies, rs)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Retrain(t.Context()); err != nil {
				t.Fatal(err)
			}
			return e
		}
		packed, scan := build(floor), build(0)
		for _, q := range []engine.Query{{User: 1, N: 10}, {User: 7, N: 40}, {User: 12, N: 5, Genre: "comedy"}, {User: 30, N: 3}} {
			want, err := scan.Recommend(t.Context(), engine.Query{User: q.User, N: q.N, MinRatings: floor, Genre: q.Genre})
			if err != nil {
				t.Fatal(err)
			}
			q.MinRatings = -1
			got, err := packed.Recommend(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 || !slices.EqualFunc(got, want, func(a, b engine.Prediction) bool {
				return a.Movie.ID == b.Movie.ID && a.Rank == b.Rank && a.Score == b.Score
			}) {
				t.Errorf("bias %t, %+v: packed list %v, scanned list %v", bias, q, got, want)
			}
		}
	}
}
