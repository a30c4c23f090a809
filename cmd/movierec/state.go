package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"movierec/engine"
	"movierec/store"
	"movierec/store/postgres"
	"movierec/store/sqlite"
)

// state is what a command reads from the database at start.
type state struct {
	db      store.DB
	movies  []engine.Movie
	ratings []engine.Rating
	version int64
	scale   engine.Scale

	// checked waits for the database check openState started (SQLite's
	// PRAGMA quick_check, seconds for a large file) and returns its error,
	// which wraps the store's ErrCorrupt when the file is damaged. Nothing
	// read from the database may be served or trained on before it
	// returns nil.
	checked func() error
}

// openState opens the database (a SQLite file or a PostgreSQL URL, see
// openStore), starts its check (SQLite: PRAGMA quick_check) unless
// skipCheck, imports src (or the bundled data) first when it is empty, and
// reads the catalog and all ratings while the check runs. The caller must
// call st.checked before it serves or trains on what it read. A read that
// fails waits for the check, whose error (a damaged file) it prefers.
func openState(ctx context.Context, dbPath string, src *dataSource, skipCheck bool, log *slog.Logger) (_ *state, err error) {
	db, err := openStore(ctx, dbPath, log)
	if err != nil {
		return nil, err
	}
	dbPath = dbName(dbPath)
	checkErr := make(chan error, 1)
	if skipCheck {
		checkErr <- nil
	} else {
		go func() {
			start := time.Now()
			if err := db.QuickCheck(ctx); err != nil {
				checkErr <- fmt.Errorf("%w (restore a backup; --skip-check starts anyway)", err)
				return
			}
			log.Info("database checked", "db", dbPath, "seconds", time.Since(start).Seconds())
			checkErr <- nil
		}()
	}
	st := &state{db: db, checked: sync.OnceValue(func() error { return <-checkErr })}
	defer func() {
		if err != nil {
			if cerr := st.checked(); cerr != nil {
				err = cerr
			}
			db.Close()
		}
	}()
	empty, err := db.Empty(ctx)
	if err != nil {
		return nil, err
	}
	if empty {
		if err := st.checked(); err != nil { // never import into a damaged file
			return nil, err
		}
		log.Info("empty database: importing the data set", "db", dbPath)
		if _, _, err := importData(ctx, db, src, log); err != nil {
			return nil, err
		}
	} else if !src.bundled() {
		log.Info("the database already holds data; --data and --ratings are ignored (run `movierec import` to add a data set)", "db", dbPath)
	}
	start := time.Now()
	// The ratings first, then the catalog: movies are never removed, so
	// the catalog read after holds every movie the ratings name, even when
	// another process imports new movies with their ratings in between
	// (the other order made such a start fail on an unknown movie).
	if st.ratings, st.version, err = db.ReadRatings(ctx, func(p store.ReadProgress) {
		log.Info("reading the database", "rows", p.Done, "of", p.Total,
			"percent", fmt.Sprintf("%.1f", 100*float64(p.Done)/float64(max(p.Total, 1))),
			"rows_per_second", int(float64(p.Done)/max(p.Elapsed.Seconds(), 1e-9)))
	}); err == nil {
		if st.movies, err = db.Movies(ctx); err == nil {
			if st.scale, err = db.Scale(ctx); err == nil {
				err = src.checkStored(st.scale, dbPath)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	log.Info("database read", "db", dbPath, "movies", len(st.movies), "ratings", len(st.ratings),
		"data_version", st.version, "seconds", time.Since(start).Seconds())
	return st, nil
}

// importData loads a data set and imports it with progress in the log. It
// returns how many ratings were added and how many the data set has.
func importData(ctx context.Context, db store.DB, src *dataSource, log *slog.Logger) (added int64, total int, err error) {
	ds, err := src.load(log)
	if err != nil {
		return 0, 0, err
	}
	added, err = db.Import(ctx, ds.Movies, ds.Ratings, ds.Scale, func(p store.ImportProgress) {
		log.Info("importing", "rows", p.Done, "of", p.Total, "percent", fmt.Sprintf("%.1f", 100*float64(p.Done)/float64(max(p.Total, 1))),
			"rows_per_second", int(float64(p.Done)/max(p.Elapsed.Seconds(), 1e-9)))
	})
	if err != nil {
		return 0, 0, err
	}
	log.Info("import done", "ratings_added", added, "ratings_in_file", len(ds.Ratings))
	return added, len(ds.Ratings), nil
}

// openStore opens the database without reading it: PostgreSQL when db is
// a postgres:// or postgresql:// URL (several processes may share it),
// else the SQLite file db (created if missing).
func openStore(ctx context.Context, db string, log *slog.Logger) (store.DB, error) {
	if isPostgres(db) {
		return openPostgres(ctx, db, log)
	}
	return sqlite.Open(ctx, db, log)
}

// isPostgres reports whether --db names a PostgreSQL database.
func isPostgres(db string) bool { return postgres.IsURL(db) }

// dbName is --db as logs and messages show it: a URL without its
// password.
func dbName(db string) string {
	if !isPostgres(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	return u.Redacted()
}
