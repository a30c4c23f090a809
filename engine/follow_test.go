package engine_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"movierec/als"
	"movierec/engine"
)

// sharedStore is an in-memory store shared by several engines, as
// PostgreSQL is shared by several processes: store-wide versions in
// commit order, a change feed with notifications, models, and a trainer
// lock. down makes every call fail with engine.ErrStoreUnavailable.
type sharedStore struct {
	mu      sync.Mutex
	version int64
	changes []engine.Change
	rows    map[[2]int32]float32
	models  []*engine.Snapshot
	saves   int
	holder  *fakeLease
	down    bool
	watch   []chan struct{}
	pruned  int64          // Changes after a version below this answer ErrResync
	movies  []engine.Movie // the catalog (Movies); nil in tests that never extend it
	catalog int64          // the catalog version, bumped by importMovies
}

func newSharedStore() *sharedStore { return &sharedStore{rows: make(map[[2]int32]float32)} }

var (
	_ engine.VersionedStore = (*sharedStore)(nil)
	_ engine.ChangeFeed     = (*sharedStore)(nil)
	_ engine.ModelSource    = (*sharedStore)(nil)
	_ engine.ModelVersioner = (*sharedStore)(nil)
	_ engine.TrainerLock    = (*sharedStore)(nil)
	_ engine.ModelSaver     = (*sharedStore)(nil)
)

func (s *sharedStore) setDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
	s.notify()
}

func (s *sharedStore) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.watch {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// commitLocked appends one transaction's changes at the next version.
func (s *sharedStore) commitLocked(cs []engine.Change) int64 {
	s.version++
	for _, c := range cs {
		c.Version = s.version
		s.changes = append(s.changes, c)
		if c.Deleted {
			delete(s.rows, [2]int32{c.User, c.Movie})
		} else {
			s.rows[[2]int32{c.User, c.Movie}] = c.Value
		}
	}
	return s.version
}

func (s *sharedStore) AddRatings(ctx context.Context, rs []engine.Rating) error {
	_, err := s.AddRatingsVersion(ctx, rs)
	return err
}

func (s *sharedStore) AddRatingsVersion(_ context.Context, rs []engine.Rating) (int64, error) {
	s.mu.Lock()
	if s.down {
		s.mu.Unlock()
		return 0, engine.ErrStoreUnavailable
	}
	cs := make([]engine.Change, len(rs))
	for j, r := range rs {
		cs[j] = engine.Change{Rating: r}
	}
	v := s.commitLocked(cs)
	s.mu.Unlock()
	s.notify()
	return v, nil
}

func (s *sharedStore) DeleteRatingVersion(_ context.Context, user, movie int32) (int64, error) {
	s.mu.Lock()
	if s.down {
		s.mu.Unlock()
		return 0, engine.ErrStoreUnavailable
	}
	if _, ok := s.rows[[2]int32{user, movie}]; !ok {
		s.mu.Unlock()
		return 0, engine.ErrNotRated
	}
	v := s.commitLocked([]engine.Change{{Rating: engine.Rating{User: user, Movie: movie}, Deleted: true}})
	s.mu.Unlock()
	s.notify()
	return v, nil
}

func (s *sharedStore) Changes(_ context.Context, after int64, limit int) ([]engine.Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil, engine.ErrStoreUnavailable
	}
	if after < s.pruned {
		return nil, engine.ErrResync
	}
	var out []engine.Change
	for _, c := range s.changes {
		if c.Version <= after {
			continue
		}
		if len(out) >= limit && out[len(out)-1].Version != c.Version {
			break
		}
		out = append(out, c)
	}
	return out, nil
}

func (s *sharedStore) Ratings(context.Context) ([]engine.Rating, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []engine.Rating
	for k, v := range s.rows {
		out = append(out, engine.Rating{User: k[0], Movie: k[1], Value: v})
	}
	return out, s.version, nil
}

// importMovies adds movies to the catalog, as an import of a data set
// that extends it does, and commits ratings (which may name them) as one
// logged transaction when there are any; it returns that transaction's
// version (0 without ratings).
func (s *sharedStore) importMovies(movies []engine.Movie, rs []engine.Rating) int64 {
	s.mu.Lock()
	s.movies = append(s.movies, movies...)
	s.catalog++
	var v int64
	if len(rs) > 0 {
		cs := make([]engine.Change, len(rs))
		for j, r := range rs {
			cs[j] = engine.Change{Rating: r}
		}
		v = s.commitLocked(cs)
	}
	s.mu.Unlock()
	s.notify()
	return v
}

