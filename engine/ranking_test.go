package engine_test

import (
	"cmp"
	"context"
	"slices"
	"testing"

	"movierec/als"
	"movierec/als/alstest"
	"movierec/engine"
)

// rankingEngine is newEngine with an implicit ranking model beside the
// rating model.
func rankingEngine(t *testing.T) (*engine.Engine, []engine.Rating) {
	t.Helper()
	movies, rs := world(t)
	cfg := engine.Config{
		Params:  als.Params{Rank: 4, Iterations: 5, Lambda: 0.1, Seed: 5},
		Ranking: alstest.ImplicitParams(3, 4, 0.5, 1, 0.5, 0),
		Scale:   engine.MovieLensScale,
	}
	e, err := engine.New(cfg, &foldSolver{}, movies, rs)
	if err != nil {
		t.Fatalf("engine.New() error = %v", err)
	}
	if _, err := e.Retrain(t.Context()); err != nil {
		t.Fatalf("Retrain() error = %v", err)
	}
	return e, rs
}

// wantOrder ranks every movie of the snapshot's ranker not in rated by
// x·y, best first, ties by id, and returns the first n ids.
func wantOrder(s *engine.Snapshot, x []float32, rated map[int32]bool, n int) []int32 {
	type sc struct {
		id    int32
		score float32
	}
	var all []sc
	for i, id := range s.MovieIDs {
		if !rated[id] {
			all = append(all, sc{id, als.Dot(x, s.Ranker.Item(i))})
		}
	}
	slices.SortFunc(all, func(a, b sc) int {
		if a.score != b.score {
			return cmp.Compare(b.score, a.score)
		}
		return cmp.Compare(a.id, b.id)
	})
	var ids []int32
	for _, c := range all[:min(n, len(all))] {
		ids = append(ids, c.id)
	}
	return ids
}

func ids(ps []engine.Prediction) []int32 {
	out := make([]int32, len(ps))
	for j, p := range ps {
		out[j] = p.Movie.ID
	}
	return out
}

// TestRankingModelOrdersTop checks that top-N lists come from the ranking
// model's scores while every Score is the rating model's prediction.
func TestRankingModelOrdersTop(t *testing.T) {
	e, rs := rankingEngine(t)
	s := e.Snapshot()
	if s.Ranker == nil || s.RankerParams.Objective != als.Implicit {
		t.Fatalf("Snapshot().Ranker = %v with %v, want an implicit model", s.Ranker, s.RankerParams)
	}
	differ := 0
	for u, id := range s.UserIDs {
		rated := map[int32]bool{}
		for _, r := range rs {
			if r.User == id {
				rated[r.Movie] = true
			}
		}
		got, err := e.Top(t.Context(), id, 10)
		if err != nil {
			t.Fatal(err)
		}
		checkTop(t, e, got, 10, 0, rated)
		if want := wantOrder(s, s.Ranker.User(u), rated, 10); !slices.Equal(ids(got), want) {
			t.Errorf("Top(%d, 10) = %v, want the ranking model's order %v", id, ids(got), want)
		}
		for _, p := range got {
			pr, err := e.Predict(t.Context(), id, p.Movie.ID)
			if err != nil {
				t.Fatal(err)
			}
			if p.Score != pr.Score {
				t.Errorf("Top(%d) shows %v for movie %d, Predict = %v: want the rating model's prediction", id, p.Score, p.Movie.ID, pr.Score)
			}
		}
		if !slices.IsSortedFunc(got, func(a, b engine.Prediction) int { return cmp.Compare(b.Score, a.Score) }) {
			differ++
		}
	}
	if differ == 0 {
		t.Error("every list is also sorted by predicted rating; the ranking model changed nothing")
	}
}

