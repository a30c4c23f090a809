package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"movierec/als"
	"movierec/engine"
	"movierec/store"
)

// keepModels is how many trained snapshots stay in the database (each is
// one or two rows: the rating model and the ranking model).
const keepModels = 3

// SaveModel stores a published snapshot with the data version it saw, in
// one transaction that NOTIFYs ChannelModels: the rating model as one row
// keyed by its Params and, when the snapshot has one, the ranking model as
// another keyed by RankerParams. It prunes all but the newest few rows.
// A failure is counted in StorageStatus; the error wraps
// engine.ErrStoreUnavailable when the database cannot be reached.
func (d *DB) SaveModel(ctx context.Context, s *engine.Snapshot) error {
	return d.noteSave(d.saveModel(ctx, s))
}

func (d *DB) saveModel(ctx context.Context, s *engine.Snapshot) error {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	defer tx.Rollback(context.Background())
	if err := insertModel(ctx, tx, s, s.Model, s.Params, s.TrainSeconds, s.TrainRMSE); err != nil {
		return err
	}
	if s.Ranker != nil {
		if err := insertModel(ctx, tx, s, s.Ranker, s.RankerParams, s.RankerSeconds, s.RankerError); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM models WHERE id NOT IN (SELECT id FROM models ORDER BY id DESC LIMIT $1)`, 2*keepModels); err != nil {
		return fmt.Errorf("prune models: %w", err)
	}
	if _, err := tx.Exec(ctx, "SELECT pg_notify('"+ChannelModels+"', $1::bigint::text)", s.DataVersion); err != nil {
		return fmt.Errorf("save model: notify: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	return nil
}

// insertModel adds one row of models: m, one of s's models, trained with p.
func insertModel(ctx context.Context, tx pgx.Tx, s *engine.Snapshot, m *als.Model, p als.Params, secs, trainErr float64) error {
	params, err := json.Marshal(p)
	if err != nil {
		return err
	}
	var ub, ib []byte
	if m.Bias {
		ub, ib = store.Float32Bytes(m.UserBias), store.Float32Bytes(m.ItemBias)
	}
	_, err = tx.Exec(ctx, `INSERT INTO models (data_version, params, backend, trained_at, train_seconds, train_rmse,
		num_ratings, rank, bias, mean, user_ids, movie_ids, user_factors, item_factors, user_bias, item_bias)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		s.DataVersion, string(params), s.Backend, s.TrainedAt.UnixMilli(), secs, trainErr,
		s.Ratings, m.Rank, m.Bias, m.Mean, store.Int32Bytes(s.UserIDs), store.Int32Bytes(s.MovieIDs), store.Float32Bytes(m.UserFactors), store.Float32Bytes(m.ItemFactors), ub, ib)
	if err != nil {
		return fmt.Errorf("save model (%v): %w", p.Objective, err)
	}
	return nil
}

// LatestModel returns the newest stored model trained with p, or nil when
// there is none (engine.ModelSource). The caller compares its DataVersion
// with the current one.
func (d *DB) LatestModel(ctx context.Context, p als.Params) (*engine.Snapshot, error) {
	return d.latestModel(ctx, p)
}

// LatestModelVersion returns the data version of the newest stored model
// trained with p, and found false when there is none, with one indexed
// query and without loading the model (engine.ModelVersioner): a
// follower asks on every notification and loads only a newer model.
func (d *DB) LatestModelVersion(ctx context.Context, p als.Params) (version int64, found bool, err error) {
	params, err := json.Marshal(p) // the key LatestModel uses
	if err != nil {
		return 0, false, err
	}
	err = d.pool.QueryRow(ctx, `SELECT data_version FROM models WHERE params = $1 ORDER BY id DESC LIMIT 1`, string(params)).Scan(&version)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("newest model version: %w", unavailable(err))
	}
	return version, true, nil
}

func (d *DB) latestModel(ctx context.Context, p als.Params) (*engine.Snapshot, error) {
	params, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	row := d.pool.QueryRow(ctx, `SELECT data_version, backend, trained_at, train_seconds, train_rmse, num_ratings,
		rank, bias, mean, user_ids, movie_ids, user_factors, item_factors, user_bias, item_bias
		FROM models WHERE params = $1 ORDER BY id DESC LIMIT 1`, string(params))
	var (
		s                   engine.Snapshot
		m                   als.Model
		trainedAt           int64
		uids, mids, uf, itf []byte
		ub, ib              []byte
	)
	err = row.Scan(&s.DataVersion, &s.Backend, &trainedAt, &s.TrainSeconds, &s.TrainRMSE, &s.Ratings,
		&m.Rank, &m.Bias, &m.Mean, &uids, &mids, &uf, &itf, &ub, &ib)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load model: %w", unavailable(err))
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
