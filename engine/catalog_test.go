package engine_test

import (
	"errors"
	"math"
	"testing"

	"movierec/engine"
)

func TestSimilarErrors(t *testing.T) {
	e := newEngine(t, &foldSolver{}, nil, 0)
	if _, err := e.Similar(t.Context(), 10, 5, -1); !errors.Is(err, engine.ErrModelNotReady) {
		t.Errorf("Similar(10, 5) before training error = %v, want ErrModelNotReady", err)
	}
	if _, err := e.Retrain(t.Context()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		movie   int32
		n       int
		wantErr error
	}{
		{"unknown movie", 9999, 5, engine.ErrUnknownMovie},
		{"zero count", 10, 0, engine.ErrInvalidInput},
		{"negative count", 10, -1, engine.ErrInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.Similar(t.Context(), tc.movie, tc.n, -1); !errors.Is(err, tc.wantErr) {
				t.Errorf("Similar(%d, %d) error = %v, want %v", tc.movie, tc.n, err, tc.wantErr)
			}
		})
	}
}

func TestSimilar(t *testing.T) {
	e := newEngine(t, &foldSolver{}, nil, 0)
	s, err := e.Retrain(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	m := s.Model
	cos := func(a, b int) float64 {
		x, y := m.Item(a), m.Item(b)
		var d, nx, ny float64
		for k := range x {
			d += float64(x[k]) * float64(y[k])
			nx += float64(x[k]) * float64(x[k])
			ny += float64(y[k]) * float64(y[k])
		}
		return d / math.Sqrt(nx*ny)
	}
	ix := map[int32]int{}
	for j, id := range s.MovieIDs {
		ix[id] = j
	}
	for _, tc := range []struct {
		movie int32
		minR  int
	}{{10, -1}, {25, -1}, {49, -1}, {10, 8}, {49, 12}} {
		movie, minR := tc.movie, tc.minR
		got, err := e.Similar(t.Context(), movie, 5, minR)
		if err != nil {
			t.Fatalf("Similar(%d, 5) error = %v", movie, err)
		}
		if len(got) != 5 {
			t.Fatalf("Similar(%d, 5) returned %d movies, want 5", movie, len(got))
		}
		// The best by brute force among rated movies other than itself.
		best, bestID := -2.0, int32(0)
		for _, id := range s.MovieIDs {
			if _, n, _, _ := e.MovieStats(id); id == movie || n == 0 || n < minR {
				continue
			}
			if c := cos(ix[movie], ix[id]); c > best {
				best, bestID = c, id
			}
		}
		if got[0].Movie.ID != bestID || math.Abs(got[0].Similarity-best) > 1e-5 {
			t.Errorf("Similar(%d, 5)[0] = %d %.6f, want %d %.6f", movie, got[0].Movie.ID, got[0].Similarity, bestID, best)
		}
		for j, g := range got {
			if _, n, _, _ := e.MovieStats(g.Movie.ID); n < minR {
				t.Errorf("Similar(%d, 5, %d) returned movie %d with %d ratings", movie, minR, g.Movie.ID, n)
			}
			if g.Movie.ID == movie {
				t.Errorf("Similar(%d, 5) contains the movie itself", movie)
			}
			if g.Similarity < -1-1e-6 || g.Similarity > 1+1e-6 {
				t.Errorf("Similar(%d, 5)[%d] similarity = %v, want within [-1, 1]", movie, j, g.Similarity)
			}
			if j > 0 && got[j-1].Similarity < g.Similarity {
				t.Errorf("Similar(%d, 5) not sorted: %v before %v", movie, got[j-1], g)
			}
		}
	}
	if got, _ := e.Similar(t.Context(), 10, 1000, -1); len(got) > 39 {
		t.Errorf("Similar(10, 1000) returned %d movies, want at most 39", len(got))
	}
}

func TestSimilarZeroVectors(t *testing.T) {
	e := newEngine(t, zeroSolver{}, nil, 0)
	if _, err := e.Retrain(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err := e.Similar(t.Context(), 10, 5, -1)
	if err != nil || len(got) != 0 {
		t.Errorf("Similar(10, 5) with zero factors = %v, %v; want an empty list", got, err)
	}
}

func TestPopular(t *testing.T) {
	e := newEngine(t, &foldSolver{}, nil, 4)
	tests := []struct {
		name       string
		n, minR    int
		wantMinR   int
		wantAtMost int
	}{
		{"default floor", 10, -1, 4, 10},
		{"no floor", 40, 0, 1, 40},
		{"high floor", 40, 15, 15, 40},
		{"zero count", 0, 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := e.Popular(tc.n, tc.minR)
			if len(got) > tc.wantAtMost || (tc.n > 0 && len(got) == 0) {
				t.Fatalf("Popular(%d, %d) returned %d movies, want 1..%d", tc.n, tc.minR, len(got), tc.wantAtMost)
			}
			for j, p := range got {
				_, n, avg, _ := e.MovieStats(p.Movie.ID)
				if p.Count != n || p.Average != avg || p.Score != avg {
					t.Errorf("Popular(%d, %d)[%d] = %+v, want count %d and score = average = %v", tc.n, tc.minR, j, p, n, avg)
				}
				if p.Count < tc.wantMinR {
					t.Errorf("Popular(%d, %d)[%d] has %d ratings, want ≥ %d", tc.n, tc.minR, j, p.Count, tc.wantMinR)
				}
				if j > 0 {
					q := got[j-1]
					if q.Score < p.Score || q.Score == p.Score && q.Movie.ID > p.Movie.ID {
						t.Errorf("Popular(%d, %d) not ordered: %d (%v) before %d (%v)", tc.n, tc.minR, q.Movie.ID, q.Score, p.Movie.ID, p.Score)
					}
				}
			}
		})
	}
	// Every movie with enough ratings and a better average than the last is listed.
	all := e.Popular(1000, 0)
	for _, id := range []int32{10, 20, 30, 49} {
		_, n, _, _ := e.MovieStats(id)
		found := false
		for _, p := range all {
			found = found || p.Movie.ID == id
		}
		if found != (n > 0) {
			t.Errorf("Popular(1000, 0) lists movie %d with %d ratings: %t", id, n, found)
		}
	}
}