// TestRankingFoldIn checks that a new user's list after a POST comes from
// their implicit fold-in vector, and that a user without ratings gets the
// most rated movies.
func TestRankingFoldIn(t *testing.T) {
	e, _ := rankingEngine(t)
	cold, err := e.Top(t.Context(), 0, 8)
	if err != nil {
		t.Fatal(err)
	}
	for j := 1; j < len(cold); j++ {
		if cold[j-1].Count < cold[j].Count {
			t.Errorf("cold-start list not by rating count: %v", cold)
		}
	}
	in := []engine.RatingInput{{Movie: 10, Value: 5}, {Movie: 12, Value: 4.5}, {Movie: 20, Value: 4}, {Movie: 31, Value: 2}}
	if _, err := e.AddRatings(t.Context(), 0, in); err != nil {
		t.Fatal(err)
	}
	s := e.Snapshot()
	movies := make([]int32, 0, len(in))
	vals := make([]float32, 0, len(in))
	rated := map[int32]bool{}
	for _, r := range in {
		movies = append(movies, int32(slices.Index(s.MovieIDs, r.Movie)))
		vals = append(vals, float32(r.Value))
		rated[r.Movie] = true
	}
	var f als.FoldIn
	x := make([]float32, s.Ranker.Rank)
	if !f.SolveImplicit(x, s.Ranker, als.Gram(s.Ranker.ItemFactors, s.Ranker.Rank), movies, vals, s.RankerParams) {
		t.Fatal("SolveImplicit() = false")
	}
	got, err := e.Top(t.Context(), 0, 8)
	if err != nil {
		t.Fatal(err)
	}
	if want := wantOrder(s, x, rated, 8); !slices.Equal(ids(got), want) {
		t.Errorf("Top(0, 8) after fold-in = %v, want %v", ids(got), want)
	}
}

// TestTopOrderUnclamped checks, with the rating model ranking, that the
// order comes from unclamped predictions: a user whose predictions all
// exceed the scale's top sees them by raw score, not by movie id, each
// shown clamped to 5.
func TestTopOrderUnclamped(t *testing.T) {
	movies, _ := world(t)
	movies = movies[:5] // ids 10..14
	rs := []engine.Rating{{User: 1, Movie: 10, Value: 4}}
	e, err := engine.New(engine.Config{Params: als.Params{Rank: 1, Iterations: 1, Lambda: 0.1}, Scale: engine.MovieLensScale},
		&foldSolver{}, movies, rs)
	if err != nil {
		t.Fatal(err)
	}
	m := &als.Model{Rank: 1, NumUsers: 1, NumItems: 5, UserFactors: []float32{1}, ItemFactors: []float32{9, 7, 8, 6, 10}}
	if err := e.Publish(&engine.Snapshot{Model: m, Params: als.Params{Rank: 1, Iterations: 1, Lambda: 0.1},
		UserIDs: []int32{1}, MovieIDs: []int32{10, 11, 12, 13, 14}}); err != nil {
		t.Fatal(err)
	}
	got, err := e.Top(t.Context(), 1, 4)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{14, 12, 11, 13}; !slices.Equal(ids(got), want) {
		t.Errorf("Top(1, 4) = %v, want %v (by unclamped prediction 10, 8, 7, 6)", ids(got), want)
	}
	for _, p := range got {
		if p.Score != 5 {
			t.Errorf("movie %d shown as %v, want clamped to 5", p.Movie.ID, p.Score)
		}
	}
}

// gateSolver is the reference solver whose implicit fits wait for gate.
type gateSolver struct {
	started chan struct{}
	gate    chan struct{}
}

func (s gateSolver) Fit(ctx context.Context, dst *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	if p.Objective == als.Implicit {
		close(s.started)
		<-s.gate
	}
	return alstest.ReferenceSolver{}.Fit(ctx, dst, r, p, progress)
}

func (gateSolver) Close() error { return nil }

