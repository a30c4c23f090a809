package postgres

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"movierec/engine"
	"movierec/store/postgres/pgtest"
)

// TestParallelRead reads a table of a few dozen pages in parts of one
// page or more, after rerates moved some rows to the heap's end.
func TestParallelRead(t *testing.T) {
	defer func(old int64) { minPartPages = old }(minPartPages)
	minPartPages = 1
	db, err := Open(t.Context(), pgtest.NewDB(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	movies := []engine.Movie{{ID: 1, Title: "a"}, {ID: 2, Title: "b"}, {ID: 3, Title: "c"}}
	var rs []engine.Rating
	for u := range int32(3000) {
		for m := range int32(3) {
			rs = append(rs, engine.Rating{User: u, Movie: m + 1, Value: float32(m + 1), Time: int64(u)})
		}
	}
	if _, err := db.Import(t.Context(), movies, rs, engine.MovieLensScale, nil); err != nil {
		t.Fatal(err)
	}
	for _, u := range []int32{7, 2999, 1500} {
		r := engine.Rating{User: u, Movie: 2, Value: 5, Time: 99}
		if err := db.AddRatings(t.Context(), []engine.Rating{r}); err != nil {
			t.Fatal(err)
		}
		rs[u*3+1] = r
	}
	var reports int
	got, v, err := db.ReadRatings(t.Context(), func(ReadProgress) { reports++ })
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := db.DataVersion(t.Context()); v != want {
		t.Errorf("ReadRatings() version = %d, want %d", v, want)
	}
	if diff := cmp.Diff(rs, got); diff != "" {
		t.Errorf("ReadRatings() in parts mismatch (-want +got):\n%s", diff)
	}
}

// TestStagedImport imports through the staging table (parallel COPY, the
// table swapped in) and checks the result, the change log's floor, and
// that a second import through the same path adds nothing.
func TestStagedImport(t *testing.T) {
	defer func(old, conns int) { minStagedImport, stageConns = old, conns }(minStagedImport, stageConns)
	minStagedImport = 100
	for _, conns := range []int{1, 2} {
		stageConns = conns
		t.Run(fmt.Sprintf("%d connections", conns), testStagedImport)
	}
}

func testStagedImport(t *testing.T) {
	db, err := Open(t.Context(), pgtest.NewDB(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	movies := []engine.Movie{{ID: 1, Title: "a"}, {ID: 2, Title: "b"}}
	var rs []engine.Rating
	for u := range int32(500) {
		rs = append(rs, engine.Rating{User: u, Movie: 1, Value: 3, Time: 1}, engine.Rating{User: u, Movie: 2, Value: 4, Time: 2})
	}
	added, err := db.Import(t.Context(), movies, rs, engine.MovieLensScale, nil)
	if err != nil || added != int64(len(rs)) {
		t.Fatalf("Import() = %d, %v, want %d", added, err, len(rs))
	}
	got, v, err := db.Ratings(t.Context())
	if err != nil || !cmp.Equal(rs, got) {
		t.Fatalf("Ratings() = %d ratings, %v; mismatch: %s", len(got), err, cmp.Diff(rs, got))
	}
	if _, err := db.Changes(t.Context(), v-1, 10); !errors.Is(err, engine.ErrResync) {
		t.Errorf("Changes() from before a staged import error = %v, want ErrResync", err)
	}
	if added, err := db.Import(t.Context(), movies, rs, engine.MovieLensScale, nil); err != nil || added != 0 {
		t.Errorf("second Import() = %d, %v, want 0 added", added, err)
	}
	// The swapped-in table keeps its key: a rerate replaces.
	if err := db.AddRatings(t.Context(), []engine.Rating{{User: 3, Movie: 1, Value: 1, Time: 9}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.UserRatings(t.Context(), 3); len(got) != 2 || got[0].Value != 1 {
		t.Errorf("UserRatings(3) after a rerate = %v", got)
	}
	var leftovers int
	db.pool.QueryRow(t.Context(), "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'ratings_import_%'").Scan(&leftovers)
	if leftovers != 0 {
		t.Errorf("%d staging tables left behind", leftovers)
	}
}

// TestAutoPrune checks that the writer prunes the change log as it goes.
func TestAutoPrune(t *testing.T) {
	defer func(k, e int64) { keepChangeVersions, pruneEvery = k, e }(keepChangeVersions, pruneEvery)
	keepChangeVersions, pruneEvery = 2, 3
	db, err := Open(t.Context(), pgtest.NewDB(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Import(t.Context(), []engine.Movie{{ID: 1, Title: "a"}}, nil, engine.MovieLensScale, nil); err != nil {
		t.Fatal(err)
	}
	var last int64
	for u := range int32(6) {
		if last, err = db.AddRatingsVersion(t.Context(), []engine.Rating{{User: u, Movie: 1, Value: 3, Time: 1}}); err != nil {
			t.Fatal(err)
		}
		// A commit while a prune runs starts none (the next multiple
		// of pruneEvery does): let the third commit's prune end before
		// the sixth commit, as it would at real intervals.
		for end := time.Now().Add(5 * time.Second); db.pruning.Load() && time.Now().Before(end); {
			time.Sleep(5 * time.Millisecond)
		}
	}
	// The sixth commit pruned up to last-2 in the background.
	var floor int64
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if err := db.pool.QueryRow(t.Context(), "SELECT log_floor FROM meta").Scan(&floor); err != nil {
			t.Fatal(err)
		}
		if floor == last-2 && !db.pruning.Load() {
			break
		}
	}
	if floor != last-2 {
		t.Fatalf("log floor after 6 commits = %d, want %d", floor, last-2)
	}
	if _, err := db.Changes(t.Context(), 0, 10); !errors.Is(err, engine.ErrResync) {
		t.Errorf("Changes(0) after pruning error = %v, want ErrResync", err)
	}
	if cs, err := db.Changes(t.Context(), last-2, 10); err != nil || len(cs) != 2 {
		t.Errorf("Changes(%d) = %v, %v, want the 2 newest", last-2, cs, err)
	}
}
