package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"movierec/engine"
	"movierec/store"
)

// writeReq is one caller's batch waiting for the writer goroutine: ratings
// to store, or (del) one rating to delete.
type writeReq struct {
	rs          []engine.Rating
	del         bool
	user, movie int32 // the rating to delete
	deleted     bool  // set by commit: the delete found its row
	version     int64 // set by commit: the committing transaction's version
	done        chan error
}

// maxGroup bounds how many ratings one group commit takes.
const maxGroup = 20000

// AddRatings stores rs in one durable transaction, shared with whatever
// other batches are waiting (group commit): when it returns nil, every
// rating of rs is committed; when it returns an error, none is (but see
// below). A rating of a (user, movie) already stored replaces it; when rs
// rates a movie twice the last one counts. A rating of a movie not in the
// catalog fails the batch with an error wrapping engine.ErrUnknownMovie.
//
// While the database cannot be reached the error wraps
// engine.ErrStoreUnavailable, within about 5 s. When the connection breaks
// during the COMMIT itself, the outcome is unknown to the store and it
// reports ErrStoreUnavailable; storing the same ratings again is harmless.
// Once handed to the writer a batch is not abandoned on ctx cancellation.
// After Close the error is store.ErrClosed.
func (d *DB) AddRatings(ctx context.Context, rs []engine.Rating) error {
	_, err := d.AddRatingsVersion(ctx, rs)
	return err
}

// AddRatingsVersion is AddRatings that also returns the data version of
// the committing transaction (engine.VersionedStore).
func (d *DB) AddRatingsVersion(ctx context.Context, rs []engine.Rating) (int64, error) {
	req := &writeReq{rs: rs, done: make(chan error, 1)}
	if err := d.enqueue(ctx, req); err != nil {
		if errors.Is(err, store.ErrClosed) {
			return 0, err
		}
		return 0, fmt.Errorf("store %d ratings: %w", len(rs), err)
	}
	if err := <-req.done; err != nil {
		return 0, err
	}
	return req.version, nil
}

// DeleteRating deletes user's rating of movie in one durable transaction,
// on the same write path as AddRatings. The error wraps engine.ErrNotRated
// when there was no such rating (nothing changes then).
func (d *DB) DeleteRating(ctx context.Context, user, movie int32) error {
	_, err := d.DeleteRatingVersion(ctx, user, movie)
	return err
}

// DeleteRatingVersion is DeleteRating that also returns the data version
// of the committing transaction (engine.VersionedStore).
func (d *DB) DeleteRatingVersion(ctx context.Context, user, movie int32) (int64, error) {
	req := &writeReq{del: true, user: user, movie: movie, done: make(chan error, 1)}
	if err := d.enqueue(ctx, req); err != nil {
		if errors.Is(err, store.ErrClosed) {
			return 0, err
		}
		return 0, fmt.Errorf("delete rating (user %d, movie %d): %w", user, movie, err)
	}
	if err := <-req.done; err != nil {
		return 0, err
	}
	if !req.deleted {
		return 0, fmt.Errorf("%w: user %d has no stored rating of movie %d", engine.ErrNotRated, user, movie)
	}
	return req.version, nil
}

// enqueue hands req to the writer goroutine.
func (d *DB) enqueue(ctx context.Context, req *writeReq) error {
	d.closeMu.RLock()
	defer d.closeMu.RUnlock()
	if d.closed {
		return store.ErrClosed
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case d.writes <- req:
		return nil
	}
}

// writer commits queued batches, grouping those that wait together.
func (d *DB) writer() {
	defer close(d.done)
	var group []*writeReq
	for {
		group = group[:0]
		select {
		case req := <-d.writes:
			group = append(group, req)
		case <-d.quit:
			for {
				select {
				case req := <-d.writes:
					req.done <- d.noteWrite(d.commit([]*writeReq{req}))
				default:
					return
				}
			}
		}
		n := max(len(group[0].rs), 1)
	more:
		for n < maxGroup {
			select {
			case req := <-d.writes:
				group = append(group, req)
				n += max(len(req.rs), 1)
			default:
				break more
			}
		}
		err := d.commit(group)
		if err == nil || len(group) == 1 || isUnavailable(err) {
			// An outage fails every batch alike: no retries.
			err = d.noteWrite(err)
			for _, req := range group {
				req.done <- err
			}
			continue
		}
		// One bad batch must not fail its neighbours: retry them alone.
		for _, req := range group {
			req.done <- d.noteWrite(d.commit([]*writeReq{req}))
		}
	}
}

