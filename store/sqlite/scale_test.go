package sqlite_test

import (
	"math"
	"path/filepath"
	"testing"

	"movierec/engine"
)

// TestScaleRoundTrip stores each kind of scale with the first import and
// reads it back, also after reopening the file.
func TestScaleRoundTrip(t *testing.T) {
	for _, s := range []engine.Scale{
		engine.MovieLensScale,
		{Min: 1, Max: 10, Step: 1},
		{Min: -2, Max: 2, Step: 0.5},
		{Min: -1, Max: 1},
		engine.Unbounded,
	} {
		t.Run(s.Spec(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.db")
			db := open(t, path)
			if _, err := db.Import(t.Context(), []engine.Movie{{ID: 0, Title: "Zero"}, {ID: math.MaxInt32, Title: "Last"}},
				[]engine.Rating{{User: 0, Movie: 0, Value: s.Min}, {User: math.MaxInt32, Movie: math.MaxInt32, Value: -9.4e-05}}, s, nil); err != nil {
				t.Fatalf("Import() error = %v", err)
			}
			if got, err := db.Scale(t.Context()); err != nil || got != s {
				t.Errorf("Scale() = %v, %v, want %v", got, err, s)
			}
			db.Close()
			db = open(t, path)
			defer db.Close()
			if got, err := db.Scale(t.Context()); err != nil || got != s {
				t.Errorf("Scale() after reopening = %v, %v, want %v", got, err, s)
			}
			rs, _, err := db.ReadRatings(t.Context(), nil)
			if err != nil || len(rs) != 2 {
				t.Fatalf("ReadRatings() = %v, %v, want 2 ratings", rs, err)
			}
			for _, r := range rs {
				if r.User == math.MaxInt32 && (r.Movie != math.MaxInt32 || r.Value != -9.4e-05) {
					t.Errorf("stored rating %+v, want user and movie %d, value -9.4e-05", r, math.MaxInt32)
				}
			}
		})
	}
}

// TestImportDuplicateLastWins: of a (user, movie) pair given twice in one
// import, the last is stored, as the engine keeps the last.
func TestImportDuplicateLastWins(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "m.db"))
	defer db.Close()
	rs := []engine.Rating{{User: 1, Movie: 1, Value: 2, Time: 1}, {User: 2, Movie: 1, Value: 3}, {User: 1, Movie: 1, Value: 4.5, Time: 2}}
	added, err := db.Import(t.Context(), movies, rs, engine.MovieLensScale, nil)
	if err != nil || added != 2 {
		t.Fatalf("Import() = %d, %v, want 2 added", added, err)
	}
	got, _, err := db.ReadRatings(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		if r.User == 1 && (r.Value != 4.5 || r.Time != 2) {
			t.Errorf("stored %+v, want the last occurrence: value 4.5, time 2", r)
		}
	}
}
