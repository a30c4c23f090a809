package postgres

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

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

// TestStagedImport imports through staging tables (one per partition,
// copied at once, swapped in as the partitions of ratings) and checks the
// result, the partitions, the change log's floor, that a second import
// through the same path adds nothing, and that an import after every
// rating was deleted replaces the partitions.
func TestStagedImport(t *testing.T) {
	defer func(old, parts int, pages int64) { minStagedImport, stageParts, minPartPages = old, parts, pages }(minStagedImport, stageParts, minPartPages)
	minStagedImport = 100
	minPartPages = 1 // reads in parts that cross the partitions' edges
	for _, parts := range []int{1, 2, 3} {
		stageParts = parts
		t.Run(fmt.Sprintf("%d parts", parts), func(t *testing.T) { testStagedImport(t, parts) })
	}
}

func testStagedImport(t *testing.T, parts int) {
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
	checkParts := func(want int) {
		t.Helper()
		ps, err := partitions(t.Context(), db.pool)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range ps {
			names = append(names, p.name)
			// The staging tables' range constraints are dropped once
			// attached; the key remains.
			var checks, keys int
			if err := db.pool.QueryRow(t.Context(), `SELECT count(*) FILTER (WHERE contype = 'c'), count(*) FILTER (WHERE contype = 'p')
				FROM pg_constraint WHERE conrelid = $1::regclass`, p.name).Scan(&checks, &keys); err != nil {
				t.Fatal(err)
			}
			if checks != 0 || keys != 1 {
				t.Errorf("partition %s: %d check and %d key constraints, want 0 and 1", p.name, checks, keys)
			}
		}
		var wantNames []string
		for i := range want {
			wantNames = append(wantNames, fmt.Sprintf("ratings_p%d", i))
		}
		if !cmp.Equal(names, wantNames) {
			t.Errorf("partitions = %v, want %v", names, wantNames)
		}
		var leftovers int
		db.pool.QueryRow(t.Context(), "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'ratings_import_%'").Scan(&leftovers)
		if leftovers != 0 {
			t.Errorf("%d staging tables left behind", leftovers)
		}
	}
	checkParts(parts)
	// A user's ratings are in one partition, whichever: rerates and
	// new pairs of users at the partitions' edges land where they belong.
	want := slices.Clone(rs)
	want[6] = engine.Rating{User: 3, Movie: 1, Value: 1, Time: 9} // the rerate above
	for _, u := range []int32{0, 166, 167, 250, 333, 334, 499, 500, 10_000} {
		r := engine.Rating{User: u, Movie: 2, Value: 5, Time: 7}
		if err := db.AddRatings(t.Context(), []engine.Rating{r}); err != nil {
			t.Fatal(err)
		}
		if u < 500 {
			want[2*u+1] = r
		} else {
			want = append(want, r) // new users
		}
	}
	if got, _, err := db.ReadRatings(t.Context(), nil); err != nil || !cmp.Equal(got, want) {
		t.Errorf("ReadRatings() after rerates: %v; mismatch: %s", err, cmp.Diff(want, got))
	}
	// With every rating deleted, the next import swaps in new partitions.
	if _, err := db.pool.Exec(t.Context(), "DELETE FROM ratings"); err != nil {
		t.Fatal(err)
	}
	if added, err := db.Import(t.Context(), movies, rs[:400], engine.MovieLensScale, nil); err != nil || added != 400 {
		t.Fatalf("Import() into the emptied table = %d, %v, want 400", added, err)
	}
	checkParts(min(parts, 400/(minStagedImport/2)))
	if got, _, err := db.ReadRatings(t.Context(), nil); err != nil || !cmp.Equal(got, rs[:400]) {
		t.Errorf("ReadRatings() after the second staged import: %v; mismatch: %s", err, cmp.Diff(rs[:400], got))
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

// TestMigratePartitions migrates a database of schema version 4, with
// ratings in its plain table, to the partitioned table of migration 5:
// the ratings stay, in one partition whose key is the parent's.
func TestMigratePartitions(t *testing.T) {
	url := pgtest.NewDB(t)
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	for _, name := range names[:4] {
		src, err := migrations.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(t.Context(), string(src)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	for _, sql := range []string{
		"CREATE TABLE schema_version (version integer NOT NULL)",
		"INSERT INTO schema_version VALUES (4)",
		"INSERT INTO movies VALUES (1, 'a', ''), (2, 'b', '')",
		"INSERT INTO ratings VALUES (1, 1, 4, 10), (1, 2, 3, 11), (2, 2, 5, 12)",
		"UPDATE meta SET data_version = 1",
	} {
		if _, err := conn.Exec(t.Context(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	db, err := Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ps, err := partitions(t.Context(), db.pool)
	if err != nil || len(ps) != 1 || ps[0].name != "ratings_p0" {
		t.Fatalf("partitions after migrating = %v, %v, want ratings_p0", ps, err)
	}
	want := []engine.Rating{{User: 1, Movie: 1, Value: 4, Time: 10}, {User: 1, Movie: 2, Value: 3, Time: 11}, {User: 2, Movie: 2, Value: 5, Time: 12}}
	if got, v, err := db.ReadRatings(t.Context(), nil); err != nil || v != 1 || !cmp.Equal(got, want) {
		t.Fatalf("ReadRatings() after migrating = %v, %d, %v, want %v at version 1", got, v, err, want)
	}
	// The key holds: a rerate replaces.
	r := engine.Rating{User: 2, Movie: 2, Value: 1, Time: 13}
	if err := db.AddRatings(t.Context(), []engine.Rating{r}); err != nil {
		t.Fatal(err)
	}
	want[2] = r
	if got, _, err := db.ReadRatings(t.Context(), nil); err != nil || !cmp.Equal(got, want) {
		t.Errorf("ReadRatings() after a rerate = %v, %v, want %v", got, err, want)
	}
}