func (s *sharedStore) Movies(context.Context) ([]engine.Movie, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil, engine.ErrStoreUnavailable
	}
	return slices.Clone(s.movies), nil
}

func (s *sharedStore) CatalogVersion(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return 0, engine.ErrStoreUnavailable
	}
	return s.catalog, nil
}

func (s *sharedStore) Watch(ctx context.Context, notify func()) error {
	c := make(chan struct{}, 1)
	s.mu.Lock()
	s.watch = append(s.watch, c)
	s.mu.Unlock()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c:
		case <-t.C:
		}
		notify()
	}
}

func (s *sharedStore) SaveModel(_ context.Context, snap *engine.Snapshot) error {
	s.mu.Lock()
	if s.down {
		s.mu.Unlock()
		return engine.ErrStoreUnavailable
	}
	s.models = append(s.models, snap)
	s.saves++
	s.mu.Unlock()
	s.notify()
	return nil
}

func (s *sharedStore) LatestModel(_ context.Context, p als.Params) (*engine.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil, engine.ErrStoreUnavailable
	}
	for _, m := range slices.Backward(s.models) {
		switch {
		case m.Params == p:
			c := *m
			c.Ranker = nil
			return &c, nil
		case m.Ranker != nil && m.RankerParams == p:
			return &engine.Snapshot{Model: m.Ranker, Params: p, DataVersion: m.DataVersion, UserIDs: m.UserIDs, MovieIDs: m.MovieIDs}, nil
		}
	}
	return nil, nil
}

func (s *sharedStore) LatestModelVersion(ctx context.Context, p als.Params) (int64, bool, error) {
	m, err := s.LatestModel(ctx, p)
	if err != nil || m == nil {
		return 0, false, err
	}
	return m.DataVersion, true, nil
}

func (s *sharedStore) savedModels() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saves
}

// fakeLease is a trainer lease of sharedStore; lose simulates a broken
// connection.
type fakeLease struct {
	s    *sharedStore
	lost chan struct{}
	once sync.Once
}

func (l *fakeLease) Lost() <-chan struct{} { return l.lost }

func (l *fakeLease) Release() {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if l.s.holder == l {
		l.s.holder = nil
	}
}

func (l *fakeLease) lose() {
	l.once.Do(func() { close(l.lost) })
	l.Release()
}

// loseToOther is lose, with another process taking the lock at once.
func (l *fakeLease) loseToOther() {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	l.once.Do(func() { close(l.lost) })
	l.s.holder = &fakeLease{s: l.s, lost: make(chan struct{})}
}

func (s *sharedStore) TryAcquire(context.Context) (engine.Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil, engine.ErrStoreUnavailable
	}
	if s.holder != nil {
		return nil, nil
	}
	s.holder = &fakeLease{s: s, lost: make(chan struct{})}
	return s.holder, nil
}

func (s *sharedStore) lease() *fakeLease {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.holder
}

// followEngine builds an engine over world's catalog with no ratings at
// data version 0, storing in s.
func followEngine(t *testing.T, s engine.Store, solver als.Solver, mod func(*engine.Config)) *engine.Engine {
	t.Helper()
	movies, _ := world(t)
	cfg := engine.Config{Params: als.Params{Rank: 4, Iterations: 3, Lambda: 0.1, Seed: 5}, Scale: engine.MovieLensScale, Store: s}
	if mod != nil {
		mod(&cfg)
	}
	e, err := engine.New(cfg, solver, movies, nil)
	if err != nil {
		t.Fatalf("engine.New() error = %v", err)
	}
	return e
}

func ch(v int64, user, movie int32, val float32) engine.Change {
	return engine.Change{Version: v, Rating: engine.Rating{User: user, Movie: movie, Value: val}}
}

func del(v int64, user, movie int32) engine.Change {
	return engine.Change{Version: v, Rating: engine.Rating{User: user, Movie: movie}, Deleted: true}
}

