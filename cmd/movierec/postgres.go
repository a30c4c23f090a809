package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"

	"movierec/als"
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
var _ shared = (*postgres.DB)(nil)

// followModels is the model source a replica follows: db itself when it
// can tell the newest model's data version without loading the model
// (engine.ModelVersioner), else, for store/postgres, pgModelVersions.
// Without either, Follow would load the whole newest model every second.
func followModels(db shared) engine.ModelSource {
	if _, ok := db.(engine.ModelVersioner); ok {
		return db
	}
	if pg, ok := db.(*postgres.DB); ok {
		return pgModelVersions{pg}
	}
	return db
}

// pgModelVersions adds engine.ModelVersioner to store/postgres with one
// indexed query of its models table (models_params). It is a stopgap
// until store/postgres implements LatestModelVersion itself (asked of its
// owner; see followModels).
type pgModelVersions struct{ *postgres.DB }

// LatestModelVersion implements engine.ModelVersioner.
func (m pgModelVersions) LatestModelVersion(ctx context.Context, p als.Params) (int64, bool, error) {
	params, err := json.Marshal(p) // the key LatestModel uses
	if err != nil {
		return 0, false, err
	}
	var v int64
	err = m.Pool().QueryRow(ctx, `SELECT data_version FROM models WHERE params = $1 ORDER BY id DESC LIMIT 1`, string(params)).Scan(&v)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("newest model version: %w", err)
	}
	return v, true, nil
}
