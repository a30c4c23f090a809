package engine_test

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"movierec/als"
	"movierec/engine"
)

// newMovies are movies a later import adds to the catalog of world.
var newMovies = []engine.Movie{
	{ID: 900, Title: "New Movie, A (2026)", Genres: []string{"Drama"}},
	{ID: 901, Title: "Unrated Newcomer (2026)", Genres: []string{"Comedy"}},
}

// TestFollowLoadsNewMovies: an import that extends the catalog after the
// replicas started reaches them without a restart: the movies, their
// ratings from the change feed, writes naming them, and (once a model
// covers them) recommendations; a model trained before they existed
// keeps serving meanwhile.
func TestFollowLoadsNewMovies(t *testing.T) {
	s := newSharedStore()
	movies, _ := world(t)
	s.movies = slices.Clone(movies)
	a := followEngine(t, s, &foldSolver{}, func(c *engine.Config) { c.Models = s })
	b := followEngine(t, s, &foldSolver{}, func(c *engine.Config) { c.Models = s; c.NeverTrain = true })
	runFollow(t, a, s)
	runFollow(t, b, s)
	for user, rs := range map[int32][]engine.RatingInput{
		7: {{Movie: 10, Value: 4}, {Movie: 11, Value: 2}},
		8: {{Movie: 10, Value: 5}, {Movie: 12, Value: 3}, {Movie: 13, Value: 1}},
	} {
		if _, err := a.AddRatings(t.Context(), user, rs); err != nil {
			t.Fatal(err)
		}
	}
	old, err := a.Retrain(t.Context())
	if err != nil {
		t.Fatalf("Retrain() error = %v", err)
	}
	waitFor(t, "engine b to load the first model", func() bool {
		snap := b.Snapshot()
		return snap != nil && snap.DataVersion == old.DataVersion
	})

	v := s.importMovies(newMovies, []engine.Rating{{User: 7, Movie: 900, Value: 5}, {User: 9, Movie: 900, Value: 4}})
	wantRatings := map[int32][]engine.Rating{
		7: {{User: 7, Movie: 10, Value: 4}, {User: 7, Movie: 11, Value: 2}, {User: 7, Movie: 900, Value: 5}},
		9: {{User: 9, Movie: 900, Value: 4}},
	}
	for name, e := range map[string]*engine.Engine{"a": a, "b": b} {
		waitFor(t, "engine "+name+" to apply the import", func() bool { return e.AppliedVersion() >= v })
		if m, n, avg, err := e.MovieStats(900); err != nil || m.Title != newMovies[0].Title || n != 2 || avg != 4.5 {
			t.Errorf("engine %s: MovieStats(900) = %v, %d, %v, %v; want %q, 2, 4.5", name, m, n, avg, err, newMovies[0].Title)
		}
		if _, n, _, err := e.MovieStats(901); err != nil || n != 0 {
			t.Errorf("engine %s: MovieStats(901) = %d, %v; want 0 ratings", name, n, err)
		}
		for user, want := range wantRatings {
			if got := memRatings(t, e, user); !cmp.Equal(got, want) {
				t.Errorf("engine %s: ratings of user %d = %v, want %v", name, user, got, want)
			}
		}
		if got := e.NumMovies(); got != len(movies)+len(newMovies) {
			t.Errorf("engine %s: NumMovies() = %d, want %d", name, got, len(movies)+len(newMovies))
		}
	}

	// The model trained before the movies existed has no factors for
	// them: it serves its own movies, and the new ones' averages. (User
	// 9, new too, has no vector in it: that list is by average rating
	// over every movie, new ones included.)
	if snap := b.Snapshot(); snap.DataVersion != old.DataVersion {
		t.Fatalf("engine b: model of data version %d, want the old one (%d)", snap.DataVersion, old.DataVersion)
	}
	for _, user := range []int32{7, 8, 9} {
		got, err := b.Recommend(t.Context(), engine.Query{User: user, N: 100, MinRatings: 0})
		if err != nil {
			t.Fatalf("engine b: Recommend(%d) with the old model: error = %v", user, err)
		}
		for _, p := range got {
			if p.Movie.ID >= 900 && user != 9 {
				t.Errorf("engine b: Recommend(%d) with the old model offers new movie %d, which it has no factors for", user, p.Movie.ID)
			}
		}
	}
	for _, user := range []int32{7, 8, 9} {
		p, err := b.Predict(t.Context(), user, 900)
		if err != nil || p.Score != 4.5 || p.Count != 2 {
			t.Errorf("engine b: Predict(%d, 900) with the old model = %+v, %v; want the average 4.5 of 2 ratings", user, p, err)
		}
	}

	// A write naming a new movie is accepted on either replica.
	if _, err := b.AddRatings(t.Context(), 8, []engine.RatingInput{{Movie: 901, Value: 3}}); err != nil {
		t.Fatalf("engine b: AddRatings(8, movie 901) error = %v", err)
	}
	waitFor(t, "engine a to see the rating of movie 901", func() bool { _, n, _, _ := a.MovieStats(901); return n == 1 })

	// A model trained after the import covers the new movies.
	snap, err := a.Retrain(t.Context())
	if err != nil {
		t.Fatalf("Retrain() error = %v", err)
	}
	if !slices.Contains(snap.MovieIDs, 900) || !slices.Contains(snap.MovieIDs, 901) {
		t.Fatalf("model trained after the import: movie ids %v lack 900 or 901", snap.MovieIDs)
	}
	waitFor(t, "engine b to load the new model", func() bool { return b.Snapshot().DataVersion == snap.DataVersion })
	got, err := b.Recommend(t.Context(), engine.Query{User: 8, N: 100, MinRatings: 0})
	if err != nil {
		t.Fatalf("engine b: Recommend(8) error = %v", err)
	}
	var ids []int32
	for _, p := range got {
		ids = append(ids, p.Movie.ID)
		if p.Movie.ID == 900 && (p.Count != 2 || p.Average != 4.5) {
			t.Errorf("engine b: Recommend(8) lists movie 900 with %d ratings, average %v; want 2, 4.5", p.Count, p.Average)
		}
	}
	if !slices.Contains(ids, 900) || slices.Contains(ids, 901) {
		t.Errorf("engine b: Recommend(8) = %v, want movie 900 (unrated by user 8) and not 901 (rated)", ids)
	}
}

