package postgres

import (
	"context"
	"fmt"
	"time"

	"movierec/engine"
	"movierec/store"
)

// keepTrainings is how many trainings stay in the database.
const keepTrainings = 50

var _ engine.TrainingLog = (*DB)(nil)

// AddTraining stores t (its ID is ignored) and prunes all but the newest
// 50, in one transaction. It returns the id it got.
func (d *DB) AddTraining(ctx context.Context, t engine.Training) (int64, error) {
	js, err := store.TrainingModelsJSON(t.Models)
	if err != nil {
		return 0, err
	}
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("add training: %w", unavailable(err))
	}
	defer tx.Rollback(context.Background())
	var id int64
	err = tx.QueryRow(ctx, `INSERT INTO trainings (started_at, seconds, backend, device, result, error, data_version, ratings, models)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		t.StartedAt.UnixMilli(), t.Seconds, t.Backend, t.Device, t.Result, t.Error, t.DataVersion, t.Ratings, string(js)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("add training: %w", unavailable(err))
	}
	if _, err := tx.Exec(ctx, `DELETE FROM trainings WHERE id NOT IN (SELECT id FROM trainings ORDER BY id DESC LIMIT $1)`, keepTrainings); err != nil {
		return 0, fmt.Errorf("prune trainings: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("add training: %w", err)
	}
	return id, nil
}

// Trainings returns up to limit of the newest trainings, newest first.
func (d *DB) Trainings(ctx context.Context, limit int) ([]engine.Training, error) {
	rows, err := d.pool.Query(ctx, `SELECT id, started_at, seconds, backend, device, result, error, data_version, ratings, models
		FROM trainings ORDER BY id DESC LIMIT $1`, max(limit, 0))
	if err != nil {
		return nil, fmt.Errorf("read trainings: %w", unavailable(err))
	}
	defer rows.Close()
	out := []engine.Training{}
	for rows.Next() {
		var t engine.Training
		var started int64
		var js string
		if err := rows.Scan(&t.ID, &started, &t.Seconds, &t.Backend, &t.Device, &t.Result, &t.Error, &t.DataVersion, &t.Ratings, &js); err != nil {
			return nil, fmt.Errorf("read trainings: %w", err)
		}
		t.StartedAt = time.UnixMilli(started)
		if t.Models, err = store.ParseTrainingModels([]byte(js)); err != nil {
			return nil, fmt.Errorf("read training %d: %w", t.ID, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
