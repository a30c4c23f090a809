package sqlite

import (
	"context"
	"errors"
	"fmt"

	"movierec/engine"
)

// writeReq is one caller's batch waiting for the writer goroutine: ratings
// to store, or (del) one rating to delete.
type writeReq struct {
	rs          []engine.Rating
	del         bool
	user, movie int32 // the rating to delete
	deleted     bool  // set by commit: the delete found its row
	probe       bool  // the recovery probe: a write that changes nothing
	done        chan error
}

var (
	_ engine.Store   = (*DB)(nil)
	_ engine.Deleter = (*DB)(nil)
)

// maxGroup bounds how many ratings one group commit takes.
const maxGroup = 20000

// DeleteRating deletes user's rating of movie in one durable transaction,
// on the same write path as AddRatings (group commit): when it returns nil
// the rating is gone from disk. It bumps the data version by one, unless
// there was no such rating: then nothing changes and the error wraps
// engine.ErrNotRated.
func (d *DB) DeleteRating(ctx context.Context, user, movie int32) error {
	req := &writeReq{del: true, user: user, movie: movie, done: make(chan error, 1)}
	if err := d.enqueue(ctx, req); err != nil {
		return fmt.Errorf("delete rating (user %d, movie %d): %w", user, movie, err)
	}
	if err := <-req.done; err != nil {
		return err
	}
	if !req.deleted {
		return fmt.Errorf("%w: user %d has no stored rating of movie %d", engine.ErrNotRated, user, movie)
	}
	return nil
}

// enqueue hands req to the writer goroutine.
func (d *DB) enqueue(ctx context.Context, req *writeReq) error {
	// Enqueue under the read lock: Close takes the write lock to set closed,
	// so no request can be queued after the writer's final drain.
	d.closeMu.RLock()
	defer d.closeMu.RUnlock()
	if d.closed {
		return ErrClosed
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case d.writes <- req:
		return nil
	}
}

// AddRatings stores rs in one durable transaction, shared with whatever
// other batches are waiting (group commit): when it returns nil, every
// rating of rs is on disk; when it returns an error, none is. A rating of a
// (user, movie) already stored replaces it. Each batch bumps the data
// version by one. Once handed to the writer a batch is not abandoned on
// ctx cancellation, so a nil error never lies and an error never hides a
// stored batch.
func (d *DB) AddRatings(ctx context.Context, rs []engine.Rating) error {
	req := &writeReq{rs: rs, done: make(chan error, 1)}
	if err := d.enqueue(ctx, req); err != nil {
		if errors.Is(err, ErrClosed) {
			return err
		}
		return fmt.Errorf("store %d ratings: %w", len(rs), err)
	}
	return <-req.done
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
			// Drain what was accepted before Close.
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
		if err := d.commit(group); err == nil || len(group) == 1 || isStorageErr(err) {
			// A storage failure fails every batch alike: no retries.
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

// commit writes a group of batches in one transaction.
func (d *DB) commit(group []*writeReq) error {
	ctx := context.Background() // a commit in progress is never cancelled halfway
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `INSERT INTO ratings (user_id, movie_id, rating, ts) VALUES (?, ?, ?, ?)
		ON CONFLICT (user_id, movie_id) DO UPDATE SET rating = excluded.rating, ts = excluded.ts`)
	if err != nil {
		return fmt.Errorf("prepare insert: %w", err)
	}
	defer st.Close()
	changed := 0 // batches that changed data: each bumps the data version
	// What the batches changed, for the snapshot's change log; Version
	// counts the changing batches from 1. Only the writer goroutine (and
	// Close's drain after it) runs commit, so the buffer is its own.
	ch := d.changeBuf[:0]
	defer func() { d.changeBuf = ch[:0] }()
	for _, req := range group {
		if req.probe {
			continue
		}
		if req.del {
			res, err := tx.ExecContext(ctx, "DELETE FROM ratings WHERE user_id = ? AND movie_id = ?", req.user, req.movie)
			if err != nil {
				return fmt.Errorf("delete rating (user %d, movie %d): %w", req.user, req.movie, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("delete rating (user %d, movie %d): %w", req.user, req.movie, err)
			}
			req.deleted = n > 0
			if req.deleted {
				changed++
				ch = append(ch, engine.Change{Version: int64(changed), Rating: engine.Rating{User: req.user, Movie: req.movie}, Deleted: true})
			}
			continue
		}
		if len(req.rs) == 0 {
			continue // changes nothing, so no new version
		}
		changed++
		for _, r := range req.rs {
			if _, err := st.ExecContext(ctx, r.User, r.Movie, r.Value, r.Time); err != nil {
				return fmt.Errorf("insert rating (user %d, movie %d): %w", r.User, r.Movie, err)
			}
			ch = append(ch, engine.Change{Version: int64(changed), Rating: r})
		}
	}
	if changed > 0 {
		if err := d.logChanges(ctx, tx, ch); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE meta SET data_version = data_version + ? WHERE id = 1", changed); err != nil {
		return fmt.Errorf("bump data version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
