package gpu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"movierec/als"
)

// Timeouts of the Client. They are variables only so that tests can shorten
// them.
var (
	handshakeTimeout = 2 * time.Minute // worker start to its Hello (context creation, PTX JIT)
	cancelGrace      = 5 * time.Second // Cancel sent to the job's last frame, before a kill
	closeGrace       = 5 * time.Second // stdin closed to exit, before a kill
)

// Watchdog of a Fit: once the job is sent, the worker must report each
// iteration within max(floor, watchdogFactor × the last iteration's time);
// the first iteration (which includes the worker's upload) gets the floor.
const (
	defaultWatchdogFloor = 30 * time.Second
	watchdogFactor       = 20
)

// Client is an als.WarmSolver that trains in a worker process (cmd/movierec-cuda)
// speaking this package's protocol over its stdin and stdout. The worker
// keeps running between fits. When it dies, the Fit in progress returns an
// error wrapping ErrWorker and the next Fit starts a new worker (once; if
// that fails, that Fit fails).
//
// A Client is safe for concurrent use; fits are serialised. Close stops the
// worker, killing it if a Fit is running.
type Client struct {
	path string
	args []string
	nice int
	log  *slog.Logger
	// floor is the watchdog's least deadline (WorkerOptions.WatchdogFloor).
	floor time.Duration

	device atomic.Pointer[string]
	closed atomic.Bool
	live   atomic.Pointer[worker] // for Close to kill while a Fit holds mu

	mu     sync.Mutex // held by Fit and Close
	w      *worker    // nil when there is none
	nextID uint64

	// Resident data (guarded by mu): the dataset this client names in its
	// jobs, the last version sent, what the worker w holds after its last
	// successful job (held.r is the caller's Ratings, retained until the
	// next Fit: als.Ratings is immutable), and the reused Delta buffer.
	dataset uint64
	version uint64
	held    held
	delta   Delta
	sent    atomic.Uint64 // bytes written to workers' stdin, all workers
	deltas  atomic.Uint64 // jobs sent as a Delta
}

// held is the dataset version a worker keeps.
type held struct {
	w       *worker
	version uint64
	r       *als.Ratings
}

// deltaShare bounds the share of a Ratings' size (in ratings) above which a
// change is sent as a full upload rather than a Delta.
const deltaShare = 4 // a Delta of at most nnz/4 changes

var _ als.WarmSolver = (*Client)(nil)

// checkParams is p.ValidateFloat32 and what this backend lacks: the
// explicit objective's ridge offset (als.Params.RegOffset) is the CPU
// backend's only, and the protocol does not carry it, so a fit with one is
// refused (an error wrapping als.ErrInvalidParams), never run without it.
func checkParams(p als.Params) error {
	if err := p.ValidateFloat32(); err != nil {
		return err
	}
	if p.RegOffset != 0 {
		return fmt.Errorf("%w: the CUDA backend has no ridge offset (reg offset %g): train with the CPU backend", als.ErrInvalidParams, p.RegOffset)
	}
	return nil
}

// StartWorker starts the worker at path with args and waits for its Hello.
// ctx bounds the start and handshake only; the worker then lives until
// Close. log receives the worker's stderr, line by line; nil discards it.
//
// The error wraps ErrNoDevice when the worker reports no usable device (or
// cannot load the CUDA driver), and ErrWorker when it cannot be started,
// exits, or breaks the protocol.
func StartWorker(ctx context.Context, path string, args []string, log *slog.Logger) (*Client, error) {
	return StartWorkerWith(ctx, path, WorkerOptions{Args: args, Log: log})
}

// WorkerOptions are StartWorkerWith's settings. The zero value starts the
// worker without arguments, at this process's priority, discarding its
// stderr.
type WorkerOptions struct {
	Args []string
	Log  *slog.Logger // receives the worker's stderr, line by line
	// Nice raises the worker process's nice value by this much (Linux;
	// capped at 19) for it and every restart, so that a server's requests
	// win the CPU over the worker's data preparation and copies. It does
	// not change what is trained.
	Nice int
	// WatchdogFloor is the least time a Fit waits for the worker's next
	// progress event once the job is sent; the deadline for iteration i+1
	// is max(WatchdogFloor, 20 × iteration i's time). A worker that misses
	// it is killed and the Fit fails with an error wrapping ErrStalled and
	// ErrWorker. Zero means 30 s.
	WatchdogFloor time.Duration
}

