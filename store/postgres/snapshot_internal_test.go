package postgres

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"movierec/engine"
	"movierec/store/postgres/pgtest"
)

// TestSnapshotRead checks the read through a ratings snapshot: written by
// a first import, read with the change log after it applied (rerates,
// deletions, new pairs), the same as the COPY read at the same version;
// and, once the log is pruned past it, the COPY read and a new snapshot.
func TestSnapshotRead(t *testing.T) {
	defer func(mi, sc, ms, ch int) { minStagedImport, stageParts, minSnapshot, snapshotChunk = mi, sc, ms, ch }(
		minStagedImport, stageParts, minSnapshot, snapshotChunk)
	minStagedImport, stageParts, minSnapshot, snapshotChunk = 100, 2, 1, 7
	db, err := Open(t.Context(), pgtest.NewDB(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	newest := func() (v int64, chunks int) {
		t.Helper()
		if err := db.pool.QueryRow(t.Context(), "SELECT coalesce(max(version), -1), count(*) FROM ratings_snapshots").Scan(&v, &chunks); err != nil {
			t.Fatal(err)
		}
		return v, chunks
	}
	movies := []engine.Movie{{ID: 1, Title: "a"}, {ID: 2, Title: "b"}, {ID: 3, Title: "c"}}
	var rs []engine.Rating
	for u := range int32(1000) {
		for m := range int32(3) {
			rs = append(rs, engine.Rating{User: u * 2, Movie: m + 1, Value: float32(m + 1), Time: int64(u)})
		}
	}
	if _, err := db.Import(t.Context(), movies, rs, engine.MovieLensScale, nil); err != nil {
		t.Fatal(err)
	}
	v0, _ := db.DataVersion(t.Context())
	if v, chunks := newest(); v != v0 || chunks != (len(rs)+6)/7 {
		t.Fatalf("after Import: snapshot of version %d in %d chunks, want version %d in %d", v, chunks, v0, (len(rs)+6)/7)
	}
	// Written under a placeholder while the key was built, renumbered
	// by the import's transaction: nothing left under the placeholder.
	var staged int
	if err := db.pool.QueryRow(t.Context(), "SELECT count(*) FROM ratings_snapshots WHERE version < 0").Scan(&staged); err != nil || staged != 0 {
		t.Fatalf("after Import: %d chunks under a placeholder version (%v), want 0", staged, err)
	}
	read := func(snapshots bool) ([]engine.Rating, int64) {
		t.Helper()
		defer func(old bool) { useSnapshots = old }(useSnapshots)
		useSnapshots = snapshots
		got, v, err := db.ReadRatings(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		return got, v
	}
	if got, v := read(true); v != v0 || !slices.Equal(got, rs) {
		t.Fatalf("ReadRatings() from the snapshot = %d ratings at %d, want %d at %d; diff:\n%s", len(got), v, len(rs), v0, cmp.Diff(rs, got))
	}

	// Changes after the snapshot: a rerate, a pair rated twice, a new
	// pair between stored ones, a new user at the end, a deletion, a
	// deleted pair rated again, a new pair deleted.
	want := slices.Clone(rs)
	steps := []func() error{
		func() error {
			return db.AddRatings(t.Context(), []engine.Rating{{User: 14, Movie: 2, Value: 5, Time: 99}})
		},
		func() error {
			return db.AddRatings(t.Context(), []engine.Rating{{User: 14, Movie: 2, Value: 0.5, Time: 100}})
		},
		func() error {
			return db.AddRatings(t.Context(), []engine.Rating{{User: 15, Movie: 3, Value: 2, Time: 7}})
		},
		func() error {
			return db.AddRatings(t.Context(), []engine.Rating{{User: 5000, Movie: 1, Value: 4, Time: 8}})
		},
		func() error { return db.DeleteRating(t.Context(), 0, 1) },
		func() error { return db.DeleteRating(t.Context(), 100, 3) },
		func() error {
			return db.AddRatings(t.Context(), []engine.Rating{{User: 100, Movie: 3, Value: 1, Time: 9}})
		},
		func() error {
			return db.AddRatings(t.Context(), []engine.Rating{{User: 17, Movie: 1, Value: 1, Time: 9}})
		},
		func() error { return db.DeleteRating(t.Context(), 17, 1) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	want[7*3+1] = engine.Rating{User: 14, Movie: 2, Value: 0.5, Time: 100}
	want[50*3+2] = engine.Rating{User: 100, Movie: 3, Value: 1, Time: 9}
	want = append(want, engine.Rating{User: 5000, Movie: 1, Value: 4, Time: 8})
	want = slices.Insert(want, 8*3, engine.Rating{User: 15, Movie: 3, Value: 2, Time: 7})
	want = want[1:]
	copied, cv := read(false)
	if !slices.Equal(copied, want) {
		t.Fatalf("ReadRatings() through COPY mismatch (-want +got):\n%s", cmp.Diff(want, copied))
	}
	got, v := read(true)
	if v != cv || !slices.Equal(got, want) {
		t.Fatalf("ReadRatings() from the snapshot and the log = version %d, want %d; mismatch (-want +got):\n%s", v, cv, cmp.Diff(want, got))
	}
	if sv, _ := newest(); sv != v0 {
		t.Errorf("a short log rewrote the snapshot: version %d, want %d", sv, v0)
	}

	// Pruned past the snapshot: read through COPY, and a new snapshot.
	if _, err := db.PruneChanges(t.Context(), v); err != nil {
		t.Fatal(err)
	}
	if got, gv := read(true); gv != v || !slices.Equal(got, want) {
		t.Fatalf("ReadRatings() after a prune mismatch at version %d, want %d (-want +got):\n%s", gv, v, cmp.Diff(want, got))
	}
	if sv, chunks := newest(); sv != v || chunks != (len(want)+6)/7 {
		t.Errorf("after a read past the log: snapshot of version %d in %d chunks, want %d in %d", sv, chunks, v, (len(want)+6)/7)
	}
	if got, gv := read(true); gv != v || !slices.Equal(got, want) {
		t.Fatalf("ReadRatings() from the new snapshot mismatch (-want +got):\n%s", cmp.Diff(want, got))
	}
}

// TestPruneKeepsSnapshotChanges checks that the writer's prune keeps the
// changes after the ratings snapshot while they are at most
// snapshotKeepShare of its ratings (so a start still reads the snapshot),
// and prunes past it once they are more.
func TestPruneKeepsSnapshotChanges(t *testing.T) {
	defer func(mi, sc, ms, ch int) { minStagedImport, stageParts, minSnapshot, snapshotChunk = mi, sc, ms, ch }(
		minStagedImport, stageParts, minSnapshot, snapshotChunk)
	defer func(k, e int64, s float64) { keepChangeVersions, pruneEvery, snapshotKeepShare = k, e, s }(
		keepChangeVersions, pruneEvery, snapshotKeepShare)
	minStagedImport, stageParts, minSnapshot, snapshotChunk = 10, 2, 1, 7
	keepChangeVersions, pruneEvery, snapshotKeepShare = 2, 1, 0.25
	db, err := Open(t.Context(), pgtest.NewDB(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rs []engine.Rating
	for u := range int32(10) {
		for m := range int32(3) {
			rs = append(rs, engine.Rating{User: u, Movie: m + 1, Value: 3, Time: 1})
		}
	}
	movies := []engine.Movie{{ID: 1, Title: "a"}, {ID: 2, Title: "b"}, {ID: 3, Title: "c"}}
	if _, err := db.Import(t.Context(), movies, rs, engine.MovieLensScale, nil); err != nil {
		t.Fatal(err)
	}
	var snap int64
	if err := db.pool.QueryRow(t.Context(), "SELECT max(version) FROM ratings_snapshots").Scan(&snap); err != nil {
		t.Fatalf("no snapshot after the import: %v", err)
	}
	floorAfter := func(u int32) (last, floor int64) {
		t.Helper()
		last, err := db.AddRatingsVersion(t.Context(), []engine.Rating{{User: 100 + u, Movie: 1, Value: 4, Time: 2}})
		if err != nil {
			t.Fatal(err)
		}
		for end := time.Now().Add(5 * time.Second); db.pruning.Load() && time.Now().Before(end); {
			time.Sleep(5 * time.Millisecond)
		}
		if err := db.pool.QueryRow(t.Context(), "SELECT log_floor FROM meta").Scan(&floor); err != nil {
			t.Fatal(err)
		}
		return last, floor
	}
	// 30 ratings: the log keeps up to 7 changes after the snapshot.
	for u := range int32(7) {
		if last, floor := floorAfter(u); last-2 > snap && floor != snap {
			t.Fatalf("after %d changes (version %d): log floor %d, want the snapshot's %d", u+1, last, floor, snap)
		}
	}
	if last, floor := floorAfter(7); floor != last-2 {
		t.Fatalf("after 8 changes (version %d): log floor %d, want %d (past the snapshot)", last, floor, last-2)
	}
}
