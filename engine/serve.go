package engine

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"movierec/als"
)

// Prediction is a movie with the model's predicted rating for one user.
type Prediction struct {
	Movie   Movie
	Score   float64 // predicted rating, clamped to the scale
	Count   int     // number of ratings of the movie
	Average float64 // mean rating of the movie (0 when unrated)
}

// Query selects recommendations.
type Query struct {
	User       int32
	N          int    // how many, ≥ 1
	MinRatings int    // minimum ratings of a recommended movie; < 0 means the engine's default
	Genre      string // when set, only movies of this genre (case-insensitive)
}

// RatingInput is one rating as a client posts it.
type RatingInput struct {
	Movie int32
	Value float64
}

// MovieStats returns the catalog entry of movie id with its rating count and
// average. The error wraps ErrUnknownMovie.
func (e *Engine) MovieStats(id int32) (Movie, int, float64, error) {
	i, ok := e.movieIx[id]
	if !ok {
		return Movie{}, 0, 0, fmt.Errorf("%w %d", ErrUnknownMovie, id)
	}
	n, avg := e.stats(i)
	return e.movies[i], n, avg, nil
}

func (e *Engine) stats(i int32) (int, float64) {
	n := int(e.counts[i].Load())
	if n == 0 {
		return 0, 0
	}
	return n, float64(e.sums[i].Load()) / sumScale / float64(n)
}

// userState is what serving needs of one user, read under one lock so that
// the fold-in and the snapshot belong together.
type userState struct {
	snap  *Snapshot
	rated []int32 // catalog indices, ascending; immutable
	x     []float32
	bias  float32
	has   bool // x is valid for snap.Model
}

func (e *Engine) user(id int32) userState {
	e.mu.RLock()
	defer e.mu.RUnlock()
	st := userState{snap: e.current.Load()}
	u, ok := e.userIx[id]
	if !ok {
		return st
	}
	st.rated = e.rows[u].movies
	if st.snap == nil {
		return st
	}
	if f, ok := e.folded[u]; ok && f.model == st.snap.Model {
		st.x, st.bias, st.has = f.x, f.bias, true
	} else if int(u) < st.snap.Model.NumUsers && len(st.rated) > 0 {
		st.x, st.has = st.snap.Model.User(int(u)), true
		if st.snap.Model.Bias {
			st.bias = st.snap.Model.UserBias[u]
		}
	}
	return st
}

// clamp limits a prediction to the rating scale.
func (e *Engine) clamp(v float64) float64 {
	return math.Max(float64(e.cfg.Scale.Min), math.Min(float64(e.cfg.Scale.Max), v))
}

// Predict returns the predicted rating of movie for user. Users without a
// personal vector (no ratings) get the movie's average, or the global mean
// for an unrated movie. Errors wrap ErrUnknownMovie or ErrModelNotReady.
func (e *Engine) Predict(ctx context.Context, user, movie int32) (Prediction, error) {
	i, ok := e.movieIx[movie]
	if !ok {
		return Prediction{}, fmt.Errorf("%w %d", ErrUnknownMovie, movie)
	}
	st := e.user(user)
	if st.snap == nil {
		return Prediction{}, ErrModelNotReady
	}
	n, avg := e.stats(i)
	m := st.snap.Model
	var score float64
	switch {
	case st.has:
		score = float64(als.Dot(st.x, m.Item(int(i))))
		if m.Bias {
			score += float64(m.Mean) + float64(st.bias) + float64(m.ItemBias[i])
		}
	case n > 0:
		score = avg
	default:
		score = float64(m.Mean)
		if !m.Bias {
			score = float64(e.cfg.Scale.Min+e.cfg.Scale.Max) / 2
		}
	}
	return Prediction{Movie: e.movies[i], Score: e.clamp(score), Count: n, Average: avg}, nil
}

// Top returns the user's n best movies with the engine's default
// minimum rating count. See Recommend.
func (e *Engine) Top(ctx context.Context, user int32, n int) ([]Prediction, error) {
	return e.Recommend(ctx, Query{User: user, N: n, MinRatings: -1})
}

