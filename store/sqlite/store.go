package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"

	"movierec/engine"
	"movierec/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the SQLite store. It is safe for concurrent use. Close it when done.
type DB struct {
	path   string
	log    *slog.Logger
	write  *sql.DB // one connection, used only by the writer goroutine and Import
	read   *sql.DB // several connections for readers
	writes chan *writeReq
	quit   chan struct{}
	done   chan struct{}

	closeMu sync.RWMutex // held for reading while enqueuing a write
	closed  bool         // guarded by closeMu

	health health // whether writes work; see StorageStatus

	changeBuf []engine.Change // commit's, reused; the writer goroutine's only
	logArgs   []any           // logChanges', likewise
}

// readConns is the size of the reader pool.
const readConns = 4

// ErrClosed is returned by writes after Close (store.ErrClosed).
var ErrClosed = store.ErrClosed

var _ store.DB = (*DB)(nil)

// Open opens (creating if needed) the database at path and applies pending
// migrations. log may be nil. An existing file that is not a movierec
// database (empty, not SQLite, or SQLite with other tables) is refused
// with an error wrapping ErrNotMovierec, so nothing is imported over it.
func Open(ctx context.Context, path string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := checkFile(path); err != nil {
		return nil, err
	}
	dsn := func(pragmas ...string) string {
		q := url.Values{}
		for _, p := range append([]string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(1)"}, pragmas...) {
			q.Add("_pragma", p)
		}
		return "file:" + path + "?" + q.Encode()
	}
	// The one write connection gets a 128 MiB page cache (SQLite's default
	// is 2 MiB), which speeds up large imports; readers keep the default.
	w, err := sql.Open("sqlite", dsn("cache_size(-131072)"))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	r.SetMaxOpenConns(readConns)
	d := &DB{path: path, log: log.With("component", "store"), write: w, read: r,
		writes: make(chan *writeReq, 1024), quit: make(chan struct{}), done: make(chan struct{})}
	if err := d.migrate(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	go d.writer()
	return d, nil
}

// migrate applies the embedded migrations newer than PRAGMA user_version.
func (d *DB) migrate(ctx context.Context) error {
	var have int
	if err := d.write.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return fmt.Errorf("read schema version of %s: %w", d.path, err)
	}
	if err := d.checkSchema(ctx, have); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		n, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", name)
		}
		if n <= have {
			continue
		}
		src, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		tx, err := d.write.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, string(src)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", n)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", base, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
		d.log.Info("schema migrated", "to", n)
	}
	return nil
}

// Close stops the writer (pending writes finish first) and closes the
// database.
func (d *DB) Close() error {
	d.closeMu.Lock()
	if !d.closed {
		d.closed = true
		close(d.quit)
	}
	d.closeMu.Unlock()
	<-d.done
	return errors.Join(d.write.Close(), d.read.Close())
}

// DataVersion returns the number of committed write batches and imports
// that changed data.
func (d *DB) DataVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := d.read.QueryRowContext(ctx, "SELECT data_version FROM meta WHERE id = 1").Scan(&v); err != nil {
		return 0, fmt.Errorf("read data version: %w", err)
	}
	return v, nil
}

// CatalogVersion returns the catalog's version, which every import that
// adds movies increments (store.DB).
func (d *DB) CatalogVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := d.read.QueryRowContext(ctx, "SELECT catalog_version FROM meta WHERE id = 1").Scan(&v); err != nil {
		return 0, fmt.Errorf("read catalog version: %w", err)
	}
	return v, nil
}