// StartWorkerWith is StartWorker with options.
func StartWorkerWith(ctx context.Context, path string, o WorkerOptions) (*Client, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{path: path, args: append([]string(nil), o.Args...), nice: o.Nice, floor: o.WatchdogFloor,
		log: log.With("component", "gpu-client"), dataset: rand.Uint64() | 1}
	if c.floor <= 0 {
		c.floor = defaultWatchdogFloor
	}
	w, err := c.start(ctx)
	if err != nil {
		return nil, err
	}
	c.w = w
	c.live.Store(w)
	return c, nil
}

// SentBytes returns the bytes this client has written to its workers'
// stdin (every worker it started), for tests, benchmarks and metrics. It is
// safe to call concurrently with Fit.
func (c *Client) SentBytes() uint64 { return c.sent.Load() }

// DeltaJobs returns how many jobs were sent as a Delta rather than in full.
func (c *Client) DeltaJobs() uint64 { return c.deltas.Load() }

// Device returns the name of the worker's device, as its last Hello gave it.
func (c *Client) Device() string {
	if p := c.device.Load(); p != nil {
		return *p
	}
	return ""
}

// Fit trains dst through the worker (see als.Solver). progress is called
// from the calling goroutine. Cancelling ctx sends the worker a Cancel and
// returns within a few seconds (killing the worker if it does not stop);
// the error then wraps ctx.Err(). Errors caused by the worker wrap ErrWorker
// (and ErrStalled when the watchdog killed it, see WorkerOptions);
// bad parameters wrap als.ErrInvalidParams.
//
// Fit retains r (read only, as als.Ratings allows) until the next Fit, and
// sends that Fit's ratings as a Delta from it when the worker still holds
// it (see the package doc); so a server holds its previous Ratings one
// retrain longer than it otherwise would.
func (c *Client) Fit(ctx context.Context, dst *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	if err := checkParams(p); err != nil {
		return err
	}
	return c.fitFrom(ctx, dst, nil, r, p, progress)
}

// FitFrom implements als.WarmSolver: Fit starting from from's factors and
// biases (als.PrepareFrom) instead of random ones. The starting model
// travels in the Job (Job.Init): when from's rows are not r's, FitFrom
// first builds one of r's shape with als.PrepareFrom (allocated per call);
// otherwise from itself is sent, read only.
//
// It returns an error wrapping als.ErrInvalidParams when from does not
// suit p (als.WarmCompatible), and one wrapping als.ErrNoWarmStart,
// having trained nothing, when the worker rejects initial factors (a
// worker built before warm starts answers CodeInvalidJob): the client
// logs it, remembers it for that worker, and answers its later FitFrom
// calls the same way at once; the caller fits cold instead (Fit, with a
// cold fit's iterations, which the client does not know). The worker
// still holds the ratings it held, so the next Fit sends only a Delta.
func (c *Client) FitFrom(ctx context.Context, dst, from *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	if err := checkParams(p); err != nil {
		return err
	}
	if !als.WarmCompatible(from, p) {
		return fmt.Errorf("gpu: fit: %w: the starting model does not have rank %d and bias %v", als.ErrInvalidParams, p.Rank, p.Bias)
	}
	init := from
	if from.NumUsers != r.NumUsers || from.NumItems != r.NumItems {
		init = new(als.Model)
		als.PrepareFrom(init, r, p, from)
	}
	return c.fitFrom(ctx, dst, init, r, p, progress)
}

