package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"movierec/als"
)

// Prediction is a movie with the model's predicted rating for one user.
type Prediction struct {
	Movie Movie
	Score float64 // predicted rating (the rating model's), clamped to the scale
	// Rank is the raw score that ordered a Recommend list: the ranking
	// model's (no rating), or the rating model's unclamped prediction
	// without one; the rating count or average for users without a
	// personal vector. Predict leaves it 0.
	Rank    float64
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
	c := e.cat.Load()
	i, ok := c.ix[id]
	if !ok {
		return Movie{}, 0, 0, fmt.Errorf("%w %d", ErrUnknownMovie, id)
	}
	n, avg := c.stats(i)
	return c.movies[i], n, avg, nil
}

// userState is what serving needs of one user, read under one lock so that
// the fold-in, the snapshot and the catalog belong together: the catalog
// covers the snapshot's models and the user's rated movies.
type userState struct {
	cat   *catalog
	snap  *Snapshot
	rated []int32 // catalog indices, ascending; immutable
	x     []float32
	bias  float32
	has   bool      // x is valid for snap.Model
	rx    []float32 // the user's vector in snap.Ranker, when rhas
	rhas  bool
}

func (e *Engine) user(id int32) userState {
	e.mu.RLock()
	defer e.mu.RUnlock()
	st := userState{cat: e.cat.Load(), snap: e.current.Load()}
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
		st.rx, st.rhas = f.rx, f.rx != nil
	} else if int(u) < st.snap.Model.NumUsers && len(st.rated) > 0 {
		st.x, st.has = st.snap.Model.User(int(u)), true
		if st.snap.Model.Bias {
			st.bias = st.snap.Model.UserBias[u]
		}
		if st.snap.Ranker != nil {
			st.rx, st.rhas = st.snap.Ranker.User(int(u)), true
		}
	}
	return st
}

// predicted returns the rating model's raw (unclamped) prediction of
// catalog movie i for the user, given the movie's rating count n and
// average avg: the user's vector when there is one, else the movie's
// average, else the global mean (the scale's middle without biases).
func (e *Engine) predicted(st *userState, i int32, n int, avg float64) float64 {
	m := st.snap.Model
	switch {
	case st.has && int(i) < m.NumItems:
		score := float64(als.Dot(st.x, m.Item(int(i))))
		if m.Bias {
			score += float64(m.Mean) + float64(st.bias) + float64(m.ItemBias[i])
		}
		return score
	case n > 0:
		return avg
	case m.Bias:
		return float64(m.Mean)
	}
	return e.cfg.Scale.Mid()
}

// clamp limits a prediction to the rating scale (nothing when unbounded).
func (e *Engine) clamp(v float64) float64 { return e.cfg.Scale.Clamp(v) }

// Predict returns the predicted rating of movie for user. Users without a
// personal vector (no ratings) get the movie's average, or the global mean
// for an unrated movie. Errors wrap ErrUnknownMovie or ErrModelNotReady.
func (e *Engine) Predict(ctx context.Context, user, movie int32) (Prediction, error) {
	st := e.user(user)
	c := st.cat
	i, ok := c.ix[movie]
	if !ok && e.syncCatalog(ctx) {
		st = e.user(user) // imported elsewhere, just now
		c = st.cat
		i, ok = c.ix[movie]
	}
	if !ok {
		return Prediction{}, fmt.Errorf("%w %d", ErrUnknownMovie, movie)
	}
	if st.snap == nil {
		return Prediction{}, ErrModelNotReady
	}
	n, avg := c.stats(i)
	return Prediction{Movie: c.movies[i], Score: e.clamp(e.predicted(&st, i, n, avg)), Count: n, Average: avg}, nil
}

// Top returns the user's n best movies with the engine's default
// minimum rating count. See Recommend.
func (e *Engine) Top(ctx context.Context, user int32, n int) ([]Prediction, error) {
	return e.Recommend(ctx, Query{User: user, N: n, MinRatings: -1})
}

