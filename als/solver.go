package als

import (
	"context"
	"errors"
	"time"
)

// Iteration is the progress a Solver reports after each full iteration.
type Iteration struct {
	N         int           // 1-based iteration number
	Of        int           // total iterations of this fit
	TrainRMSE float64       // RMSE over the training ratings after this iteration (less any held out)
	Duration  time.Duration // wall time of this iteration (both halves, RMSEs excluded)
	// ValidationRMSE is the RMSE over the ratings Params.Validation held
	// out, after this iteration; 0 without a hold-out (and from backends
	// that ignore Validation).
	ValidationRMSE float64
	// Stopped is set on the last iteration of a fit that Params.Tolerance
	// ended before Of: why it stopped and which error decided (see
	// Params.Converged and Params.HeldOutConverged).
	Stopped string
	// FailedRows counts the rows (both halves) whose float32 solve on the
	// GPU met a non-positive pivot and were solved again in float64 on the
	// host; always 0 on the CPU, which solves in float64.
	FailedRows int
}

// Solver fits a Model to Ratings. It is the seam between the engine and the
// backends (cpu, and gpu through its worker process).
//
// Fit sizes and initialises dst with Prepare, then runs p.Iterations
// iterations (items first, then users; fewer when p.Tolerance stops it
// early, which backends without early stopping ignore, as they ignore
// p.Validation), calling progress (if non-nil) after
// each one from the goroutine that called Fit. It checks ctx between
// iterations and returns ctx.Err() (wrapped) when cancelled; dst then holds a
// partially trained model that must not be published. r is only read.
// It returns an error wrapping ErrInvalidParams for bad parameters.
//
// A Solver is not safe for concurrent Fit calls unless its documentation says
// so. Close releases its resources (worker pools, device memory, processes).
type Solver interface {
	Fit(ctx context.Context, dst *Model, r *Ratings, p Params, progress func(Iteration)) error
	Close() error
}

// WarmSolver is a Solver that can also start a fit from another model
// instead of Prepare's random factors (PrepareFrom): a retrain after a few
// new ratings starts from the published model and needs fewer iterations
// to get as far. FitFrom is Fit with that start; from must satisfy
// WarmCompatible(from, p), is only read, and must not share slices with
// dst.
//
// A backend that finds only at run time that it cannot start from a model
// (the gpu client talking to a worker built before warm starts) returns an
// error wrapping ErrNoWarmStart without having trained; the caller then
// fits from random factors with Fit, and with as many iterations as a
// cold fit needs (p's were chosen for a warm start).
type WarmSolver interface {
	Solver
	FitFrom(ctx context.Context, dst, from *Model, r *Ratings, p Params, progress func(Iteration)) error
}

// ErrNoWarmStart is wrapped by a WarmSolver's FitFrom when the backend
// cannot start from a model after all; nothing was trained.
var ErrNoWarmStart = errors.New("als: this solver cannot start from a model")
