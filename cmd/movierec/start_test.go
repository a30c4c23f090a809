package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"movierec/als"
	"movierec/engine"
	"movierec/store"
	"movierec/store/sqlite"
)

// modelsDB is a store.DB whose only working methods are LatestModel (the
// models by params) and ChangedUsers.
type modelsDB struct {
	store.DB
	models  map[string]*engine.Snapshot
	changed []int32
	err     error
}

func (d modelsDB) LatestModel(_ context.Context, p als.Params) (*engine.Snapshot, error) {
	if s, ok := d.models[p.String()]; ok {
		c := *s
		return &c, nil
	}
	return nil, nil
}

func (d modelsDB) ChangedUsers(context.Context, int64) ([]int32, error) { return d.changed, d.err }

// TestStoredModels checks which stored models a start serves: those of
// the data's version; older ones only with the users changed since, from
// a store that lists them; never a pair whose two models differ in version.
func TestStoredModels(t *testing.T) {
	defer func(n int) { maxFoldUsers = n }(maxFoldUsers)
	maxFoldUsers = 3
	p, ranking := als.DefaultParams(), als.DefaultImplicitParams()
	snap := func(v int64) *engine.Snapshot {
		return &engine.Snapshot{DataVersion: v, Model: &als.Model{Rank: 1}, UserIDs: []int32{1, 2}, MovieIDs: []int32{7}}
	}
	models := func(rating, rank int64) map[string]*engine.Snapshot {
		m := map[string]*engine.Snapshot{}
		if rating >= 0 {
			m[p.String()] = snap(rating)
		}
		if rank >= 0 {
			m[ranking.String()] = snap(rank)
		}
		return m
	}
	for _, tc := range []struct {
		name        string
		db          store.DB
		wantVersion int64 // -1: no model
		wantChanged []int32
	}{
		{"current", modelsDB{models: models(10, 10)}, 10, nil},
		{"current, users listed", modelsDB{models: models(10, 10), changed: []int32{4}}, 10, nil},
		{"older, listed", modelsDB{models: models(8, 8), changed: []int32{2, 5}}, 8, []int32{2, 5}},
		{"older, too many listed", modelsDB{models: models(8, 8), changed: []int32{1, 2, 3, 4}}, -1, nil},
		{"older, the log does not reach back", modelsDB{models: models(8, 8), err: store.ErrNoChangeLog}, -1, nil},
		{"newer than the data", modelsDB{models: models(11, 11)}, -1, nil},
		{"ranking model of another version", modelsDB{models: models(10, 8)}, -1, nil},
		{"no ranking model", modelsDB{models: models(10, -1)}, -1, nil},
		{"none", modelsDB{models: models(-1, -1)}, -1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &state{db: tc.db, version: 10}
			got, changed, err := storedModels(t.Context(), st, p, ranking, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.wantVersion < 0 && got != nil:
				t.Errorf("got the model of version %d, want none", got.DataVersion)
			case tc.wantVersion >= 0 && got == nil:
				t.Errorf("got no model, want version %d's", tc.wantVersion)
			case got != nil && (got.DataVersion != tc.wantVersion || got.Ranker == nil):
				t.Errorf("got version %d (ranker %v), want %d with its ranking model", got.DataVersion, got.Ranker != nil, tc.wantVersion)
			}
			if !slices.Equal(changed, tc.wantChanged) {
				t.Errorf("changed users %v, want %v", changed, tc.wantChanged)
			}
		})
	}
}

// TestDamagedDatabaseRefused checks that a start on a damaged SQLite file
// fails with the check's error, though the check now runs while the
// ratings are read: the read's own failure does not hide it, and nothing
// is served.
func TestDamagedDatabaseRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	db, err := sqlite.Open(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	movies := []engine.Movie{{ID: 1, Title: "a"}, {ID: 2, Title: "b"}, {ID: 3, Title: "c"}}
	var rs []engine.Rating
	for u := range int32(20000) {
		rs = append(rs, engine.Rating{User: u, Movie: 1 + u%3, Value: 3, Time: int64(u)})
	}
	if _, err := db.Import(t.Context(), movies, rs, engine.MovieLensScale, nil); err != nil {
		t.Fatal(err)
	}
	db.Close()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	if _, err := f.WriteAt([]byte(strings.Repeat("\xde\xad\xbe\xef", 4096)), fi.Size()/2/4096*4096); err != nil {
		t.Fatal(err)
	}
	f.Close()

	if err := failedStart(t, testServeConfig(path)); !errors.Is(err, sqlite.ErrCorrupt) && !errors.Is(err, sqlite.ErrNotMovierec) {
		t.Errorf("Run() on a damaged file = %v, want an error wrapping ErrCorrupt", err)
	}
}
