package engine_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"movierec/als"
	"movierec/als/alstest"
	"movierec/engine"
)

// foldSolver is the reference ALS with hooks: it counts fits and how many
// run at once, can be slowed down, and can fail.
type foldSolver struct {
	fits    atomic.Int32
	running atomic.Int32
	maxRun  atomic.Int32
	delay   time.Duration
	fail    error
}

func (s *foldSolver) Fit(ctx context.Context, dst *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	if err := p.Validate(); err != nil {
		return err
	}
	n := s.running.Add(1)
	defer s.running.Add(-1)
	for {
		m := s.maxRun.Load()
		if n <= m || s.maxRun.CompareAndSwap(m, n) {
			break
		}
	}
	s.fits.Add(1)
	time.Sleep(s.delay)
	if s.fail != nil {
		return s.fail
	}
	return alstest.ReferenceSolver{}.Fit(ctx, dst, r, p, progress)
}

func (s *foldSolver) Close() error { return nil }

// fakeStore records batches and can fail.
type fakeStore struct {
	mu      sync.Mutex
	batches [][]engine.Rating
	fail    error
}

func (s *fakeStore) AddRatings(_ context.Context, rs []engine.Rating) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.batches = append(s.batches, slices.Clone(rs))
	return nil
}

// world is a small random catalog: 40 movies, 30 users.
func world(t *testing.T) ([]engine.Movie, []engine.Rating) {
	t.Helper()
	movies := make([]engine.Movie, 40)
	for i := range movies {
		g := []string{"Drama"}
		if i%3 == 0 {
			g = []string{"Comedy", "Drama"}
		}
		movies[i] = engine.Movie{ID: int32(10 + i), Title: fmt.Sprintf("Movie %d, The (199%d)", 10+i, i%10), Genres: g}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var rs []engine.Rating
	for u := int32(1); u <= 30; u++ {
		for i := range movies {
			// Popular movies (low index) are rated more often.
			if rng.Float64() < 0.8/float64(1+i/8) {
				v := float32(1+rng.IntN(9)) / 2
				rs = append(rs, engine.Rating{User: u, Movie: movies[i].ID, Value: v + 0.5*float32(i%2)})
			}
		}
	}
	return movies, rs
}

func newEngine(t *testing.T, s als.Solver, store engine.Store, minRatings int) *engine.Engine {
	t.Helper()
	movies, rs := world(t)
	p := als.Params{Rank: 4, Iterations: 5, Lambda: 0.1, Seed: 5}
	e, err := engine.New(engine.Config{Params: p, MinRatings: minRatings, Scale: engine.MovieLensScale, Store: store}, s, movies, rs)
	if err != nil {
		t.Fatalf("engine.New() error = %v", err)
	}
	return e
}

func TestNewRejectsBadData(t *testing.T) {
	movies, rs := world(t)
	p := als.DefaultParams()
	tests := []struct {
		name    string
		rating  engine.Rating
		wantErr error
	}{
		{"unknown movie", engine.Rating{User: 1, Movie: 999, Value: 3}, engine.ErrUnknownMovie},
		{"off scale", engine.Rating{User: 1, Movie: 10, Value: 5.5}, engine.ErrInvalidRating},
		{"not a half star", engine.Rating{User: 1, Movie: 10, Value: 3.2}, engine.ErrInvalidRating},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := engine.New(engine.Config{Params: p, Scale: engine.MovieLensScale}, &foldSolver{}, movies, append(slices.Clone(rs), tc.rating))
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("engine.New() error = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestNotReadyBeforeTraining(t *testing.T) {
	e := newEngine(t, &foldSolver{}, nil, 0)
	if e.Ready() {
		t.Fatal("Ready() = true before training")
	}
	if _, err := e.Top(t.Context(), 1, 5); !errors.Is(err, engine.ErrModelNotReady) {
		t.Errorf("Top() error = %v, want ErrModelNotReady", err)
	}
	if _, err := e.Predict(t.Context(), 1, 10); !errors.Is(err, engine.ErrModelNotReady) {
		t.Errorf("Predict() error = %v, want ErrModelNotReady", err)
	}
}

// checkTop asserts the invariants of a top-N list.
func checkTop(t *testing.T, e *engine.Engine, got []engine.Prediction, n, minRatings int, rated map[int32]bool) {
	t.Helper()
	if len(got) > n {
		t.Errorf("Top returned %d movies, want at most %d", len(got), n)
	}
	seen := map[int32]bool{}
	for j, p := range got {
		if seen[p.Movie.ID] {
			t.Errorf("Top returned movie %d twice", p.Movie.ID)
		}
		seen[p.Movie.ID] = true
		if rated[p.Movie.ID] {
			t.Errorf("Top returned movie %d, which the user rated", p.Movie.ID)
		}
		if p.Count < minRatings {
			t.Errorf("Top returned movie %d with %d ratings, want ≥ %d", p.Movie.ID, p.Count, minRatings)
		}
		if j > 0 {
			q := got[j-1]
			if q.Rank < p.Rank {
				t.Errorf("Top not sorted by rank score: %v before %v", q, p)
			}
		}
	}
}

func TestTop(t *testing.T) {
	movies, rs := world(t)
	_ = movies
	for _, bias := range []bool{false, true} {
		for _, minR := range []int{0, 5, 12} {
			t.Run(fmt.Sprintf("bias=%t/min=%d", bias, minR), func(t *testing.T) {
				p := als.Params{Rank: 4, Iterations: 5, Lambda: 0.1, Seed: 5, Bias: bias}
				e, err := engine.New(engine.Config{Params: p, MinRatings: minR, Scale: engine.MovieLensScale}, &foldSolver{}, movies, rs)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.Retrain(t.Context()); err != nil {
					t.Fatalf("Retrain() error = %v", err)
				}
				for user := int32(1); user <= 30; user++ {
					rated := map[int32]bool{}
					for _, r := range rs {
						if r.User == user {
							rated[r.Movie] = true
						}
					}
					got, err := e.Top(t.Context(), user, 10)
					if err != nil {
						t.Fatalf("Top(%d, 10) error = %v", user, err)
					}
					checkTop(t, e, got, 10, minR, rated)
				}
			})
		}
	}
}

// zeroSolver trains a model whose every prediction is 0: all scores tie.
type zeroSolver struct{}

func (zeroSolver) Fit(_ context.Context, dst *als.Model, r *als.Ratings, p als.Params, _ func(als.Iteration)) error {
	als.Prepare(dst, r, p)
	clear(dst.UserFactors)
	clear(dst.ItemFactors)
	return nil
}
func (zeroSolver) Close() error { return nil }

func TestTopTiesByMovieID(t *testing.T) {
	e := newEngine(t, zeroSolver{}, nil, 0)
	if _, err := e.Retrain(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err := e.Top(t.Context(), 1, 40)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int32, len(got))
	for i, p := range got {
		ids[i] = p.Movie.ID
	}
	if !slices.IsSorted(ids) || len(ids) == 0 {
		t.Errorf("Top with tied scores = %v, want ascending movie ids", ids)
	}
}

func TestAddRatingsAllOrNothing(t *testing.T) {
	store := &fakeStore{}
	e := newEngine(t, &foldSolver{}, store, 0)
	if _, err := e.Retrain(t.Context()); err != nil {
		t.Fatal(err)
	}
	before := e.DataVersion()
	tests := []struct {
		name    string
		user    int32
		in      []engine.RatingInput
		wantErr error
	}{
		{"unknown movie last", 100, []engine.RatingInput{{Movie: 10, Value: 4}, {Movie: 9999, Value: 4}}, engine.ErrUnknownMovie},
		{"off scale", 100, []engine.RatingInput{{Movie: 10, Value: 4}, {Movie: 11, Value: 0}}, engine.ErrInvalidRating},
		{"ten stars", 100, []engine.RatingInput{{Movie: 10, Value: 10}}, engine.ErrInvalidRating},
		{"same movie twice", 100, []engine.RatingInput{{Movie: 10, Value: 4}, {Movie: 10, Value: 3}}, engine.ErrInvalidInput},
		{"empty", 100, nil, engine.ErrInvalidInput},
		{"negative user", -1, []engine.RatingInput{{Movie: 10, Value: 4}}, engine.ErrInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.AddRatings(t.Context(), tc.user, tc.in); !errors.Is(err, tc.wantErr) {
				t.Errorf("AddRatings() error = %v, want %v", err, tc.wantErr)
			}
		})
	}
	if v := e.DataVersion(); v != before || len(store.batches) != 0 {
		t.Errorf("after rejected batches: version %d (was %d), %d stored batches; want nothing stored", v, before, len(store.batches))
	}
	store.fail = errors.New("disk full")
	if _, err := e.AddRatings(t.Context(), 100, []engine.RatingInput{{Movie: 10, Value: 4}}); err == nil {
		t.Error("AddRatings() with a failing store = nil error")
	}
	if v := e.DataVersion(); v != before {
		t.Errorf("a write the store refused was applied: version %d, was %d", v, before)
	}
}

func TestNewUserFoldIn(t *testing.T) {
	e := newEngine(t, &foldSolver{}, nil, 0)
	if _, err := e.Retrain(t.Context()); err != nil {
		t.Fatal(err)
	}
	cold, err := e.Top(t.Context(), 0, 40)
	if err != nil {
		t.Fatal(err)
	}
	in := []engine.RatingInput{{Movie: 10, Value: 5}, {Movie: 11, Value: 0.5}, {Movie: 12, Value: 4.5}, {Movie: 13, Value: 1}}
	stored, err := e.AddRatings(t.Context(), 0, in)
	if err != nil {
		t.Fatalf("AddRatings() error = %v", err)
	}
	if len(stored) != len(in) || stored[0].User != 0 || stored[0].Movie != 10 || stored[0].Value != 5 {
		t.Errorf("AddRatings() = %v, want the ratings as stored", stored)
	}
	warm, err := e.Top(t.Context(), 0, 40)
	if err != nil {
		t.Fatal(err)
	}
	checkTop(t, e, warm, 40, 0, map[int32]bool{10: true, 11: true, 12: true, 13: true})
	if len(warm) != 36 {
		t.Errorf("Top(0, 40) after rating 4 of 40 movies returned %d, want 36", len(warm))
	}
	// Personal: the fold-in vector, not the popularity list.
	same := len(cold) == len(warm)
	for i := 0; same && i < len(warm); i++ {
		same = cold[i].Movie.ID == warm[i].Movie.ID
	}
	if same {
		t.Error("Top after fold-in equals the popularity ranking; want personal scores")
	}
	// The fold-in predicts the loved movie above the hated one.
	hi, _ := e.Predict(t.Context(), 0, 10)
	lo, _ := e.Predict(t.Context(), 0, 11)
	if hi.Score <= lo.Score {
		t.Errorf("Predict(0, loved) = %v ≤ Predict(0, hated) = %v", hi.Score, lo.Score)
	}
	// A retrain that includes the user keeps serving them personally.
	if _, err := e.Retrain(t.Context()); err != nil {
		t.Fatal(err)
	}
	after, _ := e.Top(t.Context(), 0, 40)
	checkTop(t, e, after, 40, 0, map[int32]bool{10: true, 11: true, 12: true, 13: true})
}

func TestReplaceRating(t *testing.T) {
	e := newEngine(t, &foldSolver{}, nil, 0)
	_, n0, avg0, _ := e.MovieStats(30)
	if _, err := e.AddRatings(t.Context(), 500, []engine.RatingInput{{Movie: 30, Value: 5}}); err != nil {
		t.Fatal(err)
	}
	_, n1, _, _ := e.MovieStats(30)
	if _, err := e.AddRatings(t.Context(), 500, []engine.RatingInput{{Movie: 30, Value: 1}}); err != nil {
		t.Fatal(err)
	}
	_, n2, avg2, _ := e.MovieStats(30)
	if n1 != n0+1 || n2 != n1 {
		t.Errorf("counts %d → %d → %d, want +1 then unchanged", n0, n1, n2)
	}
	want := (avg0*float64(n0) + 1) / float64(n0+1)
	if d := avg2 - want; d > 1e-9 || d < -1e-9 {
		t.Errorf("average after replacement = %v, want %v", avg2, want)
	}
}

func TestRetrainCoalesces(t *testing.T) {
	s := &foldSolver{delay: 20 * time.Millisecond}
	e := newEngine(t, s, nil, 0)
	if _, err := e.Retrain(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.AddRatings(ctx, int32(1000+i), []engine.RatingInput{{Movie: 10, Value: 3}}); err != nil {
				t.Error(err)
			}
			if _, err := e.Top(ctx, int32(1000+i), 5); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// Wait until the model has caught up with every write.
	deadline := time.After(10 * time.Second)
	for e.Snapshot().DataVersion != e.DataVersion() {
		select {
		case <-e.Trained():
		case <-deadline:
			t.Fatal("retrain never caught up with the writes")
		}
	}
	cancel()
	<-done
	if fits := s.fits.Load(); fits > 1+20 || fits < 2 {
		t.Errorf("%d fits for 50 writes, want a few coalesced ones", fits)
	}
	if m := s.maxRun.Load(); m != 1 {
		t.Errorf("%d trainings ran at once, want 1", m)
	}
}

func TestRetrainInterval(t *testing.T) {
	s := &foldSolver{}
	movies, rs := world(t)
	p := als.Params{Rank: 4, Iterations: 2, Lambda: 0.1, Seed: 5}
	e, err := engine.New(engine.Config{Params: p, Scale: engine.MovieLensScale, RetrainInterval: 300 * time.Millisecond}, s, movies, rs)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	start := time.Now()
	for i := range 20 {
		if _, err := e.AddRatings(ctx, int32(2000+i), []engine.RatingInput{{Movie: 10, Value: 3}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	deadline := time.After(10 * time.Second)
	for e.Snapshot() == nil || e.Snapshot().DataVersion != e.DataVersion() {
		select {
		case <-e.Trained():
		case <-deadline:
			t.Fatal("retrain never caught up")
		}
	}
	cancel()
	<-done
	// 20 writes over ~400 ms with 300 ms spacing: the first retrain at once,
	// then at most a couple more.
	if fits, elapsed := s.fits.Load(), time.Since(start); fits > int32(elapsed/(300*time.Millisecond))+1 || fits < 2 {
		t.Errorf("%d fits in %v with a 300 ms interval", fits, elapsed)
	}
}
