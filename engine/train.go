package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"movierec/als"
)

// Retrain trains a model on the ratings as they are now and publishes it:
// the rating model, then (with Config.Ranking) the ranking model, both in
// one snapshot. When no model is published yet, the rating model is
// published alone as soon as it is trained, so the service is ready
// sooner; lists are ordered by it until the full snapshot replaces it.
// Only one training runs at a time; a second call waits for the first.
// It returns the published snapshot. It does not consult RequestRetrain.
//
// With Config.Lock, Retrain trains only while Run holds the trainer lock
// (an error wrapping ErrNotTrainer otherwise), and it neither publishes nor
// saves a model once the lock is lost.
func (e *Engine) Retrain(ctx context.Context) (*Snapshot, error) {
	e.trainMu.Lock()
	defer e.trainMu.Unlock()
	if e.cfg.Lock != nil && !e.holdsLease() {
		return nil, fmt.Errorf("retrain: %w", ErrNotTrainer)
	}
	e.running.Store(true)
	defer e.running.Store(false)

	r, version, userIDs, movieIDs := e.snapshotRatings()
	p := e.cfg.Params
	log := e.log.With(logKeyVersion, version)
	log.Info("training started", "users", r.NumUsers, "movies", r.NumItems, "ratings", r.NNZ(),
		"params", p.String(), "backend", e.cfg.Backend)
	start := time.Now()
	hist := Training{StartedAt: e.cfg.Now(), DataVersion: version, Ratings: r.NNZ()}
	hist.Models = append(hist.Models, ModelTraining{Model: "rating", Params: p.String()})
	m, rmse, err := e.fit(ctx, log.With("model", "rating"), r, p, &hist.Models[0])
	secs := time.Since(start).Seconds()
	// ratingSnapshot is the rating model as published, without a ranker.
	ratingSnapshot := func() *Snapshot {
		return &Snapshot{Model: m, Params: p, DataVersion: version, Backend: e.backend(), Device: e.device(),
			TrainedAt: e.cfg.Now(), TrainSeconds: secs, TrainRMSE: rmse, Ratings: r.NNZ(),
			UserIDs: userIDs, MovieIDs: movieIDs}
	}
	var ranker *als.Model
	var rankerSecs, rankerErr float64
	if err == nil && e.cfg.Ranking.Rank != 0 {
		if e.current.Load() == nil {
			// First start: serve at once with the rating model ranking
			// rather than stay unready while the ranking model trains.
			first := ratingSnapshot()
			first.prepare()
			e.mu.Lock()
			if e.current.Load() == nil {
				e.swapLocked(first)
				log.Info("serving the rating model's order until the ranking model is trained")
			}
			e.mu.Unlock()
		}
		rstart := time.Now()
		rp := e.cfg.Ranking
		from, fromVersion := e.warmStart(r, userIDs, movieIDs)
		if from != nil {
			rp.Iterations = e.cfg.RankingWarmIterations
			e.warmChain++
		} else {
			e.warmChain = 0
		}
		log.Info("training the ranking model", "params", e.cfg.Ranking.String(), "warm_start", fromVersion, "iterations", rp.Iterations)
		hist.Models = append(hist.Models, ModelTraining{Model: "ranking", Params: e.cfg.Ranking.String(), WarmStart: fromVersion})
		ranker, rankerErr, err = e.fitFrom(ctx, log.With("model", "ranking"), from, r, rp, &hist.Models[1])
		if from != nil && errors.Is(err, als.ErrNoWarmStart) {
			// The backend found it cannot start from a model (a CUDA
			// worker built before warm starts): train cold, all iterations.
			log.Info("the solver cannot start from the published model; training the ranking model from random factors", logKeyErr, err)
			e.warmChain = 0
			hist.Models[1] = ModelTraining{Model: "ranking", Params: e.cfg.Ranking.String()}
			ranker, rankerErr, err = e.fitFrom(ctx, log.With("model", "ranking"), nil, r, e.cfg.Ranking, &hist.Models[1])
		}
		rankerSecs = time.Since(rstart).Seconds()
	}
	if err == nil && e.cfg.Lock != nil && !e.holdsLease() {
		err = fmt.Errorf("%w: the trainer lock was lost during the training", ErrNotTrainer)
	}
	total := time.Since(start).Seconds()
	backend := e.backend()
	e.countTraining(backend, err == nil, total)
	hist.Seconds, hist.Backend, hist.Device, hist.Result = total, backend, e.device(), TrainingOK
	if err != nil {
		hist.Result, hist.Error = TrainingFailed, err.Error()
		if errorsIsCtx(err) {
			hist.Result = TrainingCanceled
		}
		e.record(ctx, hist)
		log.Error("training failed", logKeyErr, err)
		return nil, fmt.Errorf("train at data version %d: %w", version, err)
	}
	e.record(ctx, hist)
	s := ratingSnapshot()
	if ranker != nil {
		s.Ranker, s.RankerParams, s.RankerSeconds, s.RankerError = ranker, e.cfg.Ranking, rankerSecs, rankerErr
	}
	s.prepare()
	e.mu.Lock()
	e.swapLocked(s)
	e.mu.Unlock()
	log.Info("model published", logKeyRMSE, s.TrainRMSE, logKeySeconds, total, "backend", s.Backend, "ranking_model", s.Ranker != nil)
	if e.cfg.Models != nil {
		if e.cfg.Lock != nil && !e.holdsLease() {
			log.Warn("the trainer lock was lost; not saving the model")
			return s, nil
		}
		saveStart := time.Now()
		if err := e.cfg.Models.SaveModel(context.WithoutCancel(ctx), s); err != nil {
			log.Error("saving the model failed; a restart will retrain", logKeyErr, err)
		} else {
			log.Debug("model saved", logKeySeconds, time.Since(saveStart).Seconds())
		}
	}
	return s, nil
}

