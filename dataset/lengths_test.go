package dataset_test

import (
	"testing"

	"movierec/dataset"
)

// TestGenRowLengths checks GenRowLengths against the ratings Generate
// writes for the same config: the same count for every user and movie.
func TestGenRowLengths(t *testing.T) {
	cfg := genSmall
	ratings, movies, _ := generate(t, cfg)
	d := loadGenerated(t, ratings, movies)
	wantUser := make([]int32, cfg.Users)
	wantMovie := make([]int32, cfg.Movies)
	for _, r := range d.Ratings {
		wantUser[r.User-1]++
		wantMovie[r.Movie-1]++
	}
	perUser, perMovie, err := dataset.GenRowLengths(t.Context(), cfg)
	if err != nil {
		t.Fatalf("GenRowLengths() = %v", err)
	}
	for _, c := range []struct {
		what      string
		got, want []int32
	}{{"user", perUser, wantUser}, {"movie", perMovie, wantMovie}} {
		if len(c.got) != len(c.want) {
			t.Fatalf("GenRowLengths: %d %s counts, want %d", len(c.got), c.what, len(c.want))
		}
		for i := range c.got {
			if c.got[i] != c.want[i] {
				t.Fatalf("GenRowLengths: %s %d has %d ratings, Generate wrote %d", c.what, i+1, c.got[i], c.want[i])
			}
		}
	}
}
