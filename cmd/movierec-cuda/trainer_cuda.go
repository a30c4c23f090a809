//go:build cuda

package main

import (
	"log/slog"

	"movierec/als"
	"movierec/gpu"
)

// newTrainer opens CUDA device ordinal. Its error wraps gpu.ErrNoDevice when
// there is no usable device, which the hello reports as "no device".
func newTrainer(log *slog.Logger, ordinal int) (als.Solver, string, error) {
	d, err := gpu.NewDevice(log, ordinal)
	if err != nil {
		return nil, "", err
	}
	return d, d.Name(), nil
}
