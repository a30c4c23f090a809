package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
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
// empty ratings table (a first import) is split by ranges of users into
// up to stageParts tables, each copied on its own connection into a table
// created in the COPY's transaction (frozen) and then keyed (one sort
// instead of millions of index inserts), all at once and before the
// import's transaction; that transaction then makes them the partitions
// of ratings in place of its empty ones, under an exclusive lock, and
// raises the change log's floor: those ratings are not logged one by one,
// and a follower behind the import reloads (engine.ErrResync). A crash
// before the swap can leave staging tables ratings_import_* behind; they
// are never read. Other imports go through a temporary table in the
// transaction, and each added rating is logged as a change. After a first
// import of at least minSnapshot ratings the ratings are also stored as
// the ratings snapshot of the import's version (snapshot.go, written
// while the keys are built and numbered in the import's transaction),
// which the next ReadRatings reads instead of the table. progress (may be
// nil) is called about once a second, from another goroutine, and at the
// end.
func (d *DB) Import(ctx context.Context, movies []engine.Movie, ratings []engine.Rating, scale engine.Scale, progress func(ImportProgress)) (int64, error) {
	start := time.Now()
	if err := d.checkCatalog(ctx, movies, ratings); err != nil {
		return 0, err
	}
	rs := store.LastOfEachKey(ratings)
	placeholder := int64(0) // the staged snapshot's version (negative), 0 for none
	var encs []*ratingEncoder
	stop := func() {}
	var staged []string
	if len(rs) >= minStagedImport {
		var has bool
		if err := d.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM ratings)").Scan(&has); err != nil {
			return 0, fmt.Errorf("import: %w", unavailable(err))
		}
		if !has {
			encs = encoders(rs, min(stageParts, max(int(d.pool.Config().MaxConns)/2, 1)))
			stop = reportImport(encs, len(ratings), start, progress)
			// The snapshot is written under a placeholder version while
			// the parts are copied and keyed (the version is taken by the
			// transaction below), and renumbered in that transaction.
			var during func()
			if useSnapshots && len(rs) >= minSnapshot {
				placeholder = -1 - time.Now().UnixNano()%(1<<40)
				defer d.dropSnapshot(placeholder)
				during = func() {
					if err := d.writeSnapshotAs(ctx, placeholder, rs); err != nil {
						d.log.Warn("import: writing the ratings snapshot failed", "err", err)
						placeholder = 0
					}
				}
			}
			var err error
			staged, err = d.stage(ctx, encs, during)
			defer d.dropStaged(staged)
			if err != nil {
				stop()
				return 0, fmt.Errorf("import: %w", unavailable(err))
			}
		}
	}
	if staged == nil {
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
	case staged != nil:
		added, swapped, err = d.swapOrMerge(ctx, tx, staged, encs, int64(len(rs)))
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
	if swapped && placeholder != 0 {
		// rs is every rating as of version: the first replica's start
		// reads the snapshot rather than the table, from the moment
		// the import commits. (Rows of a reader's snapshot written in
		// the meantime are older: replaced.)
		if _, err := tx.Exec(ctx, "DELETE FROM ratings_snapshots WHERE version <> $1", placeholder); err != nil {
			return 0, fmt.Errorf("import: %w", unavailable(err))
		}
		tag, err := tx.Exec(ctx, "UPDATE ratings_snapshots SET version = $1 WHERE version = $2", version, placeholder)
		if err != nil {
			return 0, fmt.Errorf("import: %w", unavailable(err))
		}
		if tag.RowsAffected() == 0 {
			// A reader's refresh replaced it meanwhile (writeSnapshot
			// deletes older images): the first start reads the table.
			d.log.Warn("import: the staged ratings snapshot is gone; the next start reads the table and writes one", "version", version)
		} else {
			d.log.Debug("ratings snapshot numbered", "version", version, "chunks", tag.RowsAffected())
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("import: commit: %w", unavailable(err))
	}
	stop()
	if progress != nil {
		progress(ImportProgress{Done: len(ratings), Total: len(ratings), Elapsed: time.Since(start)})
	}
	d.log.Info("imported", "ratings", added, "of", len(ratings), "movies", newMovies, "seconds", time.Since(start).Seconds())
	return added, nil
}

// stageParts is how many partitions a staged import makes (and how many
// connections copy and key them at once; at most half the pool's). A
// table's COPY and its key's build each run in one backend, so one table
// keeps one core busy; each partition is still written in key order by
// one connection, so its key's sort finds it presorted (several
// connections into one table interleave their pages, and that sort then
// sorts). Two, by measurement on this 2-core box with the server on it
// (25M ratings: 24–27 s in the store against 27–29 s with four
// partitions and 34–38 s with one table; bench/RESULTS.md): more parts
// than the server has cores only add to the I/O the keys' builds end
// with (each writes and syncs its index).
var stageParts = 2

// minStagedImport is the least ratings that go through staging tables
// when the ratings table is empty.
var minStagedImport = 200_000

// encoders splits rs, in key order, into up to n encoders of whole users
// with about as many ratings each, at least minStagedImport/2 each.
func encoders(rs []engine.Rating, n int) []*ratingEncoder {
	n = max(min(n, len(rs)/max(minStagedImport/2, 1)), 1)
	var encs []*ratingEncoder
	lo := 0
	for i := 1; i <= n && lo < len(rs); i++ {
		hi := len(rs) * i / n
		if hi <= lo {
			continue
		}
		for hi < len(rs) && rs[hi].User == rs[hi-1].User {
			hi++ // a user's ratings stay in one part
		}
		encs = append(encs, &ratingEncoder{rs: rs[lo:hi]})
		lo = hi
	}
	if encs == nil {
		encs = []*ratingEncoder{{rs: rs}}
	}
	return encs
}

// partBounds returns the range of users of encs[i] as a partition bound
// and as the CHECK constraint that proves it (so attaching the table
// scans nothing); check is "" for a single part. encs are in key order.
func partBounds(encs []*ratingEncoder, i int) (bound, check string) {
	from, to := "MINVALUE", "MAXVALUE"
	var conds []string
	if i > 0 {
		from = strconv.Itoa(int(encs[i].rs[0].User))
		conds = append(conds, "user_id >= "+from)
	}
	if i+1 < len(encs) {
		to = strconv.Itoa(int(encs[i+1].rs[0].User))
		conds = append(conds, "user_id < "+to)
	}
	return "FOR VALUES FROM (" + from + ") TO (" + to + ")", strings.Join(conds, " AND ")
}

// stage copies each encoder's ratings into a new table on its own
// connection, all at once, and then builds each table's primary key: the
// work of a first import, done before its transaction and outside the
// locks writers wait on. The tables are committed but no reader knows
// them; Import makes them the partitions of ratings. It returns their
// names, in encs' order, also on error (for dropStaged).
//
// Each table is created in its COPY's transaction, so the rows are written
// frozen (no hint bits for the key's scan to set, no pages dirtied again),
// with a CHECK constraint of its users' range. Its key is built after the
// copy (one sort) rather than kept during it. Measured on 25M ratings on
// this 2-core box, under other load: copy then key 36 + 50 s (load
// average 11), copy into the keyed table on one connection 270 s (load
// average 16), on two connections more than 380 s.
//
// during, when non-nil, runs once the first table is copied (alongside
// the other copies and the keys' builds); stage returns after it.
func (d *DB) stage(ctx context.Context, encs []*ratingEncoder, during func()) ([]string, error) {
	base := fmt.Sprintf("ratings_import_%d_%d", os.Getpid(), time.Now().UnixNano())
	names := make([]string, len(encs))
	for i := range names {
		names[i] = fmt.Sprintf("%s_%d", base, i)
	}
	start := time.Now()
	var side sync.WaitGroup
	var once sync.Once
	startDuring := func() {
		if during != nil {
			once.Do(func() { side.Go(during) })
		}
	}
	errs := make([]error, len(encs))
	copySecs := make([]float64, len(encs))
	keySecs := make([]float64, len(encs))
	var wg sync.WaitGroup
	for i, enc := range encs {
		wg.Go(func() {
			name := names[i]
			_, check := partBounds(encs, i)
			create := "CREATE TABLE " + name + " (LIKE ratings)"
			if check != "" {
				create = "CREATE TABLE " + name + " (LIKE ratings, CONSTRAINT " + name + "_range CHECK (" + check + "))"
			}
			err := d.pool.AcquireFunc(ctx, func(c *pgxpool.Conn) error {
				return pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
					if _, err := tx.Exec(ctx, create); err != nil {
						return err
					}
					_, err := tx.Conn().PgConn().CopyFrom(ctx, enc,
						"COPY "+name+" (user_id, movie_id, rating, ts) FROM STDIN (FORMAT binary, FREEZE)")
					return err
				})
			})
			if err != nil {
				errs[i] = fmt.Errorf("copy ratings: %w", err)
				return
			}
			copySecs[i] = time.Since(start).Seconds()
			startDuring()
			err = pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
				for _, set := range keySortSettings(len(enc.rs), len(encs)) {
					if _, err := tx.Exec(ctx, set); err != nil {
						return err
					}
				}
				_, err := tx.Exec(ctx, "ALTER TABLE "+name+" ADD CONSTRAINT "+name+"_pkey PRIMARY KEY (user_id, movie_id)")
				return err
			})
			if err != nil {
				errs[i] = fmt.Errorf("build the primary key: %w", err)
				return
			}
			keySecs[i] = time.Since(start).Seconds() - copySecs[i]
		})
	}
	wg.Wait()
	keyed := time.Now()
	side.Wait()
	if err := errors.Join(errs...); err != nil {
		return names, err
	}
	d.log.Debug("import: staged", "parts", len(encs), "copy_seconds", slices.Max(copySecs),
		"key_seconds", keyed.Sub(start).Seconds()-slices.Max(copySecs), "waited_after_key_seconds", time.Since(keyed).Seconds(),
		"part_copy_seconds", copySecs, "part_key_seconds", keySecs)
	return names, nil
}

