package main

import (
	"net/http"

	"movierec/engine"
	"movierec/store"
)

// dbUsage is the --db flag's help.
const dbUsage = "database: a SQLite file (created if missing) or a postgres:// URL that several processes share (see README, \"Running several servers\")"

// shared is a store several processes share: numbered writes, a change
// feed, published models and the trainer lock (the PostgreSQL store).
type shared interface {
	store.DB
	engine.VersionedStore
	engine.ChangeFeed
	engine.TrainerLock
}

// sharedStore returns db as a shared store, ok false for a store of one
// process (SQLite).
func sharedStore(db store.DB) (shared, bool) {
	sh, ok := db.(shared)
	return sh, ok
}

// sharedHealth is a shared store's health as /readyz and /metrics see
// it: the store's own (writes fail) and the engine's view of the change
// feed. While either fails the store is marked unavailable, which /readyz
// reports as degraded: reads are served from memory, writes answer 503.
type sharedHealth struct {
	db  store.DB
	eng *engine.Engine
}

// StorageStatus implements api.StorageChecker.
func (h sharedHealth) StorageStatus() engine.StorageStatus {
	st := h.db.StorageStatus()
	if f := h.eng.FollowStatus(); f.Unavailable && st.WriteError == "" {
		st.WriteError = f.Err
	}
	st.Unavailable = st.WriteError != ""
	return st
}

// probesOnly serves the trainer role's routes of h (/healthz, /readyz,
// /metrics) and answers 404 to everything else: the trainer has no API.
func probesOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz", "/readyz", "/metrics":
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"not found: this is a trainer; it serves /healthz, /readyz and /metrics only"}` + "\n"))
	})
}