// TestFollowResyncLoadsNewMovies: a follower whose change log was pruned
// past an import that extended the catalog reloads the catalog with the
// ratings.
func TestFollowResyncLoadsNewMovies(t *testing.T) {
	s := newSharedStore()
	movies, _ := world(t)
	s.movies = slices.Clone(movies)
	e := followEngine(t, nil, &foldSolver{}, func(c *engine.Config) { c.NeverTrain = true })
	e.ApplyChanges([]engine.Change{ch(1, 7, 10, 4)})
	s.mu.Lock()
	s.movies = append(s.movies, newMovies...)
	s.catalog++
	s.rows[[2]int32{7, 10}] = 4
	s.rows[[2]int32{7, 900}] = 3
	s.rows[[2]int32{8, 901}] = 5
	s.version, s.pruned = 4, 4
	s.mu.Unlock()
	runFollow(t, e, s)
	waitFor(t, "the reload", func() bool { return e.AppliedVersion() == 4 })
	want := map[int32][]engine.Rating{
		7: {{User: 7, Movie: 10, Value: 4}, {User: 7, Movie: 900, Value: 3}},
		8: {{User: 8, Movie: 901, Value: 5}},
	}
	for u, w := range want {
		if got := memRatings(t, e, u); !cmp.Equal(got, w) {
			t.Errorf("ratings of user %d = %v, want %v", u, got, w)
		}
	}
	for m, w := range map[int32]int{10: 1, 900: 1, 901: 1} {
		if _, n, _, err := e.MovieStats(m); err != nil || n != w {
			t.Errorf("MovieStats(%d) count = %d, %v; want %d", m, n, err, w)
		}
	}
}

