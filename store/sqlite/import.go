package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"movierec/engine"
	"movierec/store"
)

// ImportProgress is reported while importing (store.ImportProgress).
type ImportProgress = store.ImportProgress

// rowsPerInsert is how many ratings one INSERT statement carries (4
// parameters each, well under SQLite's 32766-parameter limit).
const rowsPerInsert = 256

// Import adds movies and ratings in one transaction, and records scale as
// the data set's rating scale when the database had no movies yet. It is idempotent:
// movies and (user, movie) pairs already present are left as they are, so a
// second import of the same files adds nothing and never overwrites a rating
// a user posted since. Of a pair that occurs more than once in ratings, the
// last occurrence is stored. It returns how many ratings were added and bumps the
// data version when that is non-zero. progress (may be nil) is called about
// once a second and at the end.
//
// Every rating must name a movie of movies or of the catalog already stored
// (an error wrapping engine.ErrUnknownMovie otherwise, and nothing is
// imported). Import checks that itself, once, and turns SQLite's per-row
// foreign-key lookup off for its transaction: that lookup halved the
// import rate.
func (d *DB) Import(ctx context.Context, movies []engine.Movie, ratings []engine.Rating, scale engine.Scale, progress func(ImportProgress)) (int64, error) {
	start := time.Now()
	known, err := d.movieSet(ctx, movies)
	if err != nil {
		return 0, err
	}
	for k, r := range ratings {
		if !known.Has(r.Movie) {
			return 0, fmt.Errorf("import rating %d (user %d): %w %d: not in the catalog", k+1, r.User, engine.ErrUnknownMovie, r.Movie)
		}
	}
	// The write pool has one connection: holding it keeps the group-commit
	// writer out while foreign keys are off.
	conn, err := d.write.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("import: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
		return 0, fmt.Errorf("import: %w", err)
	}
	defer conn.ExecContext(context.Background(), "PRAGMA foreign_keys = ON")
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("import: begin: %w", err)
	}
	defer tx.Rollback()
	// Into an empty table the stored ratings are exactly the last of each
	// pair of ratings: the import writes the ratings snapshot too, so the
	// first start reads that instead of the rows.
	var had bool
	if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM ratings)").Scan(&had); err != nil {
		return 0, fmt.Errorf("import: %w", err)
	}
	kind, lo, hi, step := scaleColumns(scale)
	if _, err := tx.ExecContext(ctx, `UPDATE meta SET scale_kind = ?, scale_min = ?, scale_max = ?, scale_step = ?
		WHERE id = 1 AND NOT EXISTS (SELECT 1 FROM movies)`, kind, lo, hi, step); err != nil {
		return 0, fmt.Errorf("import: record scale: %w", err)
	}
	ms, err := tx.PrepareContext(ctx, "INSERT INTO movies (id, title, genres) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING")
	if err != nil {
		return 0, fmt.Errorf("import: %w", err)
	}
	var newMovies int64
	for _, m := range movies {
		res, err := ms.ExecContext(ctx, m.ID, m.Title, strings.Join(m.Genres, "|"))
		if err != nil {
			ms.Close()
			return 0, fmt.Errorf("import movie %d: %w", m.ID, err)
		}
		n, _ := res.RowsAffected()
		newMovies += n
	}
	ms.Close()
	if newMovies > 0 {
		if _, err := tx.ExecContext(ctx, "UPDATE meta SET catalog_version = catalog_version + 1 WHERE id = 1"); err != nil {
			return 0, fmt.Errorf("import: bump catalog version: %w", err)
		}
	}

	full := insertSQL(rowsPerInsert)
	st, err := tx.PrepareContext(ctx, full)
	if err != nil {
		return 0, fmt.Errorf("import: %w", err)
	}
	defer st.Close()
	args := make([]any, 0, 4*rowsPerInsert)
	var added int64
	last := time.Now()
	// The last of each (user, movie) pair, as the engine keeps the last,
	// in key order: the table's B-tree then grows at its right edge, where
	// SQLite appends to full pages instead of splitting them (inserting
	// from the last rating to the first, as before, split every page and
	// took longer). Pairs already stored are left as they are.
	rs := store.LastOfEachKey(ratings)
	for lo := 0; lo < len(rs); lo += rowsPerInsert {
		if err := ctx.Err(); err != nil {
			return 0, fmt.Errorf("import: %w", err)
		}
		hi := min(lo+rowsPerInsert, len(rs))
		args = args[:0]
		for _, r := range rs[lo:hi] {
			args = append(args, r.User, r.Movie, r.Value, r.Time)
		}
		var res interface{ RowsAffected() (int64, error) }
		if hi-lo == rowsPerInsert {
			res, err = st.ExecContext(ctx, args...)
		} else {
			res, err = tx.ExecContext(ctx, insertSQL(hi-lo), args...)
		}
		if err != nil {
			return 0, fmt.Errorf("import ratings of users %d..%d: %w", rs[lo].User, rs[hi-1].User, err)
		}
		n, _ := res.RowsAffected()
		added += n
		if progress != nil && time.Since(last) >= time.Second {
			last = time.Now()
			progress(ImportProgress{Done: hi, Total: len(rs), Elapsed: time.Since(start)})
		}
	}
	if added > 0 {
		if _, err := tx.ExecContext(ctx, "UPDATE meta SET data_version = data_version + 1 WHERE id = 1"); err != nil {
			return 0, fmt.Errorf("import: bump data version: %w", err)
		}
		// The import is not in the ratings snapshot's change log (it may
		// be most of the data): the snapshot goes, replaced by one of the
		// import's ratings when the table was empty, else by the next read
		// of the rows.
		for _, q := range []string{"DELETE FROM ratings_snapshot", "DELETE FROM ratings_changes"} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return 0, fmt.Errorf("import: drop the ratings snapshot: %w", err)
			}
		}
		if !had && len(rs) >= minSnapshot {
			if err := snapshotImport(ctx, tx, rs, added); err != nil {
				return 0, fmt.Errorf("import: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("import: commit: %w", err)
	}
	if progress != nil {
		progress(ImportProgress{Done: len(rs), Total: len(rs), Elapsed: time.Since(start)})
	}
	return added, nil
}

// snapshotImport writes the ratings snapshot of an import into an empty
// table in its transaction tx: rs, the ratings as the import stored them
// (the last of each pair, in key order; added of them), at the version the
// import made.
func snapshotImport(ctx context.Context, tx *sql.Tx, rs []engine.Rating, added int64) error {
	if int64(len(rs)) != added {
		return fmt.Errorf("ratings snapshot: %d distinct pairs but %d rows added", len(rs), added)
	}
	var version int64
	if err := tx.QueryRowContext(ctx, "SELECT data_version FROM meta WHERE id = 1").Scan(&version); err != nil {
		return fmt.Errorf("ratings snapshot: %w", err)
	}
	return insertSnapshot(ctx, tx, version, len(rs), encodeSnapshot(rs))
}

func insertSQL(rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO ratings (user_id, movie_id, rating, ts) VALUES ")
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?)")
	}
	b.WriteString(" ON CONFLICT (user_id, movie_id) DO NOTHING")
	return b.String()
}