// SQL of the group commit. Every statement reads the transaction's version
// from meta, which the first statement incremented.
const (
	sqlTakeVersion = "UPDATE meta SET data_version = data_version + 1 WHERE id = 1 RETURNING data_version"
	// $1..$4: the batch's columns; $5: the seq of its first change. Only
	// ratings of known movies are stored: the caller compares the count.
	sqlAddRatings = `WITH input AS (
		SELECT t.* FROM unnest($1::integer[], $2::integer[], $3::real[], $4::bigint[]) WITH ORDINALITY
			AS t(user_id, movie_id, rating, ts, n)
		WHERE EXISTS (SELECT 1 FROM movies m WHERE m.id = t.movie_id)
	), ins AS (
		INSERT INTO ratings (user_id, movie_id, rating, ts) SELECT user_id, movie_id, rating, ts FROM input
		ON CONFLICT (user_id, movie_id) DO UPDATE SET rating = excluded.rating, ts = excluded.ts
	)
	INSERT INTO changes (version, seq, user_id, movie_id, rating, ts, deleted)
	SELECT (SELECT data_version FROM meta WHERE id = 1), $5 + n, user_id, movie_id, rating, ts, false FROM input`
	sqlDeleteRating = `WITH del AS (
		DELETE FROM ratings WHERE user_id = $1 AND movie_id = $2 RETURNING user_id, movie_id
	)
	INSERT INTO changes (version, seq, user_id, movie_id, rating, ts, deleted)
	SELECT (SELECT data_version FROM meta WHERE id = 1), $3, user_id, movie_id, 0, 0, true FROM del`
	sqlNotifyChanges = "SELECT pg_notify('" + ChannelChanges + "', data_version::text) FROM meta WHERE id = 1"
)

// commit writes a group of batches in one transaction under one data
// version. A group that changes nothing (deletes that find nothing) is
// rolled back and takes no version.
func (d *DB) commit(group []*writeReq) error {
	// A commit in progress is never cancelled by a caller, only bounded.
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.Background())
	var b pgx.Batch
	b.Queue(sqlTakeVersion)
	cols := make([][]engine.Rating, len(group))
	seq := int32(0)
	for i, req := range group {
		if req.del {
			b.Queue(sqlDeleteRating, req.user, req.movie, seq+1)
			seq++
			continue
		}
		rs := lastWins(req.rs)
		cols[i] = rs
		users, movies, values, times := columns(rs)
		b.Queue(sqlAddRatings, users, movies, values, times, seq)
		seq += int32(len(rs))
	}
	b.Queue(sqlNotifyChanges)
	res := tx.SendBatch(ctx, &b)
	var version int64
	if err := res.QueryRow().Scan(&version); err != nil {
		res.Close()
		return fmt.Errorf("take data version: %w", err)
	}
	changed := false
	bad := -1 // a batch naming a movie not in the catalog
	for i, req := range group {
		tag, err := res.Exec()
		if err != nil {
			res.Close()
			if req.del {
				return fmt.Errorf("delete rating (user %d, movie %d): %w", req.user, req.movie, err)
			}
			return fmt.Errorf("store %d ratings: %w", len(req.rs), err)
		}
		n := tag.RowsAffected()
		switch {
		case req.del:
			req.deleted = n > 0
			changed = changed || req.deleted
		case int(n) != len(cols[i]):
			bad = i
		case n > 0:
			changed = true
		}
	}
	if _, err := res.Exec(); err != nil {
		res.Close()
		return fmt.Errorf("notify: %w", err)
	}
	if err := res.Close(); err != nil {
		return err
	}
	if bad >= 0 {
		return fmt.Errorf("store %d ratings: %w", len(group[bad].rs), unknownMovie(ctx, tx, group[bad].rs))
	}
	if !changed {
		return nil // rolled back: nothing to commit
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for _, req := range group {
		req.version = version
	}
	d.maybePrune(version)
	return nil
}

