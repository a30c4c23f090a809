package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"movierec/engine"
	"movierec/store"
)

// ImportProgress is reported while importing (store.ImportProgress).
type ImportProgress = store.ImportProgress

// Import adds movies and ratings in one transaction, and records scale as
// the data set's rating scale when the database had no movies yet. It is
// idempotent: movies and (user, movie) pairs already present are left as
// they are (within ratings, the last of a pair counts), so a second
// import of the same files adds nothing and never overwrites a rating a
// user posted since. It returns how many ratings were added and, when
// that is non-zero, commits under a new data version.
//
// Every rating must name a movie of movies or of the catalog already
// stored (an error wrapping engine.ErrUnknownMovie otherwise, and nothing
// is imported).
//
// The ratings travel by COPY in binary format. A large import into an
// empty ratings table (a first import) is copied over 4 connections into
// a new table whose key is built after (one sort instead of millions of
// index inserts), all before the import's transaction; that transaction
// then swaps the new table in for the empty
// one, under an exclusive lock, and raises the change log's floor: those
// ratings are not logged one by one, and a follower behind the import
// reloads (engine.ErrResync). A crash before the swap can leave the
// staging table ratings_import_* behind; it is never read. Other imports
// go through a temporary table in the transaction, and each added rating
// is logged as a change. After a first import of at least minSnapshot
// ratings, and after its commit, the ratings are also stored as the
// ratings snapshot of the import's version (snapshot.go), which the next
// ReadRatings reads instead of the table. progress (may be nil) is called about once a
// second, from another goroutine, and at the end.
func (d *DB) Import(ctx context.Context, movies []engine.Movie, ratings []engine.Rating, scale engine.Scale, progress func(ImportProgress)) (int64, error) {
	start := time.Now()
	if err := d.checkCatalog(ctx, movies, ratings); err != nil {
		return 0, err
	}
	rs := lastOfEachKey(ratings)
	var encs []*ratingEncoder
	stop := func() {}
	staged := ""
	if len(rs) >= minStagedImport {
		var has bool
		if err := d.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM ratings)").Scan(&has); err != nil {
			return 0, fmt.Errorf("import: %w", unavailable(err))
		}
		if !has {
			encs = encoders(rs, min(stageConns, max(int(d.pool.Config().MaxConns)/2, 1)))
			stop = reportImport(encs, len(ratings), start, progress)
			var err error
			staged, err = d.stage(ctx, encs)
			defer d.dropStaged(staged)
			if err != nil {
				stop()
				return 0, fmt.Errorf("import: %w", unavailable(err))
			}
		}
	}
	if staged == "" {
		encs = encoders(rs, 1)
		stop = reportImport(encs, len(ratings), start, progress)
	}
	defer stop()
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("import: %w", unavailable(err))
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("import: %w", unavailable(err))
	}
	defer tx.Rollback(context.Background())
	// Take the version first, as every writer does (the same lock order:
	// meta, then ratings); it is given back below when nothing is added.
	if _, err := tx.Exec(ctx, sqlTakeVersion); err != nil {
		return 0, fmt.Errorf("import: %w", unavailable(err))
	}
	kind, lo, hi, step := scaleColumns(scale)
	if _, err := tx.Exec(ctx, `UPDATE meta SET scale_kind = $1, scale_min = $2, scale_max = $3, scale_step = $4
		WHERE id = 1 AND NOT EXISTS (SELECT 1 FROM movies)`, kind, lo, hi, step); err != nil {
		return 0, fmt.Errorf("import: record scale: %w", err)
	}
	newMovies, err := importMovies(ctx, tx, movies)
	if err != nil {
		return 0, err
	}
	var added int64
	swapped := false
	switch {
	case staged != "":
		added, swapped, err = d.swapOrMerge(ctx, tx, staged, int64(len(rs)))
	case len(rs) > 0:
		added, err = copyAndMerge(ctx, tx, encs[0])
	}
	if err != nil {
		return 0, fmt.Errorf("import: %w", unavailable(err))
	}
	if added == 0 {
		_, err = tx.Exec(ctx, "UPDATE meta SET data_version = data_version - 1 WHERE id = 1")
	}
	if err == nil && (added > 0 || newMovies > 0) {
		// Followers read the changes and, with new movies, the catalog.
		_, err = tx.Exec(ctx, sqlNotifyChanges)
	}
	if err != nil {
		return 0, fmt.Errorf("import: %w", unavailable(err))
	}
	var version int64
	if err := tx.QueryRow(ctx, "SELECT data_version FROM meta WHERE id = 1").Scan(&version); err != nil {
		return 0, fmt.Errorf("import: %w", unavailable(err))
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("import: commit: %w", unavailable(err))
	}
	if swapped && useSnapshots && len(rs) >= minSnapshot {
		// rs is every rating as of version: the first replica's start
		// reads it rather than the table. The import is committed; a
		// failure here costs that start time, nothing else.
		if err := d.writeSnapshot(ctx, version, rs); err != nil {
			d.log.Warn("import: writing the ratings snapshot failed", "version", version, "err", err)
		}
	}
	stop()
	if progress != nil {
		progress(ImportProgress{Done: len(ratings), Total: len(ratings), Elapsed: time.Since(start)})
	}
	d.log.Info("imported", "ratings", added, "of", len(ratings), "movies", newMovies, "seconds", time.Since(start).Seconds())
	return added, nil
}