func TestAddMovies(t *testing.T) {
	movies, rs := world(t)
	e, err := engine.New(engine.Config{Params: als.Params{Rank: 4, Iterations: 3, Lambda: 0.1, Seed: 5}, Scale: engine.MovieLensScale}, &foldSolver{}, movies, rs)
	if err != nil {
		t.Fatal(err)
	}
	_, n10, avg10, _ := e.MovieStats(10)
	add := []engine.Movie{
		newMovies[0],
		{ID: 10, Title: "Not the stored title"}, // in the catalog: kept as it is
		newMovies[1],
		{ID: 900, Title: "Listed twice"}, // the first counts
	}
	if got := e.AddMovies(add); got != 2 {
		t.Errorf("AddMovies() = %d, want 2", got)
	}
	if got := e.AddMovies(add); got != 0 {
		t.Errorf("AddMovies() again = %d, want 0", got)
	}
	if got, want := e.NumMovies(), len(movies)+2; got != want {
		t.Errorf("NumMovies() = %d, want %d", got, want)
	}
	if m, n, avg, err := e.MovieStats(10); err != nil || m.Title != movies[0].Title || n != n10 || avg != avg10 {
		t.Errorf("MovieStats(10) = %v, %d, %v, %v; want %q, %d, %v", m, n, avg, err, movies[0].Title, n10, avg10)
	}
	if m, _, _, err := e.MovieStats(900); err != nil || m.Title != newMovies[0].Title {
		t.Errorf("MovieStats(900) = %v, %v; want %q", m, err, newMovies[0].Title)
	}
	got, err := e.SearchMovies("unrated newcomer", 5)
	if err != nil || len(got) != 1 || got[0].Movie.ID != 901 {
		t.Errorf("SearchMovies(unrated newcomer) = %v, %v; want movie 901", got, err)
	}
	if _, err := e.AddRatings(t.Context(), 1, []engine.RatingInput{{Movie: 901, Value: 2}}); err != nil {
		t.Fatalf("AddRatings(movie 901) error = %v", err)
	}
	if _, n, avg, _ := e.MovieStats(901); n != 1 || avg != 2 {
		t.Errorf("MovieStats(901) = %d ratings, average %v; want 1, 2", n, avg)
	}
	// A model trained on the old catalog cannot know the new movies; one
	// trained now does, and ranks them for the users it has vectors for.
	snap, err := e.Retrain(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if snap.Model.NumItems != len(movies)+2 || len(snap.MovieIDs) != snap.Model.NumItems {
		t.Errorf("model trained after AddMovies: %d items, %d movie ids; want %d", snap.Model.NumItems, len(snap.MovieIDs), len(movies)+2)
	}
}

// TestAddMoviesConcurrent extends the catalog while lists, predictions,
// searches, similar movies, writes and retrains run (under -race it
// checks that readers never see a half-made catalog).
func TestAddMoviesConcurrent(t *testing.T) {
	movies, rs := world(t)
	e, err := engine.New(engine.Config{Params: als.Params{Rank: 4, Iterations: 2, Lambda: 0.1, Seed: 5}, MinRatings: 2, Scale: engine.MovieLensScale}, &foldSolver{}, movies, rs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Retrain(t.Context()); err != nil {
		t.Fatal(err)
	}
	const added = 60
	done := make(chan struct{})
	var rounds, newRated atomic.Int64
	var wg sync.WaitGroup
	fail := func(format string, args ...any) {
		t.Errorf(format, args...)
	}
	for g := range 4 {
		wg.Go(func() {
			user := int32(1 + g)
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				if _, err := e.Recommend(t.Context(), engine.Query{User: user, N: 20, MinRatings: -1}); err != nil {
					fail("Recommend(%d) error = %v", user, err)
				}
				if _, err := e.Recommend(t.Context(), engine.Query{User: 1000 + user, N: 20, MinRatings: 0}); err != nil {
					fail("Recommend(%d) error = %v", 1000+user, err)
				}
				if _, err := e.Predict(t.Context(), user, 900+int32(i%added)); err != nil && !errors.Is(err, engine.ErrUnknownMovie) {
					fail("Predict(%d) error = %v", user, err)
				}
				if _, err := e.Similar(t.Context(), 10, 5, 0); err != nil {
					fail("Similar(10) error = %v", err)
				}
				if _, err := e.SearchMovies("movie", 5); err != nil {
					fail("SearchMovies error = %v", err)
				}
				e.Popular(5, 0)
				movie := 900 + int32(i%added)
				_, err := e.AddRatings(t.Context(), user, []engine.RatingInput{{Movie: movie, Value: 4}})
				switch {
				case err == nil:
					newRated.Add(1)
				case !errors.Is(err, engine.ErrUnknownMovie):
					fail("AddRatings(%d, %d) error = %v", user, movie, err)
				}
				rounds.Add(1)
			}
		})
	}
	wg.Go(func() {
		for range 3 {
			if _, err := e.Retrain(t.Context()); err != nil {
				fail("Retrain() error = %v", err)
			}
		}
	})
	for i := range added {
		e.AddMovies([]engine.Movie{{ID: 900 + int32(i), Title: fmt.Sprintf("Added %d (2026)", i), Genres: []string{"Drama"}}})
		// Let every reader run a round on this catalog.
		for r := rounds.Load(); rounds.Load() < r+4; {
			runtime.Gosched()
		}
	}
	close(done)
	wg.Wait()
	if newRated.Load() == 0 {
		t.Error("no rating of an added movie was accepted")
	}
	if got, want := e.NumMovies(), len(movies)+added; got != want {
		t.Errorf("NumMovies() = %d, want %d", got, want)
	}
	// Every count is what the rows hold, whichever catalog a write found.
	want := make(map[int32]int)
	for u := int32(1); u <= 30; u++ {
		for _, r := range memRatings(t, e, u) {
			want[r.Movie]++
		}
	}
	ids := []int32{}
	for _, m := range movies {
		ids = append(ids, m.ID)
	}
	for i := range added {
		ids = append(ids, 900+int32(i))
	}
	for _, id := range ids {
		if _, n, _, err := e.MovieStats(id); err != nil || n != want[id] {
			t.Errorf("MovieStats(%d) = %d ratings, %v; want %d", id, n, err, want[id])
		}
	}
}

// TestAddRatingsSyncsCatalog checks that a following engine accepts a
// rating of a movie imported elsewhere before it was told of the import
// (its catalog is brought up to the store's on the spot), and still
// refuses a movie that exists nowhere.
func TestAddRatingsSyncsCatalog(t *testing.T) {
	s := newSharedStore()
	movies, _ := world(t)
	s.movies = slices.Clone(movies)
	e := followEngine(t, s, &foldSolver{}, func(c *engine.Config) { c.Models = s; c.NeverTrain = true })
	runFollow(t, e, s)
	if _, err := e.AddRatings(t.Context(), 1, []engine.RatingInput{{Movie: 10, Value: 4}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the follower to start", func() bool { return e.AppliedVersion() >= 1 })

	// An import through another process, not yet notified.
	s.mu.Lock()
	s.movies = append(s.movies, newMovies...)
	s.catalog++
	s.mu.Unlock()

	got, err := e.AddRatings(t.Context(), 2, []engine.RatingInput{{Movie: 10, Value: 3}, {Movie: 901, Value: 5}})
	if err != nil {
		t.Fatalf("AddRatings naming movie 901, imported elsewhere: %v", err)
	}
	if len(got) != 2 || got[1].Movie != 901 || got[1].Value != 5 {
		t.Errorf("AddRatings stored %+v", got)
	}
	if m, n, _, err := e.MovieStats(901); err != nil || m.Title != newMovies[1].Title || n != 1 {
		t.Errorf("MovieStats(901) = %v, %d, %v; want %q with 1 rating", m, n, err, newMovies[1].Title)
	}
	// The same for a prediction, after another silent import.
	s.mu.Lock()
	s.movies = append(s.movies, engine.Movie{ID: 902, Title: "Third (2026)"})
	s.catalog++
	s.mu.Unlock()
	// (No model is trained here: the movie known, the answer is "not ready".)
	if _, err := e.Predict(t.Context(), 2, 902); !errors.Is(err, engine.ErrModelNotReady) {
		t.Errorf("Predict(2, 902), movie imported elsewhere: error %v, want ErrModelNotReady", err)
	}
	if m, _, _, err := e.MovieStats(902); err != nil || m.ID != 902 {
		t.Errorf("MovieStats(902) = %+v, %v", m, err)
	}
	if _, err := e.AddRatings(t.Context(), 2, []engine.RatingInput{{Movie: 99999, Value: 3}}); !errors.Is(err, engine.ErrUnknownMovie) {
		t.Errorf("AddRatings naming movie 99999, which exists nowhere: error %v, want ErrUnknownMovie", err)
	}
}