// fitFrom is Fit (init nil) or FitFrom, with init of r's shape.
func (c *Client) fitFrom(ctx context.Context, dst, init *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return fmt.Errorf("%w: client is closed", ErrWorker)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("gpu: fit: %w", err)
	}
	if c.w != nil && c.w.dead() {
		c.log.Warn("worker exited while idle", "why", c.w.diagnose())
		c.drop()
	}
	if c.w == nil {
		c.log.Info("restarting worker", "path", c.path)
		w, err := c.start(ctx)
		if err != nil {
			return err
		}
		c.w = w
		c.live.Store(w)
	}
	if init == nil {
		return c.fit(ctx, dst, nil, r, p, progress)
	}
	w := c.w
	if w.noInit {
		return fmt.Errorf("gpu: fit: %w: the worker rejected initial factors before", als.ErrNoWarmStart)
	}
	err := c.fit(ctx, dst, init, r, p, progress)
	if errors.Is(err, errInvalidJob) && c.w == w {
		w.noInit = true
		c.log.Warn("the worker rejects initial factors (built before warm starts?); its fits start from random factors", "err", err)
		return fmt.Errorf("%w: %w", als.ErrNoWarmStart, err)
	}
	return err
}

// drop stops the current worker (killing it) and forgets it, so that the
// next Fit starts another.
func (c *Client) drop() {
	if c.w == nil {
		return
	}
	c.w.kill()
	c.w.waitExit(closeGrace)
	c.live.Store(nil)
	c.w = nil
}

// fit sends r as a Delta from what the worker holds when it can (the same
// worker, dimensions that only grow, at most nnz/deltaShare changes), else
// in full; a worker that answers CodeStaleData gets a full resend within
// the same Fit. After a Result the worker holds r as the new version; after
// a job with init that the worker rejects (CodeInvalidJob: it checks Init
// before it touches its ratings) it holds what it held before; after
// anything else the client assumes it holds nothing (the next Fit sends in
// full).
func (c *Client) fit(ctx context.Context, dst, init *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	w := c.w
	c.version++
	job := &Job{Params: p, Ratings: r, Init: init, Dataset: c.dataset, Version: c.version}
	if c.held.w == w && c.held.r != nil && c.delta.Diff(c.held.r, r, r.NNZ()/deltaShare) {
		job.Ratings, job.Delta, job.Base = nil, &c.delta, c.held.version
	}
	prev := c.held
	c.held = held{}
	err := c.fitJob(ctx, dst, r, p, progress, job)
	if errors.Is(err, errStaleData) && c.w == w {
		c.log.Warn("worker lacks the delta's base; resending all ratings", "err", err)
		c.version++
		job = &Job{Params: p, Ratings: r, Init: init, Dataset: c.dataset, Version: c.version}
		err = c.fitJob(ctx, dst, r, p, progress, job)
	}
	if init != nil && errors.Is(err, errInvalidJob) && c.w == w {
		c.held = prev
	}
	if err == nil && c.w == w {
		c.held = held{w: w, version: job.Version, r: r}
	}
	return err
}

func (c *Client) fitJob(ctx context.Context, dst *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration), job *Job) error {
	w := c.w
	c.nextID++
	id := c.nextID
	job.ID = id
	if job.Delta != nil {
		c.deltas.Add(1)
	}
	sent := make(chan error, 1)
	go func() { sent <- w.enc.Write(job) }()
	sending := true

	// The watchdog runs once the job is sent (a worker reading it is busy,
	// not stalled); each progress event re-arms it.
	dog := time.NewTimer(time.Hour)
	dog.Stop()
	defer dog.Stop()
	deadline := c.floor
	last := time.Time{}
	for {
		select {
		case err := <-sent:
			sending = false
			if err != nil {
				c.drop()
				return fmt.Errorf("%w: send job: %v%s", ErrWorker, err, w.diagnose())
			}
			last = time.Now()
			dog.Reset(deadline)
		case <-dog.C:
			c.log.Warn("worker sent no progress in time; killing it", "deadline", deadline)
			w.kill()
			diag := w.diagnose()
			c.drop()
			return fmt.Errorf("%w: %w: no progress within %v%s", ErrWorker, ErrStalled, deadline, diag)
		case m, ok := <-w.frames:
			if !ok {
				if sending {
					w.kill()
					<-sent
				}
				diag := w.diagnose()
				c.drop()
				return fmt.Errorf("%w: worker exited during training%s", ErrWorker, diag)
			}
			if pr, isProgress := m.(*Progress); isProgress && pr.ID == id && !sending {
				now := time.Now()
				took := max(now.Sub(last), pr.Iteration.Duration)
				last = now
				deadline = max(c.floor, watchdogFactor*took)
				dog.Reset(deadline)
			}
			done, err := c.handle(m, id, dst, r, p, progress)
			if !done {
				continue
			}
			if sending {
				<-sent
			}
			if errors.Is(err, ErrWorker) || errors.Is(err, errInternal) ||
				errors.Is(err, errInvalidJob) && job.Init == nil {
				// A protocol breach, or a solver failure that may have left
				// the device unusable (a faulted CUDA context stays faulted):
				// the next Fit starts a fresh worker. (A worker that rejects
				// a job's Init is fine, and keeps what it held.)
				c.drop()
			}
			return err
		case <-ctx.Done():
			return c.cancel(ctx, w, id, sending, sent)
		}
	}
}

