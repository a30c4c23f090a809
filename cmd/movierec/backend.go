package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	"movierec/als"
	"movierec/cpu"
	"movierec/gpu"
)

// workerName is the CUDA worker's file name, looked up next to movierec.
const workerName = "movierec-cuda"

// newSolver builds the trainer --backend asks for, for a command that
// only trains (train, eval), and returns its name.
//
//   - cpu: gonum on --train-workers goroutines (default: every core).
//   - cuda: the CUDA worker; failing to start it is an error.
//   - auto: the CUDA worker if it starts and has a device, falling back to the
//     CPU (logged) when it is missing, has no device, or fails a training.
func newSolver(ctx context.Context, m modelFlags, log *slog.Logger) (als.Solver, string, error) {
	return newSolverFor(ctx, m, cpu.Options{Workers: m.workers}, log)
}

// servingNice is how much the CPU trainer of a server lowers its threads'
// priority (see cpu.Options.Nice): requests, handled at the normal
// priority, get a core as soon as they want one.
const servingNice = 10

// newServingSolver is newSolver for a server, which trains beside the
// requests it answers: the CPU trainer defaults to one core fewer than
// the machine has (at least one, see servingWorkers), and its threads run
// at a lower priority (servingNice) and yield between chunks of rows; the
// CUDA worker process, if one trains, runs at that lower priority too.
// None of this changes the trained model.
func newServingSolver(ctx context.Context, m modelFlags, log *slog.Logger) (als.Solver, string, error) {
	return newSolverFor(ctx, m, servingOptions(m.workers, runtime.GOMAXPROCS(0)), log)
}

// servingOptions are the CPU trainer's options in a server with cores
// cores, given --train-workers.
func servingOptions(flag, cores int) cpu.Options {
	return cpu.Options{Workers: servingWorkers(flag, cores), Nice: servingNice, Yield: true}
}

// servingWorkers is a server's CPU trainer goroutine count: --train-workers
// when set, else cores − 1, at least 1. Leaving a core to the requests keeps
// answers fast while a model trains (bench/RESULTS.md, "Serving while
// training"); training takes longer by about cores/(cores − 1).
func servingWorkers(flag, cores int) int {
	if flag > 0 {
		return flag
	}
	return max(1, cores-1)
}

