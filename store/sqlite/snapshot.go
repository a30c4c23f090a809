package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"movierec/engine"
	"movierec/store"
)

// The ratings snapshot (migrations/0005_ratings_snapshot.sql) is every
// rating as of one data version, as chunks of store.EncodeRatingsChunk
// (about 12 bytes a rating), each with its CRC-32C. While it exists, every
// write also goes to its change log (migrations/0006_ratings_changes.sql:
// each rating written or deleted, with the data version its batch made),
// in the write's transaction. ReadRatings reads the snapshot and applies
// the log instead of reading the rows when the snapshot is whole and
// intact and the log covers every version since it: SQLite hands out a few
// large blobs much faster than the pure-Go driver decodes 25M rows (20 s
// and more). Otherwise (no snapshot, a damaged or missing chunk, a log
// with a gap) it reads the rows, as before, and then writes a new
// snapshot of what it read, so the next start is fast. A log longer than
// an eighth of the snapshot's ratings makes the read write a new snapshot
// too (which empties the log); one that would pass a quarter of them
// drops the snapshot and the log instead of growing (a long run of writes
// with no start in between: the next start reads the rows). The snapshot
// is a cache: losing it costs only time.

// snapshotChunk is how many ratings a snapshot chunk holds (about 3 MiB).
var snapshotChunk = 1 << 18

// minSnapshot is the least ratings worth a snapshot: smaller data sets are
// read from the rows alone.
var minSnapshot = 1_000_000

