package main

import (
	"context"
	"log/slog"

	"movierec/als"
	"movierec/cpu"
)

// newSolver builds the trainer --backend asks for and returns its name.
func newSolver(ctx context.Context, m modelFlags, log *slog.Logger) (als.Solver, string, error) {
	return cpu.New(m.workers), "cpu", nil
}