// stageConns is how many connections copy a staged import at once (the
// key is built after, so they do not contend for it). The work is the
// server's, so the bound is not this process's core count.
var stageConns = 4

// minStagedImport is the least ratings that go through a staging table
// when the ratings table is empty.
var minStagedImport = 200_000

// encoders splits rs into up to n encoders of consecutive ratings, at
// least minStagedImport/2 each.
func encoders(rs []engine.Rating, n int) []*ratingEncoder {
	n = max(min(n, 4, len(rs)/max(minStagedImport/2, 1)), 1)
	encs := make([]*ratingEncoder, n)
	for i := range encs {
		encs[i] = &ratingEncoder{rs: rs[len(rs)*i/n : len(rs)*(i+1)/n]}
	}
	return encs
}

// stage copies the encoders' ratings into a new table, one connection per
// encoder at once, and then builds its primary key: the work of a first
// import, done before its transaction and outside the locks writers wait
// on. The table is committed but no reader knows it; Import swaps it in.
//
// The key is built after the copy (one sort) rather than kept during it.
// Measured on 25M ratings on this 2-core box, under other load: copy then
// key 36 + 50 s (load average 11), copy into the keyed table on one
// connection 270 s (load average 16), on two connections more than 380 s.
func (d *DB) stage(ctx context.Context, encs []*ratingEncoder) (string, error) {
	name := fmt.Sprintf("ratings_import_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := d.pool.Exec(ctx, "CREATE TABLE "+name+" (LIKE ratings)"); err != nil {
		return "", err
	}
	start := time.Now()
	errs := make([]error, len(encs))
	var wg sync.WaitGroup
	for i, enc := range encs {
		wg.Go(func() {
			errs[i] = d.pool.AcquireFunc(ctx, func(c *pgxpool.Conn) error {
				_, err := c.Conn().PgConn().CopyFrom(ctx, enc, "COPY "+name+" (user_id, movie_id, rating, ts) FROM STDIN (FORMAT binary)")
				return err
			})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return name, fmt.Errorf("copy ratings: %w", err)
	}
	copied := time.Now()
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL maintenance_work_mem = '1GB'"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "ALTER TABLE "+name+" ADD CONSTRAINT "+name+"_pkey PRIMARY KEY (user_id, movie_id)")
		return err
	})
	if err != nil {
		return name, fmt.Errorf("build the primary key: %w", err)
	}
	d.log.Debug("import: staged", "connections", len(encs), "copy_seconds", copied.Sub(start).Seconds(),
		"key_seconds", time.Since(copied).Seconds())
	return name, nil
}

// dropStaged drops a staging table that was not swapped in.
func (d *DB) dropStaged(name string) {
	if name == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	if _, err := d.pool.Exec(ctx, "DROP TABLE IF EXISTS "+name); err != nil {
		d.log.Warn("import: dropping the staging table failed", "table", name, "err", err)
	}
}

// swapOrMerge makes the staged table the ratings table when that is still
// empty (and raises the change log's floor: the import's ratings are not
// logged one by one), else adds the staged ratings of pairs not stored.
// swapped tells which.
func (d *DB) swapOrMerge(ctx context.Context, tx pgx.Tx, staged string, n int64) (added int64, swapped bool, _ error) {
	if _, err := tx.Exec(ctx, "LOCK TABLE ratings IN ACCESS EXCLUSIVE MODE"); err != nil {
		return 0, false, err
	}
	var has bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM ratings)").Scan(&has); err != nil {
		return 0, false, err
	}
	if has {
		added, err := merge(ctx, tx, staged)
		return added, false, err
	}
	for _, sql := range []string{
		"DROP TABLE ratings",
		"ALTER TABLE " + staged + " RENAME TO ratings",
		"ALTER TABLE ratings RENAME CONSTRAINT " + staged + "_pkey TO ratings_pkey",
		"UPDATE meta SET log_floor = data_version WHERE id = 1",
	} {
		if _, err := tx.Exec(ctx, sql); err != nil {
			return 0, false, fmt.Errorf("swap in the imported ratings: %w", err)
		}
	}
	return n, true, nil
}