// rewriteShare and dropShare bound the change log, as shares of the
// snapshot's ratings: a read that applies more than rewriteShare writes a
// new snapshot; a write that would make it longer than dropShare drops the
// snapshot and the log.
var (
	rewriteShare = 1.0 / 8
	dropShare    = 1.0 / 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errNoSnapshot reports, with the reason, that the snapshot cannot be
// used; ReadRatings then reads the rows.
var errNoSnapshot = errors.New("no usable ratings snapshot")

// errNoneWritten is errNoSnapshot when the file has none (not worth more
// than a debug line: small data sets never get one).
var errNoneWritten = fmt.Errorf("%w: none written", errNoSnapshot)

// readSnapshot returns every rating from the snapshot and the change log
// after it, the data version they make up and how many logged changes it
// applied, or an error wrapping errNoSnapshot (with the reason: none,
// incomplete, damaged, a gap in the log) when they cannot be used, or
// another error when the database cannot be read. The chunks are read,
// checked and decoded in parts on several connections at once.
func (d *DB) readSnapshot(ctx context.Context) (_ []engine.Rating, version int64, changes int, _ error) {
	tx, err := d.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, 0, err
	}
	defer tx.Rollback()
	var cur int64
	if err := tx.QueryRowContext(ctx, "SELECT data_version FROM meta WHERE id = 1").Scan(&cur); err != nil {
		return nil, 0, 0, err
	}
	var n, ratings, minV, maxV, minC, maxC sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT count(*), max(ratings), min(data_version), max(data_version), min(chunks), max(chunks)
		FROM ratings_snapshot`).Scan(&n, &ratings, &minV, &maxV, &minC, &maxC); err != nil {
		return nil, 0, 0, err
	}
	snap := minV.Int64
	switch {
	case n.Int64 == 0:
		return nil, 0, 0, errNoneWritten
	case minV.Int64 != maxV.Int64 || minC.Int64 != maxC.Int64 || minC.Int64 != n.Int64:
		return nil, 0, 0, fmt.Errorf("%w: incomplete (%d chunks)", errNoSnapshot, n.Int64)
	case snap > cur:
		return nil, 0, 0, fmt.Errorf("%w: of data version %d, after the data's %d", errNoSnapshot, snap, cur)
	}
	ch, err := readLog(ctx, tx, snap, cur)
	if err != nil {
		return nil, 0, 0, err
	}
	tx.Rollback()
	// Every chunk but the last holds per ratings (writeSnapshot): each
	// part of the read decodes its chunks straight into their place, on
	// its own connection and core. The chunks of one snapshot never
	// change: a part that finds another snapshot's gives up.
	total, nchunks := ratings.Int64, n.Int64
	per := (total + nchunks - 1) / nchunks
	out := make([]engine.Rating, total)
	nparts := int(min(int64(min(runtime.GOMAXPROCS(0), readConns)), nchunks))
	errs := make([]error, nparts)
	var wg sync.WaitGroup
	for p := range nparts {
		lo, hi := nchunks*int64(p)/int64(nparts), nchunks*int64(p+1)/int64(nparts)
		wg.Go(func() { errs[p] = d.readChunks(ctx, out, snap, nchunks, per, lo, hi) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, errNoSnapshot) {
			return nil, 0, 0, err
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, 0, 0, err
	}
	return store.ApplyChanges(out, ch), cur, len(ch), nil
}

// readLog returns the change log after data version snap, in commit
// order, as tx sees it, or an error wrapping errNoSnapshot unless it holds
// changes of every version in (snap, cur] and no other.
func readLog(ctx context.Context, tx *sql.Tx, snap, cur int64) ([]engine.Change, error) {
	if snap == cur {
		return nil, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT data_version, user_id, movie_id, rating, ts, deleted
		FROM ratings_changes WHERE data_version > ? ORDER BY seq`, snap)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ch []engine.Change
	last := snap // versions rise with seq, each by one
	for rows.Next() {
		var c engine.Change
		if err := rows.Scan(&c.Version, &c.User, &c.Movie, &c.Value, &c.Time, &c.Deleted); err != nil {
			return nil, err
		}
		if c.Version != last && c.Version != last+1 {
			break
		}
		last = c.Version
		ch = append(ch, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if last != cur || len(ch) == 0 {
		return nil, fmt.Errorf("%w: its change log does not hold every write from data version %d to %d", errNoSnapshot, snap, cur)
	}
	return ch, nil
}

// readChunks decodes chunks [lo, hi) of the snapshot of data version snap,
// nchunks chunks and len(out) ratings, per a chunk, into out, in one read
// transaction. It reports a chunk that is missing, of another snapshot,
// damaged or of the wrong length with an error wrapping errNoSnapshot.
func (d *DB) readChunks(ctx context.Context, out []engine.Rating, snap, nchunks, per, lo, hi int64) error {
	rows, err := d.read.QueryContext(ctx, `SELECT chunk, data_version, chunks, ratings, crc, data FROM ratings_snapshot
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
		if chunk != want || v != snap || chunks != nchunks || total != int64(len(out)) {
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

// logRows is how many changes one INSERT into the log carries (6
// parameters each).
const logRows = 256

// logChanges adds ch, the changes of the write transaction tx (each
// change's Version counts the transaction's changing batches from 1, on
// from the data version it reads), to the change log when there is a
// snapshot; when that would make the log longer than dropShare of the
// snapshot's ratings it drops both instead. Called by commit only, after
// its first write (so under the write lock) and before the version moves.
func (d *DB) logChanges(ctx context.Context, tx *sql.Tx, ch []engine.Change) error {
	var base, logged int64 // the log loses only prefixes, so its seqs are dense
	var ratings sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT data_version, (SELECT ratings FROM ratings_snapshot WHERE chunk = 0),
		(SELECT coalesce(max(seq) - min(seq) + 1, 0) FROM ratings_changes) FROM meta WHERE id = 1`).Scan(&base, &ratings, &logged); err != nil {
		return fmt.Errorf("log changes: %w", err)
	}
	switch {
	case !ratings.Valid:
		return nil // no snapshot, no log
	case float64(logged+int64(len(ch))) > dropShare*float64(ratings.Int64):
		for _, q := range []string{"DELETE FROM ratings_snapshot", "DELETE FROM ratings_changes"} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("drop the ratings snapshot: %w", err)
			}
		}
		d.log.Info("ratings snapshot dropped: its change log would pass a quarter of its ratings; the next start reads the rows",
			"snapshot_ratings", ratings.Int64, "changes", logged+int64(len(ch)))
		return nil
	}
	args := d.logArgs[:0]
	defer func() { d.logArgs = args[:0] }()
	for len(ch) > 0 {
		n := min(len(ch), logRows)
		var q strings.Builder
		q.WriteString("INSERT INTO ratings_changes (data_version, user_id, movie_id, rating, ts, deleted) VALUES ")
		args = args[:0]
		for k, c := range ch[:n] {
			if k > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(?, ?, ?, ?, ?, ?)")
			args = append(args, base+c.Version, c.User, c.Movie, c.Value, c.Time, c.Deleted)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("log %d changes: %w", n, err)
		}
		ch = ch[n:]
	}
	return nil
}

// writeSnapshot replaces the snapshot with rs (every rating, in key
// order, as ReadRatings returns them) at data version version and empties
// the change log, unless the data has moved on since (a write committed
// after the read): it then writes nothing. It holds the write connection while it writes (about a
// second for 25M ratings), so writes wait for it.
func (d *DB) writeSnapshot(ctx context.Context, version int64, rs []engine.Rating) error {
	bufs := encodeSnapshot(rs)
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
	if err := insertSnapshot(ctx, tx, version, len(rs), bufs); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("write ratings snapshot: %w", err)
	}
	return nil
}

