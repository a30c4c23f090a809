// Package storetest is the conformance suite every store passes (the
// als/alstest pattern): store/sqlite and store/postgres call Run from
// their tests. Subtests of the shared-store interfaces (engine's
// VersionedStore, ChangeFeed, TrainerLock) run only for a store that
// implements them.
package storetest

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"movierec/als"
	"movierec/engine"
	"movierec/store"
)

// Open opens a store on a fresh, empty database for t. reopen opens
// another handle on the same database (as a restart, or a second process,
// would). Both handles are closed by the suite; closing twice must be safe.
type Open func(t *testing.T) (db store.DB, reopen func(t *testing.T) store.DB)

// Run runs the suite against the stores open makes.
func Run(t *testing.T, open Open) {
	for _, tc := range []struct {
		name string
		f    func(*testing.T, Open)
	}{
		{"ImportIdempotent", testImportIdempotent},
		{"ImportKeepsPostedRatings", testImportKeepsPostedRatings},
		{"ImportLastOfDuplicates", testImportLastOfDuplicates},
		{"ImportRejectsUnknownMovie", testImportRejectsUnknownMovie},
		{"CatalogVersion", testCatalogVersion},
		{"Scale", testScale},
		{"AddRatingsReplaces", testAddRatingsReplaces},
		{"AllOrNothing", testAllOrNothing},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Close", testClose},
		{"Delete", testDelete},
		{"Models", testModels},
		{"Trainings", testTrainings},
		{"Versioned", testVersioned},
		{"ChangeFeed", testChangeFeed},
		{"Watch", testWatch},
		{"TrainerLock", testTrainerLock},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, open) })
	}
}

// Movies and Ratings are the suite's small data set.
var (
	Movies = []engine.Movie{
		{ID: 1, Title: "Toy Story (1995)", Genres: []string{"Adventure", "Animation"}},
		{ID: 11, Title: "American President, The (1995)", Genres: []string{"Comedy"}},
		{ID: 50, Title: `"Quoted" Title, With Comma (1999)`},
	}
	Ratings = []engine.Rating{
		{User: 1, Movie: 1, Value: 4, Time: 100},
		{User: 1, Movie: 11, Value: 3.5, Time: 101},
		{User: 2, Movie: 50, Value: 5, Time: 102},
	}
)

// opened opens a store and closes it when t ends.
func opened(t *testing.T, open Open) (store.DB, func(t *testing.T) store.DB) {
	t.Helper()
	db, reopen := open(t)
	t.Cleanup(func() { db.Close() })
	return db, func(t *testing.T) store.DB {
		t.Helper()
		db := reopen(t)
		t.Cleanup(func() { db.Close() })
		return db
	}
}

func mustImport(t *testing.T, db store.DB, movies []engine.Movie, ratings []engine.Rating) int64 {
	t.Helper()
	n, err := db.Import(t.Context(), movies, ratings, engine.MovieLensScale, nil)
	if err != nil {
		t.Fatalf("Import() error = %v", err)
	}
	return n
}

func version(t *testing.T, db store.DB) int64 {
	t.Helper()
	v, err := db.DataVersion(t.Context())
	if err != nil {
		t.Fatalf("DataVersion() error = %v", err)
	}
	return v
}

func allRatings(t *testing.T, db store.DB) ([]engine.Rating, int64) {
	t.Helper()
	rs, v, err := db.Ratings(t.Context())
	if err != nil {
		t.Fatalf("Ratings() error = %v", err)
	}
	return rs, v
}