// Movies returns the catalog ordered by id.
func (d *DB) Movies(ctx context.Context) ([]engine.Movie, error) {
	rows, err := d.read.QueryContext(ctx, "SELECT id, title, genres FROM movies ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("read movies: %w", err)
	}
	defer rows.Close()
	var out []engine.Movie
	for rows.Next() {
		var m engine.Movie
		var g string
		if err := rows.Scan(&m.ID, &m.Title, &g); err != nil {
			return nil, fmt.Errorf("read movies: %w", err)
		}
		if g != "" {
			m.Genres = strings.Split(g, "|")
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read movies: %w", err)
	}
	return out, nil
}

// Ratings returns every rating ordered by user and movie, and the data
// version they make up. The table is read in user-id ranges on several
// connections at once (one per core, up to the reader pool), each in its own read transaction; the parts must
// agree on the data version (a write in between makes it start over).
func (d *DB) Ratings(ctx context.Context) ([]engine.Rating, int64, error) {
	return d.ReadRatings(ctx, nil)
}

// ReadProgress is reported while reading all ratings (store.ReadProgress).
type ReadProgress = store.ReadProgress

// readProgressEvery is how often ReadRatings reports progress.
var readProgressEvery = time.Second

// ReadRatings is Ratings with progress (may be nil) called about once a
// second while the rows are read (tens of seconds for tens of millions of
// ratings), from another goroutine; never after ReadRatings returns.
//
// The ratings snapshot and its change log (snapshot.go) are read instead
// of the rows when they are usable; otherwise a read of at least
// minSnapshot rows writes a snapshot afterwards (logged; a failure to
// write it only costs the next start time).
func (d *DB) ReadRatings(ctx context.Context, progress func(ReadProgress)) ([]engine.Rating, int64, error) {
	if rs, v, ok, err := d.snapshotRead(ctx); err != nil || ok {
		return rs, v, err
	}
	start := time.Now()
	for attempt := 0; ; attempt++ {
		rs, v, err := d.readRatings(ctx, attempt < 3, start, progress)
		if errors.Is(err, errMovedOn) {
			continue
		}
		if err == nil && len(rs) >= minSnapshot {
			d.refreshSnapshot(ctx, v, rs)
		}
		return rs, v, err
	}
}

// errMovedOn reports that the parts of a parallel read saw different data.
var errMovedOn = errors.New("data changed during the read")

// ratingsPart is one user-id range of a parallel read.
type ratingsPart struct {
	lo, hi  int64 // user ids [lo, hi)
	tx      *sql.Tx
	n       int
	version int64
}

func (d *DB) readRatings(ctx context.Context, parallel bool, start time.Time, progress func(ReadProgress)) ([]engine.Rating, int64, error) {
	var lo, hi sql.NullInt64 // an index lookup each, not a scan
	if err := d.read.QueryRowContext(ctx, "SELECT min(user_id), max(user_id) FROM ratings").Scan(&lo, &hi); err != nil {
		return nil, 0, fmt.Errorf("read ratings: %w", err)
	}
	nparts := 1
	if parallel && hi.Int64-lo.Int64 >= int64(readConns) {
		nparts = min(runtime.GOMAXPROCS(0), readConns)
	}
	parts := make([]*ratingsPart, nparts)
	span := hi.Int64 - lo.Int64 + 1
	for p := range parts {
		parts[p] = &ratingsPart{lo: lo.Int64 + span*int64(p)/int64(nparts), hi: lo.Int64 + span*int64(p+1)/int64(nparts)}
	}
	if nparts == 1 {
		parts[0].lo, parts[0].hi = math.MinInt64, math.MaxInt64
	}
	defer func() {
		for _, p := range parts {
			if p.tx != nil {
				p.tx.Rollback()
			}
		}
	}()
	// Phase 1: open each part's snapshot and count its rows.
	if err := eachPart(parts, func(p *ratingsPart) error {
		tx, err := d.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return err
		}
		p.tx = tx
		if err := tx.QueryRowContext(ctx, "SELECT data_version FROM meta WHERE id = 1").Scan(&p.version); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, "SELECT count(*) FROM ratings WHERE user_id >= ? AND user_id < ?", p.lo, p.hi).Scan(&p.n)
	}); err != nil {
		return nil, 0, fmt.Errorf("read ratings: %w", err)
	}
	size := 0
	for _, p := range parts {
		if p.version != parts[0].version {
			return nil, 0, errMovedOn
		}
		size += p.n
	}
	// Phase 2: each part fills its own stretch of one slice.
	out := make([]engine.Rating, size)
	off := 0
	dsts := make(map[*ratingsPart][]engine.Rating, nparts)
	for _, p := range parts {
		dsts[p] = out[off : off+p.n]
		off += p.n
	}
	var done atomic.Int64
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
					progress(ReadProgress{Done: int(done.Load()), Total: size, Elapsed: time.Since(start)})
				}
			}
		}()
	}
	if err := eachPart(parts, func(p *ratingsPart) error {
		return scanRatings(ctx, p.tx, p.lo, p.hi, dsts[p], &done)
	}); err != nil {
		return nil, 0, fmt.Errorf("read ratings: %w", err)
	}
	return out, parts[0].version, nil
}

// eachPart runs f on every part concurrently and returns the first error.
func eachPart(parts []*ratingsPart, f func(*ratingsPart) error) error {
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, p := range parts {
		wg.Go(func() { errs[i] = f(p) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// scanRatings reads the ratings of users [lo, hi) into dst, which must have
// exactly their number.
func scanRatings(ctx context.Context, tx *sql.Tx, lo, hi int64, dst []engine.Rating, done *atomic.Int64) error {
	rows, err := tx.QueryContext(ctx, "SELECT user_id, movie_id, rating, ts FROM ratings WHERE user_id >= ? AND user_id < ? ORDER BY user_id, movie_id", lo, hi)
	if err != nil {
		return err
	}
	defer rows.Close()
	// Scan into the driver's own types: database/sql converts a REAL to
	// *float32 (and an INTEGER to *int32) through strings.
	var user, movie, ts int64
	var value float64
	i := 0
	for rows.Next() {
		if i == len(dst) {
			return errMovedOn
		}
		if err := rows.Scan(&user, &movie, &value, &ts); err != nil {
			return err
		}
		dst[i] = engine.Rating{User: int32(user), Movie: int32(movie), Value: float32(value), Time: ts}
		i++
		if i%4096 == 0 {
			done.Add(4096)
		}
	}
	done.Add(int64(i % 4096))
	if err := rows.Err(); err != nil {
		return err
	}
	if i != len(dst) {
		return errMovedOn
	}
	return nil
}

// UserRatings returns one user's ratings ordered by movie id (empty for an
// unknown user).
func (d *DB) UserRatings(ctx context.Context, user int32) ([]engine.Rating, error) {
	rows, err := d.read.QueryContext(ctx, "SELECT movie_id, rating, ts FROM ratings WHERE user_id = ? ORDER BY movie_id", user)
	if err != nil {
		return nil, fmt.Errorf("read ratings of user %d: %w", user, err)
	}
	defer rows.Close()
	out := []engine.Rating{}
	var movie, ts int64
	var value float64
	for rows.Next() {
		if err := rows.Scan(&movie, &value, &ts); err != nil {
			return nil, fmt.Errorf("read ratings of user %d: %w", user, err)
		}
		out = append(out, engine.Rating{User: user, Movie: int32(movie), Value: float32(value), Time: ts})
	}
	return out, rows.Err()
}
