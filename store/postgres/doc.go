// Package postgres keeps the service's state in PostgreSQL through
// github.com/jackc/pgx/v5, so several processes can share it: API replicas
// that follow each other's writes and one trainer at a time that publishes
// models (see DESIGN.md "Storage" and engine/shared.go).
//
// It has the SQLite store's semantics (movies; ratings, one row per user
// and movie, a rerate replaces; the data version; models keyed by their
// parameters; the training history) and implements store.DB,
// engine.VersionedStore, engine.ChangeFeed, engine.ModelSource and
// engine.TrainerLock.
//
// Data versions are store-wide: every write transaction first increments
// meta.data_version and holds that row's lock until it commits, so
// versions are assigned in commit order. Each rating write and deletion is
// logged in the changes table under its transaction's version, and the
// transaction NOTIFYs channel movierec_changes; a published model NOTIFYs
// movierec_models. Notifications only wake followers: the data is always
// read from the tables, so a missed notification costs latency, never data.
//
// Concurrent AddRatings calls of one process are batched into one
// transaction by a single writer goroutine (group commit). Writes fail
// within a few seconds, wrapping engine.ErrStoreUnavailable and storing
// nothing, while the database cannot be reached; the connection pool
// reconnects by itself when it returns.
//
// Bulk paths use COPY in PostgreSQL's binary format, encoded and decoded by
// hand without allocating per row: Import and ReadRatings.
package postgres
