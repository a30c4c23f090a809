package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"movierec/als"
	"movierec/engine"
	"movierec/store"
)

// keepModels is how many trained snapshots stay in the database (each is
// one or two rows: the rating model and the ranking model).
const keepModels = 3

// SaveModel stores a published snapshot with the data version it saw, in
// one transaction: the rating model as one row keyed by its Params and,
// when the snapshot has one, the ranking model as another keyed by
// RankerParams, both with the snapshot's user and movie ids. It prunes all
// but the newest few rows.
//
// A failure is counted in StorageStatus (ModelSaveFailures) and, when it is the
// storage's, marks writes as failing; the error wraps engine.ErrDiskFull
// when the disk is full.
func (d *DB) SaveModel(ctx context.Context, s *engine.Snapshot) error {
	return d.noteSave(d.saveModel(ctx, s))
}

func (d *DB) saveModel(ctx context.Context, s *engine.Snapshot) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	defer tx.Rollback()
	if err := insertModel(ctx, tx, s, s.Model, s.Params, s.TrainSeconds, s.TrainRMSE); err != nil {
		return err
	}
	if s.Ranker != nil {
		if err := insertModel(ctx, tx, s, s.Ranker, s.RankerParams, s.RankerSeconds, s.RankerError); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM models WHERE id NOT IN (SELECT id FROM models ORDER BY id DESC LIMIT ?)`, 2*keepModels); err != nil {
		return fmt.Errorf("prune models: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	return nil
}

// insertModel adds one row of models: m, one of s's models, trained with p.
func insertModel(ctx context.Context, tx *sql.Tx, s *engine.Snapshot, m *als.Model, p als.Params, secs, trainErr float64) error {
	params, err := json.Marshal(p)
	if err != nil {
		return err
	}
	var ub, ib []byte
	if m.Bias {
		ub, ib = store.Float32Bytes(m.UserBias), store.Float32Bytes(m.ItemBias)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO models (data_version, params, backend, trained_at, train_seconds, train_rmse,
		num_ratings, rank, bias, mean, user_ids, movie_ids, user_factors, item_factors, user_bias, item_bias)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.DataVersion, string(params), s.Backend, s.TrainedAt.UnixMilli(), secs, trainErr,
		s.Ratings, m.Rank, m.Bias, m.Mean, store.Int32Bytes(s.UserIDs), store.Int32Bytes(s.MovieIDs), store.Float32Bytes(m.UserFactors), store.Float32Bytes(m.ItemFactors), ub, ib)
	if err != nil {
		return fmt.Errorf("save model (%v): %w", p.Objective, err)
	}
	return nil
}

// LatestModel returns the newest stored model trained with p, or nil when
// there is none. The caller compares its DataVersion with the current one.
func (d *DB) LatestModel(ctx context.Context, p als.Params) (*engine.Snapshot, error) {
	params, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	row := d.read.QueryRowContext(ctx, `SELECT data_version, backend, trained_at, train_seconds, train_rmse, num_ratings,
		rank, bias, mean, user_ids, movie_ids, user_factors, item_factors, user_bias, item_bias
		FROM models WHERE params = ? ORDER BY id DESC LIMIT 1`, string(params))
	var (
		s                   engine.Snapshot
		m                   als.Model
		trainedAt           int64
		uids, mids, uf, itf []byte
		ub, ib              []byte
	)
	err = row.Scan(&s.DataVersion, &s.Backend, &trainedAt, &s.TrainSeconds, &s.TrainRMSE, &s.Ratings,
		&m.Rank, &m.Bias, &m.Mean, &uids, &mids, &uf, &itf, &ub, &ib)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	s.Params = p
	s.TrainedAt = time.UnixMilli(trainedAt)
	if err := store.DecodeModel(&s, &m, store.ModelBlobs{UserIDs: uids, MovieIDs: mids,
		UserFactors: uf, ItemFactors: itf, UserBias: ub, ItemBias: ib}); err != nil {
		return nil, err
	}
	s.Model = &m
	return &s, nil
}
