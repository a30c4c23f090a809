package engine_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"movierec/engine"
)

// deleteStore is a fakeStore that can delete.
type deleteStore struct {
	fakeStore
	deleted [][2]int32
}

func (s *deleteStore) DeleteRating(_ context.Context, user, movie int32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.deleted = append(s.deleted, [2]int32{user, movie})
	return nil
}

func TestDeleteRating(t *testing.T) {
	st := &deleteStore{}
	e := newEngine(t, &foldSolver{}, st, 0)
	if _, err := e.Retrain(t.Context()); err != nil {
		t.Fatal(err)
	}
	rs, _ := e.UserRatings(t.Context(), 1)
	if len(rs) < 2 {
		t.Fatalf("user 1 has %d ratings, want at least 2", len(rs))
	}
	target := rs[0]
	_, n0, avg0, _ := e.MovieStats(target.Movie)
	v0 := e.DataVersion()
	before, _ := e.Top(t.Context(), 1, 40)

	tests := []struct {
		name        string
		user, movie int32
		wantErr     error
	}{
		{"negative user", -1, target.Movie, engine.ErrInvalidInput},
		{"unknown movie", 1, 9999, engine.ErrUnknownMovie},
		{"unknown user", 12345, target.Movie, engine.ErrNotRated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.DeleteRating(t.Context(), tc.user, tc.movie); !errors.Is(err, tc.wantErr) {
				t.Errorf("DeleteRating(%d, %d) error = %v, want %v", tc.user, tc.movie, err, tc.wantErr)
			}
		})
	}
	if e.DataVersion() != v0 || len(st.deleted) != 0 {
		t.Fatalf("failed deletes changed something: version %d → %d, store deletes %v", v0, e.DataVersion(), st.deleted)
	}

	got, err := e.DeleteRating(t.Context(), 1, target.Movie)
	if err != nil || got.Value != target.Value {
		t.Fatalf("DeleteRating(1, %d) = %+v, %v, want the rating %v", target.Movie, got, err, target.Value)
	}
	if want := [][2]int32{{1, target.Movie}}; !slices.Equal(st.deleted, want) {
		t.Errorf("store deletes = %v, want %v", st.deleted, want)
	}
	if v := e.DataVersion(); v != v0+1 {
		t.Errorf("DataVersion() = %d, want %d", v, v0+1)
	}
	_, n1, avg1, _ := e.MovieStats(target.Movie)
	wantAvg := 0.0
	if n0 > 1 {
		wantAvg = (avg0*float64(n0) - float64(target.Value)) / float64(n0-1)
	}
	if n1 != n0-1 || !near(avg1, wantAvg) {
		t.Errorf("MovieStats(%d) = %d, %v, want %d, %v", target.Movie, n1, avg1, n0-1, wantAvg)
	}
	after, _ := e.Top(t.Context(), 1, 40)
	if slices.EqualFunc(before, after, func(a, b engine.Prediction) bool { return a.Movie.ID == b.Movie.ID && a.Score == b.Score }) {
		t.Errorf("Top(1) unchanged by the delete: fold-in did not run")
	}
	if !slices.ContainsFunc(after, func(p engine.Prediction) bool { return p.Movie.ID == target.Movie }) {
		t.Errorf("Top(1, 40) after deleting movie %d = %v, want it back in the list", target.Movie, after)
	}
	if _, err := e.DeleteRating(t.Context(), 1, target.Movie); !errors.Is(err, engine.ErrNotRated) {
		t.Errorf("second DeleteRating(1, %d) error = %v, want ErrNotRated", target.Movie, err)
	}

	// A failing store changes nothing.
	st.fail = errors.New("disk full")
	if _, err := e.DeleteRating(t.Context(), 1, rs[1].Movie); err == nil || e.DataVersion() != v0+1 {
		t.Errorf("DeleteRating with a failing store = %v, version %d; want the error and no change", err, e.DataVersion())
	}
}

// TestDeleteNeedsDeleter: a store that cannot delete makes DeleteRating fail.
func TestDeleteNeedsDeleter(t *testing.T) {
	e := newEngine(t, &foldSolver{}, &fakeStore{}, 0)
	rs, _ := e.UserRatings(t.Context(), 1)
	if _, err := e.DeleteRating(t.Context(), 1, rs[0].Movie); err == nil {
		t.Errorf("DeleteRating over a store without DeleteRating error = nil")
	}
}

func near(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 }

func TestTrainingsInMemory(t *testing.T) {
	s := &foldSolver{}
	e := newEngine(t, s, nil, 0)
	if _, err := e.Retrain(t.Context()); err != nil {
		t.Fatal(err)
	}
	s.fail = errors.New("device lost")
	if _, err := e.Retrain(t.Context()); err == nil {
		t.Fatal("Retrain with a failing solver error = nil")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	s.fail = context.Canceled
	_, _ = e.Retrain(ctx)
	ts, err := e.Trainings(t.Context(), 10)
	if err != nil || len(ts) != 3 {
		t.Fatalf("Trainings(10) = %d trainings, %v, want 3", len(ts), err)
	}
	var results []string
	for _, tr := range ts {
		results = append(results, tr.Result)
	}
	if want := []string{"canceled", "failed", "ok"}; !slices.Equal(results, want) {
		t.Errorf("Trainings results newest first = %v, want %v", results, want)
	}
	ok := ts[2]
	if ok.ID != 1 || ok.Error != "" || len(ok.Models) != 1 || len(ok.Models[0].Iterations) != 5 || ok.Models[0].Iterations[4].N != 5 ||
		ok.Ratings == 0 || ok.Result != engine.TrainingOK {
		t.Errorf("ok training = %+v, want id 1, the rating model's 5 iterations and the ratings", ok)
	}
	if ts[1].Error != "device lost" {
		t.Errorf("failed training error = %q, want device lost", ts[1].Error)
	}
	if ts, _ := e.Trainings(t.Context(), 1); len(ts) != 1 || ts[0].ID != 3 {
		t.Errorf("Trainings(1) = %+v, want the newest only", ts)
	}
}
