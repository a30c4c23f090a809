package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"movierec/engine"
	"movierec/store"
)

// ReadProgress is reported while reading all ratings (store.ReadProgress).
type ReadProgress = store.ReadProgress

// readProgressEvery is how often ReadRatings reports progress.
var readProgressEvery = time.Second

// readParts is how many connections read the ratings table at once. The
// work is the server's (its COPY), so the bound is not this process's
// core count.
var readParts int64 = 4

// minPartPages is the least heap pages (8 KiB, about 180 ratings each) a
// part of a parallel read gets: smaller tables are read on one connection.
var minPartPages int64 = 2048

// sqlNoJIT turns JIT compilation off for a transaction: a full scan's
// cost estimate crosses jit_above_cost, and compiling costs more than it
// saves on four plain columns.
const sqlNoJIT = "SET LOCAL jit = off"

// ReadRatings returns every rating ordered by user and movie, and the data
// version they make up. When a ratings snapshot at or above the change
// log's floor is stored, it reads that (its chunks over up to 4
// connections) and applies the logged changes after it, all in one
// REPEATABLE READ snapshot; when there is none, or the log after it holds
// more than an eighth as many changes as there are ratings, it writes a
// new one of what it read afterwards (a few seconds at 25M ratings; one
// writer at a time; a failure is logged, not returned). Otherwise the
// ratings table's partitions are read through COPY in binary
// format, in user order, split by heap pages (TID range scans where a
// part takes only some of a partition's) over up to 4 connections (at
// most half the pool), all in one REPEATABLE READ snapshot (exported by
// the first and imported by the others), so the parts and the version
// agree. progress (may be nil) is called about once a second from another
// goroutine, never after ReadRatings returns. The error wraps
// engine.ErrStoreUnavailable when the database cannot be reached.
func (d *DB) ReadRatings(ctx context.Context, progress func(ReadProgress)) ([]engine.Rating, int64, error) {
	rs, v, refresh, err := d.readRatings(ctx, progress)
	if err != nil {
		return nil, 0, fmt.Errorf("read ratings: %w", unavailable(err))
	}
	if refresh {
		// The next start reads this: worth a few seconds of this one.
		if err := d.writeSnapshot(ctx, v, rs); err != nil {
			d.log.Warn("writing the ratings snapshot failed", "version", v, "err", err)
		}
	}
	return rs, v, nil
}

// readPart is one connection of a parallel read and the stretches of
// heap pages it reads, in order.
type readPart struct {
	conn   *pgxpool.Conn
	tx     pgx.Tx
	pieces []piece
	dec    ratingDecoder
}

// piece is the heap pages [lo, hi) of one partition of ratings; hi 0
// means to its end.
type piece struct {
	table  string
	lo, hi int64
}

// partition is one partition of ratings.
type partition struct {
	name   string  // as a regclass prints it: quoted, qualified where needed
	pages  int64   // heap pages
	tuples float64 // the planner's row count, -1 for a table never analyzed
}

// partitions lists the partitions of ratings in user order (by name:
// ratings_p0, ratings_p1, … as the migration and Import name them; a
// reader sorts what it finds out of key order).
func partitions(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) ([]partition, error) {
	rows, err := q.Query(ctx, `SELECT c.oid::regclass::text, pg_relation_size(c.oid) / current_setting('block_size')::bigint, c.reltuples
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'ratings'::regclass ORDER BY length(c.relname), c.relname`)
	if err != nil {
		return nil, err
	}
	var out []partition
	var p partition
	_, err = pgx.ForEachRow(rows, []any{&p.name, &p.pages, &p.tuples}, func() error {
		out = append(out, p)
		return nil
	})
	return out, err
}

// splitPages divides the pages of parts (in order) into n stretches of
// about as many pages each, as the pieces each of n connections reads.
func splitPages(parts []partition, n int) [][]piece {
	var total int64
	for _, p := range parts {
		total += p.pages
	}
	out := make([][]piece, n)
	var at int64 // pages of the partitions before p
	for _, p := range parts {
		for i := range out {
			lo, hi := total*int64(i)/int64(n), total*int64(i+1)/int64(n)
			lo, hi = max(lo-at, 0), min(hi-at, p.pages)
			if lo >= hi {
				continue
			}
			pc := piece{table: p.name, lo: lo, hi: hi}
			if hi == p.pages {
				pc.hi = 0 // to its end, with rows added since the count
			}
			out[i] = append(out[i], pc)
		}
		at += p.pages
	}
	return out
}