// memRatings lists user's ratings as the engine holds them.
func memRatings(t *testing.T, e *engine.Engine, user int32) []engine.Rating {
	t.Helper()
	rs, err := e.UserRatings(t.Context(), user)
	if err != nil {
		t.Fatalf("UserRatings(%d) error = %v", user, err)
	}
	return rs
}

func TestApplyChanges(t *testing.T) {
	r := func(user, movie int32, v float32) engine.Rating {
		return engine.Rating{User: user, Movie: movie, Value: v}
	}
	tests := []struct {
		name    string
		batches [][]engine.Change
		user    int32
		want    []engine.Rating
		applied int64
		count   map[int32]int // movie → ratings count after
	}{
		{
			name:    "adds",
			batches: [][]engine.Change{{ch(1, 7, 10, 4), ch(1, 7, 11, 3)}},
			user:    7, want: []engine.Rating{r(7, 10, 4), r(7, 11, 3)}, applied: 1,
			count: map[int32]int{10: 1, 11: 1},
		},
		{
			name:    "a later version replaces",
			batches: [][]engine.Change{{ch(1, 7, 10, 4), ch(2, 7, 10, 1.5)}},
			user:    7, want: []engine.Rating{r(7, 10, 1.5)}, applied: 2,
			count: map[int32]int{10: 1},
		},
		{
			name:    "deletion",
			batches: [][]engine.Change{{ch(1, 7, 10, 4), ch(1, 7, 11, 3)}, {del(2, 7, 10)}},
			user:    7, want: []engine.Rating{r(7, 11, 3)}, applied: 2,
			count: map[int32]int{10: 0, 11: 1},
		},
		{
			name:    "the same batch twice",
			batches: [][]engine.Change{{ch(1, 7, 10, 4), ch(2, 7, 11, 3)}, {ch(1, 7, 10, 4), ch(2, 7, 11, 3)}},
			user:    7, want: []engine.Rating{r(7, 10, 4), r(7, 11, 3)}, applied: 2,
			count: map[int32]int{10: 1, 11: 1},
		},
		{
			name:    "an old change again after a newer one",
			batches: [][]engine.Change{{ch(1, 7, 10, 4)}, {ch(2, 7, 10, 2)}, {ch(1, 7, 10, 4)}},
			user:    7, want: []engine.Rating{r(7, 10, 2)}, applied: 2,
			count: map[int32]int{10: 1},
		},
		{
			name:    "a deleted rating is not revived by a replay",
			batches: [][]engine.Change{{ch(1, 7, 10, 4)}, {del(2, 7, 10)}, {ch(1, 7, 10, 4), del(2, 7, 10)}},
			user:    7, want: []engine.Rating{}, applied: 2,
			count: map[int32]int{10: 0},
		},
		{
			name:    "unknown movie skipped, version advances",
			batches: [][]engine.Change{{ch(1, 7, 999, 4), ch(1, 7, 12, 5)}},
			user:    7, want: []engine.Rating{r(7, 12, 5)}, applied: 1,
			count: map[int32]int{12: 1},
		},
		{
			name:    "deleting what was never seen",
			batches: [][]engine.Change{{del(3, 8, 10)}},
			user:    8, want: []engine.Rating{}, applied: 3,
			count: map[int32]int{10: 0},
		},
		{
			name:    "several users in one transaction",
			batches: [][]engine.Change{{ch(4, 7, 10, 4), ch(4, 8, 10, 2), ch(4, 7, 11, 1)}},
			user:    7, want: []engine.Rating{r(7, 10, 4), r(7, 11, 1)}, applied: 4,
			count: map[int32]int{10: 2, 11: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := followEngine(t, nil, &foldSolver{}, nil)
			for _, b := range tc.batches {
				e.ApplyChanges(b)
			}
			if got := memRatings(t, e, tc.user); !cmp.Equal(got, tc.want) {
				t.Errorf("ratings of user %d = %v, want %v", tc.user, got, tc.want)
			}
			if got := e.AppliedVersion(); got != tc.applied {
				t.Errorf("AppliedVersion() = %d, want %d", got, tc.applied)
			}
			if got := e.DataVersion(); got != tc.applied {
				t.Errorf("DataVersion() = %d, want %d", got, tc.applied)
			}
			for m, want := range tc.count {
				if _, n, _, err := e.MovieStats(m); err != nil || n != want {
					t.Errorf("MovieStats(%d) count = %d, %v; want %d", m, n, err, want)
				}
			}
		})
	}
}

