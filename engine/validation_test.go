package engine_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"movierec/als"
	"movierec/als/alstest"
	"movierec/engine"
)

// TestRetrainLogsHeldOutError checks that with Params.Validation every
// progress line of a retrain carries the held-out error and the line
// saying why training stopped names it.
func TestRetrainLogsHeldOutError(t *testing.T) {
	movies, rs := world(t)
	var buf bytes.Buffer
	p := als.Params{Rank: 4, Iterations: 30, Lambda: 0.1, Seed: 5, Tolerance: 0.01, Validation: 0.2}
	e, err := engine.New(engine.Config{Params: p, Scale: engine.MovieLensScale, Logger: slog.New(slog.NewTextHandler(&buf, nil))},
		alstest.ReferenceSolver{}, movies, rs)
	if err != nil {
		t.Fatalf("engine.New() error = %v", err)
	}
	if _, err := e.Retrain(t.Context()); err != nil {
		t.Fatalf("Retrain() = %v", err)
	}
	var progress, stopped int
	for _, line := range strings.Split(buf.String(), "\n") {
		switch {
		case strings.Contains(line, "msg=\"training progress\""):
			progress++
			if !strings.Contains(line, " validation_rmse=") {
				t.Errorf("progress line without the held-out error: %s", line)
			}
		case strings.Contains(line, "msg=\"training stopped early\""):
			stopped++
			if !strings.Contains(line, "held-out error") {
				t.Errorf("stop line does not name the held-out error: %s", line)
			}
		}
	}
	if progress == 0 || progress >= p.Iterations || stopped != 1 {
		t.Errorf("%d progress lines, %d stop lines; want 1..%d and 1:\n%s", progress, stopped, p.Iterations-1, buf.String())
	}
}
