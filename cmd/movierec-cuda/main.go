// Command movierec-cuda is the training worker that `movierec serve` (and
// gpu.StartWorker) runs as a child process. It reads jobs from stdin and
// writes progress and results to stdout in package gpu's protocol; it logs
// to stderr.
//
// Built with -tags cuda it trains on the GPU (gpu.NewDevice) and reports "no
// device" in its hello when it finds none; without the tag it trains with
// package cpu and reports the device "cpu (no cuda tag)", which is what CI
// uses to test the protocol, the fallback and crash handling without a GPU.
// Either solver can start from a Job's Init (a warm start, als.WarmSolver),
// which the worker checks first (checkInit).
//
// Note that the cuda build links gorgonia.org/cu, whose package init exits
// the process (printing to stdout) when the CUDA driver is missing or finds
// no device; gpu.StartWorker recognises that and reports gpu.ErrNoDevice.
//
// Test hooks (environment): MOVIEREC_WORKER_CRASH_AFTER=N makes the worker
// exit with status 3 right after writing its N-th progress event;
// MOVIEREC_WORKER_STALL_AFTER=N makes it hang (sending nothing more and
// ignoring Cancel, as a hung kernel would) right after writing its N-th
// progress event, or before the first with N=0;
// MOVIEREC_WORKER_NO_DEVICE=1 makes it report no device;
// MOVIEREC_WORKER_NO_INIT=1 makes it reject every Job.Init (CodeInvalidJob)
// as workers built before warm starts do.
//
// Usage:
//
//	movierec-cuda [-device N]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"movierec/als"
	"movierec/gpu"
)

func main() {
	fs := flag.NewFlagSet("movierec-cuda", flag.ExitOnError)
	device := fs.Int("device", 0, "CUDA device ordinal")
	_ = fs.Parse(os.Args[1:])
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("component", "movierec-cuda", "pid", os.Getpid())
	os.Exit(run(os.Stdin, os.Stdout, log, os.Getenv, *device))
}

// run serves one session and returns the exit status.
func run(stdin io.Reader, stdout io.Writer, log *slog.Logger, getenv func(string) string, device int) int {
	dec := gpu.NewDecoder(stdin)
	dec.SetPrealloc(gpu.MaxFrameBytes) // the parent is trusted: allocate each array once
	enc := gpu.NewEncoder(stdout)

	m, err := dec.Next()
	if err != nil {
		log.Error("read hello", "err", err)
		return 2
	}
	h, ok := m.(*gpu.Hello)
	if !ok {
		log.Error("first frame is not a hello", "type", fmt.Sprintf("%T", m))
		return 2
	}
	if h.Version != gpu.ProtocolVersion {
		msg := fmt.Sprintf("protocol version %d not supported (want %d)", h.Version, gpu.ProtocolVersion)
		log.Error(msg)
		_ = enc.Write(&gpu.Hello{Version: gpu.ProtocolVersion, Status: gpu.HelloBadVersion, Message: msg})
		return 2
	}

	if getenv("MOVIEREC_WORKER_NO_DEVICE") == "1" {
		_ = enc.Write(&gpu.Hello{Version: gpu.ProtocolVersion, Status: gpu.HelloNoDevice,
			Message: "no device (MOVIEREC_WORKER_NO_DEVICE=1)"})
		return 0
	}
	solver, name, err := newTrainer(log, device)
	if err != nil {
		status := gpu.HelloError
		if errors.Is(err, gpu.ErrNoDevice) {
			status = gpu.HelloNoDevice
		}
		log.Error("no trainer", "err", err)
		_ = enc.Write(&gpu.Hello{Version: gpu.ProtocolVersion, Status: status, Message: err.Error()})
		return 0
	}
	defer solver.Close()
	if getenv("MOVIEREC_WORKER_NO_INIT") == "1" {
		solver = coldOnly{solver}
	}
	if err := enc.Write(&gpu.Hello{Version: gpu.ProtocolVersion, Status: gpu.HelloOK, Device: name}); err != nil {
		log.Error("write hello", "err", err)
		return 2
	}
	log.Info("ready", "device", name)

	crashAfter := 0
	if s := getenv("MOVIEREC_WORKER_CRASH_AFTER"); s != "" {
		if crashAfter, err = strconv.Atoi(s); err != nil {
			log.Error("bad MOVIEREC_WORKER_CRASH_AFTER", "value", s)
			return 2
		}
	}
	stallAfter := -1
	if s := getenv("MOVIEREC_WORKER_STALL_AFTER"); s != "" {
		if stallAfter, err = strconv.Atoi(s); err != nil || stallAfter < 0 {
			log.Error("bad MOVIEREC_WORKER_STALL_AFTER", "value", s)
			return 2
		}
	}
	events := 0
	stall := func() {
		log.Warn("hanging on purpose (MOVIEREC_WORKER_STALL_AFTER)", "events", events)
		for {
			time.Sleep(time.Hour)
		}
	}

	jobs := make(chan job)
	var cur current
	go readFrames(dec, jobs, &cur, log)

	var held resident
	for j := range jobs {
		res := train(j.ctx, solver, j.Job, &held, func(it als.Iteration) error {
			if stallAfter == events {
				stall()
			}
			if err := enc.Write(&gpu.Progress{ID: j.ID, Iteration: it}); err != nil {
				return err
			}
			events++
			if crashAfter > 0 && events >= crashAfter {
				log.Warn("crashing on purpose (MOVIEREC_WORKER_CRASH_AFTER)", "events", events)
				os.Exit(3)
			}
			return nil
		}, log)
		cur.finish(j.ID)
		if err := enc.Write(res); err != nil {
			log.Error("write result", "job", j.ID, "err", err)
			return 2
		}
	}
	return 0
}

