package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"movierec/als"
)

// AddRatings validates a user's batch of ratings as a whole, stores it
// durably (all or nothing), applies it, folds the user in against the current
// model so the next read is personal, and requests a background retrain.
// A new rating of a movie replaces the user's earlier one. It returns the
// ratings as stored. Errors wrap ErrInvalidInput (bad user, empty batch, a
// movie twice), ErrUnknownMovie or ErrInvalidRating; nothing is stored then.
func (e *Engine) AddRatings(ctx context.Context, user int32, in []RatingInput) ([]Rating, error) {
	if user < 0 {
		return nil, fmt.Errorf("%w: user id %d must not be negative", ErrInvalidInput, user)
	}
	if len(in) == 0 {
		return nil, fmt.Errorf("%w: no ratings given", ErrInvalidInput)
	}
	now := e.cfg.Now().Unix()
	rs := make([]Rating, len(in))
	seen := make(map[int32]int, len(in))
	cat := e.cat.Load()
	for _, r := range in {
		if _, ok := cat.ix[r.Movie]; !ok {
			// Once per request, however many movies it lacks.
			if e.syncCatalog(ctx) {
				cat = e.cat.Load() // imported elsewhere, just now
			}
			break
		}
	}
	for j, r := range in {
		if _, ok := cat.ix[r.Movie]; !ok {
			return nil, fmt.Errorf("rating %d: %w %d", j+1, ErrUnknownMovie, r.Movie)
		}
		v, ok := e.cfg.Scale.Snap(r.Value)
		if !ok {
			return nil, fmt.Errorf("rating %d: %w: %v for movie %d is not on the scale %v (allowed: %s)", j+1, ErrInvalidRating, r.Value, r.Movie, e.cfg.Scale, e.cfg.Scale.Allowed())
		}
		if k, dup := seen[r.Movie]; dup {
			return nil, fmt.Errorf("%w: movie %d is rated twice (ratings %d and %d)", ErrInvalidInput, r.Movie, k+1, j+1)
		}
		seen[r.Movie] = j
		rs[j] = Rating{User: user, Movie: r.Movie, Value: v, Time: now}
	}

	// Writes of one user are ordered: the store and memory see them in the
	// same order. Different users proceed concurrently (group commit).
	l := e.userLock(user)
	l.Lock()
	defer l.Unlock()
	if vs, ok := e.cfg.Store.(VersionedStore); ok {
		v, err := vs.AddRatingsVersion(ctx, rs)
		if err != nil {
			return nil, fmt.Errorf("store ratings of user %d: %w", user, err)
		}
		e.applyVersioned(user, rs, v)
		e.RequestRetrain()
		return rs, nil
	}
	if e.cfg.Store != nil {
		if err := e.cfg.Store.AddRatings(ctx, rs); err != nil {
			return nil, fmt.Errorf("store ratings of user %d: %w", user, err)
		}
	}
	e.apply(user, rs)
	e.RequestRetrain()
	return rs, nil
}

// pending is a rating being applied: catalog index and value.
type pending struct {
	ix  int32
	val float32
}

// pendings returns rs (of movies in the catalog) as catalog indices and
// values, sorted by index.
func (e *Engine) pendings(rs []Rating) []pending {
	ix := e.cat.Load().ix
	add := make([]pending, len(rs))
	for j, r := range rs {
		add[j].ix, add[j].val = ix[r.Movie], r.Value
	}
	slices.SortFunc(add, func(a, b pending) int { return int(a.ix) - int(b.ix) })
	return add
}

// apply merges rs (one user's, movies unique) into memory, bumps the data
// version and folds the user in.
func (e *Engine) apply(user int32, rs []Rating) {
	add := e.pendings(rs)
	e.mu.Lock()
	defer e.mu.Unlock()
	u := e.userIndexLocked(user)
	e.version++
	e.mergeLocked(u, add, nil, e.version)
}

// applyVersioned applies rs, committed by a VersionedStore at version v,
// unless the change feed already did. It records v for each movie so that
// an older change the feed delivers later does not roll it back.
func (e *Engine) applyVersioned(user int32, rs []Rating, v int64) {
	add := e.pendings(rs)
	e.mu.Lock()
	defer e.mu.Unlock()
	if v <= e.applied {
		return // the feed applied this transaction already
	}
	for _, r := range rs {
		e.ahead[userMovie{user, r.Movie}] = v
	}
	u := e.userIndexLocked(user)
	e.version = max(e.version, v)
	e.mergeLocked(u, add, nil, v)
}

// userIndexLocked returns the index of user, adding an empty row for a new
// one. e.mu must be held for writing.
func (e *Engine) userIndexLocked(user int32) int32 {
	u, ok := e.userIx[user]
	if !ok {
		u = int32(len(e.userIDs))
		e.userIx[user] = u
		e.userIDs = append(e.userIDs, user)
		e.rows = append(e.rows, row{})
	}
	return u
}

