package store

import (
	"context"
	"fmt"

	"movierec/engine"
)

// writeReq is one caller's batch waiting for the writer goroutine.
type writeReq struct {
	rs   []engine.Rating
	done chan error
}

// maxGroup bounds how many ratings one group commit takes.
const maxGroup = 20000

// AddRatings stores rs in one durable transaction, shared with whatever
// other batches are waiting (group commit): when it returns nil, every
// rating of rs is on disk; when it returns an error, none is. A rating of a
// (user, movie) already stored replaces it. Each batch bumps the data
// version by one. Once handed to the writer a batch is not abandoned on
// ctx cancellation, so a nil error never lies and an error never hides a
// stored batch.
func (d *DB) AddRatings(ctx context.Context, rs []engine.Rating) error {
	req := &writeReq{rs: rs, done: make(chan error, 1)}
	// Enqueue under the read lock: Close takes the write lock to set closed,
	// so no request can be queued after the writer's final drain.
	d.closeMu.RLock()
	if d.closed {
		d.closeMu.RUnlock()
		return ErrClosed
	}
	select {
	case <-ctx.Done():
		d.closeMu.RUnlock()
		return fmt.Errorf("store %d ratings: %w", len(rs), ctx.Err())
	case d.writes <- req:
	}
	d.closeMu.RUnlock()
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
					req.done <- d.commit([]*writeReq{req})
				default:
					return
				}
			}
		}
		n := len(group[0].rs)
	more:
		for n < maxGroup {
			select {
			case req := <-d.writes:
				group = append(group, req)
				n += len(req.rs)
			default:
				break more
			}
		}
		if err := d.commit(group); err == nil || len(group) == 1 {
			for _, req := range group {
				req.done <- err
			}
			continue
		}
		// One bad batch must not fail its neighbours: retry them alone.
		for _, req := range group {
			req.done <- d.commit([]*writeReq{req})
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
	for _, req := range group {
		for _, r := range req.rs {
			if _, err := st.ExecContext(ctx, r.User, r.Movie, r.Value, r.Time); err != nil {
				return fmt.Errorf("insert rating (user %d, movie %d): %w", r.User, r.Movie, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE meta SET data_version = data_version + ? WHERE id = 1", len(group)); err != nil {
		return fmt.Errorf("bump data version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