// versionStore gives local writes the versions it is told, to stage a
// local write that commits after a remote one the feed has not delivered.
type versionStore struct{ next []int64 }

func (s *versionStore) AddRatings(context.Context, []engine.Rating) error { return nil }
func (s *versionStore) AddRatingsVersion(context.Context, []engine.Rating) (int64, error) {
	v := s.next[0]
	s.next = s.next[1:]
	return v, nil
}

func (s *versionStore) DeleteRatingVersion(context.Context, int32, int32) (int64, error) {
	v := s.next[0]
	s.next = s.next[1:]
	return v, nil
}

func TestLocalWriteRacingFeed(t *testing.T) {
	r := func(movie int32, v float32) engine.Rating { return engine.Rating{User: 7, Movie: movie, Value: v} }
	tests := []struct {
		name  string
		local func(e *engine.Engine) error
		feed  []engine.Change // delivered after the local write, oldest first
		want  []engine.Rating
	}{
		{
			name: "older remote write of the same movie does not roll back",
			local: func(e *engine.Engine) error {
				_, err := e.AddRatings(t.Context(), 7, []engine.RatingInput{{Movie: 10, Value: 5}})
				return err
			},
			feed: []engine.Change{ch(2, 7, 10, 1), ch(3, 7, 10, 5)},
			want: []engine.Rating{r(10, 5), r(11, 3)},
		},
		{
			name: "older remote write of another movie applies",
			local: func(e *engine.Engine) error {
				_, err := e.AddRatings(t.Context(), 7, []engine.RatingInput{{Movie: 10, Value: 5}})
				return err
			},
			feed: []engine.Change{ch(2, 7, 11, 1), ch(3, 7, 10, 5)},
			want: []engine.Rating{r(10, 5), r(11, 1)},
		},
		{
			name: "newer remote write after the local one applies",
			local: func(e *engine.Engine) error {
				_, err := e.AddRatings(t.Context(), 7, []engine.RatingInput{{Movie: 10, Value: 5}})
				return err
			},
			feed: []engine.Change{ch(3, 7, 10, 5), ch(4, 7, 10, 2)},
			want: []engine.Rating{r(10, 2), r(11, 3)},
		},
		{
			name: "local deletion is not undone by an older remote write",
			local: func(e *engine.Engine) error {
				_, err := e.DeleteRating(t.Context(), 7, 10)
				return err
			},
			feed: []engine.Change{ch(2, 7, 10, 4), del(3, 7, 10)},
			want: []engine.Rating{r(11, 3)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Version 1 (user 7 rated movie 11: 3) is applied; the local
			// write commits at version 3, after a remote write at 2.
			s := &versionStore{next: []int64{3}}
			e := followEngine(t, s, &foldSolver{}, nil)
			e.ApplyChanges([]engine.Change{ch(1, 7, 11, 3)})
			if err := tc.local(e); err != nil {
				t.Fatalf("local write: %v", err)
			}
			e.ApplyChanges(tc.feed)
			got := memRatings(t, e, 7)
			if !cmp.Equal(got, tc.want) {
				t.Errorf("ratings of user 7 = %v, want %v", got, tc.want)
			}
			// Once the feed passed the local write, replaying it changes nothing.
			e.ApplyChanges(tc.feed)
			if got := memRatings(t, e, 7); !cmp.Equal(got, tc.want) {
				t.Errorf("after replay: ratings of user 7 = %v, want %v", got, tc.want)
			}
		})
	}
}