// backend names the backend that trained last: the solver's Name() when
// it has one (a fallback solver says which backend really trained), else
// Config.Backend.
func (e *Engine) backend() string {
	if n, ok := e.solver.(interface{ Name() string }); ok {
		if s := n.Name(); s != "" {
			return s
		}
	}
	return e.cfg.Backend
}

// device describes what trains: the solver's Device() when it has one (the
// CUDA worker reports its GPU), else Config.Device, else the backend.
func (e *Engine) device() string {
	if d, ok := e.solver.(interface{ Device() string }); ok {
		if s := d.Device(); s != "" {
			return s
		}
	}
	if e.cfg.Device != "" {
		return e.cfg.Device
	}
	return e.backend()
}

// Device describes what trains the models (see Config.Device).
func (e *Engine) Device() string { return e.device() }

// logKeyStopped is the log key of why a fit stopped before its last
// iteration (als.Iteration.Stopped).
const logKeyStopped = "stopped"

// logKeyValidation is the log key of the held-out error of a fit with
// als.Params.Validation (als.Iteration.ValidationRMSE).
const logKeyValidation = "validation_rmse"

// fit trains one model with p and returns it with its final training
// error (als.TrainError), logging progress and appending each iteration
// to hist.
func (e *Engine) fit(ctx context.Context, log *slog.Logger, r *als.Ratings, p als.Params, hist *ModelTraining) (*als.Model, float64, error) {
	return e.fitFrom(ctx, log, nil, r, p, hist)
}

// fitFrom is fit starting from from (als.WarmSolver.FitFrom) when from is
// not nil, which warmStart only returns when the solver can.
func (e *Engine) fitFrom(ctx context.Context, log *slog.Logger, from *als.Model, r *als.Ratings, p als.Params, hist *ModelTraining) (*als.Model, float64, error) {
	var m als.Model
	var last als.Iteration
	progress := func(it als.Iteration) {
		last = it
		hist.Iterations = append(hist.Iterations, IterationStat{N: it.N, TrainError: it.TrainRMSE, Seconds: it.Duration.Seconds()})
		args := []any{logKeyIteration, fmt.Sprintf("%d/%d", it.N, it.Of), logKeyRMSE, it.TrainRMSE, logKeySeconds, it.Duration.Seconds()}
		if it.ValidationRMSE > 0 {
			args = append(args, logKeyValidation, it.ValidationRMSE)
		}
		log.Info("training progress", args...)
		if it.Stopped != "" {
			log.Info("training stopped early", logKeyIteration, fmt.Sprintf("%d/%d", it.N, it.Of), logKeyStopped, it.Stopped)
		}
	}
	var err error
	if from != nil {
		err = e.solver.(als.WarmSolver).FitFrom(ctx, &m, from, r, p, progress)
	} else {
		err = e.solver.Fit(ctx, &m, r, p, progress)
	}
	if err != nil {
		return nil, 0, err
	}
	errv := last.TrainRMSE
	if p.Iterations == 0 {
		errv = als.TrainError(&m, r, p)
	}
	return &m, errv, nil
}

// maxWarmChain is the most retrains in a row whose ranking model starts
// from the published one (Config.RankingWarmIterations); the next starts
// from random factors, so that a long-running server's model is never far
// from one a restart would train.
const maxWarmChain = 20

// maxWarmChange is the largest change in the number of ratings, as a share
// of the new number, since the published ranking model was trained that a
// warm start accepts.
const maxWarmChange = 0.05