// resident is the dataset version the worker keeps between jobs (protocol
// version 4): the ratings of the last job that named a dataset, so that the
// pipe carries only deltas. In the cuda build the Device also keeps them on
// the GPU, and a Delta reaches it as a gpu.Patch (gpu.Patcher), so that PCIe
// carries only the delta too. Only the main loop touches it.
type resident struct {
	dataset, version uint64
	r                *als.Ratings
	// spare is the version before r, no longer used by any job, whose
	// buffers the next Delta is merged into (gpu.Delta.ApplyPatch).
	spare *als.Ratings
	// patch records how the last Delta built r from the version before;
	// its buffers are reused by the next.
	patch *gpu.Patch
}

// ratings resolves j's ratings against h (applying a Delta to the held
// version) and records what h holds after the job. It returns the error
// code and error for a job whose data cannot be had, and, for a Delta
// that changed something, the Patch from the held version (valid until
// the next call). A Delta without changes (the second model of a retrain
// trains on the same ratings) returns the held ratings themselves.
func (h *resident) ratings(j *gpu.Job) (*als.Ratings, *gpu.Patch, gpu.ErrorCode, error) {
	if j.Delta == nil {
		if j.Dataset == 0 {
			return j.Ratings, nil, 0, nil
		}
		*h = resident{dataset: j.Dataset, version: j.Version, r: j.Ratings, spare: h.r, patch: h.patch}
		return j.Ratings, nil, 0, nil
	}
	if h.r == nil || h.dataset != j.Dataset || h.version != j.Base {
		err := fmt.Errorf("delta from version %d of dataset %#x, holding version %d of %#x", j.Base, j.Dataset, h.version, h.dataset)
		*h = resident{patch: h.patch}
		return nil, nil, gpu.CodeStaleData, err
	}
	if j.Delta.Changes() == 0 && j.Delta.NumUsers == h.r.NumUsers && j.Delta.NumItems == h.r.NumItems {
		h.version = j.Version
		return h.r, nil, 0, nil
	}
	spare := h.spare
	if spare == h.r { // never merge into the base itself
		spare = nil
	}
	pt := h.patch
	if pt == nil {
		pt = new(gpu.Patch)
	}
	r, err := j.Delta.ApplyPatch(spare, h.r, pt)
	if err != nil {
		*h = resident{patch: pt}
		return nil, nil, gpu.CodeInvalidJob, err
	}
	*h = resident{dataset: j.Dataset, version: j.Version, r: r, spare: h.r, patch: pt}
	return r, pt, 0, nil
}

// job is a decoded job with the context that its Cancel frame cancels.
type job struct {
	*gpu.Job
	ctx context.Context
}

// current is the job being trained, for the reader to cancel.
type current struct {
	mu     sync.Mutex
	id     uint64
	cancel context.CancelFunc
}

func (c *current) start(id uint64) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	c.mu.Lock()
	c.id, c.cancel = id, cancel
	c.mu.Unlock()
	return ctx
}

// stop cancels the job if it is id (or any job when all is true).
func (c *current) stop(id uint64, all bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil && (all || c.id == id) {
		c.cancel()
	}
}

func (c *current) finish(id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.id == id && c.cancel != nil {
		c.cancel()
		c.cancel = nil
	}
}