func testImportIdempotent(t *testing.T, open Open) {
	db, reopen := opened(t, open)
	if empty, err := db.Empty(t.Context()); err != nil || !empty {
		t.Fatalf("Empty() = %v, %v on a new database, want true", empty, err)
	}
	var reports atomic.Int64
	added, err := db.Import(t.Context(), Movies, Ratings, engine.WholeStarScale, func(store.ImportProgress) { reports.Add(1) })
	if err != nil || added != 3 || reports.Load() == 0 {
		t.Fatalf("Import() = %d, %v (%d progress reports), want 3 added and a report", added, err, reports.Load())
	}
	v1 := version(t, db)
	if added := mustImport(t, db, Movies, Ratings); added != 0 {
		t.Fatalf("second Import() = %d, want 0 added", added)
	}
	if v2 := version(t, db); v2 != v1 || v1 < 1 {
		t.Errorf("data version after imports = %d then %d, want ≥ 1 and unchanged", v1, v2)
	}
	if empty, err := db.Empty(t.Context()); err != nil || empty {
		t.Errorf("Empty() after an import = %v, %v, want false", empty, err)
	}
	db.Close()

	db = reopen(t)
	gotM, err := db.Movies(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Movies, gotM); diff != "" {
		t.Errorf("Movies() after reopen mismatch (-want +got):\n%s", diff)
	}
	if sc, err := db.Scale(t.Context()); err != nil || sc != engine.WholeStarScale {
		t.Errorf("Scale() = %v, %v, want the first import's %v", sc, err, engine.WholeStarScale)
	}
	gotR, v := allRatings(t, db)
	if v != v1 {
		t.Errorf("Ratings() version = %d, want %d", v, v1)
	}
	if diff := cmp.Diff(Ratings, gotR); diff != "" {
		t.Errorf("Ratings() after reopen mismatch (-want +got):\n%s", diff)
	}
	var reads atomic.Int64
	if _, _, err := db.ReadRatings(t.Context(), func(store.ReadProgress) { reads.Add(1) }); err != nil {
		t.Errorf("ReadRatings(progress) error = %v", err)
	}
}

// testImportKeepsPostedRatings imports into a store that has ratings: only
// new (user, movie) pairs are added, a rating posted since the first
// import survives, and new movies join the catalog.
func testImportKeepsPostedRatings(t *testing.T, open Open) {
	db, _ := opened(t, open)
	mustImport(t, db, Movies, Ratings)
	posted := engine.Rating{User: 1, Movie: 1, Value: 1, Time: 500}
	if err := db.AddRatings(t.Context(), []engine.Rating{posted}); err != nil {
		t.Fatal(err)
	}
	v0 := version(t, db)
	more := append([]engine.Movie{{ID: 60, Title: "New (2000)", Genres: []string{"Drama"}}}, Movies...)
	extra := append(append([]engine.Rating{}, Ratings...), engine.Rating{User: 3, Movie: 60, Value: 2, Time: 103})
	if added := mustImport(t, db, more, extra); added != 1 {
		t.Fatalf("Import() of one new rating added %d", added)
	}
	if v := version(t, db); v <= v0 {
		t.Errorf("DataVersion() after an import that added = %d, want > %d", v, v0)
	}
	got, _ := allRatings(t, db)
	want := []engine.Rating{posted, Ratings[1], Ratings[2], {User: 3, Movie: 60, Value: 2, Time: 103}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Ratings() mismatch (-want +got):\n%s", diff)
	}
	if ms, _ := db.Movies(t.Context()); len(ms) != 4 || ms[3].ID != 60 {
		t.Errorf("Movies() = %v, want the new movie 60 added", ms)
	}
}

// testImportLastOfDuplicates imports unsorted ratings that rate a pair
// twice: the last counts (as in the engine), and Ratings comes back sorted.
func testImportLastOfDuplicates(t *testing.T, open Open) {
	db, _ := opened(t, open)
	in := []engine.Rating{
		{User: 2, Movie: 50, Value: 5, Time: 102},
		{User: 1, Movie: 11, Value: 1, Time: 999},
		{User: 1, Movie: 1, Value: 4, Time: 100},
		{User: 1, Movie: 11, Value: 3.5, Time: 101},
	}
	if added := mustImport(t, db, Movies, in); added != 3 {
		t.Errorf("Import() added %d, want 3", added)
	}
	got, _ := allRatings(t, db)
	if diff := cmp.Diff(Ratings, got); diff != "" {
		t.Errorf("Ratings() mismatch (-want +got):\n%s", diff)
	}
}

func testImportRejectsUnknownMovie(t *testing.T, open Open) {
	db, _ := opened(t, open)
	bad := append(append([]engine.Rating{}, Ratings...), engine.Rating{User: 5, Movie: 77777, Value: 3})
	if _, err := db.Import(t.Context(), Movies, bad, engine.MovieLensScale, nil); !errors.Is(err, engine.ErrUnknownMovie) {
		t.Fatalf("Import(unknown movie) error = %v, want ErrUnknownMovie", err)
	}
	if got, _ := allRatings(t, db); len(got) != 0 {
		t.Fatalf("a refused import stored %d ratings", len(got))
	}
	// Movies stored by an earlier import count as known.
	mustImport(t, db, Movies, nil)
	if added := mustImport(t, db, nil, Ratings); added != 3 {
		t.Errorf("Import(ratings of stored movies) added %d, want 3", added)
	}
}