// movieSet returns the ids of movies and of the stored catalog.
func (d *DB) movieSet(ctx context.Context, movies []engine.Movie) (*store.IDSet, error) {
	var set store.IDSet
	for _, m := range movies {
		set.Add(m.ID)
	}
	rows, err := d.read.QueryContext(ctx, "SELECT id FROM movies")
	if err != nil {
		return nil, fmt.Errorf("import: read catalog: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int32
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("import: read catalog: %w", err)
		}
		set.Add(id)
	}
	return &set, rows.Err()
}

// Scale returns the rating scale recorded by the first import (the
// MovieLens half stars before any import).
func (d *DB) Scale(ctx context.Context) (engine.Scale, error) {
	var kind string
	var lo, hi, step float64
	err := d.read.QueryRowContext(ctx, "SELECT scale_kind, scale_min, scale_max, scale_step FROM meta WHERE id = 1").Scan(&kind, &lo, &hi, &step)
	if err != nil {
		return engine.Scale{}, fmt.Errorf("read scale: %w", err)
	}
	s, err := engine.ScaleOf(kind, lo, hi, step)
	if err != nil {
		return engine.Scale{}, fmt.Errorf("read scale: %w", err)
	}
	return s, nil
}

// scaleColumns returns what the meta table records of s: its kind, bounds
// and step, with 0 for the bounds of an unbounded scale (see migration
// 0003).
func scaleColumns(s engine.Scale) (kind string, lo, hi, step float64) {
	if !s.Bounded() {
		return engine.ScaleUnbounded, 0, 0, 0
	}
	return s.Kind(), float64(s.Min), float64(s.Max), float64(s.Step)
}

// Empty reports whether the catalog is empty (a fresh database).
func (d *DB) Empty(ctx context.Context) (bool, error) {
	var n int
	if err := d.read.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM movies LIMIT 1)").Scan(&n); err != nil {
		return false, fmt.Errorf("count movies: %w", err)
	}
	return n == 0, nil
}