// readFrames decodes the client's frames: jobs go to jobs (registered as
// current before they are handed over, so that a Cancel right behind its job
// finds it), Cancels cancel. At EOF or on a protocol error it cancels the
// current job and closes jobs.
func readFrames(dec *gpu.Decoder, jobs chan<- job, cur *current, log *slog.Logger) {
	defer close(jobs)
	defer cur.stop(0, true)
	for {
		m, err := dec.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				log.Error("read frame", "err", err)
			}
			return
		}
		switch m := m.(type) {
		case *gpu.Job:
			jobs <- job{Job: m, ctx: cur.start(m.ID)}
		case *gpu.Cancel:
			cur.stop(m.ID, false)
		default:
			log.Warn("ignoring unexpected frame", "type", fmt.Sprintf("%T", m))
		}
	}
}

// train runs one job and returns its last frame. progress errors (the
// client is gone) abort the fit.
func train(ctx context.Context, solver als.Solver, j *gpu.Job, held *resident, progress func(als.Iteration) error, log *slog.Logger) gpu.Message {
	fail := func(code gpu.ErrorCode, err error) gpu.Message {
		log.Warn("job failed", "job", j.ID, "code", code, "err", err)
		return &gpu.JobError{ID: j.ID, Code: code, Message: err.Error()}
	}
	if err := j.Params.ValidateFloat32(); err != nil {
		return fail(gpu.CodeInvalidParams, err)
	}
	if j.Init != nil {
		if err := checkInit(solver, j); err != nil {
			return fail(gpu.CodeInvalidJob, err)
		}
	}
	ratings, pt, code, err := held.ratings(j)
	if err != nil {
		return fail(code, err)
	}
	if err := ratings.Validate(); err != nil {
		*held = resident{}
		return fail(gpu.CodeInvalidJob, err)
	}
	if p, ok := solver.(gpu.Patcher); ok && pt != nil {
		p.Patched(pt)
	}
	changes := -1
	if j.Delta != nil {
		changes = j.Delta.Changes()
	}
	log.Info("job", "job", j.ID, "params", j.Params.String(), "users", ratings.NumUsers,
		"items", ratings.NumItems, "ratings", ratings.NNZ(), "dataset", j.Dataset, "version", j.Version, "delta", changes,
		"warm", j.Init != nil)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var model als.Model
	report := func(it als.Iteration) {
		if err := progress(it); err != nil {
			cancel(fmt.Errorf("write progress: %w", err))
		}
	}
	if j.Init != nil {
		err = solver.(als.WarmSolver).FitFrom(ctx, &model, j.Init, ratings, j.Params, report)
	} else {
		err = solver.Fit(ctx, &model, ratings, j.Params, report)
	}
	switch {
	case err == nil:
		return &gpu.Result{ID: j.ID, Model: &model}
	case errors.Is(err, als.ErrInvalidParams):
		return fail(gpu.CodeInvalidParams, err)
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return fail(gpu.CodeCanceled, err)
	default:
		return fail(gpu.CodeInternal, err)
	}
}

// checkInit checks a job's initial model, before the job touches the held
// ratings (so that a rejected job leaves them as they were): the solver
// must be able to start from it (als.WarmSolver), and it must suit the
// job's parameters (als.WarmCompatible) and have exactly a row per user
// and per item of the job's ratings (the client sends it in that shape,
// see gpu.Job).
func checkInit(solver als.Solver, j *gpu.Job) error {
	if _, ok := solver.(als.WarmSolver); !ok {
		return errors.New("initial factors are not supported by this worker")
	}
	m := j.Init
	if !als.WarmCompatible(m, j.Params) {
		return fmt.Errorf("initial model of rank %d, bias %t (%d user factors, %d item factors for %d×%d) does not suit rank %d, bias %t",
			m.Rank, m.Bias, len(m.UserFactors), len(m.ItemFactors), m.NumUsers, m.NumItems, j.Params.Rank, j.Params.Bias)
	}
	users, items := 0, 0
	switch {
	case j.Delta != nil:
		users, items = j.Delta.NumUsers, j.Delta.NumItems
	case j.Ratings != nil:
		users, items = j.Ratings.NumUsers, j.Ratings.NumItems
	}
	if m.NumUsers != users || m.NumItems != items {
		return fmt.Errorf("initial model of %d users × %d items for ratings of %d × %d", m.NumUsers, m.NumItems, users, items)
	}
	return nil
}

// coldOnly hides a solver's FitFrom (MOVIEREC_WORKER_NO_INIT), and passes
// a Patch on to it when it keeps its ratings (gpu.Patcher).
type coldOnly struct{ als.Solver }

func (c coldOnly) Patched(pt *gpu.Patch) {
	if p, ok := c.Solver.(gpu.Patcher); ok {
		p.Patched(pt)
	}
}