func catalogVersion(t *testing.T, db store.DB) int64 {
	t.Helper()
	v, err := db.CatalogVersion(t.Context())
	if err != nil {
		t.Fatalf("CatalogVersion() error = %v", err)
	}
	return v
}

// testCatalogVersion: an import that adds movies moves the catalog
// version, as another process sees it, and nothing else does; a store
// with a change feed wakes its watchers on an import that adds movies
// but no ratings (replicas read the catalog then).
func testCatalogVersion(t *testing.T, open Open) {
	db, reopen := opened(t, open)
	v0 := catalogVersion(t, db)
	mustImport(t, db, Movies, Ratings)
	v1 := catalogVersion(t, db)
	if v1 <= v0 {
		t.Errorf("CatalogVersion() after the first import = %d, want above %d", v1, v0)
	}
	other := reopen(t)
	mustImport(t, other, Movies, Ratings) // nothing new
	if err := other.AddRatings(t.Context(), []engine.Rating{{User: 5, Movie: 1, Value: 3, Time: 7}}); err != nil {
		t.Fatal(err)
	}
	if got := catalogVersion(t, db); got != v1 {
		t.Errorf("CatalogVersion() after an import of known movies and a write = %d, want %d", got, v1)
	}

	var calls chan struct{}
	if feed, ok := db.(engine.ChangeFeed); ok {
		calls = make(chan struct{}, 100)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = feed.Watch(ctx, func() {
				select {
				case calls <- struct{}{}:
				default:
				}
			})
		}()
		t.Cleanup(func() { cancel(); <-done })
		select {
		case <-calls: // the call after connecting
		case <-time.After(5 * time.Second):
			t.Fatal("Watch made no call within 5 s of starting")
		}
		for len(calls) > 0 {
			<-calls
		}
	}
	dv := version(t, db)
	added := engine.Movie{ID: 77, Title: "Added Later (2026)", Genres: []string{"Drama"}}
	start := time.Now()
	if n := mustImport(t, other, append(slices.Clone(Movies), added), Ratings); n != 0 {
		t.Errorf("Import() of one new movie and known ratings = %d added, want 0", n)
	}
	v2 := catalogVersion(t, db)
	if v2 <= v1 {
		t.Errorf("CatalogVersion() after an import of a new movie = %d, want above %d", v2, v1)
	}
	if got := version(t, db); got != dv {
		t.Errorf("DataVersion() after an import of a movie without ratings = %d, want %d (unchanged)", got, dv)
	}
	ms, err := db.Movies(t.Context())
	if err != nil || !slices.ContainsFunc(ms, func(m engine.Movie) bool { return cmp.Equal(m, added) }) {
		t.Errorf("Movies() = %v, %v; want it to hold %v", ms, err, added)
	}
	if calls != nil {
		select {
		case <-calls:
			d := time.Since(start)
			if d > 1100*time.Millisecond {
				t.Errorf("Watch called %v after an import of a movie, want within 1 s", d)
			}
			t.Logf("Watch called %v after the import of a movie began", d)
		case <-time.After(5 * time.Second):
			t.Error("Watch not called after an import of a movie")
		}
	}
	// New movies with ratings of them: one more step.
	mustImport(t, other, []engine.Movie{{ID: 78, Title: "Rated Newcomer (2026)"}}, []engine.Rating{{User: 9, Movie: 78, Value: 4, Time: 8}})
	if got := catalogVersion(t, db); got <= v2 {
		t.Errorf("CatalogVersion() after an import of a rated new movie = %d, want above %d", got, v2)
	}
}