// encodeSnapshot encodes rs (in key order) as a snapshot's chunks, of
// equal length but the last (at most snapshotChunk ratings), so that a
// reader knows where each chunk's ratings go; on every core.
func encodeSnapshot(rs []engine.Rating) [][]byte {
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
	return bufs
}

// insertSnapshot replaces the snapshot and empties the change log in tx:
// the chunks bufs (encodeSnapshot's) of n ratings at data version version.
func insertSnapshot(ctx context.Context, tx *sql.Tx, version int64, n int, bufs [][]byte) error {
	for _, q := range []string{"DELETE FROM ratings_snapshot", "DELETE FROM ratings_changes"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("write ratings snapshot: %w", err)
		}
	}
	st, err := tx.PrepareContext(ctx, "INSERT INTO ratings_snapshot (chunk, data_version, chunks, ratings, crc, data) VALUES (?, ?, ?, ?, ?, ?)")
	if err != nil {
		return fmt.Errorf("write ratings snapshot: %w", err)
	}
	defer st.Close()
	for c, b := range bufs {
		if _, err := st.ExecContext(ctx, c, version, len(bufs), n, crc32.Checksum(b, castagnoli), b); err != nil {
			return fmt.Errorf("write ratings snapshot chunk %d: %w", c, err)
		}
	}
	return nil
}

// snapshotRead is ReadRatings' use of the snapshot: the ratings from it
// and its change log when usable (ok), else nothing, the reason logged at
// debug level (no snapshot) or info (a damaged one, a gap in the log). A
// read that applied a long log writes a new snapshot.
func (d *DB) snapshotRead(ctx context.Context) ([]engine.Rating, int64, bool, error) {
	start := time.Now()
	rs, v, changes, err := d.readSnapshot(ctx)
	switch {
	case err == nil:
		d.log.Info("ratings read from the snapshot", "ratings", len(rs), "changes_applied", changes, "data_version", v,
			"seconds", time.Since(start).Seconds())
		if float64(changes) > rewriteShare*float64(len(rs)) {
			d.refreshSnapshot(ctx, v, rs)
		}
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

// refreshSnapshot writes a snapshot of rs at version, logged; a failure
// only costs the next start time.
func (d *DB) refreshSnapshot(ctx context.Context, version int64, rs []engine.Rating) {
	start := time.Now()
	if err := d.writeSnapshot(ctx, version, rs); err != nil {
		d.log.Warn("writing the ratings snapshot failed; the next start reads the rows", "err", err)
		return
	}
	d.log.Info("ratings snapshot written", "ratings", len(rs), "data_version", version, "seconds", time.Since(start).Seconds())
}

// ErrNoChangeLog reports that the change log does not reach back to the
// data version asked for (ChangedUsers; store.ErrNoChangeLog).
var ErrNoChangeLog = store.ErrNoChangeLog

// ChangedUsers returns the users (ids, each once, ascending) whose ratings
// changed after data version since, from the ratings snapshot's change
// log, or an error wrapping ErrNoChangeLog when the log does not hold
// every change since then (no snapshot, one newer than since, a gap). A
// restart uses it to serve a stored model older than the data (engine's
// PublishFolding). Safe for concurrent use.
func (d *DB) ChangedUsers(ctx context.Context, since int64) ([]int32, error) {
	tx, err := d.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("changed users: %w", err)
	}
	defer tx.Rollback()
	var cur, snap int64
	if err := tx.QueryRowContext(ctx, "SELECT data_version FROM meta WHERE id = 1").Scan(&cur); err != nil {
		return nil, fmt.Errorf("changed users: %w", err)
	}
	if since >= cur {
		return nil, nil
	}
	switch err := tx.QueryRowContext(ctx, "SELECT data_version FROM ratings_snapshot WHERE chunk = 0").Scan(&snap); {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("%w: no ratings snapshot", ErrNoChangeLog)
	case err != nil:
		return nil, fmt.Errorf("changed users: %w", err)
	case snap > since:
		return nil, fmt.Errorf("%w: it starts at data version %d, after %d", ErrNoChangeLog, snap, since)
	}
	ch, err := readLog(ctx, tx, snap, cur)
	if errors.Is(err, errNoSnapshot) {
		return nil, fmt.Errorf("%w: %w", ErrNoChangeLog, err)
	} else if err != nil {
		return nil, fmt.Errorf("changed users: %w", err)
	}
	var users []int32
	for _, c := range ch {
		if c.Version > since {
			users = append(users, c.User)
		}
	}
	slices.Sort(users)
	return slices.Compact(users), nil
}
