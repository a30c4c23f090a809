package eval

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"movierec/als"
	"movierec/engine"
)

// CurvePoint is one iteration of a fit observed by FitCurve.
type CurvePoint struct {
	Iteration int     `json:"iteration"`
	Seconds   float64 `json:"seconds"` // training time up to the end of this iteration, scoring excluded
	TrainRMSE float64 `json:"train_rmse"`
	TestRMSE  float64 `json:"test_rmse"`
}

// FitCurve trains s on r with p, as Fit does, and after each iteration
// scores test with the model as it stands (clamped to scale, as Score
// does), so that a run shows how the test error falls with training time:
// the time to reach a given test error. The seconds it reports, per point
// and in total, exclude the time spent scoring. It needs a backend that
// updates the model between iterations (the CPU one) and the explicit
// objective (an implicit fit is in a rotated basis until it returns); for
// other fits the curve's test errors are those of a partial model and mean
// nothing, so it refuses the implicit objective.
//
// each, if non-nil, is called with every point as it is made.
func FitCurve(ctx context.Context, s als.Solver, r *als.Ratings, p als.Params, ix Index, scale engine.Scale, test []engine.Rating, each func(CurvePoint)) (*als.Model, []CurvePoint, float64, error) {
	if p.Objective == als.Implicit {
		return nil, nil, 0, fmt.Errorf("test error curve: %w: the implicit objective has no rating error", als.ErrInvalidParams)
	}
	var (
		m       als.Model
		curve   []CurvePoint
		scoring time.Duration // time spent in the callback, not training
	)
	start := time.Now()
	progress := func(it als.Iteration) {
		t0 := time.Now()
		pt := CurvePoint{
			Iteration: it.N,
			Seconds:   (t0.Sub(start) - scoring).Seconds(),
			TrainRMSE: it.TrainRMSE,
			TestRMSE:  Score(&m, ix, scale, test).RMSE,
		}
		curve = append(curve, pt)
		if each != nil {
			each(pt)
		}
		scoring += time.Since(t0)
	}
	if err := s.Fit(ctx, &m, r, p, progress); err != nil {
		return nil, nil, 0, fmt.Errorf("train on %d ratings: %w", r.NNZ(), err)
	}
	return &m, curve, (time.Since(start) - scoring).Seconds(), nil
}

// WriteLIBMF writes r as LIBMF's text format ("user item rating" per line,
// the dense 0-based indices of ix, one line per training rating, users in
// order) to train, and the pairs of test whose user and movie are in ix
// (those Score counts) to test, so that a peer trains and scores on exactly
// the split movierec used.
func WriteLIBMF(train, test io.Writer, r *als.Ratings, ix Index, testRatings []engine.Rating) error {
	buf := make([]byte, 0, 64)
	line := func(w *bufio.Writer, u, i int32, v float32) error {
		buf = strconv.AppendInt(buf[:0], int64(u), 10)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, int64(i), 10)
		buf = append(buf, ' ')
		buf = strconv.AppendFloat(buf, float64(v), 'g', -1, 32)
		buf = append(buf, '\n')
		_, err := w.Write(buf)
		return err
	}
	tw := bufio.NewWriterSize(train, 1<<20)
	for u := range r.NumUsers {
		for k := r.UserPtr[u]; k < r.UserPtr[u+1]; k++ {
			if err := line(tw, int32(u), r.UserIdx[k], r.UserVal[k]); err != nil {
				return fmt.Errorf("write training set: %w", err)
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write training set: %w", err)
	}
	ew := bufio.NewWriterSize(test, 1<<20)
	for _, t := range testRatings {
		u, ok1 := ix.Users[t.User]
		i, ok2 := ix.Movies[t.Movie]
		if !ok1 || !ok2 {
			continue
		}
		if err := line(ew, u, i, t.Value); err != nil {
			return fmt.Errorf("write test set: %w", err)
		}
	}
	if err := ew.Flush(); err != nil {
		return fmt.Errorf("write test set: %w", err)
	}
	return nil
}
