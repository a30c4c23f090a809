package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"movierec/engine"
	"movierec/store"
)

// ImportProgress is reported while importing (store.ImportProgress).
type ImportProgress = store.ImportProgress

// Import adds movies and ratings in one transaction, and records scale as
// the data set's rating scale when the database had no movies yet. It is
// idempotent: movies and (user, movie) pairs already present are left as
// they are (within ratings, the first of a pair counts), so a second
// import of the same files adds nothing and never overwrites a rating a
// user posted since. It returns how many ratings were added and, when
// that is non-zero, commits under a new data version.
//
// Every rating must name a movie of movies or of the catalog already
// stored (an error wrapping engine.ErrUnknownMovie otherwise, and nothing
// is imported).
//
// The ratings travel by COPY in binary format. Into an empty ratings table
// (a first import) they are copied straight into the table with its
// primary key dropped and rebuilt after, under an exclusive lock, and are
// not logged as changes: the change log's floor rises to the import's
// version, so a follower behind it reloads (engine.ErrResync). Into a
// table with ratings they go through a temporary table, and each added
// rating is logged. progress (may be nil) is called about once a second,
// from another goroutine, and at the end.
func (d *DB) Import(ctx context.Context, movies []engine.Movie, ratings []engine.Rating, scale engine.Scale, progress func(ImportProgress)) (int64, error) {
	start := time.Now()
	if err := d.checkCatalog(ctx, movies, ratings); err != nil {
		return 0, err
	}
	rs := firstOfEachKey(ratings)
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
	if _, err := tx.Exec(ctx, `UPDATE meta SET scale_min = $1, scale_max = $2, scale_step = $3
		WHERE id = 1 AND NOT EXISTS (SELECT 1 FROM movies)`, scale.Min, scale.Max, scale.Step); err != nil {
		return 0, fmt.Errorf("import: record scale: %w", err)
	}
	if err := importMovies(ctx, tx, movies); err != nil {
		return 0, err
	}
	var hasRatings bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM ratings)").Scan(&hasRatings); err != nil {
		return 0, fmt.Errorf("import: %w", err)
	}
	enc := &ratingEncoder{rs: rs}
	stop := reportImport(enc, len(ratings), start, progress)
	var added int64
	if len(rs) > 0 && !hasRatings {
		added, err = copyIntoEmpty(ctx, tx, enc, d.log)
	} else if len(rs) > 0 {
		added, err = copyAndMerge(ctx, tx, enc)
	}
	stop()
	if err != nil {
		return 0, fmt.Errorf("import: %w", unavailable(err))
	}
	if added == 0 {
		_, err = tx.Exec(ctx, "UPDATE meta SET data_version = data_version - 1 WHERE id = 1")
	} else {
		_, err = tx.Exec(ctx, sqlNotifyChanges)
	}
	if err != nil {
		return 0, fmt.Errorf("import: %w", unavailable(err))
	}
	committing := time.Now()
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("import: commit: %w", unavailable(err))
	}
	d.log.Debug("import: committed", "commit_seconds", time.Since(committing).Seconds())
	if progress != nil {
		progress(ImportProgress{Done: len(ratings), Total: len(ratings), Elapsed: time.Since(start)})
	}
	d.log.Info("imported", "ratings", added, "of", len(ratings), "seconds", time.Since(start).Seconds())
	return added, nil
}

// copyIntoEmpty copies enc's ratings into the empty ratings table, its
// primary key dropped for the copy and rebuilt after (one sort instead of
// millions of index inserts), and raises the change log's floor.
func copyIntoEmpty(ctx context.Context, tx pgx.Tx, enc *ratingEncoder, log *slog.Logger) (int64, error) {
	if _, err := tx.Exec(ctx, "ALTER TABLE ratings DROP CONSTRAINT ratings_pkey"); err != nil {
		return 0, err
	}
	start := time.Now()
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, enc, "COPY ratings (user_id, movie_id, rating, ts) FROM STDIN (FORMAT binary)")
	if err != nil {
		return 0, fmt.Errorf("copy ratings: %w", err)
	}
	copied := time.Now()
	if _, err := tx.Exec(ctx, "SET LOCAL maintenance_work_mem = '1GB'"); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, "ALTER TABLE ratings ADD CONSTRAINT ratings_pkey PRIMARY KEY (user_id, movie_id)"); err != nil {
		return 0, fmt.Errorf("rebuild the primary key: %w", err)
	}
	log.Debug("import: copied into the empty table", "copy_seconds", copied.Sub(start).Seconds(),
		"index_seconds", time.Since(copied).Seconds())
	if _, err := tx.Exec(ctx, "UPDATE meta SET log_floor = data_version WHERE id = 1"); err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
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
	tag, err := tx.Exec(ctx, `WITH ins AS (
		INSERT INTO ratings (user_id, movie_id, rating, ts) SELECT user_id, movie_id, rating, ts FROM ratings_in
		ON CONFLICT (user_id, movie_id) DO NOTHING RETURNING user_id, movie_id, rating, ts
	)
	INSERT INTO changes (version, seq, user_id, movie_id, rating, ts, deleted)
	SELECT (SELECT data_version FROM meta WHERE id = 1), row_number() OVER (), user_id, movie_id, rating, ts, false FROM ins`)
	if err != nil {
		return 0, fmt.Errorf("merge ratings: %w", err)
	}
	return tag.RowsAffected(), nil
}

