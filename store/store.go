package store

import (
	"context"
	"errors"
	"time"

	"movierec/engine"
)

// ErrClosed is returned by a store's writes after Close.
var ErrClosed = errors.New("store closed")

// ErrNoChangeLog reports that a store cannot list the changes since a data
// version (DB.ChangedUsers).
var ErrNoChangeLog = errors.New("the change log does not reach back that far")

// ReadProgress is reported while reading all ratings.
type ReadProgress struct {
	Done, Total int
	Elapsed     time.Duration
}

// ImportProgress is reported while importing.
type ImportProgress struct {
	Done, Total int
	Elapsed     time.Duration
}

// DB is a store as main uses it: the catalog and ratings it reads at
// start, the import, the engine's store interfaces and the health the
// API reports. Implementations are safe for concurrent use; after Close
// every write fails with an error (each store documents which).
//
// A DB may implement more of engine's optional interfaces (a shared store
// implements engine.VersionedStore, engine.ChangeFeed and
// engine.TrainerLock); main detects them by type assertion.
type DB interface {
	engine.Store        // AddRatings: all or nothing, durable on nil, a rerate replaces
	engine.Deleter      // DeleteRating: wraps engine.ErrNotRated when nothing is stored
	engine.RatingLister // UserRatings: one user's ratings ordered by movie id
	engine.ModelSaver   // SaveModel: a published snapshot with its data version
	engine.ModelSource  // LatestModel: the newest model trained with given params, or nil
	engine.TrainingLog  // AddTraining, Trainings: the training history

	// Movies returns the catalog ordered by id.
	Movies(ctx context.Context) ([]engine.Movie, error)
	// Ratings returns every rating ordered by user and movie, and the
	// data version they make up.
	Ratings(ctx context.Context) ([]engine.Rating, int64, error)
	// ReadRatings is Ratings with progress (may be nil), called from
	// another goroutine about once a second, never after it returns.
	ReadRatings(ctx context.Context, progress func(ReadProgress)) ([]engine.Rating, int64, error)
	// DataVersion returns the current data version.
	DataVersion(ctx context.Context) (int64, error)
	// ChangedUsers returns the users (ids, each once, ascending) whose
	// ratings changed after data version since, or an error wrapping
	// ErrNoChangeLog when the store's change log does not reach back that
	// far (SQLite keeps one only beside its ratings snapshot, from the
	// snapshot's version on).
	ChangedUsers(ctx context.Context, since int64) ([]int32, error)
	// CatalogVersion returns the catalog's version: it grows with every
	// Import that adds movies, in that import's transaction, and moves
	// for nothing else (engine.CatalogVersioner: a replica that sees it
	// move reads Movies again).
	CatalogVersion(ctx context.Context) (int64, error)
	// Scale returns the rating scale recorded by the first import.
	Scale(ctx context.Context) (engine.Scale, error)
	// Empty reports whether the catalog is empty (a fresh database).
	Empty(ctx context.Context) (bool, error)
	// Import adds movies and ratings, all or nothing, idempotently:
	// movies and (user, movie) pairs already present are kept as they are.
	// It records scale when the catalog was empty, returns how many
	// ratings were added, and bumps the data version when that is
	// non-zero, and the catalog version when it added movies. Every
	// rating must name a movie of movies or of the stored
	// catalog (an error wrapping engine.ErrUnknownMovie otherwise, and
	// nothing is imported). progress (may be nil) is called about once a
	// second and at the end.
	Import(ctx context.Context, movies []engine.Movie, ratings []engine.Rating, scale engine.Scale, progress func(ImportProgress)) (int64, error)
	// QuickCheck checks the stored data for damage, as far as the store
	// can (SQLite: PRAGMA quick_check; PostgreSQL: that it answers).
	QuickCheck(ctx context.Context) error
	// StorageStatus reports whether writes work; it does no I/O.
	StorageStatus() engine.StorageStatus
	// Close releases the store; writes after it fail.
	Close() error
}
