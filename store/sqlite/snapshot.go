package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"movierec/engine"
	"movierec/store"
)

// The ratings snapshot (migrations/0005_ratings_snapshot.sql) is every
// rating as of one data version, as chunks of store.EncodeRatingsChunk
// (about 12 bytes a rating), each with its CRC-32C. ReadRatings reads it
// instead of the rows when it is whole, intact and of the current data
// version: SQLite hands out a few large blobs much faster than the
// pure-Go driver decodes 25M rows (about 10 s). Otherwise (no snapshot,
// a write since, a damaged or missing chunk) it reads the rows, as before,
// and then writes a new snapshot of what it read, so the next start after
// no writes is fast. The snapshot is a cache: losing it costs only time.

// snapshotChunk is how many ratings a snapshot chunk holds (about 3 MiB).
var snapshotChunk = 1 << 18

// minSnapshot is the least ratings worth a snapshot: smaller data sets are
// read from the rows alone.
var minSnapshot = 1_000_000

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errNoSnapshot reports, with the reason, that the snapshot cannot be
// used; ReadRatings then reads the rows.
var errNoSnapshot = errors.New("no usable ratings snapshot")

// errNoneWritten is errNoSnapshot when the file has none (not worth more
// than a debug line: small data sets never get one).
var errNoneWritten = fmt.Errorf("%w: none written", errNoSnapshot)

