// Package sqlite keeps the service's state in SQLite through the pure-Go
// modernc.org/sqlite driver (no cgo): movies, ratings (one row per user and
// movie; a new rating replaces the old), the data version, and trained
// models. It implements engine.Store.
//
// The database runs in WAL mode with synchronous=FULL: a write returns only
// after its transaction is on disk. Concurrent writers are batched into one
// transaction by a single writer goroutine (group commit), so throughput
// grows with concurrency without relaxing durability. Reads use their own
// connections and never wait for writes.
package sqlite
