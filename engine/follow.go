package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"
	"time"

	"movierec/als"
)

// userMovie keys a rating.
type userMovie struct{ user, movie int32 }

// changesBatch is how many changes Follow asks the feed for at a time.
const changesBatch = 10_000

// modelPoll is how often Follow looks for a newer model besides the
// feed's notifications (and the only way without a ModelVersioner).
const modelPoll = time.Second

// ApplyChanges applies changes that a shared store committed (a follower
// reads them from its ChangeFeed), oldest first as ChangeFeed.Changes
// returns them: each user's row, the movies' counts and averages, and
// the fold-in of every touched user against the current model, as
// AddRatings and DeleteRating do; the data version advances to the last
// change's. It is idempotent: a change at or below the version already
// applied (AppliedVersion) is skipped, and so is a change older than a
// write of this process to the same user and movie that was applied
// first (a local write racing the feed never rolls back a newer one).
// A change naming a movie missing from the catalog is logged and skipped:
// Follow adds the movies of the store's catalog first (AddMovies), so
// this happens only to a movie the store's catalog lacks too, or with a
// feed that cannot read the catalog. Calls are serialised; it is safe to call
// concurrently with every other method. It returns how many changes it
// applied, and requests a retrain when the applied version moved (which
// does nothing on an engine that does not train).
func (e *Engine) ApplyChanges(changes []Change) int {
	e.applyMu.Lock()
	defer e.applyMu.Unlock()
	e.mu.Lock()
	e.following = true
	from := e.applied
	e.mu.Unlock()

	// Group by user, in order of first appearance; a user's changes stay
	// oldest first.
	cat := e.cat.Load()
	byUser := make(map[int32][]Change)
	var users []int32
	last := from
	unknown := 0
	for _, c := range changes {
		if c.Version <= from {
			continue
		}
		last = max(last, c.Version)
		if _, ok := cat.ix[c.Movie]; !ok {
			unknown++
			continue
		}
		if _, ok := byUser[c.User]; !ok {
			users = append(users, c.User)
		}
		byUser[c.User] = append(byUser[c.User], c)
	}
	if unknown > 0 {
		e.log.Warn("changes name movies missing from the catalog; skipped",
			"changes", unknown, logKeyVersion, last)
	}
	n := 0
	for _, user := range users {
		n += e.applyUserChanges(user, byUser[user])
	}
	e.mu.Lock()
	e.applied = max(e.applied, last)
	e.version = max(e.version, e.applied)
	for k, v := range e.ahead {
		if v <= e.applied {
			delete(e.ahead, k)
		}
	}
	e.mu.Unlock()
	if last > from {
		// Even when every change was applied already (local writes),
		// the data a model can claim moved on.
		e.RequestRetrain()
	}
	return n
}

// applyUserChanges applies one user's changes (oldest first, movies in
// the catalog) under the user's write lock and returns how many it
// applied.
func (e *Engine) applyUserChanges(user int32, cs []Change) int {
	l := e.userLock(user)
	l.Lock()
	defer l.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	// The last change of each movie wins.
	type final struct {
		val     float32
		deleted bool
	}
	last := make(map[int32]final, len(cs))
	ix := e.cat.Load().ix
	var v int64
	n := 0
	for _, c := range cs {
		if a, ok := e.ahead[userMovie{user, c.Movie}]; ok && a >= c.Version {
			continue // a local write of this movie, as new or newer, is applied
		}
		last[ix[c.Movie]] = final{val: c.Value, deleted: c.Deleted}
		v = max(v, c.Version)
		n++
	}
	if n == 0 {
		return 0
	}
	var sets []pending
	var dels []int32
	for ix, f := range last {
		if f.deleted {
			dels = append(dels, ix)
		} else {
			sets = append(sets, pending{ix: ix, val: f.val})
		}
	}
	slices.SortFunc(sets, func(a, b pending) int { return cmp.Compare(a.ix, b.ix) })
	slices.Sort(dels)
	u, ok := e.userIx[user]
	if !ok {
		if len(sets) == 0 {
			return n // deletions of ratings this process never saw
		}
		u = e.userIndexLocked(user)
	}
	e.mergeLocked(u, sets, dels, v)
	return n
}