type scratch struct {
	scores []float32
	heap   []cand
}

// getScratch returns a scratch buffer sized for the catalog; put it back
// into e.scratch when done.
func (e *Engine) getScratch() *scratch {
	if sc, ok := e.scratch.Get().(*scratch); ok {
		return sc
	}
	return &scratch{scores: make([]float32, len(e.movies))}
}

// Recommend returns up to q.N movies, best first, that the user has not
// rated and that have at least the minimum number of ratings, each once.
// Ties are broken by movie id. A user with no personal vector gets the best
// average ratings instead. Errors wrap ErrInvalidInput or ErrModelNotReady.
func (e *Engine) Recommend(ctx context.Context, q Query) ([]Prediction, error) {
	if q.N < 1 {
		return nil, fmt.Errorf("%w: count %d must be at least 1", ErrInvalidInput, q.N)
	}
	minR := q.MinRatings
	if minR < 0 {
		minR = e.cfg.MinRatings
	}
	st := e.user(q.User)
	if st.snap == nil {
		return nil, ErrModelNotReady
	}
	m := st.snap.Model
	sc := e.getScratch()
	defer e.scratch.Put(sc)

	scores := sc.scores[:len(e.movies)]
	if st.has {
		// scores = Y·x over the model's items; one SIMD GEMV.
		y := blas32.General{Rows: m.NumItems, Cols: m.Rank, Stride: m.Rank, Data: m.ItemFactors}
		blas32.Gemv(blas.NoTrans, 1, y, blas32.Vector{N: m.Rank, Inc: 1, Data: st.x}, 0,
			blas32.Vector{N: m.NumItems, Inc: 1, Data: scores[:m.NumItems]})
		if m.Bias {
			base := m.Mean + st.bias
			for i, b := range m.ItemBias {
				scores[i] += base + b
			}
		}
	} else {
		for i := range scores {
			_, avg := e.stats(int32(i))
			scores[i] = float32(avg)
		}
	}

	genre := strings.TrimSpace(q.Genre)
	top := topN{n: q.N, h: sc.heap[:0]}
	rated := st.rated
	limit := len(e.movies)
	if st.has {
		limit = m.NumItems // movies unseen at training have no factors
	}
	for i := 0; i < limit; i++ {
		for len(rated) > 0 && rated[0] < int32(i) {
			rated = rated[1:]
		}
		if len(rated) > 0 && rated[0] == int32(i) {
			continue
		}
		if int(e.counts[i].Load()) < minR {
			continue
		}
		if genre != "" && !hasGenre(e.movies[i].Genres, genre) {
			continue
		}
		top.push(cand{score: scores[i], id: e.movies[i].ID, ix: int32(i)})
	}
	best := top.sorted()
	sc.heap = best
	out := make([]Prediction, len(best))
	for j, c := range best {
		n, avg := e.stats(c.ix)
		out[j] = Prediction{Movie: e.movies[c.ix], Score: e.clamp(float64(c.score)), Count: n, Average: avg}
	}
	return out, nil
}

func hasGenre(gs []string, g string) bool {
	for _, x := range gs {
		if strings.EqualFold(x, g) {
			return true
		}
	}
	return false
}

// UserRatings returns a user's ratings ordered by movie id, from the store
// when it can list them (with timestamps), else from memory. An unknown user
// has none.
func (e *Engine) UserRatings(ctx context.Context, user int32) ([]Rating, error) {
	if l, ok := e.cfg.Store.(RatingLister); ok {
		return l.UserRatings(ctx, user)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := []Rating{}
	u, ok := e.userIx[user]
	if !ok {
		return out, nil
	}
	r := e.rows[u]
	for j, m := range r.movies {
		out = append(out, Rating{User: user, Movie: e.movies[m].ID, Value: r.vals[j]})
	}
	slices.SortFunc(out, func(a, b Rating) int { return int(a.Movie) - int(b.Movie) })
	return out, nil
}
