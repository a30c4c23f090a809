package postgres

import (
	"testing"

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
