package sqlite

import (
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"movierec/engine"
)

// TestParallelReadEqualsSequential checks that reading user ranges on
// several connections gives exactly the single-connection result.
func TestParallelReadEqualsSequential(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
		t.Cleanup(func() { runtime.GOMAXPROCS(1) })
	}
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "m.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	movies := []engine.Movie{{ID: 1, Title: "a"}, {ID: 2, Title: "b"}, {ID: 3, Title: "c"}}
	var rs []engine.Rating
	for u := int32(0); u < 3000; u += 1 + u%7 { // uneven gaps between user ids
		for m := int32(1); m <= 1+u%3; m++ {
			rs = append(rs, engine.Rating{User: u, Movie: m, Value: float32(m), Time: int64(u)})
		}
	}
	if _, err := db.Import(t.Context(), movies, rs, engine.MovieLensScale, nil); err != nil {
		t.Fatal(err)
	}
	seq, v1, err := db.readRatings(t.Context(), false, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	par, v2, err := db.readRatings(t.Context(), true, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(seq, par); diff != "" || v1 != v2 {
		t.Errorf("parallel read differs (versions %d, %d) (-seq +par):\n%s", v1, v2, diff)
	}
	if diff := cmp.Diff(rs, seq); diff != "" {
		t.Errorf("read differs from what was imported (-want +got):\n%s", diff)
	}
}
