package postgres_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"movierec/engine"
	"movierec/store"
	"movierec/store/postgres/pgtest"
	"movierec/store/storetest"
)

// TestOutage stops PostgreSQL under a store: writes fail fast wrapping
// ErrStoreUnavailable and store nothing, StorageStatus says so, the
// trainer lease is lost, and when PostgreSQL returns the same store writes
// again and Watch resumes, with no reopening.
func TestOutage(t *testing.T) {
	c := pgtest.NewCluster(t)
	url, err := c.CreateDB(t.Context(), "outage")
	if err != nil {
		t.Fatal(err)
	}
	db := open(t, url)
	if _, err := db.Import(t.Context(), storetest.Movies, storetest.Ratings, engine.MovieLensScale, nil); err != nil {
		t.Fatal(err)
	}
	lease, err := db.TryAcquire(t.Context())
	if err != nil || lease == nil {
		t.Fatalf("TryAcquire() = %v, %v", lease, err)
	}
	defer lease.Release()
	var watchCalls atomic.Int64
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go db.Watch(ctx, func() { watchCalls.Add(1) })

	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	// Watch notices before any write does.
	for end := time.Now().Add(5 * time.Second); db.StorageStatus().Healthy() && time.Now().Before(end); {
		time.Sleep(50 * time.Millisecond)
	}
	if st := db.StorageStatus(); st.Healthy() {
		t.Errorf("StorageStatus() 5 s into an outage, no writes = %+v, want unhealthy", st)
	}
	if err := db.Ping(t.Context()); !errors.Is(err, engine.ErrStoreUnavailable) {
		t.Errorf("Ping() with PostgreSQL down = %v, want ErrStoreUnavailable", err)
	}
	start := time.Now()
	err = db.AddRatings(t.Context(), []engine.Rating{{User: 9, Movie: 1, Value: 2, Time: 1}})
	if !errors.Is(err, engine.ErrStoreUnavailable) {
		t.Errorf("AddRatings() with PostgreSQL down = %v, want ErrStoreUnavailable", err)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("AddRatings() with PostgreSQL down took %v, want a fast failure", d)
	}
	if err := db.DeleteRating(t.Context(), 1, 1); !errors.Is(err, engine.ErrStoreUnavailable) {
		t.Errorf("DeleteRating() with PostgreSQL down = %v, want ErrStoreUnavailable", err)
	}
	if st := db.StorageStatus(); st.Healthy() {
		t.Errorf("StorageStatus() with PostgreSQL down = %+v, want a write error", st)
	}
	select {
	case <-lease.Lost():
	case <-time.After(5 * time.Second):
		t.Error("the trainer lease was not lost within 5 s of PostgreSQL stopping")
	}

	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	// The pool reconnects by itself: the next write works.
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := db.AddRatings(t.Context(), []engine.Rating{{User: 10, Movie: 11, Value: 4, Time: 2}})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("AddRatings() 15 s after PostgreSQL returned = %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got, _ := db.UserRatings(t.Context(), 9); len(got) != 0 {
		t.Errorf("a write refused during the outage was stored: %v", got)
	}
	for time.Now().Before(deadline) && !db.StorageStatus().Healthy() {
		time.Sleep(100 * time.Millisecond)
	}
	if st := db.StorageStatus(); !st.Healthy() {
		t.Errorf("StorageStatus() after recovery = %+v, want healthy", st)
	}
	// Watch reconnected: a write wakes it within a second or so.
	n := watchCalls.Load()
	if err := db.AddRatings(t.Context(), []engine.Rating{{User: 11, Movie: 11, Value: 4, Time: 2}}); err != nil {
		t.Fatal(err)
	}
	for time.Now().Before(deadline) && watchCalls.Load() == n {
		time.Sleep(50 * time.Millisecond)
	}
	if watchCalls.Load() == n {
		t.Error("Watch made no call after PostgreSQL returned")
	}
	// Another process may take the trainer lock now.
	other := open(t, url)
	l2, err := other.TryAcquire(t.Context())
	if err != nil || l2 == nil {
		t.Errorf("TryAcquire() after the holder lost its connection = %v, %v, want a lease", l2, err)
	} else {
		l2.Release()
	}
}

