package engine

import (
	"context"
	"slices"
	"time"
)

// Training results.
const (
	TrainingOK       = "ok"
	TrainingFailed   = "failed"
	TrainingCanceled = "canceled"
)

// keepTrainings is how many trainings the in-memory history keeps; a
// TrainingLog keeps its own number (the SQLite store: the same).
const keepTrainings = 50

// Training is one Retrain: both models of a snapshot, or as far as it got.
type Training struct {
	ID          int64 // assigned when recorded, increasing
	StartedAt   time.Time
	Seconds     float64 // wall time of the whole training
	Backend     string  // what trained it ("cpu", "cuda")
	Device      string  // "2 cores", a GPU's name (see Config.Device)
	Result      string  // TrainingOK, TrainingFailed or TrainingCanceled
	Error       string  // why it failed; empty otherwise
	DataVersion int64   // the data version trained on
	Ratings     int     // ratings trained on
	Models      []ModelTraining
}

// ModelTraining is the fit of one model of a Training.
type ModelTraining struct {
	Model      string // "rating" or "ranking"
	Params     string // als.Params.String()
	Iterations []IterationStat
	// WarmStart is the data version of the published model the fit
	// started from (Config.RankingWarmIterations), 0 for a fit from
	// random factors.
	WarmStart int64
}

// IterationStat is one iteration of a fit.
type IterationStat struct {
	N          int     // 1-based
	TrainError float64 // als.Iteration.TrainRMSE: rating RMSE, or the implicit objective's preference RMSE
	Seconds    float64
}

// TrainingLog keeps the training history. A Store may implement it; without
// it the engine keeps the newest trainings in memory. AddTraining is called
// from the training goroutine after each training and returns the id it
// gave; Trainings returns up to limit trainings, newest first.
type TrainingLog interface {
	AddTraining(ctx context.Context, t Training) (int64, error)
	Trainings(ctx context.Context, limit int) ([]Training, error)
}

// Trainings returns up to limit of the newest trainings, newest first:
// from the store when it is a TrainingLog (so they outlive restarts), else
// from memory (the last 50).
func (e *Engine) Trainings(ctx context.Context, limit int) ([]Training, error) {
	if l, ok := e.cfg.Store.(TrainingLog); ok {
		return l.Trainings(ctx, limit)
	}
	e.histMu.Lock()
	defer e.histMu.Unlock()
	n := min(max(limit, 0), len(e.history))
	out := slices.Clone(e.history[len(e.history)-n:])
	slices.Reverse(out)
	return out, nil
}

// record keeps t in the history; a store's failure is logged, never
// returned: the model is served either way.
func (e *Engine) record(ctx context.Context, t Training) {
	if l, ok := e.cfg.Store.(TrainingLog); ok {
		if _, err := l.AddTraining(context.WithoutCancel(ctx), t); err != nil {
			e.log.Error("recording the training failed", logKeyErr, err)
		}
		return
	}
	e.histMu.Lock()
	defer e.histMu.Unlock()
	e.histID++
	t.ID = e.histID
	e.history = append(e.history, t)
	if len(e.history) > keepTrainings {
		e.history = slices.Delete(e.history, 0, len(e.history)-keepTrainings)
	}
}