// userLock returns the lock that serialises user's writes.
func (e *Engine) userLock(user int32) *sync.Mutex {
	return &e.userLocks[maphash.Comparable(e.lockSeed, user)%uint64(len(e.userLocks))]
}

// AppliedVersion returns the version through which every change of the
// shared store is applied: the follower's position in its ChangeFeed.
// Before any ApplyChanges it is Config.Version.
func (e *Engine) AppliedVersion() int64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.applied
}

// trainVersionLocked is the data version a model trained on the rows now
// in memory saw: with a change feed, the version through which the feed
// is applied (local writes beyond it are in the rows too, so the model
// claims no more than it has); otherwise the data version. e.mu must be
// held.
func (e *Engine) trainVersionLocked() int64 {
	if e.following {
		return e.applied
	}
	return e.version
}

func (e *Engine) trainVersion() int64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.trainVersionLocked()
}

// FollowStatus is what Follow reports about the shared store.
type FollowStatus struct {
	// Err is the error of the last attempt to read the feed or the
	// models, "" once one succeeds.
	Err string
	// Unavailable is set while Err wraps ErrStoreUnavailable: the store
	// cannot be reached (rather than, say, a stored model that does not
	// fit).
	Unavailable bool
	// Since is when the current failure began (zero while healthy).
	Since time.Time
	// Applied is AppliedVersion.
	Applied int64
}

// FollowStatus reports whether Follow reaches the shared store.
func (e *Engine) FollowStatus() FollowStatus {
	e.followMu.Lock()
	st := e.followSt
	e.followMu.Unlock()
	st.Applied = e.AppliedVersion()
	return st
}

func (e *Engine) noteFollow(err error) {
	e.followMu.Lock()
	defer e.followMu.Unlock()
	switch {
	case err == nil:
		if e.followSt.Err != "" {
			e.log.Info("shared store reachable again; following", "down_seconds", time.Since(e.followSt.Since).Seconds())
		}
		e.followSt = FollowStatus{}
	case e.followSt.Err == "":
		e.log.Warn("cannot follow the shared store; serving from memory until it can", logKeyErr, err)
		e.followSt = FollowStatus{Err: err.Error(), Since: time.Now()}
	default:
		e.followSt.Err = err.Error()
	}
	e.followSt.Unavailable = err != nil && errors.Is(err, ErrStoreUnavailable)
}

