package engine

import (
	"context"
	"errors"

	"movierec/als"
)

// This file is the seam between the engine and a store shared by several
// processes (PostgreSQL; see DESIGN.md "Storage"): API replicas that follow
// each other's writes, and one trainer at a time that publishes models
// through the database. The SQLite store implements none of it.
//
// Data versions. In a shared store the data version is store-wide: every
// committed write transaction (one group commit of rating writes, an
// import, a deletion) takes the next version while holding a lock that it
// keeps until commit, so versions are assigned in commit order and a
// follower that has applied every change up to version v has seen all
// the data as of v. Models are stored with the version they saw.

// ErrStoreUnavailable marks a write refused because the shared store
// cannot be reached (database down, connection lost). Nothing was stored;
// the API answers 503 naming the cause.
var ErrStoreUnavailable = errors.New("store unavailable")

// ErrResync is returned by ChangeFeed.Changes when the changes after the
// version asked for are not all in the change log (an import added
// ratings without logging them one by one, or old changes were pruned):
// the follower must reload all ratings (Store's ReadRatings) and follow on
// from the version they make up.
var ErrResync = errors.New("change log does not reach back that far: reload all ratings")

// Change is one rating write committed to a shared store.
type Change struct {
	// Version is the data version of the transaction that committed the
	// change; all changes of one transaction share it.
	Version int64
	// Rating is the rating as stored (Value and Time are zero for a
	// deletion).
	Rating
	Deleted bool
}

// VersionedStore is a Store whose writes are numbered store-wide. The
// engine applies a write to memory under the version the store gave it,
// so a change that a follower already applied from the feed is not
// applied again out of order.
type VersionedStore interface {
	Store
	// AddRatingsVersion stores rs (one user's, all or nothing) and returns
	// the data version of the committing transaction.
	AddRatingsVersion(ctx context.Context, rs []Rating) (int64, error)
	// DeleteRatingVersion removes one rating and returns the version of
	// the committing transaction; the error wraps ErrNotRated when no such
	// rating is stored.
	DeleteRatingVersion(ctx context.Context, user, movie int32) (int64, error)
}

// ChangeFeed lets a replica follow writes committed by any process.
type ChangeFeed interface {
	// Changes returns the changes committed after version after, oldest
	// first, in whole transactions: up to about limit changes, more when
	// the last transaction is larger. An empty result means none. The
	// error wraps ErrResync when changes after after are missing from the
	// log.
	Changes(ctx context.Context, after int64, limit int) ([]Change, error)
	// Watch calls notify (from one goroutine) whenever a change or a new
	// model may have been committed: on every notification, after each
	// reconnect (notifications may have been missed) and at least every
	// poll interval. It returns when ctx ends. notify must not block long.
	Watch(ctx context.Context, notify func()) error
}

// ModelSource is where a replica finds models published by a trainer
// (any process). LatestModel returns the newest stored model trained with
// p, or nil when there is none (the same method the SQLite store has).
type ModelSource interface {
	LatestModel(ctx context.Context, p als.Params) (*Snapshot, error)
}

// ModelVersioner is implemented by a ModelSource that can tell the data
// version of its newest model without loading it. Follow asks on every
// notification when the source implements it (cheap), and loads the
// model only when it is newer than the published one; without it Follow
// loads the newest model once a second.
type ModelVersioner interface {
	// LatestModelVersion returns the data version of the newest stored
	// model trained with p, and found false when there is none.
	LatestModelVersion(ctx context.Context, p als.Params) (version int64, found bool, err error)
}

// TrainerLock elects the one process that trains, across all processes
// sharing the store.
type TrainerLock interface {
	// TryAcquire returns a held Lease when no other process holds one,
	// else (nil, nil). It fails only when the store cannot be reached.
	TryAcquire(ctx context.Context) (Lease, error)
}

// Lease is a held trainer lock.
type Lease interface {
	// Lost is closed when the lock is lost (the connection that holds it
	// broke): the holder must stop publishing at once.
	Lost() <-chan struct{}
	// Release gives the lock up. It is safe to call more than once.
	Release()
}
