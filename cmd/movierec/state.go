package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
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
}

// openState opens the database (a SQLite file or a PostgreSQL URL, see
// openStore), checks it (SQLite: PRAGMA quick_check) unless skipCheck,
// imports src (or the bundled data) first when it is empty, and reads the
// catalog and all ratings.
func openState(ctx context.Context, dbPath string, src *dataSource, skipCheck bool, log *slog.Logger) (*state, error) {
	db, err := openStore(ctx, dbPath, log)
	if err != nil {
		return nil, err
	}
	dbPath = dbName(dbPath)
	if !skipCheck {
		start := time.Now()
		if err := db.QuickCheck(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("%w (restore a backup; --skip-check starts anyway)", err)
		}
		log.Info("database checked", "db", dbPath, "seconds", time.Since(start).Seconds())
	}
	empty, err := db.Empty(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	if empty {
		log.Info("empty database: importing the data set", "db", dbPath)
		if _, _, err := importData(ctx, db, src, log); err != nil {
			db.Close()
			return nil, err
		}
	} else if !src.bundled() {
		log.Info("the database already holds data; --data and --ratings are ignored (run `movierec import` to add a data set)", "db", dbPath)
	}
	start := time.Now()
	st := &state{db: db}
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
		db.Close()
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
