package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"movierec/engine"
	"movierec/store"
)

// ReadProgress is reported while reading all ratings (store.ReadProgress).
type ReadProgress = store.ReadProgress

// readProgressEvery is how often ReadRatings reports progress.
var readProgressEvery = time.Second

// ReadRatings returns every rating ordered by user and movie, and the data
// version they make up, read in one REPEATABLE READ snapshot through
// COPY in binary format. progress (may be nil) is called about once a
// second from another goroutine, never after ReadRatings returns. The
// error wraps engine.ErrStoreUnavailable when the database cannot be
// reached.
func (d *DB) ReadRatings(ctx context.Context, progress func(ReadProgress)) ([]engine.Rating, int64, error) {
	start := time.Now()
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("read ratings: %w", unavailable(err))
	}
	defer conn.Release()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, 0, fmt.Errorf("read ratings: %w", unavailable(err))
	}
	defer tx.Rollback(context.Background())
	var version int64
	var estimate float64 // the planner's row count: -1 for a table never analyzed
	if err := tx.QueryRow(ctx, `SELECT data_version, (SELECT reltuples FROM pg_class WHERE oid = 'ratings'::regclass)
		FROM meta WHERE id = 1`).Scan(&version, &estimate); err != nil {
		return nil, 0, fmt.Errorf("read ratings: %w", unavailable(err))
	}
	dec := &ratingDecoder{Out: make([]engine.Rating, 0, max(int(estimate*1.02), 0)+1024)}
	if progress != nil {
		stop := make(chan struct{})
		ticked := make(chan struct{})
		defer func() { close(stop); <-ticked }()
		total := max(int(estimate), 0)
		go func() {
			defer close(ticked)
			t := time.NewTicker(readProgressEvery)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					progress(ReadProgress{Done: int(dec.Done.Load()), Total: total, Elapsed: time.Since(start)})
				}
			}
		}()
	}
	if _, err := conn.Conn().PgConn().CopyTo(ctx, dec, "COPY ratings (user_id, movie_id, rating, ts) TO STDOUT (FORMAT binary)"); err != nil {
		return nil, 0, fmt.Errorf("read ratings: %w", unavailable(err))
	}
	if err := dec.finish(); err != nil {
		return nil, 0, fmt.Errorf("read ratings: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, 0, fmt.Errorf("read ratings: %w", unavailable(err))
	}
	// The heap is in key order after an import; later writes append.
	if !sortedByKey(dec.Out) {
		slices.SortFunc(dec.Out, compareKey)
	}
	return dec.Out, version, nil
}

// compareKey orders ratings by user, then movie.
func compareKey(a, b engine.Rating) int {
	if c := cmp.Compare(a.User, b.User); c != 0 {
		return c
	}
	return cmp.Compare(a.Movie, b.Movie)
}

// sortedByKey reports whether rs is strictly increasing by (user, movie).
func sortedByKey(rs []engine.Rating) bool {
	for i := 1; i < len(rs); i++ {
		if a, b := rs[i-1], rs[i]; a.User > b.User || a.User == b.User && a.Movie >= b.Movie {
			return false
		}
	}
	return true
}
