package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"movierec/als"
	"movierec/engine"
	"movierec/store/sqlite"
)

func open(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path, nil)
	if err != nil {
		t.Fatalf("Open(%s) error = %v", path, err)
	}
	return db
}

var movies = []engine.Movie{
	{ID: 1, Title: "Toy Story (1995)", Genres: []string{"Adventure", "Animation"}},
	{ID: 11, Title: "American President, The (1995)", Genres: []string{"Comedy"}},
	{ID: 50, Title: `"Quoted" Title, With Comma (1999)`},
}

var ratings = []engine.Rating{
	{User: 1, Movie: 1, Value: 4, Time: 100},
	{User: 1, Movie: 11, Value: 3.5, Time: 101},
	{User: 2, Movie: 50, Value: 5, Time: 102},
}

func TestImportIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	db := open(t, path)
	if empty, err := db.Empty(t.Context()); err != nil || !empty {
		t.Fatalf("Empty() = %v, %v on a new database, want true", empty, err)
	}
	var reports int
	added, err := db.Import(t.Context(), movies, ratings, engine.WholeStarScale, func(sqlite.ImportProgress) { reports++ })
	if err != nil || added != 3 || reports == 0 {
		t.Fatalf("Import() = %d, %v (%d progress reports), want 3 added and a report", added, err, reports)
	}
	v1, _ := db.DataVersion(t.Context())
	added, err = db.Import(t.Context(), movies, ratings, engine.MovieLensScale, nil)
	if err != nil || added != 0 {
		t.Fatalf("second Import() = %d, %v, want 0 added", added, err)
	}
	if v2, _ := db.DataVersion(t.Context()); v2 != v1 || v1 != 1 {
		t.Errorf("data version after imports = %d then %d, want 1 and unchanged", v1, v2)
	}
	db.Close()

	db = open(t, path)
	defer db.Close()
	gotM, err := db.Movies(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(movies, gotM); diff != "" {
		t.Errorf("Movies() after reopen mismatch (-want +got):\n%s", diff)
	}
	if sc, err := db.Scale(t.Context()); err != nil || sc != engine.WholeStarScale {
		t.Errorf("Scale() = %v, %v, want the first import's %v", sc, err, engine.WholeStarScale)
	}
	gotR, v, err := db.Ratings(t.Context())
	if err != nil || v != 1 {
		t.Fatalf("Ratings() = _, %d, %v", v, err)
	}
	if diff := cmp.Diff(ratings, gotR); diff != "" {
		t.Errorf("Ratings() after reopen mismatch (-want +got):\n%s", diff)
	}
}

func TestAddRatingsReplacesAndCounts(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "m.db"))
	defer db.Close()
	if _, err := db.Import(t.Context(), movies, ratings, engine.MovieLensScale, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.AddRatings(t.Context(), []engine.Rating{{User: 1, Movie: 1, Value: 1, Time: 200}, {User: 1, Movie: 50, Value: 2, Time: 200}}); err != nil {
		t.Fatalf("AddRatings() error = %v", err)
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
	// A batch naming a movie missing from the catalog is refused whole.
	err = db.AddRatings(t.Context(), []engine.Rating{{User: 3, Movie: 1, Value: 4}, {User: 3, Movie: 12345, Value: 4}})
	if err == nil {
		t.Fatal("AddRatings(unknown movie) = nil, want a foreign-key error")
	}
	if got, _ := db.UserRatings(t.Context(), 3); len(got) != 0 {
		t.Errorf("a refused batch left %v behind", got)
	}
}

func TestConcurrentWritesGroupCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	db := open(t, path)
	if _, err := db.Import(t.Context(), movies, nil, engine.MovieLensScale, nil); err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r := engine.Rating{User: int32(1000 + w*each + i), Movie: movies[i%3].ID, Value: 3, Time: 1}
				if err := db.AddRatings(context.Background(), []engine.Rating{r}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	db.Close()
	if err := db.AddRatings(t.Context(), ratings[:1]); !errors.Is(err, sqlite.ErrClosed) {
		t.Errorf("AddRatings after Close = %v, want ErrClosed", err)
	}
	db = open(t, path)
	defer db.Close()
	got, v, err := db.Ratings(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != writers*each || v != writers*each {
		t.Errorf("after %d acknowledged writes: %d ratings, data version %d", writers*each, len(got), v)
	}
}

func TestModelRoundTrip(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "m.db"))
	defer db.Close()
	p := als.Params{Rank: 2, Iterations: 3, Lambda: 0.1, Seed: 1, Bias: true}
	m := &als.Model{Rank: 2, NumUsers: 2, NumItems: 3, Bias: true, Mean: 3.5,
		UserFactors: []float32{1, 2, 3, 4}, ItemFactors: []float32{.1, .2, .3, .4, .5, .6},
		UserBias: []float32{-1, 1}, ItemBias: []float32{0.5, 0, -0.5}}
	for v := int64(1); v <= 5; v++ {
		s := &engine.Snapshot{Model: m, Params: p, DataVersion: v, Backend: "cpu", TrainedAt: time.UnixMilli(1700000000000 + v),
			TrainSeconds: 0.5, TrainRMSE: 0.7, Ratings: 10, UserIDs: []int32{7, 3}, MovieIDs: []int32{1, 11, 50}}
		if err := db.SaveModel(t.Context(), s); err != nil {
			t.Fatalf("SaveModel() error = %v", err)
		}
	}
	got, err := db.LatestModel(t.Context(), p)
	if err != nil || got == nil {
		t.Fatalf("LatestModel() = %v, %v", got, err)
	}
	want := &engine.Snapshot{Model: m, Params: p, DataVersion: 5, Backend: "cpu", TrainedAt: time.UnixMilli(1700000000005),
		TrainSeconds: 0.5, TrainRMSE: 0.7, Ratings: 10, UserIDs: []int32{7, 3}, MovieIDs: []int32{1, 11, 50}}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(engine.Snapshot{})); diff != "" {
		t.Errorf("LatestModel() mismatch (-want +got):\n%s", diff)
	}
	other := p
	other.Rank = 3
	if got, err := db.LatestModel(t.Context(), other); err != nil || got != nil {
		t.Errorf("LatestModel(other params) = %v, %v, want none", got, err)
	}
}

