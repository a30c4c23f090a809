package gpu

import "errors"

// ErrNoDevice is wrapped by errors that mean no usable CUDA device is
// present: NewDevice without a device, StartWorker when the worker says so
// (or cannot load the CUDA driver). Callers with --backend auto fall back to
// the CPU on it.
var ErrNoDevice = errors.New("gpu: no CUDA device")

// ErrWorker is wrapped by Client errors caused by the worker process: it
// cannot be started, fails the handshake, breaks the protocol, or exits
// during a job.
var ErrWorker = errors.New("gpu: worker failed")

// ErrStalled is wrapped (with ErrWorker) by a Client's Fit error when the
// worker sent no progress within the watchdog's deadline (see
// WorkerOptions.WatchdogFloor): the worker was killed, and the next Fit
// starts a fresh one.
var ErrStalled = errors.New("gpu: worker stalled")
