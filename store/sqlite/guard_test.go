package sqlite

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"movierec/engine"
)

// TestOpenRefusesForeignFiles: an existing file that is not a movierec
// database is never imported over; the error names the file.
func TestOpenRefusesForeignFiles(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	text := filepath.Join(dir, "notes.db")
	other := filepath.Join(dir, "other.db")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(text, []byte("hello, this is not a database at all\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	odb, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := odb.Exec("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	odb.Close()
	for _, path := range []string{empty, text, other} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			before, _ := os.ReadFile(path)
			db, err := Open(t.Context(), path, nil)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%s) = nil, want ErrNotMovierec", path)
			}
			if !errors.Is(err, ErrNotMovierec) || !strings.Contains(err.Error(), path) {
				t.Errorf("Open(%s) = %v, want ErrNotMovierec naming the file", path, err)
			}
			if path == other { // WAL mode may be set; no table may be added
				odb, _ := sql.Open("sqlite", other)
				defer odb.Close()
				var n int
				if err := odb.QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'table'").Scan(&n); err != nil || n != 1 {
					t.Errorf("after Open(%s): %d tables (%v), want only its own", path, n, err)
				}
			} else if after, _ := os.ReadFile(path); string(after) != string(before) {
				t.Errorf("Open(%s) changed the file", path)
			}
		})
	}
	// A missing file is still created, and reopening ours works.
	fresh := filepath.Join(dir, "new.db")
	for range 2 {
		db, err := Open(t.Context(), fresh, nil)
		if err != nil {
			t.Fatalf("Open(new) = %v", err)
		}
		db.Close()
	}
}

func TestLockWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	unlock, err := LockWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockWriter(path); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Errorf("second LockWriter = %v, want ErrLocked naming the file", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	unlock, err = LockWriter(path)
	if err != nil {
		t.Fatalf("LockWriter after unlock = %v", err)
	}
	unlock()
}

func TestQuickCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	db := importSmall(t, path, 2000)
	if err := db.QuickCheck(t.Context()); err != nil {
		t.Fatalf("QuickCheck(sound file) = %v", err)
	}
	db.Close()
	// Overwrite pages in the middle of the file with garbage.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	junk := []byte(strings.Repeat("\xde\xad\xbe\xef", 2048))
	if _, err := f.WriteAt(junk, fi.Size()/2/4096*4096); err != nil {
		t.Fatal(err)
	}
	f.Close()
	db, err = Open(t.Context(), path, nil)
	if err != nil {
		if errors.Is(err, ErrNotMovierec) {
			t.Fatal(err)
		}
		return // refused at open: fine too
	}
	defer db.Close()
	if err := db.QuickCheck(t.Context()); !errors.Is(err, ErrCorrupt) {
		t.Errorf("QuickCheck(corrupt file) = %v, want ErrCorrupt", err)
	}
}

// importSmall opens a database at path and imports n ratings over 3 movies.
func importSmall(t *testing.T, path string, n int) *DB {
	t.Helper()
	db, err := Open(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	movies := []engine.Movie{{ID: 1, Title: "a"}, {ID: 2, Title: "b"}, {ID: 3, Title: "c"}}
	rs := make([]engine.Rating, n)
	for i := range rs {
		rs[i] = engine.Rating{User: int32(i / 3), Movie: int32(i%3 + 1), Value: 4, Time: int64(i)}
	}
	if _, err := db.Import(t.Context(), movies, rs, engine.MovieLensScale, nil); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestReadRatingsProgress: the long start-up read reports rows and rate.
func TestReadRatingsProgress(t *testing.T) {
	old := readProgressEvery
	readProgressEvery = time.Millisecond
	t.Cleanup(func() { readProgressEvery = old })
	db := importSmall(t, filepath.Join(t.TempDir(), "m.db"), 60000)
	defer db.Close()
	var mu sync.Mutex
	var seen []ReadProgress
	rs, _, err := db.ReadRatings(t.Context(), func(p ReadProgress) {
		mu.Lock()
		seen = append(seen, p)
		mu.Unlock()
	})
	if err != nil || len(rs) != 60000 {
		t.Fatalf("ReadRatings = %d ratings, %v", len(rs), err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) == 0 {
		t.Fatal("ReadRatings reported no progress")
	}
	for _, p := range seen {
		if p.Total != 60000 || p.Done < 0 || p.Done > p.Total {
			t.Errorf("progress %+v, want Done within [0, 60000] of Total 60000", p)
		}
	}
}
