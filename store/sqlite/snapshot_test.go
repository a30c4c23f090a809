package sqlite

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"movierec/engine"
)

// TestSnapshotRead checks the ratings snapshot: a full read of enough
// rows writes it; the next read comes from it (rows deleted behind the
// store's back, without a new data version, are still there); a write
// makes it stale, and so does a damaged, missing or extra chunk: the read
// then comes from the rows, equal to them, and writes a new snapshot.
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

	if n, _ := chunks(); n != 0 {
		t.Fatalf("%d snapshot chunks after the import, want none", n)
	}
	first := read(false)
	if diff := cmp.Diff(rows(), first); diff != "" {
		t.Fatalf("first read differs from the rows:\n%s", diff)
	}
	v, _ := db.DataVersion(ctx)
	if n, sv := chunks(); n != int64((len(first)+6)/7) || sv != v {
		t.Fatalf("snapshot: %d chunks at version %d, want %d at %d (%d ratings); log:\n%s", n, sv, (len(first)+6)/7, v, len(first), logs.String())
	}
	// Rows removed behind the store's back (no new version): the read
	// comes from the snapshot, so they are still there.
	exec("DELETE FROM ratings WHERE user_id = ?", first[0].User)
	if diff := cmp.Diff(first, read(true)); diff != "" {
		t.Fatalf("read through the snapshot differs from the first read:\n%s", diff)
	}

	// A write: stale, so the rows; then a new snapshot at the new version.
	if err := db.AddRatings(ctx, []engine.Rating{{User: 500, Movie: 2, Value: 4, Time: 7}}); err != nil {
		t.Fatal(err)
	}
	got := read(false)
	if diff := cmp.Diff(rows(), got); diff != "" || len(got) != len(first)-(1+int(first[0].User)%3)+1 {
		t.Fatalf("read after a write differs from the rows (%d ratings, first read %d):\n%s", len(got), len(first), diff)
	}
	v2, _ := db.DataVersion(ctx)
	if _, sv := chunks(); sv != v2 || v2 == v {
		t.Fatalf("snapshot at version %d after the write, want %d", sv, v2)
	}
	read(true)

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