type scratch struct {
	scores []float32
	heap   []cand
	part   []float32 // topScored: a block's scores

	// topQuant (quant.go): the user vector quantised, the lower bounds'
	// heap, the candidates kept, and those scored again.
	uq   userQuant
	lows []float32
	kept []keptCand
	gix  []int32
	gsc  []float32
}

// getScratch returns a scratch buffer whose scores hold n movies (the
// catalog's); put it back into e.scratch when done.
func (e *Engine) getScratch(n int) *scratch {
	sc, ok := e.scratch.Get().(*scratch)
	if !ok {
		sc = &scratch{}
	}
	if cap(sc.scores) < n {
		sc.scores = make([]float32, n) // the catalog grew (AddMovies)
	}
	return sc
}

// Recommend returns up to q.N movies, best first, that the user has not
// rated and that have at least the minimum number of ratings, each once.
// The order comes from the ranking model's scores (Snapshot.Ranker), or
// from the rating model's unclamped predictions when there is none; ties
// are broken by movie id. Each Score is the rating model's predicted
// rating, clamped to the scale for display. A user with no personal
// vector gets the most rated movies (with a ranking model) or the best
// average ratings (without). Errors wrap ErrInvalidInput or
// ErrModelNotReady.
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
	// The list is ordered by the ranking model's raw scores when there is
	// one, else by the rating model's raw (unclamped) predictions; the
	// Score shown is always the rating model's prediction, clamped.
	m, x, has := st.snap.Model, st.x, st.has
	implicit := st.snap.Ranker != nil
	if implicit {
		m, x, has = st.snap.Ranker, st.rx, st.rhas
	}
	c := st.cat
	sc := e.getScratch(len(c.movies))
	defer e.scratch.Put(sc)

	genre := strings.TrimSpace(q.Genre)
	top := topN{n: q.N, h: sc.heap[:0]}
	if has {
		// x·y for the candidates only, on the SIMD kernel (score.go).
		e.topScored(&top, sc, c, m, st.snap.quant, x, st.bias, st.rated, minR, genre)
	} else {
		scores := sc.scores[:len(c.movies)]
		if implicit {
			// No personal vector: the most rated movies first, which
			// beat the best-rated ones as a list for everyone (see eval).
			for i := range scores {
				scores[i] = float32(c.counts[i].Load())
			}
		} else {
			for i := range scores {
				_, avg := c.stats(int32(i))
				scores[i] = float32(avg)
			}
		}
		rated := st.rated
		for i := range scores {
			for len(rated) > 0 && rated[0] < int32(i) {
				rated = rated[1:]
			}
			if len(rated) > 0 && rated[0] == int32(i) {
				continue
			}
			if int(c.counts[i].Load()) < minR {
				continue
			}
			if genre != "" && !hasGenre(c.movies[i].Genres, genre) {
				continue
			}
			top.push(cand{score: scores[i], id: c.movies[i].ID, ix: int32(i)})
		}
	}
	best := top.sorted()
	sc.heap = best
	out := make([]Prediction, len(best))
	for j, b := range best {
		n, avg := c.stats(b.ix)
		out[j] = Prediction{Movie: c.movies[b.ix], Score: e.clamp(e.predicted(&st, b.ix, n, avg)),
			Rank: float64(b.score), Count: n, Average: avg}
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
		rs, err := l.UserRatings(ctx, user)
		if err != nil {
			return nil, err
		}
		// A shared store may list a rating of a movie imported through
		// another process that has not reached this catalog yet.
		cat := e.cat.Load()
		for _, r := range rs {
			if _, ok := cat.ix[r.Movie]; !ok {
				e.syncCatalog(ctx)
				break
			}
		}
		return rs, nil
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := []Rating{}
	u, ok := e.userIx[user]
	if !ok {
		return out, nil
	}
	r := e.rows[u]
	c := e.cat.Load()
	for j, m := range r.movies {
		out = append(out, Rating{User: user, Movie: c.movies[m].ID, Value: r.vals[j]})
	}
	slices.SortFunc(out, func(a, b Rating) int { return int(a.Movie) - int(b.Movie) })
	return out, nil
}
