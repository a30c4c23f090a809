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

// Watch timing: notify is called at least every pollEvery, and a lost
// listening connection is retried after a backoff from minBackoff to
// maxBackoff.
var (
	pollEvery  = time.Second
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// Changes returns the changes committed after version after, oldest first,
// in whole transactions: up to about limit changes, more when the last
// transaction is larger (engine.ChangeFeed). The error wraps
// engine.ErrResync when some of those changes are not in the log (an
// import after after, or a prune), and engine.ErrStoreUnavailable when the
// database cannot be reached. It is safe for concurrent use.
func (d *DB) Changes(ctx context.Context, after int64, limit int) ([]engine.Change, error) {
	limit = max(limit, 1)
	rows, err := d.pool.Query(ctx, `WITH lim AS (
		SELECT coalesce((SELECT version FROM changes WHERE version > $1 ORDER BY version, seq OFFSET $2 LIMIT 1),
			9223372036854775807) AS v)
		SELECT version, user_id, movie_id, rating, ts, deleted FROM changes, lim
		WHERE version > $1 AND version <= lim.v ORDER BY version, seq`, after, limit-1)
	if err != nil {
		return nil, fmt.Errorf("read changes after %d: %w", after, unavailable(err))
	}
	var out []engine.Change
	var c engine.Change
	_, err = pgx.ForEachRow(rows, []any{&c.Version, &c.User, &c.Movie, &c.Value, &c.Time, &c.Deleted}, func() error {
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read changes after %d: %w", after, unavailable(err))
	}
	// The floor only rises, and an import or prune raises it in the
	// transaction that leaves its changes out of the log: read after the
	// changes, it tells whether they are complete.
	var floor int64
	if err := d.pool.QueryRow(ctx, "SELECT log_floor FROM meta WHERE id = 1").Scan(&floor); err != nil {
		return nil, fmt.Errorf("read changes after %d: %w", after, unavailable(err))
	}
	if after < floor {
		return nil, fmt.Errorf("read changes after %d: %w (the log starts after version %d)", after, engine.ErrResync, floor)
	}
	return out, nil
}

// PruneChanges deletes the logged changes of versions up to upTo and
// raises the log's floor there: a follower behind it gets engine.ErrResync
// from Changes and reloads. It returns how many changes it deleted.
func (d *DB) PruneChanges(ctx context.Context, upTo int64) (int64, error) {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune changes: %w", unavailable(err))
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, "UPDATE meta SET log_floor = greatest(log_floor, $1) WHERE id = 1", upTo); err != nil {
		return 0, fmt.Errorf("prune changes: %w", unavailable(err))
	}
	tag, err := tx.Exec(ctx, "DELETE FROM changes WHERE version <= $1", upTo)
	if err != nil {
		return 0, fmt.Errorf("prune changes: %w", unavailable(err))
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("prune changes: %w", unavailable(err))
	}
	return tag.RowsAffected(), nil
}

// Watch calls notify, from this goroutine, whenever a change or a model
// may have been committed by any process: on each NOTIFY of ChannelChanges
// or ChannelModels, after each (re)connection of its listening connection
// (notifications may have been missed meanwhile), and at least every
// second. It listens on a connection of its own, outside the pool, and
// reconnects with backoff while the database is down; while it cannot
// connect, StorageStatus reports the database unreachable (until a write
// or the store's probe succeeds). It returns ctx's
// error when ctx ends (engine.ChangeFeed).
func (d *DB) Watch(ctx context.Context, notify func()) error {
	backoff := minBackoff
	for {
		err := d.listen(ctx, notify)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d.log.Warn("change feed: listening connection lost; reconnecting", "err", err, "in", backoff)
		if isUnavailable(err) {
			// StorageStatus reports the outage before a write fails.
			d.noteWrite(err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		notify() // poll while disconnected
		if err != nil && !errors.Is(err, errListened) {
			backoff = min(2*backoff, maxBackoff)
		} else {
			backoff = minBackoff
		}
	}
}

// errListened marks a connection that listened before it broke: the next
// reconnect starts from the shortest backoff.
var errListened = errors.New("listening connection broke")

// listen connects, LISTENs and calls notify until the connection breaks or
// ctx ends.
func (d *DB) listen(ctx context.Context, notify func()) error {
	cfg := d.pool.Config().ConnConfig.Copy()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		c, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(c)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+ChannelChanges+"; LISTEN "+ChannelModels); err != nil {
		return err
	}
	notify() // anything committed before LISTEN took effect
	for {
		wctx, cancel := context.WithTimeout(ctx, pollEvery)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) || wctx.Err() != nil:
			// The poll interval passed. A wait cut short by its context
			// leaves the connection usable only if pgx could recover it.
			if conn.IsClosed() {
				return fmt.Errorf("%w: %w", errListened, err)
			}
		default:
			return fmt.Errorf("%w: %w", errListened, err)
		}
		notify()
	}
}

// ChangedUsers returns the users (ids, each once, ascending) whose ratings
// changed after data version since, from the change log, or an error
// wrapping store.ErrNoChangeLog when the log no longer holds all of those
// changes (an import or a prune after since). A start uses it to serve a
// stored model older than the data it read (engine's PublishFolding). It
// is safe for concurrent use.
func (d *DB) ChangedUsers(ctx context.Context, since int64) ([]int32, error) {
	rows, err := d.pool.Query(ctx, "SELECT DISTINCT user_id FROM changes WHERE version > $1 ORDER BY user_id", since)
	if err != nil {
		return nil, fmt.Errorf("changed users after %d: %w", since, unavailable(err))
	}
	users, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("changed users after %d: %w", since, unavailable(err))
	}
	// Read after the changes, as Changes does: the floor only rises.
	var floor int64
	if err := d.pool.QueryRow(ctx, "SELECT log_floor FROM meta WHERE id = 1").Scan(&floor); err != nil {
		return nil, fmt.Errorf("changed users after %d: %w", since, unavailable(err))
	}
	if since < floor {
		return nil, fmt.Errorf("changed users after %d: %w (it starts after version %d)", since, store.ErrNoChangeLog, floor)
	}
	return users, nil
}