func testAddRatingsReplaces(t *testing.T, open Open) {
	db, _ := opened(t, open)
	mustImport(t, db, Movies, Ratings)
	v0 := version(t, db)
	if err := db.AddRatings(t.Context(), []engine.Rating{{User: 1, Movie: 1, Value: 1, Time: 200}, {User: 1, Movie: 50, Value: 2, Time: 200}}); err != nil {
		t.Fatalf("AddRatings() error = %v", err)
	}
	if v := version(t, db); v != v0+1 {
		t.Errorf("DataVersion() after one batch = %d, want %d", v, v0+1)
	}
	got, err := db.UserRatings(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []engine.Rating{{User: 1, Movie: 1, Value: 1, Time: 200}, {User: 1, Movie: 11, Value: 3.5, Time: 101}, {User: 1, Movie: 50, Value: 2, Time: 200}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UserRatings(1) mismatch (-want +got):\n%s", diff)
	}
	if got, err := db.UserRatings(t.Context(), 99); err != nil || got == nil || len(got) != 0 {
		t.Errorf("UserRatings(unknown) = %v, %v, want an empty list", got, err)
	}
	// A batch that rates a movie twice keeps the last.
	if err := db.AddRatings(t.Context(), []engine.Rating{{User: 4, Movie: 11, Value: 2, Time: 1}, {User: 4, Movie: 11, Value: 4.5, Time: 2}}); err != nil {
		t.Fatalf("AddRatings(a movie twice) error = %v", err)
	}
	if got, _ := db.UserRatings(t.Context(), 4); !cmp.Equal(got, []engine.Rating{{User: 4, Movie: 11, Value: 4.5, Time: 2}}) {
		t.Errorf("UserRatings(4) = %v, want the last of the batch", got)
	}
}

// testAllOrNothing sends good batches and batches naming an unknown movie
// at once: every good one is stored whole, every bad one fails and leaves
// nothing behind.
func testAllOrNothing(t *testing.T, open Open) {
	db, _ := opened(t, open)
	mustImport(t, db, Movies, nil)
	var wg sync.WaitGroup
	errs := make([]error, 40)
	for i := range errs {
		wg.Go(func() {
			u := int32(100 + i)
			rs := []engine.Rating{{User: u, Movie: 1, Value: 4, Time: 1}, {User: u, Movie: 11, Value: 3, Time: 1}}
			if i%4 == 0 {
				rs = append(rs, engine.Rating{User: u, Movie: 12345, Value: 4, Time: 1})
			}
			errs[i] = db.AddRatings(context.Background(), rs)
		})
	}
	wg.Wait()
	for i, err := range errs {
		got, lerr := db.UserRatings(t.Context(), int32(100+i))
		if lerr != nil {
			t.Fatal(lerr)
		}
		switch {
		case i%4 == 0 && (err == nil || len(got) != 0):
			t.Errorf("batch %d (unknown movie): AddRatings() = %v and %d ratings stored, want an error and none", i, err, len(got))
		case i%4 != 0 && (err != nil || len(got) != 2):
			t.Errorf("batch %d: AddRatings() = %v and %d ratings stored, want nil and 2", i, err, len(got))
		}
	}
}

// testConcurrentWriters writes from several goroutines while others read;
// every acknowledged rating is stored and the data version grew.
func testConcurrentWriters(t *testing.T, open Open) {
	db, reopen := opened(t, open)
	mustImport(t, db, Movies, nil)
	v0 := version(t, db)
	const writers, each = 8, 25
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, _, err := db.Ratings(context.Background()); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				r := engine.Rating{User: int32(1000 + w*each + i), Movie: Movies[i%3].ID, Value: 3, Time: 1}
				if err := db.AddRatings(context.Background(), []engine.Rating{r}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	db.Close()
	db = reopen(t)
	got, v := allRatings(t, db)
	if len(got) != writers*each || v <= v0 || v > v0+writers*each {
		t.Errorf("after %d acknowledged writes: %d ratings, data version %d (from %d)", writers*each, len(got), v, v0)
	}
}

func testClose(t *testing.T, open Open) {
	db, _ := opened(t, open)
	mustImport(t, db, Movies, nil)
	if err := db.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	if err := db.AddRatings(t.Context(), Ratings[:1]); !errors.Is(err, store.ErrClosed) {
		t.Errorf("AddRatings after Close = %v, want ErrClosed", err)
	}
	if err := db.DeleteRating(t.Context(), 1, 1); !errors.Is(err, store.ErrClosed) {
		t.Errorf("DeleteRating after Close = %v, want ErrClosed", err)
	}
}

func testDelete(t *testing.T, open Open) {
	db, reopen := opened(t, open)
	mustImport(t, db, Movies, Ratings)
	v0 := version(t, db)
	if err := db.DeleteRating(t.Context(), 1, 11); err != nil {
		t.Fatalf("DeleteRating(1, 11) error = %v", err)
	}
	if err := db.DeleteRating(t.Context(), 1, 11); !errors.Is(err, engine.ErrNotRated) {
		t.Errorf("second DeleteRating(1, 11) error = %v, want ErrNotRated", err)
	}
	if v := version(t, db); v != v0+1 {
		t.Errorf("DataVersion() after one delete and one miss = %d, want %d", v, v0+1)
	}
	db.Close()
	db = reopen(t)
	got, _ := db.UserRatings(t.Context(), 1)
	if want := []engine.Rating{Ratings[0]}; !cmp.Equal(got, want) {
		t.Errorf("UserRatings(1) after reopening = %v, want %v", got, want)
	}
}

func testModels(t *testing.T, open Open) {
	db, reopen := opened(t, open)
	if got, err := db.LatestModel(t.Context(), als.Params{Rank: 2}); err != nil || got != nil {
		t.Fatalf("LatestModel() on a new database = %v, %v, want none", got, err)
	}
	p := als.Params{Rank: 2, Iterations: 3, Lambda: 0.1, Seed: 1, Bias: true}
	rp := als.Params{Objective: als.Implicit, Rank: 2, Iterations: 4, Lambda: 0.5, Alpha: 1, Unobserved: 0.5, RegExponent: 0.5, Seed: 1}
	m := &als.Model{Rank: 2, NumUsers: 2, NumItems: 3, Bias: true, Mean: 3.5,
		UserFactors: []float32{1, 2, 3, 4}, ItemFactors: []float32{.1, .2, .3, .4, .5, .6},
		UserBias: []float32{-1, 1}, ItemBias: []float32{0.5, 0, -0.5}}
	rm := &als.Model{Rank: 2, NumUsers: 2, NumItems: 3, UserFactors: []float32{1, 2, 3, 4}, ItemFactors: []float32{.6, .5, .4, .3, .2, .1}}
	for v := int64(1); v <= 5; v++ {
		s := &engine.Snapshot{Model: m, Params: p, DataVersion: v, Backend: "cpu", TrainedAt: time.UnixMilli(1700000000000 + v),
			TrainSeconds: 0.5, TrainRMSE: 0.7, Ratings: 10, UserIDs: []int32{7, 3}, MovieIDs: []int32{1, 11, 50}}
		if v%2 == 1 {
			s.Ranker, s.RankerParams, s.RankerSeconds, s.RankerError = rm, rp, 0.25, 0.9
		}
		if err := db.SaveModel(t.Context(), s); err != nil {
			t.Fatalf("SaveModel() error = %v", err)
		}
	}
	db.Close()
	db = reopen(t)
	got, err := db.LatestModel(t.Context(), p)
	want := &engine.Snapshot{Model: m, Params: p, DataVersion: 5, Backend: "cpu", TrainedAt: time.UnixMilli(1700000000005),
		TrainSeconds: 0.5, TrainRMSE: 0.7, Ratings: 10, UserIDs: []int32{7, 3}, MovieIDs: []int32{1, 11, 50}}
	if err != nil || got == nil {
		t.Fatalf("LatestModel() = %v, %v", got, err)
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(engine.Snapshot{})); diff != "" {
		t.Errorf("LatestModel() mismatch (-want +got):\n%s", diff)
	}
	got, err = db.LatestModel(t.Context(), rp)
	want = &engine.Snapshot{Model: rm, Params: rp, DataVersion: 5, Backend: "cpu", TrainedAt: time.UnixMilli(1700000000005),
		TrainSeconds: 0.25, TrainRMSE: 0.9, Ratings: 10, UserIDs: []int32{7, 3}, MovieIDs: []int32{1, 11, 50}}
	if err != nil || got == nil {
		t.Fatalf("LatestModel(ranking params) = %v, %v", got, err)
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(engine.Snapshot{})); diff != "" {
		t.Errorf("LatestModel(ranking params) mismatch (-want +got):\n%s", diff)
	}
	other := p
	other.Rank = 3
	if got, err := db.LatestModel(t.Context(), other); err != nil || got != nil {
		t.Errorf("LatestModel(other params) = %v, %v, want none", got, err)
	}
	if mv, ok := db.(engine.ModelVersioner); ok {
		for _, tc := range []struct {
			p     als.Params
			v     int64
			found bool
		}{{p, 5, true}, {rp, 5, true}, {other, 0, false}} {
			if v, found, err := mv.LatestModelVersion(t.Context(), tc.p); err != nil || v != tc.v || found != tc.found {
				t.Errorf("LatestModelVersion(%v) = %d, %t, %v, want %d, %t", tc.p, v, found, err, tc.v, tc.found)
			}
		}
	}
}

func testTrainings(t *testing.T, open Open) {
	db, _ := opened(t, open)
	if ts, err := db.Trainings(t.Context(), 10); err != nil || len(ts) != 0 {
		t.Fatalf("Trainings() on a new database = %v, %v, want none", ts, err)
	}
	start := time.UnixMilli(1700000000123).UTC()
	var last int64
	for i := range 55 {
		tr := engine.Training{StartedAt: start.Add(time.Duration(i) * time.Minute), Seconds: 1.5, Backend: "cpu", Device: "2 cores",
			Result: engine.TrainingOK, DataVersion: int64(i), Ratings: 100 + i,
			Models: []engine.ModelTraining{
				{Model: "rating", Params: "rank=10", Iterations: []engine.IterationStat{{N: 1, TrainError: 0.9, Seconds: 0.1}, {N: 2, TrainError: 0.8, Seconds: 0.1}}},
				{Model: "ranking", Params: "objective=implicit", Iterations: []engine.IterationStat{{N: 1, TrainError: 0.3, Seconds: 0.2}}, WarmStart: int64(i)},
			}}
		if i == 54 {
			tr.Result, tr.Error = engine.TrainingFailed, "device lost"
			tr.Models = tr.Models[:1]
		}
		id, err := db.AddTraining(t.Context(), tr)
		if err != nil || id <= last {
			t.Fatalf("AddTraining #%d = %d, %v, want an id above %d", i+1, id, err, last)
		}
		last = id
	}
	all, err := db.Trainings(t.Context(), 100)
	if err != nil || len(all) != 50 {
		t.Fatalf("Trainings(100) = %d trainings, %v, want the newest 50", len(all), err)
	}
	if all[0].ID != last || all[0].ID <= all[49].ID {
		t.Errorf("Trainings ids = %d … %d, want %d first, newest first", all[0].ID, all[49].ID, last)
	}
	want := engine.Training{ID: last, StartedAt: start.Add(54 * time.Minute), Seconds: 1.5, Backend: "cpu", Device: "2 cores",
		Result: engine.TrainingFailed, Error: "device lost", DataVersion: 54, Ratings: 154,
		Models: []engine.ModelTraining{{Model: "rating", Params: "rank=10", Iterations: []engine.IterationStat{{N: 1, TrainError: 0.9, Seconds: 0.1}, {N: 2, TrainError: 0.8, Seconds: 0.1}}}}}
	if diff := cmp.Diff(want, all[0], cmpopts.EquateApproxTime(0)); diff != "" {
		t.Errorf("newest training mismatch (-want +got):\n%s", diff)
	}
	if len(all[1].Models) != 2 {
		t.Errorf("training 54 has %d models, want 2", len(all[1].Models))
	} else if got := all[1].Models[1].WarmStart; got != 53 {
		t.Errorf("training 54's ranking model: WarmStart %d, want 53", got)
	}
	if few, err := db.Trainings(t.Context(), 3); err != nil || len(few) != 3 {
		t.Errorf("Trainings(3) = %d, %v", len(few), err)
	}
}

func testVersioned(t *testing.T, open Open) {
	db, _ := opened(t, open)
	vs, ok := db.(engine.VersionedStore)
	if !ok {
		t.Skipf("%T is not an engine.VersionedStore", db)
	}
	mustImport(t, db, Movies, nil)
	prev := version(t, db)
	for i := range 3 {
		v, err := vs.AddRatingsVersion(t.Context(), []engine.Rating{{User: int32(i + 1), Movie: 1, Value: 3, Time: 1}})
		if err != nil || v <= prev {
			t.Fatalf("AddRatingsVersion #%d = %d, %v, want a version above %d", i+1, v, err, prev)
		}
		prev = v
	}
	if v := version(t, db); v != prev {
		t.Errorf("DataVersion() = %d, want the last write's %d", v, prev)
	}
	v, err := vs.DeleteRatingVersion(t.Context(), 2, 1)
	if err != nil || v != prev+1 {
		t.Errorf("DeleteRatingVersion() = %d, %v, want %d", v, err, prev+1)
	}
	if _, err := vs.DeleteRatingVersion(t.Context(), 2, 1); !errors.Is(err, engine.ErrNotRated) {
		t.Errorf("DeleteRatingVersion(not rated) error = %v, want ErrNotRated", err)
	}
	if _, err := vs.AddRatingsVersion(t.Context(), []engine.Rating{{User: 9, Movie: 424242, Value: 3}}); !errors.Is(err, engine.ErrUnknownMovie) {
		t.Errorf("AddRatingsVersion(unknown movie) error = %v, want ErrUnknownMovie", err)
	}
}

// feedOf returns db's change feed, or skips t.
func feedOf(t *testing.T, db store.DB) (engine.ChangeFeed, engine.VersionedStore) {
	t.Helper()
	f, ok := db.(engine.ChangeFeed)
	vs, ok2 := db.(engine.VersionedStore)
	if !ok || !ok2 {
		t.Skipf("%T is not an engine.ChangeFeed and VersionedStore", db)
	}
	return f, vs
}

func testChangeFeed(t *testing.T, open Open) {
	db, reopen := opened(t, open)
	feed, vs := feedOf(t, db)
	mustImport(t, db, Movies, Ratings)
	v0 := version(t, db)
	// An import's ratings are in the log, or the log starts after it.
	if cs, err := feed.Changes(t.Context(), 0, 100); !errors.Is(err, engine.ErrResync) && (err != nil || len(cs) != len(Ratings)) {
		t.Errorf("Changes(0) after a first import = %d changes, %v, want its %d ratings or ErrResync", len(cs), err, len(Ratings))
	}
	if cs, err := feed.Changes(t.Context(), v0, 100); err != nil || len(cs) != 0 {
		t.Errorf("Changes(%d) = %v, %v, want none", v0, cs, err)
	}
	other := reopen(t).(engine.VersionedStore)
	var want []engine.Change
	for i := range 5 {
		w := vs
		if i%2 == 1 {
			w = other // a second process writes too
		}
		rs := []engine.Rating{{User: 7, Movie: Movies[i%3].ID, Value: float32(i%5) + 1, Time: int64(i)}, {User: 8, Movie: 1, Value: 2, Time: int64(i)}}
		v, err := w.AddRatingsVersion(t.Context(), rs)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			want = append(want, engine.Change{Version: v, Rating: r})
		}
	}
	v, err := vs.DeleteRatingVersion(t.Context(), 7, 1)
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, engine.Change{Version: v, Rating: engine.Rating{User: 7, Movie: 1}, Deleted: true})
	got, err := feed.Changes(t.Context(), v0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Changes(%d) mismatch (-want +got):\n%s", v0, diff)
	}
	// A limit cuts between transactions, never inside one.
	var paged []engine.Change
	for after := v0; ; {
		cs, err := feed.Changes(t.Context(), after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == 0 {
			break
		}
		if len(cs) > 4 || len(cs)%2 != 0 && !cs[len(cs)-1].Deleted {
			t.Errorf("Changes(%d, limit 3) = %d changes, want whole transactions of 2 (at most 4)", after, len(cs))
		}
		paged = append(paged, cs...)
		after = cs[len(cs)-1].Version
	}
	if diff := cmp.Diff(want, paged); diff != "" {
		t.Errorf("Changes paged by 3 mismatch (-want +got):\n%s", diff)
	}
}

// testWatch checks that a write by another handle wakes Watch within the
// 1 s that replicas promise.
func testWatch(t *testing.T, open Open) {
	db, reopen := opened(t, open)
	feed, _ := feedOf(t, db)
	mustImport(t, db, Movies, nil)
	ctx, cancel := context.WithCancel(t.Context())
	calls := make(chan struct{}, 100)
	done := make(chan error, 1)
	go func() {
		done <- feed.Watch(ctx, func() {
			select {
			case calls <- struct{}{}:
			default:
			}
		})
	}()
	select {
	case <-calls: // the call after connecting
	case <-time.After(5 * time.Second):
		t.Fatal("Watch made no call within 5 s of starting")
	}
	other := reopen(t)
	deadline := time.After(10 * time.Second)
	for got := 0; got < 3; {
		// Drain, write, and wait for a call: each write must wake it.
		for len(calls) > 0 {
			<-calls
		}
		start := time.Now()
		if err := other.AddRatings(t.Context(), []engine.Rating{{User: int32(got + 1), Movie: 1, Value: 3, Time: 1}}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-calls:
			if d := time.Since(start); d > 1100*time.Millisecond {
				t.Errorf("Watch called %v after a write, want within 1 s", d)
			}
			got++
		case <-deadline:
			t.Fatal("Watch not called after writes")
		}
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Watch() after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("Watch did not return within 5 s of its context ending")
	}
}

func testTrainerLock(t *testing.T, open Open) {
	db, reopen := opened(t, open)
	lock, ok := db.(engine.TrainerLock)
	if !ok {
		t.Skipf("%T is not an engine.TrainerLock", db)
	}
	other := reopen(t).(engine.TrainerLock)
	a, err := lock.TryAcquire(t.Context())
	if err != nil || a == nil {
		t.Fatalf("TryAcquire() = %v, %v, want a lease", a, err)
	}
	if b, err := other.TryAcquire(t.Context()); err != nil || b != nil {
		t.Fatalf("TryAcquire() by another process while held = %v, %v, want none", b, err)
	}
	if b, err := lock.TryAcquire(t.Context()); err != nil || b != nil {
		t.Fatalf("TryAcquire() again by the holder's store = %v, %v, want none (one lease at a time)", b, err)
	}
	a.Release()
	a.Release() // safe twice
	select {
	case <-a.Lost():
		t.Error("Lost() closed by Release")
	default:
	}
	b, err := other.TryAcquire(t.Context())
	if err != nil || b == nil {
		t.Fatalf("TryAcquire() after Release = %v, %v, want a lease", b, err)
	}
	b.Release()
}

// testScale stores each kind of rating scale with a first import (ids at
// both ends of their range, a value in exponent notation's range) and
// reads it back, also through a second handle.
func testScale(t *testing.T, open Open) {
	for _, s := range []engine.Scale{
		engine.MovieLensScale,
		{Min: 1, Max: 10, Step: 1},
		{Min: -2, Max: 2, Step: 0.5},
		{Min: -1, Max: 1},
		engine.Unbounded,
	} {
		t.Run(s.Spec(), func(t *testing.T) {
			db, reopen := open(t)
			t.Cleanup(func() { db.Close() })
			ms := []engine.Movie{{ID: 0, Title: "Zero"}, {ID: math.MaxInt32, Title: "Last"}}
			rs := []engine.Rating{{User: 0, Movie: 0, Value: s.Min}, {User: math.MaxInt32, Movie: math.MaxInt32, Value: -9.4e-05}}
			if !s.Bounded() {
				rs[0].Value = 1e6
			}
			if _, err := db.Import(t.Context(), ms, rs, s, nil); err != nil {
				t.Fatalf("Import(scale %v) = %v", s, err)
			}
			if got, err := db.Scale(t.Context()); err != nil || got != s {
				t.Errorf("Scale() = %v, %v, want %v", got, err, s)
			}
			other := reopen(t)
			t.Cleanup(func() { other.Close() })
			if got, err := other.Scale(t.Context()); err != nil || got != s {
				t.Errorf("Scale() through another handle = %v, %v, want %v", got, err, s)
			}
			got, _, err := other.ReadRatings(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(got, func(a, b engine.Rating) int { return int(int64(a.User) - int64(b.User)) })
			if len(got) != 2 || got[0].User != 0 || got[0].Value != rs[0].Value ||
				got[1].User != math.MaxInt32 || got[1].Movie != math.MaxInt32 || got[1].Value != -9.4e-05 {
				t.Errorf("ReadRatings() = %+v, want %+v", got, rs)
			}
		})
	}
}