// TestFirstTrainingServesEarly checks that the first retrain publishes the
// rating model while the ranking model trains, and the full snapshot after.
func TestFirstTrainingServesEarly(t *testing.T) {
	movies, rs := world(t)
	s := gateSolver{started: make(chan struct{}), gate: make(chan struct{})}
	cfg := engine.Config{
		Params:  als.Params{Rank: 4, Iterations: 5, Lambda: 0.1, Seed: 5},
		Ranking: alstest.ImplicitParams(3, 4, 0.5, 1, 0.5, 0),
		Scale:   engine.MovieLensScale,
	}
	e, err := engine.New(cfg, s, movies, rs)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := e.Retrain(t.Context())
		done <- err
	}()
	<-s.started
	snap := e.Snapshot()
	if snap == nil || snap.Ranker != nil {
		t.Fatalf("Snapshot() while the ranking model trains = %+v, want the rating model alone", snap)
	}
	if _, err := e.Top(t.Context(), 1, 5); err != nil {
		t.Errorf("Top() while the ranking model trains: %v", err)
	}
	close(s.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if snap := e.Snapshot(); snap.Ranker == nil {
		t.Error("Snapshot().Ranker = nil after Retrain, want the ranking model")
	}
}

// TestPublishFolding checks a restart's stored model of an older data
// version: a new engine on all ratings, given the model and the users who
// rated since, serves them as the engine that took their ratings did
// (folded in against the same model); without the users it would serve
// the old vector, or none for a new user.
func TestPublishFolding(t *testing.T) {
	e1, rs := rankingEngine(t)
	old := e1.Snapshot()
	ctx := t.Context()
	// User 0 is new; user 1 rerates one movie and rates another.
	posts := map[int32][]engine.RatingInput{
		0: {{Movie: 10, Value: 5}, {Movie: 12, Value: 4.5}, {Movie: 20, Value: 4}, {Movie: 31, Value: 2}},
		1: {{Movie: rs[0].Movie, Value: 0.5}, {Movie: 33, Value: 5}},
	}
	if rs[0].User != 1 {
		t.Fatalf("world's first rating is user %d's, want user 1's", rs[0].User)
	}
	var all []engine.Rating
	all = append(all, rs...)
	for _, u := range []int32{0, 1} {
		added, err := e1.AddRatings(ctx, u, posts[u])
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, added...)
	}
	movies, _ := world(t)
	restart := func(changed []int32) *engine.Engine {
		t.Helper()
		e2, err := engine.New(engine.Config{
			Params:  old.Params,
			Ranking: old.RankerParams,
			Scale:   engine.MovieLensScale,
			Version: e1.DataVersion(),
		}, &foldSolver{}, movies, all)
		if err != nil {
			t.Fatal(err)
		}
		if err := e2.PublishFolding(old, changed); err != nil {
			t.Fatal(err)
		}
		return e2
	}
	top := func(e *engine.Engine, u int32) []int32 {
		t.Helper()
		got, err := e.Top(ctx, u, 8)
		if err != nil {
			t.Fatal(err)
		}
		return ids(got)
	}
	predict := func(e *engine.Engine, u, m int32) float64 {
		t.Helper()
		p, err := e.Predict(ctx, u, m)
		if err != nil {
			t.Fatal(err)
		}
		return p.Score
	}
	e2 := restart([]int32{0, 1, 9999}) // 9999: no such user, skipped
	if s := e2.Snapshot(); s.DataVersion != old.DataVersion || s.DataVersion >= e2.DataVersion() {
		t.Fatalf("published model of version %d on data of version %d, want the old model's %d", s.DataVersion, e2.DataVersion(), old.DataVersion)
	}
	for _, u := range []int32{0, 1} {
		if got, want := top(e2, u), top(e1, u); !slices.Equal(got, want) {
			t.Errorf("user %d after the restart: Top = %v, want %v as before it", u, got, want)
		}
		if got, want := predict(e2, u, 40), predict(e1, u, 40); got != want {
			t.Errorf("user %d after the restart: Predict(40) = %v, want %v as before it", u, got, want)
		}
	}
	// Not folded: the new user has no vector, the other their old one.
	e3 := restart(nil)
	if got, want := top(e3, 0), top(e1, 0); slices.Equal(got, want) {
		t.Errorf("new user without folding: Top = %v, the folded list; want a list that ignores the ratings", got)
	}
	if got, want := predict(e3, 1, 40), predict(e1, 1, 40); got == want {
		t.Errorf("user 1 without folding: Predict(40) = %v, the folded prediction", got)
	}
}
