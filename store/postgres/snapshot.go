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

// A ratings snapshot is every rating as of one data version, in key
// order, stored as chunks of snapshotChunk consecutive ratings in the
// table ratings_snapshots (migrations/0003_ratings_snapshot.sql). A
// replica's start reads it (a few hundred MiB of bytea, over several
// connections) and the change log after its version, instead of 25M rows
// through COPY: PostgreSQL sends large values much faster than it forms
// rows. Each chunk is one store.EncodeRatingsChunk encoding.

// snapshotChunk is how many ratings a snapshot chunk holds (about 3 MiB).
var snapshotChunk = 1 << 18

// minSnapshot is the least ratings worth a snapshot: smaller data sets
// are read through COPY alone.
var minSnapshot = 1_000_000

// useSnapshots turns reading through snapshots on (tests turn it off to
// compare with the COPY read).
var useSnapshots = true

// snapshotLockKey is the transaction advisory lock a snapshot writer
// holds: one writes at a time, the others skip.
const snapshotLockKey = 0x6d6f7669_65736e70 // "moviesnp"

// writeSnapshotAs writes rs as a snapshot under placeholder, a negative
// version no reader takes (they take versions at or above the log's
// floor), without touching other snapshots: Import writes it while the
// key is built and renumbers it in its transaction. dropSnapshot removes
// it when the import fails.
func (d *DB) writeSnapshotAs(ctx context.Context, placeholder int64, rs []engine.Rating) error {
	start := time.Now()
	n, err := copySnapshot(ctx, d.pool, placeholder, rs)
	if err != nil {
		return err
	}
	d.log.Debug("ratings snapshot staged", "ratings", len(rs), "chunks", n, "seconds", time.Since(start).Seconds())
	return nil
}

// dropSnapshot deletes what is left of a placeholder snapshot (nothing
// once Import renumbered it).
func (d *DB) dropSnapshot(placeholder int64) {
	if placeholder >= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := d.pool.Exec(ctx, "DELETE FROM ratings_snapshots WHERE version = $1", placeholder); err != nil {
		d.log.Warn("import: dropping the staged snapshot failed", "version", placeholder, "err", err)
	}
}

// copySnapshot COPYs rs into ratings_snapshots as version, in chunks of
// snapshotChunk, through q, and returns the number of chunks.
func copySnapshot(ctx context.Context, q interface {
	CopyFrom(context.Context, pgx.Identifier, []string, pgx.CopyFromSource) (int64, error)
}, version int64, rs []engine.Rating) (int, error) {
	var buf []byte
	chunk := 0
	_, err := q.CopyFrom(ctx, pgx.Identifier{"ratings_snapshots"}, []string{"version", "chunk", "first", "rows", "data"},
		pgx.CopyFromFunc(func() ([]any, error) {
			lo := chunk * snapshotChunk
			if lo >= len(rs) {
				return nil, nil
			}
			hi := min(lo+snapshotChunk, len(rs))
			buf = store.EncodeRatingsChunk(buf[:0], rs[lo:hi])
			chunk++
			return []any{version, int32(chunk - 1), int64(lo), int32(hi - lo), buf}, nil
		}))
	return chunk, err
}

// writeSnapshot stores rs, every rating as of version in key order, as
// the ratings snapshot of version, and deletes older snapshots. It does
// nothing when another process is writing one or a snapshot as new is
// stored. The snapshot is committed (durable) when it returns nil.
func (d *DB) writeSnapshot(ctx context.Context, version int64, rs []engine.Rating) error {
	start := time.Now()
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	var locked bool
	var newest int64
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1),
		coalesce((SELECT max(version) FROM ratings_snapshots), -1)`, int64(snapshotLockKey)).Scan(&locked, &newest); err != nil {
		return err
	}
	if !locked || newest >= version {
		return nil
	}
	if _, err := tx.Exec(ctx, "DELETE FROM ratings_snapshots"); err != nil {
		return err
	}
	chunk, err := copySnapshot(ctx, tx, version, rs)
	if err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	d.log.Debug("ratings snapshot written", "version", version, "ratings", len(rs), "chunks", chunk,
		"seconds", time.Since(start).Seconds())
	return nil
}

// readSnapshot reads the snapshot of version snap into a new slice, its
// chunks spread over parts (each in the same exported database snapshot;
// parts[0] holds the only copy of the result), and then applies the
// change log after snap up to the transaction's view; changes is how
// many changes it applied.
func readSnapshot(ctx context.Context, parts []*readPart, snap int64) (_ []engine.Rating, changes int, _ error) {
	var total, chunks int64
	if err := parts[0].tx.QueryRow(ctx, "SELECT coalesce(sum(rows), 0), count(*) FROM ratings_snapshots WHERE version = $1",
		snap).Scan(&total, &chunks); err != nil {
		return nil, 0, err
	}
	out := make([]engine.Rating, total)
	errs := make([]error, len(parts))
	done := make(chan int, len(parts))
	for i, p := range parts {
		go func() {
			defer func() { done <- i }()
			errs[i] = p.readChunks(ctx, out, snap, len(parts), i)
		}()
	}
	for range parts {
		<-done
	}
	if err := errors.Join(errs...); err != nil {
		return nil, 0, err
	}
	var got int64
	for _, p := range parts {
		got += p.dec.Done.Load()
	}
	if got != total {
		return nil, 0, fmt.Errorf("ratings snapshot %d: read %d of %d ratings", snap, got, total)
	}
	rows, err := parts[0].tx.Query(ctx, "SELECT user_id, movie_id, rating, ts, deleted FROM changes WHERE version > $1 ORDER BY version, seq", snap)
	if err != nil {
		return nil, 0, err
	}
	var ch []engine.Change
	var c engine.Change
	if _, err := pgx.ForEachRow(rows, []any{&c.User, &c.Movie, &c.Value, &c.Time, &c.Deleted}, func() error {
		ch = append(ch, c)
		return nil
	}); err != nil {
		return nil, 0, err
	}
	return store.ApplyChanges(out, ch), len(ch), nil
}

// readChunks decodes the chunks k of snapshot snap with k % n == i into
// their places in out.
func (p *readPart) readChunks(ctx context.Context, out []engine.Rating, snap int64, n, i int) error {
	rows, err := p.tx.Query(ctx, "SELECT first, rows, data FROM ratings_snapshots WHERE version = $1 AND chunk % $2 = $3",
		snap, n, i)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var first int64
		var count int32
		if err := rows.Scan(&first, &count, nil); err != nil {
			return err
		}
		if first < 0 || count < 0 || first+int64(count) > int64(len(out)) {
			return fmt.Errorf("ratings snapshot %d: chunk at %d of %d ratings out of range", snap, first, count)
		}
		if err := store.DecodeRatingsChunk(out[first:first+int64(count)], rows.RawValues()[2]); err != nil {
			return fmt.Errorf("ratings snapshot %d: chunk at %d: %w", snap, first, err)
		}
		p.dec.Done.Add(int64(count))
	}
	return rows.Err()
}
