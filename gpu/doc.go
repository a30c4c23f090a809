// Package gpu trains ALS models on NVIDIA GPUs.
//
// It has two halves. The files tagged `cuda` hold Device, an als.Solver that
// runs the kernels of package kernels through gorgonia.org/cu; they are
// linked only into the worker binary cmd/movierec-cuda, because package cu
// exits the process at init when no CUDA driver or device is present. The
// untagged files build everywhere and hold what the server needs: the
// versioned binary protocol spoken over the worker's stdin and stdout
// (Encoder, Decoder and the message types), and Client, an als.Solver that
// starts the worker with StartWorker and trains through it.
//
// Resident data (protocol 4): the worker keeps the ratings of its last job
// as a numbered version of the Client's dataset, and the Client sends the
// next Fit's ratings as a Delta from it (delta.go: the set and deleted
// ratings, found by comparing the by-user rows with the Ratings it sent
// last; the worker merges them into both orientations). A full upload
// happens on a worker's first job, after a restart or a failed job, when
// the dimensions shrink, when more than a quarter of the ratings changed,
// and when the worker answers CodeStaleData (a version gap). The cuda
// build's Device keeps the last Fit's ratings on the GPU too (resident.go):
// the merge records a Patch (patch.go: runs copied from the previous
// version, entries that are new), the worker hands it over (Patcher), and
// the Device builds the new version from the held one with als_copy_runs,
// sending only the row pointers, the run tables and the new entries. A Fit
// on the ratings it holds sends nothing.
//
// Warm starts: Client and Device are als.WarmSolvers. Client.FitFrom sends
// the starting model in the Job (Job.Init, rank×(users+items)×4 bytes over
// the pipe), the worker checks it and fits from it (als.PrepareFrom, then
// the same upload as a cold fit), so a retrain after a few new ratings runs
// a warm start's few iterations on the GPU too. A worker built before warm
// starts refuses Init; FitFrom then returns als.ErrNoWarmStart and the
// caller fits cold.
//
// Sentinel errors: ErrNoDevice (no usable device; fall back to the CPU),
// ErrWorker (the worker process failed), ErrStalled (with ErrWorker: the
// Client's watchdog killed a worker that stopped reporting progress),
// ErrProtocol (malformed frames).
//
// Failure safety: a Client kills a worker that sends no progress within
// max(30 s, 20× the last iteration); rows whose float32 solve fails on the
// device are listed by the kernels and re-solved in float64 on the host
// (resolve.go), counted in als.Iteration.FailedRows; the server's fall-back
// to the CPU has a circuit breaker (cmd/movierec/breaker.go).
//
// Testing: `go test ./gpu` needs no GPU; it builds the untagged worker (which
// trains with package cpu) and exercises the protocol, the client, the
// fallback and crash handling. `go test -tags cuda ./gpu` runs the device
// conformance and cross-check tests and benchmarks; it needs a GPU host with
// a driver (libcuda.so.1), since the test binary links package cu. Elsewhere
// CI only compiles it: `go test -c -tags cuda -o /dev/null ./gpu`.
package gpu