// handle processes one frame of job id; done reports that the job ended.
func (c *Client) handle(m Message, id uint64, dst *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) (done bool, err error) {
	switch m := m.(type) {
	case *Progress:
		if m.ID == id && m.Iteration.FailedRows > 0 {
			c.log.Warn("rows failed in float32 on the device; re-solved in float64 on the host",
				"iteration", m.Iteration.N, "rows", m.Iteration.FailedRows)
		}
		if m.ID == id && progress != nil {
			progress(m.Iteration)
		}
		return false, nil
	case *Result:
		if m.ID != id {
			return false, nil
		}
		md := m.Model
		if md.Rank != p.Rank || md.NumUsers != r.NumUsers || md.NumItems != r.NumItems || md.Bias != p.Bias {
			return true, fmt.Errorf("%w: result of rank %d, %d×%d, bias %t for a job of rank %d, %d×%d, bias %t",
				ErrWorker, md.Rank, md.NumUsers, md.NumItems, md.Bias, p.Rank, r.NumUsers, r.NumItems, p.Bias)
		}
		*dst = *md
		return true, nil
	case *JobError:
		if m.ID != id {
			return false, nil
		}
		switch m.Code {
		case CodeInvalidParams:
			return true, fmt.Errorf("gpu: worker: %w: %s", als.ErrInvalidParams, m.Message)
		case CodeCanceled:
			return true, fmt.Errorf("gpu: worker: %w: %s", context.Canceled, m.Message)
		case CodeStaleData:
			return true, fmt.Errorf("gpu: worker: %w: %s", errStaleData, m.Message)
		case CodeInvalidJob:
			return true, fmt.Errorf("gpu: worker: %w: %s", errInvalidJob, m.Message)
		default:
			return true, fmt.Errorf("gpu: worker: %w: %s", errInternal, m.Message)
		}
	default:
		return true, fmt.Errorf("%w: unexpected %T frame during a job", ErrWorker, m)
	}
}

// cancel ends job id after ctx is done: it asks the worker to stop and
// waits cancelGrace for the job's last frame, killing the worker otherwise.
func (c *Client) cancel(ctx context.Context, w *worker, id uint64, sending bool, sent chan error) error {
	err := fmt.Errorf("gpu: fit: %w", ctx.Err())
	if sending {
		// The job frame is half written: the stream cannot be resynchronised.
		c.drop()
		<-sent
		return err
	}
	if werr := w.enc.Write(&Cancel{ID: id}); werr != nil {
		c.drop()
		return err
	}
	timer := time.NewTimer(cancelGrace)
	defer timer.Stop()
	for {
		select {
		case m, ok := <-w.frames:
			if !ok {
				c.drop()
				return err
			}
			switch m := m.(type) {
			case *Result:
				if m.ID == id {
					return err
				}
			case *JobError:
				if m.ID == id {
					return err
				}
			}
		case <-timer.C:
			c.log.Warn("worker did not stop after cancel; killing it", "grace", cancelGrace)
			c.drop()
			return err
		}
	}
}