// TestRankerRoundTrip checks that a snapshot's ranking model is stored
// beside its rating model, found by its own parameters, and that the rows
// of older snapshots are pruned in pairs.
func TestRankerRoundTrip(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "m.db"))
	defer db.Close()
	p := als.Params{Rank: 1, Iterations: 3, Lambda: 0.1, Seed: 1}
	rp := als.Params{Objective: als.Implicit, Rank: 2, Iterations: 4, Lambda: 0.5, Alpha: 1, Unobserved: 0.5, RegExponent: 0.5, Seed: 1}
	m := &als.Model{Rank: 1, NumUsers: 2, NumItems: 3, UserFactors: []float32{1, 2}, ItemFactors: []float32{3, 4, 5}}
	rm := &als.Model{Rank: 2, NumUsers: 2, NumItems: 3, UserFactors: []float32{1, 2, 3, 4}, ItemFactors: []float32{.1, .2, .3, .4, .5, .6}}
	for v := int64(1); v <= 5; v++ {
		s := &engine.Snapshot{Model: m, Params: p, DataVersion: v, Backend: "cpu", TrainedAt: time.UnixMilli(1700000000000 + v),
			TrainSeconds: 0.5, TrainRMSE: 0.7, Ratings: 10, UserIDs: []int32{7, 3}, MovieIDs: []int32{1, 11, 50},
			Ranker: rm, RankerParams: rp, RankerSeconds: 0.25, RankerError: 0.9}
		if err := db.SaveModel(t.Context(), s); err != nil {
			t.Fatalf("SaveModel() error = %v", err)
		}
	}
	got, err := db.LatestModel(t.Context(), rp)
	if err != nil || got == nil {
		t.Fatalf("LatestModel(ranking params) = %v, %v", got, err)
	}
	want := &engine.Snapshot{Model: rm, Params: rp, DataVersion: 5, Backend: "cpu", TrainedAt: time.UnixMilli(1700000000005),
		TrainSeconds: 0.25, TrainRMSE: 0.9, Ratings: 10, UserIDs: []int32{7, 3}, MovieIDs: []int32{1, 11, 50}}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(engine.Snapshot{})); diff != "" {
		t.Errorf("LatestModel(ranking params) mismatch (-want +got):\n%s", diff)
	}
	if got, err := db.LatestModel(t.Context(), p); err != nil || got == nil || got.DataVersion != 5 || got.Model.Rank != 1 {
		t.Errorf("LatestModel(rating params) = %+v, %v, want the rank-1 model of version 5", got, err)
	}
}