// Follow keeps the engine current with a shared store until ctx ends:
// on every notification of feed.Watch it applies the changes committed
// after AppliedVersion (ApplyChanges) until there are none, and it
// publishes the newest model of models (may be nil) trained with
// Config.Params (and Config.Ranking) when its data version is newer than
// the published one's, checked on notifications when models is a
// ModelVersioner and every second in any case.
//
// When feed is a CatalogReader, Follow also keeps the catalog current
// with the store's (AddMovies): before it applies changes, reloads all
// ratings, or publishes a model that name movies missing from the
// catalog, and, when feed is a CatalogVersioner too, whenever the
// store's catalog version moved (checked on every notification), so
// movies imported without ratings can be rated here too. A failed
// catalog read is retried like a failed feed read, with nothing applied.
//
// When the store cannot be reached it retries with a growing backoff (up
// to 2 s) and reports the failure through FollowStatus; nothing is lost,
// since the feed is read from the version applied. Run one Follow per
// engine; it returns nil when ctx ends.
func (e *Engine) Follow(ctx context.Context, feed ChangeFeed, models ModelSource) error {
	e.mu.Lock()
	e.following = true
	e.mu.Unlock()
	kick := make(chan struct{}, 1)
	notify := func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		for {
			err := feed.Watch(ctx, notify)
			if ctx.Err() != nil {
				return
			}
			e.log.Warn("watching the change feed stopped; watching again", logKeyErr, err)
			notify()
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}()
	defer func() { <-watchDone }()

	_, versioned := models.(ModelVersioner)
	cr, _ := feed.(CatalogReader)
	cv, _ := feed.(CatalogVersioner)
	if cr != nil && cv != nil {
		e.mu.Lock()
		e.catReader, e.catVersioner = cr, cv
		e.mu.Unlock()
	}
	poll := time.NewTicker(modelPoll)
	defer poll.Stop()
	var retry <-chan time.Time
	backoff := 50 * time.Millisecond
	notify()
	for {
		checkModels := versioned
		select {
		case <-ctx.Done():
			return nil
		case <-kick:
		case <-retry:
		case <-poll.C:
			checkModels = true
		}
		var err error
		if cr != nil && cv != nil {
			err = e.followCatalog(ctx, cr, cv)
		}
		if err == nil {
			err = e.catchUp(ctx, feed, cr)
		}
		if err == nil && checkModels && models != nil {
			err = e.loadLatest(ctx, models, cr)
		}
		if ctx.Err() != nil {
			return nil
		}
		e.noteFollow(err)
		if err != nil {
			retry = time.After(backoff)
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		retry, backoff = nil, 50*time.Millisecond
	}
}

// followCatalog reads the store's catalog into the engine's (AddMovies)
// when its catalog version differs from the one read last (e.catSeen),
// and records the new one there. It is safe to call concurrently (Follow
// and requests that name a movie the catalog lacks, syncCatalog, both
// do); calls run one at a time.
func (e *Engine) followCatalog(ctx context.Context, cr CatalogReader, cv CatalogVersioner) error {
	// One at a time: requests arriving together after an import then
	// read the catalog once, and the others find its version read. A
	// caller whose ctx ends while it waits gives up.
	select {
	case e.catSync <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-e.catSync }()
	v, err := cv.CatalogVersion(ctx)
	if err != nil {
		return fmt.Errorf("read the catalog version: %w", err)
	}
	if v+1 == e.catSeen.Load() {
		return nil
	}
	// The version is read before the movies: a change between them is
	// read now and again next time, never missed.
	if err := e.refreshCatalog(ctx, cr); err != nil {
		return err
	}
	e.catSeen.Store(v + 1)
	return nil
}

// syncCatalog is for a request that names a movie the catalog lacks, on
// an engine that follows a store which reads and versions its catalog: a
// movie imported through another process may not have reached this one
// yet (Follow looks on notifications, tens of milliseconds late). It
// reads the store's catalog version and, when that moved since the
// catalog was read last, the movies, and reports whether the catalog
// grew. A request naming a movie that exists nowhere costs one
// single-row query. Errors are logged and read as "did not grow": the
// request then fails as it would have.
func (e *Engine) syncCatalog(ctx context.Context) bool {
	e.mu.RLock()
	cr, cv := e.catReader, e.catVersioner
	e.mu.RUnlock()
	if cr == nil || cv == nil {
		return false
	}
	n := len(e.cat.Load().movies)
	if err := e.followCatalog(ctx, cr, cv); err != nil {
		e.log.Debug("catalog check for an unknown movie failed", logKeyErr, err)
		return false
	}
	return len(e.cat.Load().movies) > n
}

// refreshCatalog adds the store's movies that the catalog lacks.
func (e *Engine) refreshCatalog(ctx context.Context, cr CatalogReader) error {
	start := time.Now()
	ms, err := cr.Movies(ctx)
	if err != nil {
		return fmt.Errorf("read the catalog: %w", err)
	}
	if n := e.AddMovies(ms); n > 0 {
		e.log.Info("movies added to the catalog from the shared store", "movies", n, logKeySeconds, time.Since(start).Seconds())
	}
	return nil
}

// lacksMovies reports whether the catalog misses one of n movies, the
// i-th of which is movie(i).
func (e *Engine) lacksMovies(n int, movie func(int) int32) bool {
	c := e.cat.Load()
	index := func(id int32) (int32, bool) { i, ok := c.ix[id]; return i, ok }
	if n > len(c.movies) {
		index = c.indexFunc() // a table when the ids are dense: all ratings on a reload
	}
	for i := range n {
		if _, ok := index(movie(i)); !ok {
			return true
		}
	}
	return false
}

// catchUp applies the feed's changes after AppliedVersion until there are
// none. With cr (may be nil) it first adds the movies they name that the
// catalog lacks, from the store's catalog: the movies of a committed
// change are in it (ratings name catalog movies, movies are never
// removed), so no change is skipped for want of its movie.
func (e *Engine) catchUp(ctx context.Context, feed ChangeFeed, cr CatalogReader) error {
	for {
		cs, err := feed.Changes(ctx, e.AppliedVersion(), changesBatch)
		if errors.Is(err, ErrResync) {
			rr, ok := feed.(RatingsReader)
			if !ok {
				return fmt.Errorf("read changes after version %d: %w (and the feed cannot read all ratings)", e.AppliedVersion(), err)
			}
			e.log.Info("the change log does not reach back to the version applied: reloading all ratings", logKeyVersion, e.AppliedVersion())
			start := time.Now()
			rs, v, err := rr.Ratings(ctx)
			if err != nil {
				return fmt.Errorf("reload all ratings: %w", err)
			}
			if cr != nil && e.lacksMovies(len(rs), func(i int) int32 { return rs[i].Movie }) {
				if err := e.refreshCatalog(ctx, cr); err != nil {
					return fmt.Errorf("reload all ratings: %w", err)
				}
			}
			e.Reload(rs, v)
			e.log.Info("ratings reloaded", "ratings", len(rs), logKeyVersion, v, logKeySeconds, time.Since(start).Seconds())
			continue
		}
		if err != nil {
			return fmt.Errorf("read changes after version %d: %w", e.AppliedVersion(), err)
		}
		if len(cs) == 0 {
			return nil
		}
		if cr != nil && e.lacksMovies(len(cs), func(i int) int32 { return cs[i].Movie }) {
			if err := e.refreshCatalog(ctx, cr); err != nil {
				return fmt.Errorf("apply changes after version %d: %w", e.AppliedVersion(), err)
			}
		}
		e.ApplyChanges(cs)
	}
}

// loadLatest publishes the newest stored model when it is newer than the
// published one (and, with a ranking model, when the ranking model of the
// same data version is stored too). With cr (may be nil) it first adds
// the movies the model has factors for that the catalog lacks (a trainer
// that saw an import this process has not caught up with yet).
func (e *Engine) loadLatest(ctx context.Context, models ModelSource, cr CatalogReader) error {
	var cur int64 = -1
	if s := e.Snapshot(); s != nil {
		cur = s.DataVersion
		if e.cfg.Ranking.Rank != 0 && s.Ranker == nil {
			cur-- // a rating model alone: the full pair of the same version is newer
		}
	}
	if mv, ok := models.(ModelVersioner); ok {
		v, found, err := mv.LatestModelVersion(ctx, e.cfg.Params)
		if err != nil {
			return fmt.Errorf("look for a newer model: %w", err)
		}
		if !found || v <= cur {
			return nil
		}
	}
	snap, err := models.LatestModel(ctx, e.cfg.Params)
	if err != nil {
		return fmt.Errorf("read the newest model: %w", err)
	}
	if snap == nil || snap.DataVersion <= cur {
		return nil
	}
	if e.cfg.Ranking.Rank != 0 {
		rs, err := models.LatestModel(ctx, e.cfg.Ranking)
		if err != nil {
			return fmt.Errorf("read the newest ranking model: %w", err)
		}
		if rs == nil || rs.DataVersion != snap.DataVersion || !slices.Equal(rs.UserIDs, snap.UserIDs) || !slices.Equal(rs.MovieIDs, snap.MovieIDs) {
			return nil // saved together; a later check finds the pair
		}
		snap.Ranker, snap.RankerParams, snap.RankerSeconds, snap.RankerError = rs.Model, e.cfg.Ranking, rs.TrainSeconds, rs.TrainRMSE
	}
	if cr != nil && e.lacksMovies(len(snap.MovieIDs), func(i int) int32 { return snap.MovieIDs[i] }) {
		if err := e.refreshCatalog(ctx, cr); err != nil {
			return fmt.Errorf("publish the model of data version %d: %w", snap.DataVersion, err)
		}
	}
	if err := e.Publish(snap); err != nil {
		return fmt.Errorf("publish the model of data version %d: %w", snap.DataVersion, err)
	}
	e.log.Info("model loaded from the shared store", logKeyVersion, snap.DataVersion, "backend", snap.Backend,
		"trained_at", snap.TrainedAt, "ranking_model", snap.Ranker != nil)
	return nil
}

// RatingsReader reads every stored rating and the data version they make
// up; Follow uses it when the change feed answers ErrResync.
type RatingsReader interface {
	Ratings(ctx context.Context) ([]Rating, int64, error)
}

// Reload replaces every user's ratings with ratings, the whole store as
// of data version version (for a follower whose feed answered
// ErrResync), and refolds the users whose ratings changed. Users keep
// their indices, so the published model stays valid; users missing from
// ratings are left without any. Ratings of movies missing from the
// catalog are logged and skipped (Follow adds the store's movies first,
// see catchUp). Local writes applied ahead of the feed
// are forgotten, so the feed applies them again after version. It is
// safe to call concurrently with every other method; writes wait for it.
func (e *Engine) Reload(ratings []Rating, version int64) {
	e.applyMu.Lock()
	defer e.applyMu.Unlock()
	for i := range e.userLocks {
		e.userLocks[i].Lock()
	}
	defer func() {
		for i := range e.userLocks {
			e.userLocks[i].Unlock()
		}
	}()
	// New rows by user id, movies ascending, the last rating of a movie
	// winning.
	byUser := make(map[int32][]pending)
	unknown := 0
	movieIndex := e.cat.Load().indexFunc() // indices hold in every later catalog
	for _, r := range ratings {
		ix, ok := movieIndex(r.Movie)
		if !ok {
			unknown++
			continue
		}
		byUser[r.User] = append(byUser[r.User], pending{ix: ix, val: r.Value})
	}
	if unknown > 0 {
		e.log.Warn("stored ratings name movies missing from the catalog; skipped", "ratings", unknown)
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	cat := e.cat.Load() // current while e.mu is held
	counts := make([]int32, len(cat.movies))
	sums := make([]float64, len(cat.movies))
	newRow := func(ps []pending) row {
		slices.SortStableFunc(ps, func(a, b pending) int { return cmp.Compare(a.ix, b.ix) })
		r := row{movies: make([]int32, 0, len(ps)), vals: make([]float32, 0, len(ps))}
		for j, p := range ps {
			if j+1 < len(ps) && ps[j+1].ix == p.ix {
				continue
			}
			r.movies = append(r.movies, p.ix)
			r.vals = append(r.vals, p.val)
			counts[p.ix]++
			sums[p.ix] += toSum(p.val)
		}
		return r
	}

	var changed []int32
	for u, id := range e.userIDs {
		n := newRow(byUser[id])
		delete(byUser, id)
		if !slices.Equal(n.movies, e.rows[u].movies) || !slices.Equal(n.vals, e.rows[u].vals) {
			e.rows[u] = n
			changed = append(changed, int32(u))
		}
	}
	for id, ps := range byUser {
		u := e.userIndexLocked(id)
		e.rows[u] = newRow(ps)
		changed = append(changed, u)
	}
	for i := range cat.movies {
		cat.counts[i].Store(counts[i])
		cat.sums[i].Store(sums[i])
	}
	e.eligGen.Add(1) // every count may have moved
	clear(e.ahead)
	e.following = true
	e.applied = version
	e.version = max(e.version, version)
	s := e.current.Load()
	var f als.FoldIn
	for _, u := range changed {
		switch {
		case len(e.rows[u].movies) == 0:
			delete(e.folded, u)
		case s != nil:
			e.foldLocked(&f, u, s, version)
		}
	}
}
