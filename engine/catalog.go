package engine

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
)

// SimilarMovie is a movie with its similarity to another one.
type SimilarMovie struct {
	Movie      Movie
	Similarity float64 // cosine of the two movies' item factors, in [-1, 1]
}

// Similar returns up to n movies whose item factors in the current ranking
// model (the rating model when there is none) are closest in cosine to
// movie's, most similar first, ties by movie id.
// The movie itself, movies with fewer than minRatings ratings (< 0: the
// engine's default, Config.MinRatings; never fewer than one) and movies whose
// factor vector is zero are left out: factors of rarely rated movies are
// mostly noise. Biases are not part of the factors. A movie whose own vector
// is zero has no similar movies (an empty list). Errors wrap
// ErrInvalidInput (n < 1), ErrUnknownMovie or ErrModelNotReady.
func (e *Engine) Similar(ctx context.Context, movie int32, n, minRatings int) ([]SimilarMovie, error) {
	if minRatings < 0 {
		minRatings = e.cfg.MinRatings
	}
	minRatings = max(minRatings, 1)
	if n < 1 {
		return nil, fmt.Errorf("%w: count %d must be at least 1", ErrInvalidInput, n)
	}
	// The snapshot first: a catalog loaded after it covers its models.
	s := e.current.Load()
	c := e.cat.Load()
	i, ok := c.ix[movie]
	if !ok {
		return nil, fmt.Errorf("%w %d", ErrUnknownMovie, movie)
	}
	if s == nil {
		return nil, ErrModelNotReady
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m := s.Model
	if s.Ranker != nil {
		m = s.Ranker
	}
	out := []SimilarMovie{}
	if int(i) >= m.NumItems {
		return out, nil // the movie has no factors in this model
	}
	x := m.Item(int(i))
	nx := norm(x)
	if nx == 0 {
		return out, nil
	}
	items := min(m.NumItems, len(c.movies))
	top := topN{n: n, h: make([]cand, 0, min(n, items))}
	for j := 0; j < items; j++ {
		if j == int(i) || int(c.counts[j].Load()) < minRatings {
			continue
		}
		y := m.Item(j)
		ny := norm(y)
		if ny == 0 {
			continue
		}
		top.push(cand{score: float32(float64(dot64(x, y)) / (nx * ny)), id: c.movies[j].ID, ix: int32(j)})
	}
	for _, b := range top.sorted() {
		out = append(out, SimilarMovie{Movie: c.movies[b.ix], Similarity: float64(b.score)})
	}
	return out, nil
}

// dot64 is x·y accumulated in float64, so cosines of long vectors keep
// their precision.
func dot64(x, y []float32) float64 {
	var s float64
	for k, v := range x {
		s += float64(v) * float64(y[k])
	}
	return s
}

// norm is the Euclidean length of x.
func norm(x []float32) float64 { return math.Sqrt(dot64(x, x)) }

// Popular returns up to n movies with the best average rating among those
// with at least minRatings ratings (and at least one), best first, ties by
// movie id. minRatings < 0 means the engine's default (Config.MinRatings).
// Score and Average are both the average; n < 1 gives an empty list. It
// needs no model.
func (e *Engine) Popular(n, minRatings int) []Prediction {
	if minRatings < 0 {
		minRatings = e.cfg.MinRatings
	}
	out := []Prediction{}
	if n < 1 {
		return out
	}
	type entry struct {
		ix  int32
		n   int
		avg float64
	}
	c := e.cat.Load()
	var all []entry
	for i := range c.movies {
		n, avg := c.stats(int32(i))
		if n == 0 || n < minRatings {
			continue
		}
		all = append(all, entry{ix: int32(i), n: n, avg: avg})
	}
	slices.SortFunc(all, func(a, b entry) int {
		if a.avg != b.avg {
			return cmp.Compare(b.avg, a.avg)
		}
		return cmp.Compare(c.movies[a.ix].ID, c.movies[b.ix].ID)
	})
	for _, x := range all[:min(n, len(all))] {
		out = append(out, Prediction{Movie: c.movies[x.ix], Score: x.avg, Count: x.n, Average: x.avg})
	}
	return out
}