// warmStart returns the model a retrain of the ranking model on r (rows
// userIDs, columns movieIDs) starts from, and the data version of the
// published model it comes from; nil and 0 for a start from random
// factors (see Config.RankingWarmIterations). The model is in r's index
// space: rows of users and movies the published ranker has hold its
// factors, the others the random ones als.Prepare would give them. Called
// with trainMu held.
func (e *Engine) warmStart(r *als.Ratings, userIDs, movieIDs []int32) (*als.Model, int64) {
	p := e.cfg.Ranking
	if e.cfg.RankingWarmIterations <= 0 || e.cfg.RankingWarmIterations >= p.Iterations || e.warmChain >= maxWarmChain {
		return nil, 0
	}
	if _, ok := e.solver.(als.WarmSolver); !ok {
		return nil, 0
	}
	prev := e.current.Load()
	if prev == nil || prev.Ranker == nil || prev.RankerParams != p || !als.WarmCompatible(prev.Ranker, p) ||
		len(prev.UserIDs) != prev.Ranker.NumUsers || len(prev.MovieIDs) != prev.Ranker.NumItems {
		return nil, 0
	}
	if d := r.NNZ() - prev.Ratings; float64(max(d, -d)) > maxWarmChange*float64(r.NNZ()) {
		return nil, 0
	}
	k := p.Rank
	from := &als.Model{Rank: k, NumUsers: r.NumUsers, NumItems: r.NumItems, Bias: p.Bias,
		UserFactors: make([]float32, r.NumUsers*k), ItemFactors: make([]float32, r.NumItems*k)}
	random := func(dst []float32, side uint64) func(j int) {
		return func(j int) { als.InitFactorRows(dst, k, p.Seed, side, j, j+1) }
	}
	rowsByID(from.UserFactors, userIDs, prev.Ranker.UserFactors, prev.UserIDs, k, random(from.UserFactors, 0))
	rowsByID(from.ItemFactors, movieIDs, prev.Ranker.ItemFactors, prev.MovieIDs, k, random(from.ItemFactors, 1))
	if p.Bias { // new rows' biases start at zero, as Prepare's
		from.UserBias, from.ItemBias = make([]float32, r.NumUsers), make([]float32, r.NumItems)
		rowsByID(from.UserBias, userIDs, prev.Ranker.UserBias, prev.UserIDs, 1, nil)
		rowsByID(from.ItemBias, movieIDs, prev.Ranker.ItemBias, prev.MovieIDs, 1, nil)
	}
	return from, prev.DataVersion
}

// rowsByID fills dst (rows of k values, ids dstIDs) with the row of src
// (ids srcIDs) of the same id; for a row whose id src lacks it calls
// missing (when non-nil) with the row's index.
func rowsByID(dst []float32, dstIDs []int32, src []float32, srcIDs []int32, k int, missing func(j int)) {
	at := make(map[int32]int, len(srcIDs))
	for i, id := range srcIDs {
		at[id] = i
	}
	for j, id := range dstIDs {
		if i, ok := at[id]; ok {
			copy(dst[j*k:(j+1)*k], src[i*k:(i+1)*k])
		} else if missing != nil {
			missing(j)
		}
	}
}

// snapshotRatings copies the rows' headers under the read lock and builds
// the CSR outside it. Rows are copy-on-write, so the copy stays consistent.
// It returns the CSR, its data version, and the ids of its rows (users)
// and columns (the movies of the catalog as it was: a model trained on it
// has no factors for movies added since).
func (e *Engine) snapshotRatings() (*als.Ratings, int64, []int32, []int32) {
	e.mu.RLock()
	rows := append([]row(nil), e.rows...)
	userIDs := append([]int32(nil), e.userIDs...)
	version := e.trainVersionLocked()
	c := e.cat.Load()
	e.mu.RUnlock()

	ptr := make([]int64, len(rows)+1)
	for u, r := range rows {
		ptr[u+1] = ptr[u] + int64(len(r.movies))
	}
	idx := make([]int32, ptr[len(rows)])
	val := make([]float32, ptr[len(rows)])
	for u, r := range rows {
		copy(idx[ptr[u]:], r.movies)
		copy(val[ptr[u]:], r.vals)
	}
	return als.NewRatingsCSR(len(rows), len(c.movies), ptr, idx, val), version, userIDs, c.ids()
}

