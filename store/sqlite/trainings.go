package sqlite

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
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("add training: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO trainings (started_at, seconds, backend, device, result, error, data_version, ratings, models)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.StartedAt.UnixMilli(), t.Seconds, t.Backend, t.Device, t.Result, t.Error, t.DataVersion, t.Ratings, string(js))
	if err != nil {
		return 0, fmt.Errorf("add training: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("add training: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM trainings WHERE id NOT IN (SELECT id FROM trainings ORDER BY id DESC LIMIT ?)`, keepTrainings); err != nil {
		return 0, fmt.Errorf("prune trainings: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("add training: %w", err)
	}
	return id, nil
}

// Trainings returns up to limit of the newest trainings, newest first.
func (d *DB) Trainings(ctx context.Context, limit int) ([]engine.Training, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT id, started_at, seconds, backend, device, result, error, data_version, ratings, models
		FROM trainings ORDER BY id DESC LIMIT ?`, max(limit, 0))
	if err != nil {
		return nil, fmt.Errorf("read trainings: %w", err)
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
