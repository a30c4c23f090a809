package main

import (
	"context"
	"errors"
	"log/slog"

	"movierec/store"
)

// openPostgres opens the PostgreSQL store at url.
func openPostgres(ctx context.Context, url string, log *slog.Logger) (store.DB, error) {
	return nil, errors.New("PostgreSQL store not merged yet")
}