// TestLeaseLostWhenConnectionKilled terminates the lock's backend: Lost
// closes within a second or so, and another store can take the lock.
func TestLeaseLostWhenConnectionKilled(t *testing.T) {
	url := pgtest.NewDB(t)
	db := open(t, url)
	lease, err := db.TryAcquire(t.Context())
	if err != nil || lease == nil {
		t.Fatalf("TryAcquire() = %v, %v", lease, err)
	}
	defer lease.Release()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var killed int
	if err := conn.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminate the lock holder: %d backends, %v", killed, err)
	}
	select {
	case <-lease.Lost():
	case <-time.After(3 * time.Second):
		t.Fatal("Lost() not closed within 3 s of the lock's connection ending")
	}
	other := open(t, url)
	l2, err := other.TryAcquire(t.Context())
	if err != nil || l2 == nil {
		t.Fatalf("TryAcquire() after the holder was terminated = %v, %v, want a lease", l2, err)
	}
	l2.Release()
}

// TestPruneChanges prunes the change log: a follower behind the floor gets
// ErrResync, one at or past it the rest.
func TestPruneChanges(t *testing.T) {
	db := open(t, pgtest.NewDB(t))
	if _, err := db.Import(t.Context(), storetest.Movies, nil, engine.MovieLensScale, nil); err != nil {
		t.Fatal(err)
	}
	var vs []int64
	for i := range 4 {
		v, err := db.AddRatingsVersion(t.Context(), []engine.Rating{{User: int32(i + 1), Movie: 1, Value: 3, Time: 1}})
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	n, err := db.PruneChanges(t.Context(), vs[1])
	if err != nil || n != 2 {
		t.Fatalf("PruneChanges(%d) = %d, %v, want 2 deleted", vs[1], n, err)
	}
	if _, err := db.Changes(t.Context(), vs[0], 10); !errors.Is(err, engine.ErrResync) {
		t.Errorf("Changes(%d) behind the floor error = %v, want ErrResync", vs[0], err)
	}
	cs, err := db.Changes(t.Context(), vs[1], 10)
	if err != nil || len(cs) != 2 || cs[0].Version != vs[2] || cs[1].Version != vs[3] {
		t.Errorf("Changes(%d) = %v, %v, want the changes of versions %d and %d", vs[1], cs, err, vs[2], vs[3])
	}
}

// TestChangedUsers lists the users whose ratings changed since a version,
// deletions included, until a prune takes the log past it.
func TestChangedUsers(t *testing.T) {
	db := open(t, pgtest.NewDB(t))
	ctx := t.Context()
	if _, err := db.Import(ctx, storetest.Movies, nil, engine.MovieLensScale, nil); err != nil {
		t.Fatal(err)
	}
	v0, err := db.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var vs []int64
	for _, u := range []int32{7, 3, 7, 5} {
		v, err := db.AddRatingsVersion(ctx, []engine.Rating{{User: u, Movie: 1, Value: 3, Time: 1}})
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	if err := db.DeleteRating(ctx, 3, 1); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		since int64
		want  []int32
	}{
		{v0, []int32{3, 5, 7}},
		{vs[1], []int32{3, 5, 7}},
		{vs[3], []int32{3}},
		{vs[3] + 1, nil},
	} {
		if got, err := db.ChangedUsers(ctx, tc.since); err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ChangedUsers(%d) = %v, %v; want %v", tc.since, got, err, tc.want)
		}
	}
	if _, err := db.PruneChanges(ctx, vs[1]); err != nil {
		t.Fatal(err)
	}
	if got, err := db.ChangedUsers(ctx, vs[0]); !errors.Is(err, store.ErrNoChangeLog) {
		t.Errorf("ChangedUsers(%d) behind the floor = %v, %v; want ErrNoChangeLog", vs[0], got, err)
	}
	if got, err := db.ChangedUsers(ctx, vs[1]); err != nil || !slices.Equal(got, []int32{3, 5, 7}) {
		t.Errorf("ChangedUsers(%d) at the floor = %v, %v; want [3 5 7]", vs[1], got, err)
	}
}

// TestReadRatingsSortsAfterUpdates checks ReadRatings' order once rerates
// have moved rows to the end of the heap.
func TestReadRatingsSortsAfterUpdates(t *testing.T) {
	db := open(t, pgtest.NewDB(t))
	if _, err := db.Import(t.Context(), storetest.Movies, storetest.Ratings, engine.MovieLensScale, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.AddRatings(t.Context(), []engine.Rating{{User: 1, Movie: 1, Value: 1, Time: 9}}); err != nil {
		t.Fatal(err)
	}
	got, _, err := db.Ratings(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []engine.Rating{{User: 1, Movie: 1, Value: 1, Time: 9}, storetest.Ratings[1], storetest.Ratings[2]}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("Ratings() = %v, want %v", got, want)
	}
}
