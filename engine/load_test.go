package engine_test

import (
	"errors"
	"math"
	"testing"

	"movierec/als"
	"movierec/engine"
)

// TestNewLoad: New keeps the last of a (user, movie) pair given twice,
// counts it once, and maps ids through a table (dense ids) or the map
// (sparse ids, up to 2^31−1) alike.
func TestNewLoad(t *testing.T) {
	for _, tc := range []struct {
		name string
		ids  []int32 // three movie ids
	}{
		{"dense ids", []int32{1, 2, 3}},
		{"sparse ids", []int32{0, 1 << 20, math.MaxInt32}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms := []engine.Movie{{ID: tc.ids[0], Title: "A"}, {ID: tc.ids[1], Title: "B"}, {ID: tc.ids[2], Title: "C"}}
			a, b, c := tc.ids[0], tc.ids[1], tc.ids[2]
			rs := []engine.Rating{
				{User: 7, Movie: c, Value: 1},
				{User: 7, Movie: a, Value: 2},
				{User: 9, Movie: a, Value: 5},
				{User: 7, Movie: c, Value: 4.5}, // replaces 1: the later one wins
				{User: 7, Movie: b, Value: 3},
				{User: 9, Movie: a, Value: 0.5}, // replaces 5
			}
			e, err := engine.New(engine.Config{Params: als.DefaultParams(), Scale: engine.MovieLensScale}, nil, ms, rs)
			if err != nil {
				t.Fatal(err)
			}
			want := map[int32]map[int32]float32{7: {a: 2, b: 3, c: 4.5}, 9: {a: 0.5}}
			for user, w := range want {
				got, err := e.UserRatings(t.Context(), user)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(w) {
					t.Errorf("user %d has %d ratings %v, want %v", user, len(got), got, w)
				}
				for _, r := range got {
					if w[r.Movie] != r.Value {
						t.Errorf("user %d, movie %d = %v, want %v", user, r.Movie, r.Value, w[r.Movie])
					}
				}
			}
			for id, n := range map[int32]int{a: 2, b: 1, c: 1} {
				if _, count, _, err := e.MovieStats(id); err != nil || count != n {
					t.Errorf("MovieStats(%d) count = %d, %v, want %d", id, count, err, n)
				}
			}
			_, err = engine.New(engine.Config{Params: als.DefaultParams(), Scale: engine.MovieLensScale}, nil, ms,
				append(rs, engine.Rating{User: 1, Movie: 12345, Value: 3}))
			if !errors.Is(err, engine.ErrUnknownMovie) {
				t.Errorf("New with an unknown movie = %v, want ErrUnknownMovie", err)
			}
		})
	}
}