// copyAndMerge copies enc's ratings into a temporary table and adds those
// of (user, movie) pairs not yet stored, logging each as a change.
func copyAndMerge(ctx context.Context, tx pgx.Tx, enc *ratingEncoder) (int64, error) {
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE ratings_in (user_id integer, movie_id integer, rating real, ts bigint)
		ON COMMIT DROP`); err != nil {
		return 0, err
	}
	if _, err := tx.Conn().PgConn().CopyFrom(ctx, enc, "COPY ratings_in (user_id, movie_id, rating, ts) FROM STDIN (FORMAT binary)"); err != nil {
		return 0, fmt.Errorf("copy ratings: %w", err)
	}
	return merge(ctx, tx, "ratings_in")
}

// merge adds the ratings of table from whose (user, movie) pairs are not
// stored, logging each as a change of the transaction's version.
func merge(ctx context.Context, tx pgx.Tx, from string) (int64, error) {
	tag, err := tx.Exec(ctx, `WITH ins AS (
		INSERT INTO ratings (user_id, movie_id, rating, ts) SELECT user_id, movie_id, rating, ts FROM `+from+`
		ON CONFLICT (user_id, movie_id) DO NOTHING RETURNING user_id, movie_id, rating, ts
	)
	INSERT INTO changes (version, seq, user_id, movie_id, rating, ts, deleted)
	SELECT (SELECT data_version FROM meta WHERE id = 1), row_number() OVER (), user_id, movie_id, rating, ts, false FROM ins`)
	if err != nil {
		return 0, fmt.Errorf("merge ratings: %w", err)
	}
	return tag.RowsAffected(), nil
}

// importMovies adds the movies not yet in the catalog and, when it added
// any, increments the catalog version (migrations/0004). It returns how
// many it added.
func importMovies(ctx context.Context, tx pgx.Tx, movies []engine.Movie) (int64, error) {
	if len(movies) == 0 {
		return 0, nil
	}
	if _, err := tx.Exec(ctx, "CREATE TEMP TABLE movies_in (id integer, title text, genres text) ON COMMIT DROP"); err != nil {
		return 0, fmt.Errorf("import movies: %w", err)
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"movies_in"}, []string{"id", "title", "genres"},
		pgx.CopyFromSlice(len(movies), func(i int) ([]any, error) {
			m := movies[i]
			return []any{m.ID, m.Title, strings.Join(m.Genres, "|")}, nil
		}))
	if err != nil {
		return 0, fmt.Errorf("import movies: %w", unavailable(err))
	}
	tag, err := tx.Exec(ctx, "INSERT INTO movies (id, title, genres) SELECT DISTINCT ON (id) id, title, genres FROM movies_in ON CONFLICT (id) DO NOTHING")
	if err != nil {
		return 0, fmt.Errorf("import movies: %w", unavailable(err))
	}
	if tag.RowsAffected() == 0 {
		return 0, nil
	}
	if _, err := tx.Exec(ctx, "UPDATE meta SET catalog_version = catalog_version + 1 WHERE id = 1"); err != nil {
		return 0, fmt.Errorf("import movies: %w", unavailable(err))
	}
	return tag.RowsAffected(), nil
}

// reportImport calls progress about once a second with the encoders'
// count until the returned stop is called (which is safe to call twice).
func reportImport(encs []*ratingEncoder, total int, start time.Time, progress func(ImportProgress)) (stop func()) {
	if progress == nil {
		return func() {}
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				done := 0
				for _, e := range encs {
					done += int(e.Done.Load())
				}
				progress(ImportProgress{Done: done, Total: total, Elapsed: time.Since(start)})
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(quit); <-done }) }
}

// checkCatalog returns an error wrapping engine.ErrUnknownMovie for the
// first rating whose movie is neither in movies nor stored.
func (d *DB) checkCatalog(ctx context.Context, movies []engine.Movie, ratings []engine.Rating) error {
	var set store.IDSet
	for _, m := range movies {
		set.Add(m.ID)
	}
	rows, err := d.pool.Query(ctx, "SELECT id FROM movies")
	if err != nil {
		return fmt.Errorf("import: read catalog: %w", unavailable(err))
	}
	var id int32
	if _, err := pgx.ForEachRow(rows, []any{&id}, func() error { set.Add(id); return nil }); err != nil {
		return fmt.Errorf("import: read catalog: %w", unavailable(err))
	}
	for k, r := range ratings {
		if !set.Has(r.Movie) {
			return fmt.Errorf("import rating %d (user %d): %w %d: not in the catalog", k+1, r.User, engine.ErrUnknownMovie, r.Movie)
		}
	}
	return nil
}

// scaleColumns is s as meta stores it (migrations/0002_scale_kind.sql).
func scaleColumns(s engine.Scale) (kind string, lo, hi, step float32) {
	if !s.Bounded() {
		return engine.ScaleUnbounded, 0, 0, 0
	}
	return s.Kind(), s.Min, s.Max, s.Step
}

// lastOfEachKey returns ratings ordered by (user, movie) with only the
// last of each (user, movie) pair in input order, the rule the engine and
// the SQLite store follow (a later line of a file is a later rating).
func lastOfEachKey(ratings []engine.Rating) []engine.Rating {
	if sortedByKey(ratings) {
		return ratings
	}
	rs := slices.Clone(ratings)
	slices.SortStableFunc(rs, compareKey)
	out := rs[:0]
	for i, r := range rs {
		if i+1 < len(rs) && rs[i+1].User == r.User && rs[i+1].Movie == r.Movie {
			continue // a later rating of the pair follows: it wins
		}
		out = append(out, r)
	}
	return out
}
