package alstest

import (
	"context"
	"fmt"
	"math"
	"time"

	"movierec/als"
)

// ReferenceSolver is ReferenceHalf behind the als.Solver interface: slow,
// obviously correct, for tests of packages that need a real trainer on tiny
// data (engine, api) and to check the conformance suite itself.
type ReferenceSolver struct{}

var _ als.Solver = ReferenceSolver{}

// Fit implements als.Solver, with early stopping (Params.Tolerance) and
// a held-out share (Params.Validation) as the cpu solver has them.
func (ReferenceSolver) Fit(ctx context.Context, dst *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("reference fit: %w", err)
	}
	var held als.HeldOut
	if p.Validation > 0 {
		r, held = r.HoldOut(p.Validation, p.Seed) // train on the rest
	}
	als.Prepare(dst, r, p)
	prev, prevHeld := math.NaN(), math.NaN()
	for it := 1; it <= p.Iterations; it++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("reference fit: %w", err)
		}
		start := time.Now()
		referenceIteration(dst, r, p)
		d := time.Since(start)
		if progress == nil && p.Tolerance == 0 {
			continue
		}
		e := als.TrainError(dst, r, p)
		rep := als.Iteration{N: it, Of: p.Iterations, TrainRMSE: e, Duration: d}
		var stop bool
		if held.Len() > 0 {
			rep.ValidationRMSE = held.RMSE(dst)
			stop, rep.Stopped = p.HeldOutConverged(prevHeld, rep.ValidationRMSE)
			prevHeld = rep.ValidationRMSE
		} else {
			stop, rep.Stopped = p.Converged(prev, e)
		}
		prev = e
		if progress != nil {
			progress(rep)
		}
		if stop {
			break
		}
	}
	return nil
}

// Close implements als.Solver; there is nothing to release.
func (ReferenceSolver) Close() error { return nil }