// Close stops the worker: it closes the worker's stdin and waits for it to
// exit, killing it after a grace period or at once if a Fit is running.
// Later Fits fail. Close always returns nil.
func (c *Client) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	if !c.mu.TryLock() {
		if w := c.live.Load(); w != nil {
			w.kill()
		}
		c.mu.Lock()
	}
	defer c.mu.Unlock()
	if c.w == nil {
		return nil
	}
	_ = c.w.stdin.Close()
	if !c.w.waitExit(closeGrace) {
		c.log.Warn("worker did not exit after stdin closed; killing it", "grace", closeGrace)
	}
	c.drop()
	return nil
}

// countingWriter counts the bytes written through it into n.
type countingWriter struct {
	w io.Writer
	n *atomic.Uint64
}

func (cw countingWriter) Write(b []byte) (int, error) {
	k, err := cw.w.Write(b)
	cw.n.Add(uint64(k))
	return k, err
}

// errInternal marks a JobError of code CodeInternal.
var errInternal = errors.New("training failed")

// errInvalidJob marks a JobError of code CodeInvalidJob.
var errInvalidJob = errors.New("invalid job")

// errStaleData marks a JobError of code CodeStaleData.
var errStaleData = errors.New("worker does not hold the delta's base")

// ---------------------------------------------------------------- worker

// worker is one worker process.
type worker struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	enc    *Encoder
	frames chan Message // closed after a read error (readErr) or EOF
	kill   func()       // kills the process; safe from any goroutine

	readErr error         // valid once frames is closed, or exited is
	exited  chan struct{} // closed once the process is reaped
	waitErr error         // valid once exited is closed
	stderr  *tail
	stdout  *prefix

	// noInit is set (with the Client's mu held) once the worker rejected a
	// Job's Init: it was built before warm starts.
	noInit bool
}

func (c *Client) start(ctx context.Context) (*worker, error) {
	pctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(pctx, c.path, c.args...)
	cmd.WaitDelay = closeGrace
	quit := make(chan struct{})
	var once sync.Once
	kill := func() {
		once.Do(func() { close(quit) })
		cancel()
	}
	w := &worker{cmd: cmd, kill: kill, frames: make(chan Message), exited: make(chan struct{}),
		stderr: &tail{max: 1024}, stdout: &prefix{max: 4096}}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		kill()
		return nil, fmt.Errorf("%w: %v", ErrWorker, err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		kill()
		return nil, fmt.Errorf("%w: %v", ErrWorker, err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		kill()
		return nil, fmt.Errorf("%w: %v", ErrWorker, err)
	}
	if err := startNiced(cmd, c.nice); err != nil {
		kill()
		return nil, fmt.Errorf("%w: start %s: %v", ErrWorker, c.path, err)
	}
	w.stdin = stdin
	w.enc = NewEncoder(countingWriter{stdin, &c.sent})
	log := c.log.With("pid", cmd.Process.Pid)

	var readers sync.WaitGroup
	readers.Add(2)
	go func() { // stderr → log
		defer readers.Done()
		w.stderr.copyLines(stderr, func(line string) { log.Info("worker", "stderr", line) })
	}()
	go func() { // stdout → frames
		defer readers.Done()
		defer close(w.frames)
		dec := NewDecoder(io.TeeReader(stdout, w.stdout))
		dec.SetPrealloc(MaxFrameBytes) // our own worker: trusted sizes
		for {
			m, err := dec.Next()
			if err != nil {
				w.readErr = err
				_, _ = io.Copy(io.Discard, stdout) // let the process finish writing and exit
				return
			}
			select {
			case w.frames <- m:
			case <-quit: // nobody listens any more: drain until the pipe closes
			}
		}
	}()
	go func() {
		readers.Wait()
		w.waitErr = cmd.Wait()
		kill()
		close(w.exited)
	}()

	hello, err := w.handshake(ctx)
	if err != nil {
		kill()
		w.waitExit(closeGrace)
		return nil, err
	}
	name := hello.Device
	c.device.Store(&name)
	log.Info("worker ready", "device", name)
	return w, nil
}

func (w *worker) handshake(ctx context.Context) (*Hello, error) {
	// A worker that died at start (e.g. package cu's init without a driver)
	// makes this write fail; its diagnostics come from the read below.
	_ = w.enc.Write(&Hello{Version: ProtocolVersion})
	timer := time.NewTimer(handshakeTimeout)
	defer timer.Stop()
	select {
	case m, ok := <-w.frames:
		if !ok {
			diag := w.diagnose()
			if noDeviceText(diag) {
				return nil, fmt.Errorf("%w: %w: worker cannot use CUDA%s", ErrNoDevice, ErrWorker, diag)
			}
			return nil, fmt.Errorf("%w: no hello from worker%s", ErrWorker, diag)
		}
		h, ok := m.(*Hello)
		if !ok {
			return nil, fmt.Errorf("%w: first frame is %T, not a hello", ErrWorker, m)
		}
		if h.Version != ProtocolVersion {
			return nil, fmt.Errorf("%w: worker speaks protocol version %d, want %d", ErrWorker, h.Version, ProtocolVersion)
		}
		switch h.Status {
		case HelloOK:
			return h, nil
		case HelloNoDevice:
			return nil, fmt.Errorf("%w: %s", ErrNoDevice, h.Message)
		default:
			return nil, fmt.Errorf("%w: worker refused (status %d): %s", ErrWorker, h.Status, h.Message)
		}
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: handshake: %w", ErrWorker, ctx.Err())
	case <-timer.C:
		return nil, fmt.Errorf("%w: no hello within %v", ErrWorker, handshakeTimeout)
	}
}

// noDeviceText recognises what package cu's init prints when it exits for
// want of a device, and the dynamic loader's error without a driver.
func noDeviceText(s string) bool {
	for _, pat := range []string{"NoDevice", "no CUDA-capable device", "libcuda.so"} {
		if strings.Contains(s, pat) {
			return true
		}
	}
	return false
}

// dead reports whether the process has exited (and been reaped).
func (w *worker) dead() bool {
	select {
	case <-w.exited:
		return true
	default:
		return false
	}
}

// waitExit waits up to d for the process to be reaped and reports whether
// it was.
func (w *worker) waitExit(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-w.exited:
		return true
	case <-t.C:
		return false
	}
}