// readSnapshot returns every rating from the snapshot and its data
// version, or an error wrapping errNoSnapshot (with the reason: none,
// stale, incomplete, damaged) when it cannot be used, or another error
// when the database cannot be read. The chunks are read, checked and
// decoded in parts on several connections at once.
func (d *DB) readSnapshot(ctx context.Context) ([]engine.Rating, int64, error) {
	tx, err := d.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var cur int64
	if err := tx.QueryRowContext(ctx, "SELECT data_version FROM meta WHERE id = 1").Scan(&cur); err != nil {
		return nil, 0, err
	}
	var n, ratings, minV, maxV, minC, maxC sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT count(*), max(ratings), min(data_version), max(data_version), min(chunks), max(chunks)
		FROM ratings_snapshot`).Scan(&n, &ratings, &minV, &maxV, &minC, &maxC); err != nil {
		return nil, 0, err
	}
	switch {
	case n.Int64 == 0:
		return nil, 0, errNoneWritten
	case minV.Int64 != maxV.Int64 || minC.Int64 != maxC.Int64 || minC.Int64 != n.Int64:
		return nil, 0, fmt.Errorf("%w: incomplete (%d chunks)", errNoSnapshot, n.Int64)
	case minV.Int64 != cur:
		return nil, 0, fmt.Errorf("%w: stale (data version %d, the data's %d)", errNoSnapshot, minV.Int64, cur)
	}
	tx.Rollback()
	// Every chunk but the last holds per ratings (writeSnapshot): each
	// part of the read decodes its chunks straight into their place, on
	// its own connection and core.
	total, nchunks := ratings.Int64, n.Int64
	per := (total + nchunks - 1) / nchunks
	out := make([]engine.Rating, total)
	nparts := int(min(int64(min(runtime.GOMAXPROCS(0), readConns)), nchunks))
	errs := make([]error, nparts)
	var wg sync.WaitGroup
	for p := range nparts {
		lo, hi := nchunks*int64(p)/int64(nparts), nchunks*int64(p+1)/int64(nparts)
		wg.Go(func() { errs[p] = d.readChunks(ctx, out, cur, nchunks, per, lo, hi) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, errNoSnapshot) {
			return nil, 0, err
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, 0, err
	}
	return out, cur, nil
}

// readChunks decodes chunks [lo, hi) of a snapshot of version, nchunks
// chunks and len(out) ratings, per a chunk, into out, in one read
// transaction that must still see that version. It reports a chunk that
// is missing, of another snapshot, damaged or of the wrong length with an
// error wrapping errNoSnapshot.
func (d *DB) readChunks(ctx context.Context, out []engine.Rating, version, nchunks, per, lo, hi int64) error {
	tx, err := d.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var cur int64
	if err := tx.QueryRowContext(ctx, "SELECT data_version FROM meta WHERE id = 1").Scan(&cur); err != nil {
		return err
	}
	if cur != version {
		return fmt.Errorf("%w: the data changed during the read", errNoSnapshot)
	}
	rows, err := tx.QueryContext(ctx, `SELECT chunk, data_version, chunks, ratings, crc, data FROM ratings_snapshot
		WHERE chunk >= ? AND chunk < ? ORDER BY chunk`, lo, hi)
	if err != nil {
		return err
	}
	defer rows.Close()
	want := lo
	for rows.Next() {
		var chunk, v, chunks, total int64
		var crc uint32
		var data sql.RawBytes // decoded before the next row: no copy
		if err := rows.Scan(&chunk, &v, &chunks, &total, &crc, &data); err != nil {
			return err
		}
		if chunk != want || v != version || chunks != nchunks || total != int64(len(out)) {
			return fmt.Errorf("%w: chunk %d is not of this snapshot", errNoSnapshot, want)
		}
		if crc32.Checksum(data, castagnoli) != crc {
			return fmt.Errorf("%w: chunk %d fails its checksum", errNoSnapshot, chunk)
		}
		if err := store.DecodeRatingsChunk(out[chunk*per:min((chunk+1)*per, total)], data); err != nil {
			return fmt.Errorf("%w: chunk %d: %w", errNoSnapshot, chunk, err)
		}
		want++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if want != hi {
		return fmt.Errorf("%w: chunk %d is missing", errNoSnapshot, want)
	}
	return nil
}

// writeSnapshot replaces the snapshot with rs (every rating, in key
// order, as ReadRatings returns them) at data version version, unless the
// data has moved on since (a write committed after the read): it then
// writes nothing. It holds the write connection while it writes (about a
// second for 25M ratings), so writes wait for it.
func (d *DB) writeSnapshot(ctx context.Context, version int64, rs []engine.Rating) error {
	// Chunks of equal length but the last (at most snapshotChunk), so
	// that a reader knows where each chunk's ratings go.
	chunks := (len(rs) + snapshotChunk - 1) / snapshotChunk
	per := (len(rs) + chunks - 1) / max(chunks, 1)
	bufs := make([][]byte, chunks)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for c := range bufs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			bufs[c] = store.EncodeRatingsChunk(nil, rs[c*per:min((c+1)*per, len(rs))])
		})
	}
	wg.Wait()
	conn, err := d.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("write ratings snapshot: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("write ratings snapshot: %w", err)
	}
	defer tx.Rollback()
	var cur int64
	if err := tx.QueryRowContext(ctx, "SELECT data_version FROM meta WHERE id = 1").Scan(&cur); err != nil {
		return fmt.Errorf("write ratings snapshot: %w", err)
	}
	if cur != version {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM ratings_snapshot"); err != nil {
		return fmt.Errorf("write ratings snapshot: %w", err)
	}
	st, err := tx.PrepareContext(ctx, "INSERT INTO ratings_snapshot (chunk, data_version, chunks, ratings, crc, data) VALUES (?, ?, ?, ?, ?, ?)")
	if err != nil {
		return fmt.Errorf("write ratings snapshot: %w", err)
	}
	defer st.Close()
	for c, b := range bufs {
		if _, err := st.ExecContext(ctx, c, version, chunks, len(rs), crc32.Checksum(b, castagnoli), b); err != nil {
			return fmt.Errorf("write ratings snapshot chunk %d: %w", c, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("write ratings snapshot: %w", err)
	}
	return nil
}

// snapshotRead is ReadRatings' use of the snapshot: the ratings from it
// when usable (ok), else nothing, the reason logged at debug level (no
// snapshot) or as a warning (a damaged one).
func (d *DB) snapshotRead(ctx context.Context) ([]engine.Rating, int64, bool, error) {
	start := time.Now()
	rs, v, err := d.readSnapshot(ctx)
	switch {
	case err == nil:
		d.log.Info("ratings read from the snapshot", "ratings", len(rs), "data_version", v, "seconds", time.Since(start).Seconds())
		return rs, v, true, nil
	case errors.Is(err, errNoSnapshot):
		level := slog.LevelInfo
		if errors.Is(err, errNoneWritten) {
			level = slog.LevelDebug
		}
		d.log.Log(ctx, level, "reading the ratings' rows", "reason", err.Error())
		return nil, 0, false, nil
	default:
		return nil, 0, false, fmt.Errorf("read ratings snapshot: %w", err)
	}
}