// newSolverFor is newSolver with the CPU trainer's options.
func newSolverFor(ctx context.Context, m modelFlags, o cpu.Options, log *slog.Logger) (als.Solver, string, error) {
	s := cpu.NewWithOptions(o)
	c := cpuSolver{s, s.Options().Workers}
	if m.backend == "cpu" {
		return c, "cpu", nil
	}
	if m.backend == "cuda" && m.p.RegOffset != 0 {
		c.Close()
		return nil, "", fmt.Errorf("--backend cuda: the CUDA backend has no --reg-offset (%g): use --backend cpu or auto (which trains that model on the CPU)", m.p.RegOffset)
	}
	path := m.cudaWorker
	if path == "" {
		if exe, err := os.Executable(); err == nil {
			path = filepath.Join(filepath.Dir(exe), workerName)
		}
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && m.backend == "auto" {
		log.Info("no CUDA worker next to the binary; training on the CPU", "looked_for", path)
		return c, "cpu", nil
	}
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	// A server's worker runs at its CPU trainer's lower priority too.
	client, err := gpu.StartWorkerWith(sctx, path, gpu.WorkerOptions{Log: log, Nice: o.Nice})
	if err != nil {
		if m.backend == "cuda" {
			c.Close()
			return nil, "", fmt.Errorf("--backend cuda: start %s: %w", path, err)
		}
		log.Warn("CUDA worker unusable; training on the CPU", "worker", path, "err", err)
		return c, "cpu", nil
	}
	log.Info("CUDA worker ready", "worker", path, "device", client.Device())
	if m.backend == "cuda" {
		c.Close()
		return client, "cuda", nil
	}
	return newFallback(client, c, log), "cuda", nil
}

// fallback trains with primary (the CUDA worker) and, when that fails for
// any reason but cancellation, with secondary (the CPU) instead. The worker
// client restarts a dead worker on its next Fit, but a circuit breaker
// (see breaker) keeps a persistently failing GPU from being retried on
// every training: after a failure, trainings go straight to the CPU for a
// backoff that doubles with each further failure.
//
// onFallback, if set before the first Fit, is called with the reason of
// each training the CPU did instead of the GPU: "stalled" (the watchdog
// killed the worker), "failed" (any other failure) or "circuit_open".
type fallback struct {
	primary, secondary als.Solver
	log                *slog.Logger
	last               atomic.Pointer[string]
	breaker            *breaker
	onFallback         func(reason string)
}

var _ als.WarmSolver = (*fallback)(nil)

func newFallback(primary, secondary als.Solver, log *slog.Logger) *fallback {
	return &fallback{primary: primary, secondary: secondary, log: log, breaker: newBreaker(time.Now)}
}

// Fit implements als.Solver.
func (f *fallback) Fit(ctx context.Context, dst *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	return f.fit(ctx, dst, nil, r, p, progress)
}

// FitFrom implements als.WarmSolver: as Fit, from the same start on either
// backend, so that a fall back still runs only a warm start's iterations.
// An error wrapping als.ErrNoWarmStart (a worker built before warm starts)
// is returned as is, like bad parameters, and trips no breaker: the caller
// fits cold, on the GPU.
func (f *fallback) FitFrom(ctx context.Context, dst, from *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	return f.fit(ctx, dst, from, r, p, progress)
}

// fit is Fit (from nil) or FitFrom.
func (f *fallback) fit(ctx context.Context, dst, from *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	if p.RegOffset != 0 {
		// The CUDA backend has no ridge offset (gpu refuses it): such a
		// model trains on the CPU, which is no failure of the GPU.
		if err := fitWith(ctx, f.secondary, dst, from, r, p, progress); err != nil {
			return err
		}
		f.setLast("cpu")
		return nil
	}
	if ok, wait := f.breaker.allow(); !ok {
		f.log.Info("CUDA worker failed recently; training on the CPU", "retry_in", wait.Round(time.Second))
		return f.onCPU(ctx, dst, from, r, p, progress, "circuit_open")
	}
	err := fitWith(ctx, f.primary, dst, from, r, p, progress)
	if err == nil {
		f.breaker.succeed()
		f.setLast("cuda")
		return nil
	}
	if ctx.Err() != nil || errors.Is(err, als.ErrInvalidParams) || errors.Is(err, als.ErrNoWarmStart) {
		return err
	}
	reason := "failed"
	if errors.Is(err, gpu.ErrStalled) {
		reason = "stalled"
	}
	wait := f.breaker.fail()
	f.log.Warn("CUDA training failed; training on the CPU instead", "err", err, "reason", reason,
		"gpu_retry_in", wait)
	return f.onCPU(ctx, dst, from, r, p, progress, reason)
}

// onCPU trains with secondary (from from when non-nil) after the GPU was
// skipped or failed for reason.
func (f *fallback) onCPU(ctx context.Context, dst, from *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration), reason string) error {
	if f.onFallback != nil {
		f.onFallback(reason)
	}
	if err := fitWith(ctx, f.secondary, dst, from, r, p, progress); err != nil {
		return err
	}
	f.setLast("cpu")
	return nil
}

// fitWith is s.Fit when from is nil, else s.FitFrom; an error wrapping
// als.ErrNoWarmStart when s has no FitFrom.
func fitWith(ctx context.Context, s als.Solver, dst, from *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	if from == nil {
		return s.Fit(ctx, dst, r, p, progress)
	}
	w, ok := s.(als.WarmSolver)
	if !ok {
		return fmt.Errorf("%T: %w", s, als.ErrNoWarmStart)
	}
	return w.FitFrom(ctx, dst, from, r, p, progress)
}

func (f *fallback) setLast(s string) { f.last.Store(&s) }

// Name says which backend trained the last model.
func (f *fallback) Name() string {
	if s := f.last.Load(); s != nil {
		return *s
	}
	return "cuda"
}

// Device names the device that trained the last model: the GPU's, or the
// CPU's cores after a fall back.
func (f *fallback) Device() string {
	if f.Name() == "cpu" {
		if d, ok := f.secondary.(interface{ Device() string }); ok {
			return d.Device()
		}
		return "cpu"
	}
	if d, ok := f.primary.(interface{ Device() string }); ok {
		return d.Device()
	}
	return ""
}

// cpuSolver is the CPU trainer with a Device for reports ("2 cores").
type cpuSolver struct {
	*cpu.Solver
	workers int
}

// Device says how many cores train.
func (c cpuSolver) Device() string {
	n := c.workers
	if n == 1 {
		return "1 core"
	}
	return fmt.Sprintf("%d cores", n)
}

// Close stops both trainers.
func (f *fallback) Close() error { return errors.Join(f.primary.Close(), f.secondary.Close()) }
