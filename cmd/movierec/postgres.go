package main

import (
	"context"
	"log/slog"

	"movierec/engine"
	"movierec/store"
	"movierec/store/postgres"
)

// openPostgres opens the PostgreSQL store at url (migrating it).
func openPostgres(ctx context.Context, url string, log *slog.Logger) (store.DB, error) {
	return postgres.Open(ctx, url, log)
}

// The PostgreSQL store is shared: replicas follow it and compete for its
// trainer lock.
var (
	_ shared                = (*postgres.DB)(nil)
	_ engine.ModelVersioner = (*postgres.DB)(nil)
)
