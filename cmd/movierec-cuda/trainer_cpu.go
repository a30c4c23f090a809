//go:build !cuda

package main

import (
	"log/slog"

	"movierec/als"
	"movierec/cpu"
)

// newTrainer returns the CPU solver: this build has no CUDA.
func newTrainer(_ *slog.Logger, _ int) (als.Solver, string, error) {
	return cpu.New(0), "cpu (no cuda tag)", nil
}
