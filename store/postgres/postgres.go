package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"movierec/engine"
	"movierec/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Channels NOTIFYed by write transactions.
const (
	// ChannelChanges carries the data version of each committed rating
	// write or deletion (and of an import).
	ChannelChanges = "movierec_changes"
	// ChannelModels carries the data version of each published model.
	ChannelModels = "movierec_models"
)

// Time limits. A write waits at most writeTimeout for the database; a new
// connection at most connectTimeout.
var (
	writeTimeout   = 5 * time.Second
	connectTimeout = 2 * time.Second
)

// defaultMaxConns is the pool's size unless the URL sets pool_max_conns.
const defaultMaxConns = 12

// ErrNotMovierec marks a database that holds tables of something else.
var ErrNotMovierec = errors.New("not a movierec database")

// DB is the PostgreSQL store. It is safe for concurrent use. Close it when
// done.
type DB struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	name string // host and database, for messages (no password)

	writes chan *writeReq
	quit   chan struct{}
	done   chan struct{}

	closeMu sync.RWMutex // held for reading while enqueuing a write
	closed  bool         // guarded by closeMu

	health health

	commits int64       // this process's commits, counted by the writer goroutine
	pruning atomic.Bool // a prune of the change log is running
}

var (
	_ store.DB              = (*DB)(nil)
	_ engine.VersionedStore = (*DB)(nil)
	_ engine.ChangeFeed     = (*DB)(nil)
	_ engine.ModelSource    = (*DB)(nil)
	_ engine.TrainerLock    = (*DB)(nil)
	// A replica following the store adds the movies others import.
	_ engine.CatalogReader    = (*DB)(nil)
	_ engine.CatalogVersioner = (*DB)(nil)
)