// keySortBytes is what PostgreSQL 15's in-memory sort for the key's
// build takes per rating (72 bytes measured at 25M ratings: the sort slot,
// the index tuple and its allocation header), with some room.
const keySortBytes = 80

// maxKeySortMemory caps the sort memory an import asks of the server for
// its keys' builds, all parts together (2 GiB: enough for about 26M
// ratings in memory).
const maxKeySortMemory = 2 << 30

// keySortSettings returns the SET LOCAL statements for building the key
// of one of parts partitions, of rows ratings. When its sort fits in its
// share of maxKeySortMemory that is asked for, with no parallel workers:
// PostgreSQL's parallel index builds always sort on disk, and on 25M
// ratings in one table on this 2-core box the serial in-memory build took
// 11.7–12.9 s against 17.6 s for the parallel one with 1 GB and 18.4 s
// serial with 1 GB (bench/RESULTS.md). Larger parts keep their share of
// 1 GB and the server's parallel build.
func keySortSettings(rows, parts int) []string {
	parts = max(parts, 1)
	need := int64(rows) * keySortBytes
	if need > maxKeySortMemory/int64(parts) {
		return []string{fmt.Sprintf("SET LOCAL maintenance_work_mem = '%dMB'", max(1024/parts, 64))}
	}
	return []string{
		fmt.Sprintf("SET LOCAL maintenance_work_mem = '%dkB'", max(need>>10, 64<<10)),
		"SET LOCAL max_parallel_maintenance_workers = 0",
	}
}

