package sqlite

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"movierec/engine"
)

// TestSnapshotRead checks the ratings snapshot: an import into an empty
// table writes it, and so does a full read of enough rows; the next read
// comes from it (rows deleted behind the store's back, without a new data
// version, are still there); writes go to its change log, which the read
// applies, rewrites past rewriteShare and drops past dropShare; a gap in
// the log, an import, a damaged, missing or extra chunk send the read to
// the rows, equal to them, which then writes a new snapshot.
func TestSnapshotRead(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 { // the snapshot is read in parts on several connections
		runtime.GOMAXPROCS(2)
		t.Cleanup(func() { runtime.GOMAXPROCS(1) })
	}
	defer func(ms, ch int) { minSnapshot, snapshotChunk = ms, ch }(minSnapshot, snapshotChunk)
	minSnapshot, snapshotChunk = 50, 7
	var logs bytes.Buffer
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "m.db"), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	movies := []engine.Movie{{ID: 1, Title: "a"}, {ID: 2, Title: "b"}, {ID: 3, Title: "c"}}
	var rs []engine.Rating
	for u := int32(1); u < 150; u += 1 + u%4 {
		for m := int32(1); m <= 1+u%3; m++ {
			rs = append(rs, engine.Rating{User: u, Movie: m, Value: float32(m) / 2, Time: 1e9 + int64(u)*int64(m)})
		}
	}
	rs = append(rs, engine.Rating{User: 1, Movie: 1, Value: 5, Time: 2e9}) // rates (1, 1) again
	if _, err := db.Import(t.Context(), movies, rs, engine.MovieLensScale, nil); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.write.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	chunks := func() (n, version int64) {
		t.Helper()
		if err := db.read.QueryRowContext(ctx, "SELECT count(*), coalesce(max(data_version), -1) FROM ratings_snapshot").Scan(&n, &version); err != nil {
			t.Fatal(err)
		}
		return n, version
	}
	read := func(wantSnapshot bool) []engine.Rating {
		t.Helper()
		logs.Reset()
		got, v, err := db.ReadRatings(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := db.DataVersion(ctx); v != want {
			t.Errorf("ReadRatings version %d, want %d", v, want)
		}
		if from := strings.Contains(logs.String(), "ratings read from the snapshot"); from != wantSnapshot {
			t.Errorf("read from the snapshot = %v, want %v; log:\n%s", from, wantSnapshot, logs.String())
		}
		return got
	}
	rows := func() []engine.Rating {
		t.Helper()
		got, _, err := db.readRatings(ctx, false, time.Now(), nil)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	// An import into an empty table writes the snapshot of what it
	// stored (a later rating of a pair replaced an earlier one).
	v, _ := db.DataVersion(ctx)
	if n, sv := chunks(); n == 0 || sv != v {
		t.Fatalf("after the import: %d snapshot chunks at version %d, want some at %d", n, sv, v)
	}
	first := read(true)
	if diff := cmp.Diff(rows(), first); diff != "" {
		t.Fatalf("first read differs from the rows:\n%s", diff)
	}
	if first[0].Value != 5 {
		t.Fatalf("the pair rated twice reads %v, want the later rating 5", first[0])
	}
	// Without it, the first read comes from the rows and writes one.
	exec("DELETE FROM ratings_snapshot")
	if diff := cmp.Diff(first, read(false)); diff != "" {
		t.Fatalf("read from the rows differs from the first read:\n%s", diff)
	}
	if n, sv := chunks(); n != int64((len(first)+6)/7) || sv != v {
		t.Fatalf("snapshot: %d chunks at version %d, want %d at %d (%d ratings); log:\n%s", n, sv, (len(first)+6)/7, v, len(first), logs.String())
	}
	// Rows removed behind the store's back (no new version): the read
	// comes from the snapshot, so they are still there. Then put back.
	exec("DELETE FROM ratings WHERE user_id = ?", first[0].User)
	if diff := cmp.Diff(first, read(true)); diff != "" {
		t.Fatalf("read through the snapshot differs from the first read:\n%s", diff)
	}
	for _, r := range first {
		if r.User == first[0].User {
			exec("INSERT INTO ratings (user_id, movie_id, rating, ts) VALUES (?, ?, ?, ?)", r.User, r.Movie, r.Value, r.Time)
		}
	}
	logged := func() (n int64) {
		t.Helper()
		if err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM ratings_changes").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// checkRead reads and compares with the rows, then checks where the
	// snapshot is and how long the log is.
	checkRead := func(fromSnapshot bool, snapAt int64, wantLogged int64) []engine.Rating {
		t.Helper()
		got := read(fromSnapshot)
		if diff := cmp.Diff(rows(), got); diff != "" {
			t.Fatalf("read differs from the rows:\n%s", diff)
		}
		if _, sv := chunks(); sv != snapAt {
			t.Errorf("snapshot at version %d, want %d", sv, snapAt)
		}
		if n := logged(); n != wantLogged {
			t.Errorf("%d changes logged, want %d", n, wantLogged)
		}
		return got
	}

	// Writes go to the change log: a new pair, a rerate, a deletion, and
	// a deletion of nothing (no new version, nothing logged). The read
	// applies the log to the snapshot.
	if err := db.AddRatings(ctx, []engine.Rating{{User: 500, Movie: 2, Value: 4, Time: 7}, {User: first[1].User, Movie: first[1].Movie, Value: 5, Time: 8}}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteRating(ctx, first[2].User, first[2].Movie); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteRating(ctx, 999, 1); !errors.Is(err, engine.ErrNotRated) {
		t.Fatalf("DeleteRating of nothing = %v, want ErrNotRated", err)
	}
	if v2, _ := db.DataVersion(ctx); v2 != v+2 {
		t.Fatalf("data version %d after two writes from %d", v2, v)
	}
	got := checkRead(true, v, 3)
	if len(got) != len(first) {
		t.Fatalf("%d ratings after one added and one deleted, want %d", len(got), len(first))
	}

	// The users whose ratings changed since a version, from the log.
	changed := func(since int64) ([]int32, error) {
		t.Helper()
		return db.ChangedUsers(ctx, since)
	}
	for _, tc := range []struct {
		since int64
		want  []int32
	}{
		{v, slices.Sorted(slices.Values([]int32{500, first[1].User, first[2].User}))},
		{v + 1, []int32{first[2].User}},
		{v + 2, nil},
	} {
		if got, err := changed(tc.since); err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ChangedUsers(%d) = %v, %v; want %v", tc.since, got, err, tc.want)
		}
	}
	if got, err := changed(v - 1); !errors.Is(err, ErrNoChangeLog) {
		t.Errorf("ChangedUsers(%d), before the snapshot = %v, %v; want ErrNoChangeLog", v-1, got, err)
	}

	// A gap in the log (a version's changes missing): the rows, and a new
	// snapshot at the current version with an empty log.
	exec("DELETE FROM ratings_changes WHERE data_version = ?", v+1)
	if got, err := changed(v); !errors.Is(err, ErrNoChangeLog) {
		t.Errorf("ChangedUsers(%d) with a gap in the log = %v, %v; want ErrNoChangeLog", v, got, err)
	}
	checkRead(false, v+2, 0)
	checkRead(true, v+2, 0)

	// More changes than rewriteShare of the snapshot: the read applies
	// them and writes a new snapshot, emptying the log.
	many := int(rewriteShare*float64(len(got))) + 1
	for k := range many {
		if err := db.AddRatings(ctx, []engine.Rating{{User: 600, Movie: int32(1 + k%3), Value: 3, Time: int64(k)}}); err != nil {
			t.Fatal(err)
		}
	}
	checkRead(true, v+2+int64(many), 0)
	got = checkRead(true, v+2+int64(many), 0)

	// A write that would take the log past dropShare drops the snapshot
	// and the log; the next read reads the rows and writes a new one.
	var big []engine.Rating
	for u := range int32(dropShare*float64(len(got))) + 1 {
		big = append(big, engine.Rating{User: 700 + u, Movie: 1, Value: 2, Time: 9})
	}
	if err := db.AddRatings(ctx, big); err != nil {
		t.Fatal(err)
	}
	if n, _ := chunks(); n != 0 || logged() != 0 {
		t.Fatalf("after a write past dropShare: %d chunks, %d changes; want none", n, logged())
	}
	if !strings.Contains(logs.String(), "ratings snapshot dropped") {
		t.Errorf("the drop was not logged:\n%s", logs.String())
	}
	if got, err := changed(v); !errors.Is(err, ErrNoChangeLog) {
		t.Errorf("ChangedUsers(%d) without a snapshot = %v, %v; want ErrNoChangeLog", v, got, err)
	}
	// Without a snapshot nothing is logged.
	if err := db.AddRatings(ctx, []engine.Rating{{User: 800, Movie: 1, Value: 1, Time: 1}}); err != nil {
		t.Fatal(err)
	}
	if logged() != 0 {
		t.Errorf("%d changes logged without a snapshot", logged())
	}
	v2, _ := db.DataVersion(ctx)
	checkRead(false, v2, 0)
	checkRead(true, v2, 0)

	// An import that adds ratings is not logged: the snapshot goes.
	if _, err := db.Import(ctx, movies, []engine.Rating{{User: 900, Movie: 3, Value: 1, Time: 1}}, engine.MovieLensScale, nil); err != nil {
		t.Fatal(err)
	}
	if n, _ := chunks(); n != 0 {
		t.Fatalf("%d snapshot chunks after an import that added a rating", n)
	}
	v2, _ = db.DataVersion(ctx)
	got = checkRead(false, v2, 0)
	checkRead(true, v2, 0)

	// Damage: each makes the read fall back to the rows (equal to them).
	for _, tc := range []struct{ name, q string }{
		// The last byte is a time's: the chunk still decodes, wrongly.
		{"flipped byte", "UPDATE ratings_snapshot SET data = CAST(substr(data, 1, length(data) - 1) || x'ff' AS BLOB) WHERE chunk = 1"},
		{"missing chunk", "DELETE FROM ratings_snapshot WHERE chunk = 2"},
		{"extra chunk", "INSERT INTO ratings_snapshot SELECT chunks, data_version, chunks, ratings, crc, data FROM ratings_snapshot WHERE chunk = 0"},
		{"wrong count", "UPDATE ratings_snapshot SET ratings = ratings + 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			read(true) // the snapshot is whole again
			exec(tc.q)
			if diff := cmp.Diff(rows(), read(false)); diff != "" {
				t.Fatalf("read after %s differs from the rows:\n%s", tc.name, diff)
			}
		})
	}

	// A snapshot is written only when the data did not move on since the
	// read, and only for enough ratings.
	exec("DELETE FROM ratings_snapshot")
	if err := db.writeSnapshot(ctx, v2-1, got); err != nil {
		t.Fatal(err)
	}
	if n, _ := chunks(); n != 0 {
		t.Errorf("a snapshot of an old version was written (%d chunks)", n)
	}
	minSnapshot = len(got) + 1
	read(false)
	if n, _ := chunks(); n != 0 {
		t.Errorf("%d chunks written for %d ratings, under minSnapshot", n, len(got))
	}
}

// TestSnapshotMigration checks migration 6 on a file of schema 5 whose
// snapshot is older than its data (writes that no log recorded): the
// snapshot goes, and the read comes from the rows. A current one stays.
func TestSnapshotMigration(t *testing.T) {
	defer func(ms, ch int) { minSnapshot, snapshotChunk = ms, ch }(minSnapshot, snapshotChunk)
	minSnapshot, snapshotChunk = 5, 4
	path := filepath.Join(t.TempDir(), "m.db")
	ctx := t.Context()
	for _, stale := range []bool{false, true} {
		db, err := Open(ctx, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Import(ctx, []engine.Movie{{ID: 1, Title: "a"}}, []engine.Rating{
			{User: 1, Movie: 1, Value: 1}, {User: 2, Movie: 1, Value: 2}, {User: 3, Movie: 1, Value: 3},
			{User: 4, Movie: 1, Value: 4}, {User: 5, Movie: 1, Value: 5}, {User: 6, Movie: 1, Value: 1},
		}, engine.MovieLensScale, nil); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.ReadRatings(ctx, nil); err != nil { // writes the snapshot
			t.Fatal(err)
		}
		// Back to schema 5, as an older binary left it.
		qs := []string{"DROP TABLE ratings_changes", "PRAGMA user_version = 5"}
		if stale { // a write by that binary: the rating changes, unlogged
			qs = append(qs, "UPDATE ratings SET rating = 0.5 WHERE user_id = 1", "UPDATE meta SET data_version = data_version + 1")
		}
		for _, q := range qs {
			if _, err := db.write.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		db.Close()
		if db, err = Open(ctx, path, nil); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM ratings_snapshot").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if (n == 0) != stale {
			t.Errorf("stale %v: %d snapshot chunks after the migration", stale, n)
		}
		rs, _, err := db.ReadRatings(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]float32{false: 1, true: 0.5}[stale]; len(rs) == 0 || rs[0].Value != want {
			t.Errorf("stale %v: user 1's rating reads %v, want %v", stale, rs, want)
		}
		db.Close()
		path = filepath.Join(t.TempDir(), "m.db")
	}
}

// BenchmarkAddRatingsLogged measures a POST's write (a batch of 10
// ratings, one durable commit) without a ratings snapshot and with one,
// when the write also goes to the change log.
func BenchmarkAddRatingsLogged(b *testing.B) {
	defer func(ms, ch int) { minSnapshot, snapshotChunk = ms, ch }(minSnapshot, snapshotChunk)
	minSnapshot = 1
	for _, snapshot := range []bool{false, true} {
		b.Run(fmt.Sprintf("snapshot=%v", snapshot), func(b *testing.B) {
			db, err := Open(b.Context(), filepath.Join(b.TempDir(), "m.db"), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			movies := make([]engine.Movie, 100)
			for i := range movies {
				movies[i] = engine.Movie{ID: int32(i + 1), Title: "m"}
			}
			var rs []engine.Rating
			for u := range int32(20000) {
				rs = append(rs, engine.Rating{User: u, Movie: 1 + u%100, Value: 3, Time: 1})
			}
			if _, err := db.Import(b.Context(), movies, rs, engine.MovieLensScale, nil); err != nil {
				b.Fatal(err)
			}
			if snapshot {
				if _, _, err := db.ReadRatings(b.Context(), nil); err != nil {
					b.Fatal(err)
				}
			}
			batch := make([]engine.Rating, 10)
			u := int32(100000)
			for b.Loop() {
				for i := range batch {
					batch[i] = engine.Rating{User: u, Movie: int32(1 + i), Value: 4, Time: 2}
				}
				u++
				if err := db.AddRatings(b.Context(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			var logged int
			if err := db.read.QueryRowContext(b.Context(), "SELECT count(*) FROM ratings_changes").Scan(&logged); err != nil {
				b.Fatal(err)
			}
			if want := 10 * b.N; snapshot && logged != want && logged != 0 || !snapshot && logged != 0 {
				b.Fatalf("%d changes logged after %d batches (snapshot %v)", logged, b.N, snapshot)
			}
		})
	}
}