// Open connects to the database at url (any libpq URL or keyword/value
// string; pool_max_conns sets the pool's size, 12 by default) and applies
// pending migrations; several processes may open the
// same database at once. log may be nil.
func Open(ctx context.Context, url string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > connectTimeout {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	name := fmt.Sprintf("postgres %s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	cfg.MinConns = 0
	if !strings.Contains(url, "pool_max_conns") {
		// Bulk reads and imports take up to 4 connections; writes and
		// reads meanwhile need their own.
		cfg.MaxConns = max(cfg.MaxConns, defaultMaxConns)
	}
	// Broken connections are dropped when a query on them fails; checking
	// idle ones often makes the pool notice an outage before a write does.
	cfg.HealthCheckPeriod = 5 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	d := &DB{pool: pool, log: log.With("component", "store", "db", name), name: name,
		writes: make(chan *writeReq, 1024), quit: make(chan struct{}), done: make(chan struct{})}
	if err := d.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	go d.writer()
	return d, nil
}

// migrationLockKey is the advisory lock that serialises migrations of
// processes opening the database at once.
const migrationLockKey = 0x6d6f7669_65726563 // "movierec"

// migrate applies the embedded migrations newer than schema_version, in
// one transaction.
func (d *DB) migrate(ctx context.Context) error {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("open %s: %w", d.name, unavailable(err))
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLockKey)); err != nil {
		return fmt.Errorf("migrate %s: %w", d.name, err)
	}
	var hasVersion, hasOther bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass('schema_version') IS NOT NULL,
		EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'schema_version')`).Scan(&hasVersion, &hasOther); err != nil {
		return fmt.Errorf("migrate %s: %w", d.name, err)
	}
	if !hasVersion && hasOther {
		return fmt.Errorf("%w: %s has tables but no movierec schema_version", ErrNotMovierec, d.name)
	}
	if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)"); err != nil {
		return fmt.Errorf("migrate %s: %w", d.name, err)
	}
	var have int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&have); err != nil {
		return fmt.Errorf("migrate %s: %w", d.name, err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	applied := have
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
		if _, err := tx.Exec(ctx, string(src)); err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
		applied = n
	}
	if applied == have {
		return nil
	}
	if _, err := tx.Exec(ctx, "DELETE FROM schema_version"); err != nil {
		return fmt.Errorf("migrate %s: %w", d.name, err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO schema_version (version) VALUES ($1)", applied); err != nil {
		return fmt.Errorf("migrate %s: %w", d.name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", d.name, err)
	}
	d.log.Info("schema migrated", "from", have, "to", applied)
	return nil
}

// Close stops the writer (writes already queued finish first) and closes
// the pool. Writes after Close fail with store.ErrClosed.
func (d *DB) Close() error {
	d.closeMu.Lock()
	if !d.closed {
		d.closed = true
		close(d.quit)
	}
	d.closeMu.Unlock()
	<-d.done
	d.pool.Close()
	return nil
}

// IsURL reports whether s names a PostgreSQL database (a postgres:// or
// postgresql:// URL) rather than an SQLite file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", d.name, unavailable(err))
	}
	return nil
}

// Pool returns the connection pool, for tests and tools.
func (d *DB) Pool() *pgxpool.Pool { return d.pool }

// DataVersion returns the version of the newest committed write.
func (d *DB) DataVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := d.pool.QueryRow(ctx, "SELECT data_version FROM meta WHERE id = 1").Scan(&v); err != nil {
		return 0, fmt.Errorf("read data version: %w", unavailable(err))
	}
	return v, nil
}

// CatalogVersion returns the catalog's version, which every import that
// adds movies increments (store.DB, engine.CatalogVersioner).
func (d *DB) CatalogVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := d.pool.QueryRow(ctx, "SELECT catalog_version FROM meta WHERE id = 1").Scan(&v); err != nil {
		return 0, fmt.Errorf("read catalog version: %w", unavailable(err))
	}
	return v, nil
}

// Movies returns the catalog ordered by id.
func (d *DB) Movies(ctx context.Context) ([]engine.Movie, error) {
	rows, err := d.pool.Query(ctx, "SELECT id, title, genres FROM movies ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("read movies: %w", unavailable(err))
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
		return nil, fmt.Errorf("read movies: %w", unavailable(err))
	}
	return out, nil
}

// Scale returns the rating scale recorded by the first import.
func (d *DB) Scale(ctx context.Context) (engine.Scale, error) {
	var (
		kind         string
		lo, hi, step float32
	)
	err := d.pool.QueryRow(ctx, "SELECT scale_kind, scale_min, scale_max, scale_step FROM meta WHERE id = 1").Scan(&kind, &lo, &hi, &step)
	if err != nil {
		return engine.Scale{}, fmt.Errorf("read scale: %w", unavailable(err))
	}
	s, err := engine.ScaleOf(kind, float64(lo), float64(hi), float64(step))
	if err != nil {
		return engine.Scale{}, fmt.Errorf("read scale: %w", err)
	}
	return s, nil
}

// Empty reports whether the catalog is empty (a fresh database).
func (d *DB) Empty(ctx context.Context) (bool, error) {
	var any bool
	if err := d.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM movies)").Scan(&any); err != nil {
		return false, fmt.Errorf("count movies: %w", unavailable(err))
	}
	return !any, nil
}

// QuickCheck checks that the database answers and has the schema this
// version needs. (PostgreSQL checks its own pages; amcheck is the
// operator's tool.)
func (d *DB) QuickCheck(ctx context.Context) error {
	var v int
	if err := d.pool.QueryRow(ctx, "SELECT max(version) FROM schema_version").Scan(&v); err != nil {
		return fmt.Errorf("check %s: %w", d.name, unavailable(err))
	}
	return nil
}

// UserRatings returns one user's ratings ordered by movie id (empty for an
// unknown user).
func (d *DB) UserRatings(ctx context.Context, user int32) ([]engine.Rating, error) {
	rows, err := d.pool.Query(ctx, "SELECT movie_id, rating, ts FROM ratings WHERE user_id = $1 ORDER BY movie_id", user)
	if err != nil {
		return nil, fmt.Errorf("read ratings of user %d: %w", user, unavailable(err))
	}
	defer rows.Close()
	out := []engine.Rating{}
	for rows.Next() {
		r := engine.Rating{User: user}
		if err := rows.Scan(&r.Movie, &r.Value, &r.Time); err != nil {
			return nil, fmt.Errorf("read ratings of user %d: %w", user, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read ratings of user %d: %w", user, unavailable(err))
	}
	return out, nil
}

// Ratings returns every rating ordered by user and movie, and the data
// version they make up.
func (d *DB) Ratings(ctx context.Context) ([]engine.Rating, int64, error) {
	return d.ReadRatings(ctx, nil)
}