// dropStaged drops the staging tables that were not swapped in.
func (d *DB) dropStaged(names []string) {
	if len(names) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	if _, err := d.pool.Exec(ctx, "DROP TABLE IF EXISTS "+strings.Join(names, ", ")); err != nil {
		d.log.Warn("import: dropping the staging tables failed", "tables", names, "err", err)
	}
}

// swapOrMerge makes the staged tables the partitions of ratings when that
// is still empty (and raises the change log's floor: the import's ratings
// are not logged one by one), else adds the staged ratings of pairs not
// stored. swapped tells which. staged are encs' tables, in their order.
func (d *DB) swapOrMerge(ctx context.Context, tx pgx.Tx, staged []string, encs []*ratingEncoder, n int64) (added int64, swapped bool, _ error) {
	if _, err := tx.Exec(ctx, "LOCK TABLE ratings IN ACCESS EXCLUSIVE MODE"); err != nil {
		return 0, false, err
	}
	var has bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM ratings)").Scan(&has); err != nil {
		return 0, false, err
	}
	if has {
		// One statement, so the changes' sequence numbers are unique.
		from := make([]string, len(staged))
		for i, name := range staged {
			from[i] = "SELECT user_id, movie_id, rating, ts FROM " + name
		}
		added, err := merge(ctx, tx, "("+strings.Join(from, " UNION ALL ")+") staged")
		return added, false, err
	}
	old, err := partitions(ctx, tx)
	if err != nil {
		return 0, false, fmt.Errorf("swap in the imported ratings: %w", err)
	}
	var sqls []string
	for _, p := range old {
		sqls = append(sqls, "DROP TABLE "+p.name) // empty: ratings has no rows
	}
	for i, name := range staged {
		part := fmt.Sprintf("ratings_p%d", i)
		bound, check := partBounds(encs, i)
		sqls = append(sqls,
			"ALTER TABLE "+name+" RENAME TO "+part,
			"ALTER TABLE "+part+" RENAME CONSTRAINT "+name+"_pkey TO "+part+"_pkey",
			"ALTER TABLE ratings ATTACH PARTITION "+part+" "+bound)
		if check != "" {
			// Redundant once attached (the partition's bound says it).
			sqls = append(sqls, "ALTER TABLE "+part+" DROP CONSTRAINT "+name+"_range")
		}
	}
	sqls = append(sqls, "UPDATE meta SET log_floor = data_version WHERE id = 1")
	for _, sql := range sqls {
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