// waitFor polls cond until it holds or the test's deadline nears.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// runFollow runs e.Follow until the test ends.
func runFollow(t *testing.T, e *engine.Engine, s *sharedStore) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := e.Follow(ctx, s, s); err != nil {
			t.Errorf("Follow() error = %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

func TestFollowSeesOtherWritesAndModels(t *testing.T) {
	s := newSharedStore()
	a := followEngine(t, s, &foldSolver{}, func(c *engine.Config) { c.Models = s })
	b := followEngine(t, s, &foldSolver{}, func(c *engine.Config) { c.Models = s; c.NeverTrain = true })
	runFollow(t, a, s)
	runFollow(t, b, s)

	if _, err := a.AddRatings(t.Context(), 7, []engine.RatingInput{{Movie: 10, Value: 4}, {Movie: 11, Value: 2}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddRatings(t.Context(), 8, []engine.RatingInput{{Movie: 10, Value: 5}}); err != nil {
		t.Fatal(err)
	}
	for _, e := range []*engine.Engine{a, b} {
		waitFor(t, "both writes on both engines", func() bool {
			_, n, _, _ := e.MovieStats(10)
			return n == 2 && e.AppliedVersion() == 2
		})
	}
	if got := memRatings(t, b, 7); len(got) != 2 {
		t.Errorf("engine b: ratings of user 7 = %v, want 2", got)
	}

	snap, err := a.Retrain(t.Context())
	if err != nil {
		t.Fatalf("Retrain() error = %v", err)
	}
	waitFor(t, "engine b to load the model", func() bool {
		s := b.Snapshot()
		return s != nil && s.DataVersion == snap.DataVersion
	})
	if _, err := b.Predict(t.Context(), 7, 12); err != nil {
		t.Errorf("b.Predict(7, 12) error = %v", err)
	}

	// A write after the model folds the user in on the other engine too.
	before, _ := b.Predict(t.Context(), 9, 12)
	if _, err := a.AddRatings(t.Context(), 9, []engine.RatingInput{{Movie: 12, Value: 0.5}, {Movie: 13, Value: 0.5}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "engine b to fold in user 9", func() bool {
		p, _ := b.Predict(t.Context(), 9, 12)
		return p.Score != before.Score
	})
}

func TestFollowOutage(t *testing.T) {
	s := newSharedStore()
	a := followEngine(t, s, &foldSolver{}, nil)
	b := followEngine(t, s, &foldSolver{}, func(c *engine.Config) { c.NeverTrain = true })
	runFollow(t, b, s)
	s.setDown(true)
	_, err := a.AddRatings(t.Context(), 7, []engine.RatingInput{{Movie: 10, Value: 4}})
	if !errors.Is(err, engine.ErrStoreUnavailable) {
		t.Fatalf("AddRatings with the store down: error = %v, want ErrStoreUnavailable", err)
	}
	if got := memRatings(t, a, 7); len(got) != 0 {
		t.Errorf("after a refused write: ratings of user 7 = %v, want none", got)
	}
	waitFor(t, "the follower to report the outage", func() bool { st := b.FollowStatus(); return st.Err != "" && st.Unavailable })
	s.setDown(false)
	if _, err := a.AddRatings(t.Context(), 7, []engine.RatingInput{{Movie: 10, Value: 4}}); err != nil {
		t.Fatalf("AddRatings after the outage: %v", err)
	}
	waitFor(t, "the follower to catch up", func() bool {
		st := b.FollowStatus()
		return st.Err == "" && st.Applied == 1
	})
}

// heldSolver blocks every Fit until release is closed, and reports each
// start on started.
type heldSolver struct {
	foldSolver
	started chan struct{}
	release chan struct{}
}

func (g *heldSolver) Fit(ctx context.Context, dst *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	select {
	case g.started <- struct{}{}:
	default:
	}
	select {
	case <-g.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.foldSolver.Fit(ctx, dst, r, p, progress)
}

func TestTrainerLock(t *testing.T) {
	s := newSharedStore()
	var engines []*engine.Engine
	for range 2 {
		e := followEngine(t, s, &foldSolver{}, func(c *engine.Config) {
			c.Models, c.Lock, c.LockRetry = s, s, 10*time.Millisecond
		})
		engines = append(engines, e)
		runFollow(t, e, s)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = e.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	if _, err := engines[0].AddRatings(t.Context(), 7, []engine.RatingInput{{Movie: 10, Value: 4}, {Movie: 11, Value: 2}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a trained model on both", func() bool {
		return s.savedModels() >= 1 && engines[0].Ready() && engines[1].Ready()
	})
	trainers := func() (n int, who int) {
		for i, e := range engines {
			if e.Trainer() {
				n, who = n+1, i
			}
		}
		return n, who
	}
	if n, _ := trainers(); n != 1 {
		t.Fatalf("%d engines train, want 1", n)
	}
	_, first := trainers()
	// The trainer's connection breaks: the other takes over.
	s.lease().lose()
	waitFor(t, "the other engine to take the lock", func() bool {
		n, who := trainers()
		return n == 1 && who != first || n == 1 && who == first && s.lease() != nil
	})
	if n, _ := trainers(); n != 1 {
		t.Errorf("after failover %d engines train, want 1", n)
	}
}

func TestNoSaveAfterLeaseLost(t *testing.T) {
	s := newSharedStore()
	g := &heldSolver{started: make(chan struct{}, 1), release: make(chan struct{})}
	e := followEngine(t, s, g, func(c *engine.Config) { c.Models, c.Lock, c.LockRetry = s, s, time.Hour })
	e.ApplyChanges([]engine.Change{ch(1, 7, 10, 4), ch(1, 7, 11, 3)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-g.started // training under the lease
	s.lease().loseToOther()
	close(g.release)
	waitFor(t, "the engine to give up training", func() bool { return !e.Trainer() })
	// Run retries the lock only after LockRetry (an hour): nothing can
	// publish meanwhile.
	if _, running := e.RetrainState(); running {
		waitFor(t, "the training to end", func() bool { _, r := e.RetrainState(); return !r })
	}
	if n := s.savedModels(); n != 0 {
		t.Errorf("%d models saved after the lease was lost, want 0", n)
	}
	if _, err := e.Retrain(t.Context()); !errors.Is(err, engine.ErrNotTrainer) {
		t.Errorf("Retrain() without the lock: error = %v, want ErrNotTrainer", err)
	}
}

func TestNeverTrainIgnoresRetrainRequests(t *testing.T) {
	e := followEngine(t, nil, &foldSolver{}, func(c *engine.Config) { c.NeverTrain = true })
	e.ApplyChanges([]engine.Change{ch(1, 7, 10, 4)})
	e.RequestRetrain()
	if pending, running := e.RetrainState(); pending || running {
		t.Errorf("RetrainState() = %v, %v; want no retrain on a follower", pending, running)
	}
	if err := e.Run(t.Context()); err != nil {
		t.Errorf("Run() = %v, want nil at once", err)
	}
}

func TestFollowResync(t *testing.T) {
	s := newSharedStore()
	e := followEngine(t, nil, &foldSolver{}, func(c *engine.Config) { c.NeverTrain = true })
	e.ApplyChanges([]engine.Change{ch(1, 7, 10, 4), ch(1, 8, 11, 3)}) // what it saw before
	// The store moved on (an import, then user 8's rating deleted) and
	// pruned its log.
	s.mu.Lock()
	s.rows[[2]int32{7, 10}] = 2
	s.rows[[2]int32{9, 12}] = 5
	s.version, s.pruned = 6, 6
	s.mu.Unlock()
	runFollow(t, e, s)
	waitFor(t, "the reload", func() bool { return e.AppliedVersion() == 6 })
	want := map[int32][]engine.Rating{
		7: {{User: 7, Movie: 10, Value: 2}},
		8: {},
		9: {{User: 9, Movie: 12, Value: 5}},
	}
	for u, w := range want {
		if got := memRatings(t, e, u); !cmp.Equal(got, w) {
			t.Errorf("ratings of user %d = %v, want %v", u, got, w)
		}
	}
	for m, w := range map[int32]int{10: 1, 11: 0, 12: 1} {
		if _, n, _, _ := e.MovieStats(m); n != w {
			t.Errorf("MovieStats(%d) count = %d, want %d", m, n, w)
		}
	}
}

// TestTrainerRetrainsOnItsOwnWrites: the lock holder's own writes come
// back through the feed as changes already applied; the model must still
// be retrained on them.
func TestTrainerRetrainsOnItsOwnWrites(t *testing.T) {
	s := newSharedStore()
	e := followEngine(t, s, &foldSolver{}, func(c *engine.Config) { c.Models, c.Lock, c.LockRetry = s, s, 10*time.Millisecond })
	runFollow(t, e, s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for i, movie := range []int32{10, 11, 12} {
		if _, err := e.AddRatings(t.Context(), 7, []engine.RatingInput{{Movie: movie, Value: 4}}); err != nil {
			t.Fatal(err)
		}
		want := int64(i + 1)
		waitFor(t, fmt.Sprintf("a model of data version %d", want), func() bool {
			snap := e.Snapshot()
			return snap != nil && snap.DataVersion == want && e.Trainer()
		})
	}
}