// RequestRetrain asks the Run loop for a retrain. Requests made while one is
// pending coalesce into it; it never blocks. The retrain is skipped when no
// rating changed since the published model.
func (e *Engine) RequestRetrain() {
	if e.cfg.NeverTrain || e.cfg.Lock != nil && !e.leader.Load() {
		return // another process trains (see Config.Lock)
	}
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// RequestForcedRetrain is RequestRetrain for an operator: it coalesces
// with other requests in the same way, but the retrain runs even when no
// rating changed since the published model.
func (e *Engine) RequestForcedRetrain() {
	e.force.Store(true)
	e.RequestRetrain()
}

// RetrainState reports whether a retrain is pending (requested, not yet
// started: queued for the Run loop or waiting out RetrainInterval) and
// whether one is running (Retrain, from Run or a direct call).
func (e *Engine) RetrainState() (pending, running bool) {
	return len(e.kick) > 0 || e.waiting.Load(), e.running.Load()
}

// Run serves retrain requests until ctx is done: at most one training runs
// and at most one more is pending, and two start at least
// Config.RetrainInterval apart. Give it the server's lifetime context,
// never a request's. It returns nil when ctx ends.
//
// With Config.NeverTrain it returns at once. With Config.Lock it competes
// for the trainer lock (every Config.LockRetry while another process
// holds it) and serves retrain requests only while it holds the lock;
// on taking it, it retrains when the published model is older than the
// data. A lost lock cancels the training in progress.
func (e *Engine) Run(ctx context.Context) error {
	switch {
	case e.cfg.NeverTrain:
		return nil
	case e.cfg.Lock != nil:
		return e.runLocked(ctx)
	}
	return e.runLoop(ctx)
}

// leaseHolder boxes a Lease for an atomic pointer.
type leaseHolder struct{ Lease }

// holdsLease reports whether the engine holds a trainer lease that is not
// lost.
func (e *Engine) holdsLease() bool {
	h := e.lease.Load()
	if h == nil {
		return false
	}
	select {
	case <-h.Lost():
		return false
	default:
		return true
	}
}

// Trainer reports whether this engine trains now: it has no Config.Lock
// and is not NeverTrain, or it holds the lock.
func (e *Engine) Trainer() bool {
	switch {
	case e.cfg.NeverTrain:
		return false
	case e.cfg.Lock != nil:
		return e.holdsLease()
	}
	return true
}

// RetrainHolding is Retrain for a one-off training (`movierec train`)
// under a lease of Config.Lock that the caller took and releases: the
// training is canceled, and nothing published or saved, once the lease is
// lost. It must not be used while Run holds a lease.
func (e *Engine) RetrainHolding(ctx context.Context, lease Lease) (*Snapshot, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-lease.Lost():
			cancel()
		case <-ctx.Done():
		}
	}()
	e.lease.Store(&leaseHolder{lease})
	defer e.lease.Store(nil)
	return e.Retrain(ctx)
}

// runLocked is Run with Config.Lock.
func (e *Engine) runLocked(ctx context.Context) error {
	retry := e.cfg.LockRetry
	if retry <= 0 {
		retry = 2 * time.Second
	}
	failing := false
	for {
		lease, err := e.cfg.Lock.TryAcquire(ctx)
		switch {
		case ctx.Err() != nil:
			if lease != nil {
				lease.Release()
			}
			return nil
		case err != nil:
			if !failing {
				e.log.Warn("cannot reach the trainer lock; trying again", logKeyErr, err)
			}
			failing = true
		case lease != nil:
			failing = false
			e.lead(ctx, lease)
			continue // try to take it back at once (if the store is back)
		default:
			failing = false
		}
		t := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// lead trains while lease holds, then releases it.
func (e *Engine) lead(ctx context.Context, lease Lease) {
	defer lease.Release()
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-lease.Lost():
			cancel()
		case <-lctx.Done():
		}
	}()
	e.lease.Store(&leaseHolder{lease})
	e.leader.Store(true)
	defer func() {
		e.leader.Store(false)
		e.lease.Store(nil)
	}()
	e.log.Info("trainer lock taken: this process trains")
	if s := e.Snapshot(); s == nil || s.DataVersion < e.trainVersion() || s.Ranker == nil && e.cfg.Ranking.Rank != 0 {
		e.RequestRetrain()
	}
	_ = e.runLoop(lctx)
	if ctx.Err() == nil {
		e.log.Warn("trainer lock lost: not training until it is taken again")
	}
}

// runLoop is Run without a lock.
func (e *Engine) runLoop(ctx context.Context) error {
	var last time.Time // start of the previous background retrain
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-e.kick:
		}
		e.waiting.Store(true)
		if wait := e.cfg.RetrainInterval - time.Since(last); !last.IsZero() && wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				e.waiting.Store(false)
				return nil
			case <-t.C:
			}
		}
		forced := e.force.Swap(false)
		if s := e.Snapshot(); s != nil && s.DataVersion >= e.trainVersion() && !forced {
			e.waiting.Store(false)
			continue // nothing changed since the published model
		}
		last = time.Now()
		e.running.Store(true) // before waiting ends, so RetrainState never shows neither
		e.waiting.Store(false)
		if _, err := e.Retrain(ctx); err != nil && !errorsIsCtx(err) {
			e.log.Error("background retrain failed; serving the previous model", logKeyErr, err)
		}
	}
}