// The change log keeps the changes of the newest keepChangeVersions
// versions: every pruneEvery commits of this process, older ones are
// deleted in the background (a follower further behind reloads, see
// engine.ErrResync). It also keeps those a ratings snapshot needs (the
// changes after its version) while they are at most snapshotKeepShare of
// the snapshot's ratings, so that a start can still read the snapshot
// and apply them (ReadRatings then rewrites it once they pass an eighth);
// past that share the log is pruned as usual and the next start reads
// through COPY.
var (
	keepChangeVersions int64 = 100_000
	pruneEvery         int64 = 1000
	snapshotKeepShare        = 0.25
)

// maybePrune starts a prune of the change log when this process's commit
// count reaches a multiple of pruneEvery and no prune is running. Called
// by the writer goroutine only.
func (d *DB) maybePrune(version int64) {
	d.commits++
	if d.commits%pruneEvery != 0 || version <= keepChangeVersions || !d.pruning.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer d.pruning.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		upTo, err := d.pruneTarget(ctx, version-keepChangeVersions)
		if err != nil {
			d.log.Warn("pruning the change log failed", "err", err)
			return
		}
		if n, err := d.PruneChanges(ctx, upTo); err != nil {
			d.log.Warn("pruning the change log failed", "err", err)
		} else {
			d.log.Debug("change log pruned", "deleted", n, "up_to", upTo)
		}
	}()
}

// pruneTarget returns how far the change log may be pruned instead of
// upTo: no further than the newest ratings snapshot's version while the
// changes after it number at most snapshotKeepShare of its ratings (see
// keepChangeVersions), else upTo.
func (d *DB) pruneTarget(ctx context.Context, upTo int64) (int64, error) {
	var snap, rows int64
	if err := d.pool.QueryRow(ctx, `SELECT coalesce(max(version), -1),
		coalesce(sum(rows) FILTER (WHERE version = (SELECT max(version) FROM ratings_snapshots)), 0)
		FROM ratings_snapshots`).Scan(&snap, &rows); err != nil {
		return 0, fmt.Errorf("prune changes: %w", unavailable(err))
	}
	if snap < 0 || snap >= upTo {
		return upTo, nil
	}
	limit := int64(float64(rows) * snapshotKeepShare)
	var after int64
	if err := d.pool.QueryRow(ctx, "SELECT count(*) FROM (SELECT 1 FROM changes WHERE version > $1 LIMIT $2) AS t",
		snap, limit+1).Scan(&after); err != nil {
		return 0, fmt.Errorf("prune changes: %w", unavailable(err))
	}
	if after <= limit {
		return snap, nil
	}
	return upTo, nil
}

// unknownMovie returns an error wrapping engine.ErrUnknownMovie that names
// the first movie of rs not in the catalog.
func unknownMovie(ctx context.Context, tx pgx.Tx, rs []engine.Rating) error {
	_, movies, _, _ := columns(rs)
	var id int32
	err := tx.QueryRow(ctx, `SELECT m FROM unnest($1::integer[]) WITH ORDINALITY AS t(m, n)
		WHERE NOT EXISTS (SELECT 1 FROM movies WHERE id = m) ORDER BY n LIMIT 1`, movies).Scan(&id)
	if err != nil {
		return fmt.Errorf("%w (a movie of the batch is not in the catalog)", engine.ErrUnknownMovie)
	}
	return fmt.Errorf("%w %d: not in the catalog", engine.ErrUnknownMovie, id)
}

// lastWins returns rs without the earlier ratings of a (user, movie) that
// rs rates twice (one INSERT … ON CONFLICT cannot touch a row twice). It
// returns rs itself when there is no such pair.
func lastWins(rs []engine.Rating) []engine.Rating {
	if len(rs) < 2 {
		return rs
	}
	type key struct{ user, movie int32 }
	last := make(map[key]int, len(rs))
	for i, r := range rs {
		last[key{r.User, r.Movie}] = i
	}
	if len(last) == len(rs) {
		return rs
	}
	out := make([]engine.Rating, 0, len(last))
	for i, r := range rs {
		if last[key{r.User, r.Movie}] == i {
			out = append(out, r)
		}
	}
	return out
}

// columns splits rs into the arrays the SQL unnests.
func columns(rs []engine.Rating) (users, movies []int32, values []float32, times []int64) {
	users, movies = make([]int32, len(rs)), make([]int32, len(rs))
	values, times = make([]float32, len(rs)), make([]int64, len(rs))
	for i, r := range rs {
		users[i], movies[i], values[i], times[i] = r.User, r.Movie, r.Value, r.Time
	}
	return users, movies, values, times
}