// diagnose describes why the worker's stream ended: the read error, the
// exit status, its last stderr lines and any stray stdout bytes. It waits
// briefly for the process to exit (killing it if it does not).
func (w *worker) diagnose() string {
	if !w.waitExit(2 * time.Second) {
		w.kill()
		if !w.waitExit(closeGrace) {
			return "; worker still running"
		}
	}
	// The process is reaped, so its readers are done: readErr is set.
	var b strings.Builder
	if w.waitErr != nil {
		fmt.Fprintf(&b, "; %v", w.waitErr)
	} else {
		b.WriteString("; exit status 0")
	}
	if w.readErr != nil && !errors.Is(w.readErr, io.EOF) {
		fmt.Fprintf(&b, "; read: %v", w.readErr)
	}
	if s := w.stderr.String(); s != "" {
		fmt.Fprintf(&b, "; stderr: %q", s)
	}
	if s := w.stdout.String(); s != "" && errors.Is(w.readErr, ErrProtocol) {
		fmt.Fprintf(&b, "; stdout: %q", s)
	}
	return b.String()
}

// tail keeps the last max bytes of lines written through copyLines.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) copyLines(r io.Reader, each func(string)) {
	var line []byte
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		for _, ch := range buf[:n] {
			if ch == '\n' {
				t.add(line)
				each(string(line))
				line = line[:0]
				continue
			}
			if len(line) < t.max {
				line = append(line, ch)
			}
		}
		if err != nil {
			if len(line) > 0 {
				t.add(line)
				each(string(line))
			}
			return
		}
	}
}

func (t *tail) add(line []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, line...)
	t.buf = append(t.buf, '\n')
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = t.buf[over:]
		if i := bytes.IndexByte(t.buf, '\n'); i >= 0 && i+1 < len(t.buf) {
			t.buf = t.buf[i+1:]
		}
	}
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

// prefix keeps the first max bytes written to it.
type prefix struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (p *prefix) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if room := p.max - len(p.buf); room > 0 {
		p.buf = append(p.buf, b[:min(room, len(b))]...)
	}
	return len(b), nil
}

func (p *prefix) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.TrimSpace(string(p.buf))
}