// readRatings reads every rating and the version they make up, from the
// newest usable ratings snapshot and the change log after it when there
// is one, else through COPY. refresh tells whether a new snapshot is
// due: there is none usable, or the log after it is long.
func (d *DB) readRatings(ctx context.Context, progress func(ReadProgress)) (_ []engine.Rating, _ int64, refresh bool, _ error) {
	start := time.Now()
	first := &readPart{}
	parts := []*readPart{first}
	defer func() {
		for _, p := range parts {
			if p.tx != nil {
				p.tx.Rollback(context.Background())
			}
			if p.conn != nil {
				p.conn.Release()
			}
		}
	}()
	var err error
	if first.conn, err = d.pool.Acquire(ctx); err != nil {
		return nil, 0, false, err
	}
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	if first.tx, err = first.conn.BeginTx(ctx, opts); err != nil {
		return nil, 0, false, err
	}
	if _, err := first.tx.Exec(ctx, sqlNoJIT); err != nil {
		return nil, 0, false, err
	}
	var (
		version  int64
		snapshot string
		floor    int64 // the change log holds every change after it
		snap     int64 // the newest ratings snapshot's version, -1 for none
	)
	if err := first.tx.QueryRow(ctx, `SELECT data_version, pg_export_snapshot(),
		log_floor, coalesce((SELECT max(version) FROM ratings_snapshots), -1)
		FROM meta WHERE id = 1`).Scan(&version, &snapshot, &floor, &snap); err != nil {
		return nil, 0, false, err
	}
	parted, err := partitions(ctx, first.tx)
	if err != nil {
		return nil, 0, false, err
	}
	var estimate float64 // the planner's row count
	var pages int64
	for _, p := range parted {
		estimate += max(p.tuples, 0)
		pages += p.pages
	}
	n := int(min(readParts, max(int64(d.pool.Config().MaxConns)/2, 1), max(pages/minPartPages, 1)))
	pieces := splitPages(parted, n)
	first.pieces = pieces[0]
	for i := 1; i < n; i++ {
		p := &readPart{pieces: pieces[i]}
		parts = append(parts, p)
		if p.conn, err = d.pool.Acquire(ctx); err != nil {
			return nil, 0, false, err
		}
		if p.tx, err = p.conn.BeginTx(ctx, opts); err != nil {
			return nil, 0, false, err
		}
		if _, err := p.tx.Exec(ctx, "SET TRANSACTION SNAPSHOT '"+snapshot+"'"); err != nil {
			return nil, 0, false, err
		}
		if _, err := p.tx.Exec(ctx, sqlNoJIT); err != nil {
			return nil, 0, false, err
		}
	}
	// The first part's slice holds the whole result; the others are
	// appended to it.
	first.dec.Out = make([]engine.Rating, 0, int(estimate*1.02)+1024)
	for _, p := range parts[1:] {
		p.dec.Out = make([]engine.Rating, 0, int(estimate*1.05)/n+1024)
	}
	if progress != nil {
		stop := make(chan struct{})
		ticked := make(chan struct{})
		defer func() { close(stop); <-ticked }()
		go func() {
			defer close(ticked)
			t := time.NewTicker(readProgressEvery)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					done := 0
					for _, p := range parts {
						done += int(p.dec.Done.Load())
					}
					progress(ReadProgress{Done: done, Total: int(estimate), Elapsed: time.Since(start)})
				}
			}
		}()
	}
	if useSnapshots && snap >= 0 && snap >= floor {
		out, changes, err := readSnapshot(ctx, parts, snap)
		if err != nil {
			return nil, 0, false, err
		}
		return out, version, changes > len(out)/8 && len(out) >= minSnapshot, nil
	}
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, p := range parts {
		wg.Go(func() { errs[i] = p.copy(ctx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, 0, false, err
	}
	out := first.dec.Out
	for _, p := range parts[1:] {
		out = append(out, p.dec.Out...)
		p.dec.Out = nil
	}
	// In heap order, which is key order after an import; rerates append.
	if !store.SortedByKey(out) {
		slices.SortFunc(out, store.CompareKey)
	}
	return out, version, useSnapshots && len(out) >= minSnapshot, nil
}

// copy reads the part's pieces into p.dec, in order.
func (p *readPart) copy(ctx context.Context) error {
	for _, pc := range p.pieces {
		sql := "COPY " + pc.table + " (user_id, movie_id, rating, ts) TO STDOUT (FORMAT binary)"
		if pc.lo > 0 || pc.hi > 0 {
			where := fmt.Sprintf("ctid >= '(%d,0)'", pc.lo)
			if pc.hi > 0 {
				where += fmt.Sprintf(" AND ctid < '(%d,0)'", pc.hi)
			}
			sql = "COPY (SELECT user_id, movie_id, rating, ts FROM " + pc.table + " WHERE " + where + ") TO STDOUT (FORMAT binary)"
		}
		if _, err := p.conn.Conn().PgConn().CopyTo(ctx, &p.dec, sql); err != nil {
			return err
		}
		if err := p.dec.finish(); err != nil {
			return err
		}
	}
	return nil
}