// importMovies adds the movies not yet in the catalog.
func importMovies(ctx context.Context, tx pgx.Tx, movies []engine.Movie) error {
	if len(movies) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, "CREATE TEMP TABLE movies_in (id integer, title text, genres text) ON COMMIT DROP"); err != nil {
		return fmt.Errorf("import movies: %w", err)
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"movies_in"}, []string{"id", "title", "genres"},
		pgx.CopyFromSlice(len(movies), func(i int) ([]any, error) {
			m := movies[i]
			return []any{m.ID, m.Title, strings.Join(m.Genres, "|")}, nil
		}))
	if err != nil {
		return fmt.Errorf("import movies: %w", unavailable(err))
	}
	if _, err := tx.Exec(ctx, "INSERT INTO movies (id, title, genres) SELECT DISTINCT ON (id) id, title, genres FROM movies_in ON CONFLICT (id) DO NOTHING"); err != nil {
		return fmt.Errorf("import movies: %w", unavailable(err))
	}
	return nil
}

// reportImport calls progress about once a second with enc's count until
// the returned stop is called.
func reportImport(enc *ratingEncoder, total int, start time.Time, progress func(ImportProgress)) (stop func()) {
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
				progress(ImportProgress{Done: int(enc.Done.Load()), Total: total, Elapsed: time.Since(start)})
			}
		}
	}()
	return func() { close(quit); <-done }
}

// checkCatalog returns an error wrapping engine.ErrUnknownMovie for the
// first rating whose movie is neither in movies nor stored.
func (d *DB) checkCatalog(ctx context.Context, movies []engine.Movie, ratings []engine.Rating) error {
	var set movieIDs
	for _, m := range movies {
		set.add(m.ID)
	}
	rows, err := d.pool.Query(ctx, "SELECT id FROM movies")
	if err != nil {
		return fmt.Errorf("import: read catalog: %w", unavailable(err))
	}
	var id int32
	if _, err := pgx.ForEachRow(rows, []any{&id}, func() error { set.add(id); return nil }); err != nil {
		return fmt.Errorf("import: read catalog: %w", unavailable(err))
	}
	for k, r := range ratings {
		if !set.has(r.Movie) {
			return fmt.Errorf("import rating %d (user %d): %w %d: not in the catalog", k+1, r.User, engine.ErrUnknownMovie, r.Movie)
		}
	}
	return nil
}

// firstOfEachKey returns ratings ordered by (user, movie) with only the
// first rating of each pair: ratings itself when it already is (a
// MovieLens file is), else a sorted copy.
func firstOfEachKey(ratings []engine.Rating) []engine.Rating {
	if sortedByKey(ratings) {
		return ratings
	}
	rs := slices.Clone(ratings)
	slices.SortStableFunc(rs, compareKey)
	return slices.CompactFunc(rs, func(a, b engine.Rating) bool { return a.User == b.User && a.Movie == b.Movie })
}

// movieIDs is a set of movie ids: a bitmap up to a bound, a map beyond.
type movieIDs struct {
	bits []uint64
	big  map[int32]bool
}

const bitmapLimit = 1 << 24 // ids below this go in the bitmap (2 MiB)

func (m *movieIDs) add(id int32) {
	if id >= 0 && id < bitmapLimit {
		if need := int(id)/64 + 1; need > len(m.bits) {
			m.bits = append(m.bits, make([]uint64, need-len(m.bits))...)
		}
		m.bits[id/64] |= 1 << (id % 64)
		return
	}
	if m.big == nil {
		m.big = make(map[int32]bool)
	}
	m.big[id] = true
}

func (m *movieIDs) has(id int32) bool {
	if id >= 0 && id < bitmapLimit {
		return int(id)/64 < len(m.bits) && m.bits[id/64]&(1<<(id%64)) != 0
	}
	return m.big[id]
}