func TestImportRejectsUnknownMovieAndKeepsForeignKeys(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "m.db"))
	defer db.Close()
	bad := append([]engine.Rating{}, ratings...)
	bad = append(bad, engine.Rating{User: 5, Movie: 77777, Value: 3})
	if _, err := db.Import(t.Context(), movies, bad, engine.MovieLensScale, nil); !errors.Is(err, engine.ErrUnknownMovie) {
		t.Fatalf("Import(unknown movie) error = %v, want ErrUnknownMovie", err)
	}
	if got, _, _ := db.Ratings(t.Context()); len(got) != 0 {
		t.Fatalf("a refused import stored %d ratings", len(got))
	}
	// Movies stored by an earlier import count as known.
	if _, err := db.Import(t.Context(), movies, nil, engine.MovieLensScale, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Import(t.Context(), nil, ratings, engine.MovieLensScale, nil); err != nil {
		t.Fatalf("Import(ratings of stored movies) error = %v", err)
	}
	// Foreign keys are on again for ordinary writes.
	if err := db.AddRatings(t.Context(), []engine.Rating{{User: 9, Movie: 88888, Value: 4}}); err == nil {
		t.Error("AddRatings(unknown movie) after an import = nil, want a foreign-key error")
	}
}

func TestDeleteRating(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	db := open(t, path)
	if _, err := db.Import(t.Context(), movies, ratings, engine.MovieLensScale, nil); err != nil {
		t.Fatal(err)
	}
	v0, _ := db.DataVersion(t.Context())
	if err := db.DeleteRating(t.Context(), 1, 11); err != nil {
		t.Fatalf("DeleteRating(1, 11) error = %v", err)
	}
	if err := db.DeleteRating(t.Context(), 1, 11); !errors.Is(err, engine.ErrNotRated) {
		t.Errorf("second DeleteRating(1, 11) error = %v, want ErrNotRated", err)
	}
	if v, _ := db.DataVersion(t.Context()); v != v0+1 {
		t.Errorf("DataVersion() after one delete and one miss = %d, want %d", v, v0+1)
	}
	db.Close()
	db = open(t, path)
	defer db.Close()
	got, _ := db.UserRatings(t.Context(), 1)
	if want := []engine.Rating{ratings[0]}; !cmp.Equal(got, want) {
		t.Errorf("UserRatings(1) after reopening = %v, want %v", got, want)
	}
}

func TestTrainings(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "m.db"))
	defer db.Close()
	if ts, err := db.Trainings(t.Context(), 10); err != nil || len(ts) != 0 {
		t.Fatalf("Trainings() on a new database = %v, %v, want none", ts, err)
	}
	start := time.UnixMilli(1700000000123).UTC()
	for i := range 55 {
		tr := engine.Training{StartedAt: start.Add(time.Duration(i) * time.Minute), Seconds: 1.5, Backend: "cpu", Device: "2 cores",
			Result: engine.TrainingOK, DataVersion: int64(i), Ratings: 100 + i,
			Models: []engine.ModelTraining{
				{Model: "rating", Params: "rank=10", Iterations: []engine.IterationStat{{N: 1, TrainError: 0.9, Seconds: 0.1}, {N: 2, TrainError: 0.8, Seconds: 0.1}}},
				{Model: "ranking", Params: "objective=implicit", Iterations: []engine.IterationStat{{N: 1, TrainError: 0.3, Seconds: 0.2}}},
			}}
		if i == 54 {
			tr.Result, tr.Error = engine.TrainingFailed, "device lost"
			tr.Models = tr.Models[:1]
		}
		id, err := db.AddTraining(t.Context(), tr)
		if err != nil || id != int64(i+1) {
			t.Fatalf("AddTraining #%d = %d, %v", i+1, id, err)
		}
	}
	all, err := db.Trainings(t.Context(), 100)
	if err != nil || len(all) != 50 {
		t.Fatalf("Trainings(100) = %d trainings, %v, want the newest 50", len(all), err)
	}
	if all[0].ID != 55 || all[49].ID != 6 {
		t.Errorf("Trainings ids = %d … %d, want 55 … 6", all[0].ID, all[49].ID)
	}
	want := engine.Training{ID: 55, StartedAt: start.Add(54 * time.Minute), Seconds: 1.5, Backend: "cpu", Device: "2 cores",
		Result: engine.TrainingFailed, Error: "device lost", DataVersion: 54, Ratings: 154,
		Models: []engine.ModelTraining{{Model: "rating", Params: "rank=10", Iterations: []engine.IterationStat{{N: 1, TrainError: 0.9, Seconds: 0.1}, {N: 2, TrainError: 0.8, Seconds: 0.1}}}}}
	if diff := cmp.Diff(want, all[0], cmpopts.EquateApproxTime(0)); diff != "" {
		t.Errorf("newest training mismatch (-want +got):\n%s", diff)
	}
	if len(all[1].Models) != 2 {
		t.Errorf("training 54 has %d models, want 2", len(all[1].Models))
	}
}