// mergeLocked replaces user index u's row with the old row plus sets (new
// ratings, replacing the user's earlier ones of the same movies) minus
// dels (catalog indices; absent ones are ignored), updates the movies'
// counts and sums, and folds the user in against the current model,
// recording data version v. sets and dels are sorted by catalog index and
// disjoint. e.mu must be held for writing.
func (e *Engine) mergeLocked(u int32, sets []pending, dels []int32, v int64) {
	c := e.cat.Load() // current while e.mu is held: its counts are the live ones
	old := e.rows[u]
	n := row{movies: make([]int32, 0, len(old.movies)+len(sets)), vals: make([]float32, 0, len(old.movies)+len(sets))}
	i, j, d := 0, 0, 0
	for i < len(old.movies) || j < len(sets) {
		switch {
		case j == len(sets) || i < len(old.movies) && old.movies[i] < sets[j].ix:
			m := old.movies[i]
			for d < len(dels) && dels[d] < m {
				d++
			}
			if d < len(dels) && dels[d] == m {
				e.addCount(c, m, -1)
				c.sums[m].Add(-toSum(old.vals[i]))
			} else {
				n.movies = append(n.movies, m)
				n.vals = append(n.vals, old.vals[i])
			}
			i++
		case i == len(old.movies) || sets[j].ix < old.movies[i]:
			n.movies = append(n.movies, sets[j].ix)
			n.vals = append(n.vals, sets[j].val)
			e.addCount(c, sets[j].ix, 1)
			c.sums[sets[j].ix].Add(toSum(sets[j].val))
			j++
		default: // same movie: the new rating replaces the old
			n.movies = append(n.movies, sets[j].ix)
			n.vals = append(n.vals, sets[j].val)
			c.sums[sets[j].ix].Add(toSum(sets[j].val) - toSum(old.vals[i]))
			i++
			j++
		}
	}
	e.rows[u] = n
	if len(n.movies) == 0 {
		delete(e.folded, u) // no ratings: no personal vector (see user)
		return
	}
	if s := e.current.Load(); s != nil {
		var f als.FoldIn
		e.foldLocked(&f, u, s, v)
	}
}

// DeleteRating removes user's rating of movie: durably from the store
// first (Config.Store must implement Deleter), then from memory. It bumps
// the data version, updates the movie's count and average, folds the user
// in again against the current model, and requests a background retrain,
// as AddRatings does. A user left without ratings gets what users without
// ratings get (see Recommend). It returns the removed rating (Time 0).
// Errors wrap ErrInvalidInput (bad user), ErrUnknownMovie or ErrNotRated
// (the user has no rating of the movie); nothing changes then.
func (e *Engine) DeleteRating(ctx context.Context, user, movie int32) (Rating, error) {
	if user < 0 {
		return Rating{}, fmt.Errorf("%w: user id %d must not be negative", ErrInvalidInput, user)
	}
	i, ok := e.cat.Load().ix[movie]
	if !ok && e.syncCatalog(ctx) {
		i, ok = e.cat.Load().ix[movie] // imported elsewhere, just now
	}
	if !ok {
		return Rating{}, fmt.Errorf("%w %d", ErrUnknownMovie, movie)
	}
	l := e.userLock(user)
	l.Lock()
	defer l.Unlock()
	// Under the user's lock nobody else changes the row, so what is found
	// here is what remove removes.
	e.mu.RLock()
	u, known := e.userIx[user]
	var j int
	found := false
	if known {
		j, found = slices.BinarySearch(e.rows[u].movies, i)
	}
	var val float32
	if found {
		val = e.rows[u].vals[j]
	}
	e.mu.RUnlock()
	if vs, ok := e.cfg.Store.(VersionedStore); ok {
		// A shared store decides: memory may not have seen another
		// replica's rating yet.
		v, err := vs.DeleteRatingVersion(ctx, user, movie)
		switch {
		case errors.Is(err, ErrNotRated):
			if found {
				e.remove(u, i) // deleted elsewhere; the feed brings the change too
			}
			return Rating{}, fmt.Errorf("%w: user %d has no rating of movie %d", ErrNotRated, user, movie)
		case err != nil:
			return Rating{}, fmt.Errorf("delete rating of user %d, movie %d: %w", user, movie, err)
		}
		e.deleteVersioned(user, i, v)
		e.RequestRetrain()
		return Rating{User: user, Movie: movie, Value: val}, nil
	}
	if !found {
		return Rating{}, fmt.Errorf("%w: user %d has no rating of movie %d", ErrNotRated, user, movie)
	}
	if e.cfg.Store != nil {
		d, ok := e.cfg.Store.(Deleter)
		if !ok {
			return Rating{}, fmt.Errorf("delete rating of user %d: the store cannot delete ratings", user)
		}
		// ErrNotRated from the store means it had no such row: memory
		// catches up below.
		if err := d.DeleteRating(ctx, user, movie); err != nil && !errors.Is(err, ErrNotRated) {
			return Rating{}, fmt.Errorf("delete rating of user %d, movie %d: %w", user, movie, err)
		}
	}
	e.remove(u, i)
	e.RequestRetrain()
	return Rating{User: user, Movie: movie, Value: val}, nil
}

// remove deletes catalog movie i from user index u's row (where it is),
// bumps the data version and folds the user in again.
func (e *Engine) remove(u, i int32) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.version++
	e.mergeLocked(u, nil, []int32{i}, e.version)
}

// deleteVersioned removes catalog movie i from user's row, a deletion a
// VersionedStore committed at version v, unless the feed applied it
// already; like applyVersioned it records v against older changes.
func (e *Engine) deleteVersioned(user, i int32, v int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if v <= e.applied {
		return
	}
	e.ahead[userMovie{user, e.cat.Load().movies[i].ID}] = v
	e.version = max(e.version, v)
	if u, ok := e.userIx[user]; ok {
		e.mergeLocked(u, nil, []int32{i}, v)
	}
}
