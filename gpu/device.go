//go:build cuda

package gpu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"
	"unsafe"

	"gorgonia.org/cu"

	"movierec/als"
	"movierec/kernels"
)

// Device is an als.Solver on one CUDA device. All CUDA calls run on one
// goroutine locked to an OS thread that owns the device's context; Fit
// marshals work to it. The ratings (by user and by item) and both factor
// tables are uploaded once per Fit and stay resident across iterations;
// every device buffer is allocated at the start of a Fit and freed at its
// end.
//
// A Device is safe for concurrent use; fits are serialised. Close releases
// the context.
type Device struct {
	log  *slog.Logger
	name string

	reqs      chan func()
	quit      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	fitMu     sync.Mutex

	// Owned by the device goroutine.
	cctx          cu.CUContext
	mod           cu.Module
	fnShared      cu.Function
	fnGlobal      cu.Function
	fnCGShared    cu.Function // explicit objective, als.CG
	fnCGGlobal    cu.Function
	fnSSE         cu.Function
	fnImpShared   cu.Function // implicit objective: rows
	fnImpGlobal   cu.Function
	fnImpCGShared cu.Function // implicit objective, als.CG
	fnImpCGGlobal cu.Function
	fnGram        cu.Function // implicit objective: Gram of the fixed side
	fnReduce      cu.Function
	fnPrefSSE     cu.Function // implicit objective: training error
	fnSplitGram   cu.Function // heavy rows: slices' partial systems (explicit, then implicit)
	fnSplitGramI  cu.Function
	fnSplitSolve  cu.Function // heavy rows: reduce and solve (explicit, then implicit)
	fnSplitSolveI cu.Function
	fnCopyRuns    cu.Function // resident ratings: a held version patched into the next
	sms           int
	maxT          map[string]int         // kernel → max threads per block
	fns           map[string]cu.Function // kernel → function, for the plan's Kernel
	smem          int                    // dynamic shared memory the row kernels may use per block (opt-in, else 48 KiB)
	timing        bool                   // MOVIEREC_GPU_TIMING=1: log each half's time (host-timed around its synchronising launch)
	splitAt       int                    // heavy rows: more ratings than this are split (SplitThreshold; 0: off)
	splitSlice    int                    // most ratings per slice (SplitSlice)

	// The ratings kept on the device between Fits (resident.go): held is
	// the last Fit's, spare the buffers of the version before, which a
	// patch fills. patchBuf is the patch's host-side plan, reused.
	held, spare devRatings
	patchBuf    patchUpload

	// pending is the Patch of the next Fit's ratings (Patched); guarded
	// by fitMu, taken by the next Fit.
	pending *Patch
	// How the last upload got its ratings and the bytes it sent (tests).
	lastMode residentMode
	lastSent int64
}

var _ als.WarmSolver = (*Device)(nil)

// ErrClosed is returned by a Device's methods after Close.
var ErrClosed = errors.New("gpu: device closed")

// NewDevice opens CUDA device ordinal: it creates a context on a dedicated
// OS thread and loads the kernels' PTX (JIT-compiled by the driver). The
// error wraps ErrNoDevice when there is no such device or it cannot run the
// kernels (compute capability below 8.0). log may be nil. It logs each
// kernel's post-JIT registers and local memory; each Fit logs its plan and
// occupancy, and with MOVIEREC_GPU_TIMING=1 in the environment each half's
// time (host-timed around the synchronising launch, so it includes the
// launch overhead of a few microseconds).
func NewDevice(log *slog.Logger, ordinal int) (*Device, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Device{
		log:  log.With("component", "gpu-device", "ordinal", ordinal),
		reqs: make(chan func()),
		quit: make(chan struct{}),
		done: make(chan struct{}),
		maxT: map[string]int{},
		fns:  map[string]cu.Function{},

		timing:  os.Getenv("MOVIEREC_GPU_TIMING") == "1",
		splitAt: SplitThreshold, splitSlice: SplitSlice,
	}
	opened := make(chan error, 1)
	go d.serve(ordinal, opened)
	if err := <-opened; err != nil {
		return nil, err
	}
	d.log.Info("device ready", "device", d.name, "sms", d.sms, "row_kernel_smem", d.smem)
	return d, nil
}

// Name describes the device, e.g. "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, 81079 MiB)".
func (d *Device) Name() string { return d.name }

// serve is the device goroutine: it never unlocks its OS thread, so the
// thread (and nothing else) carries the context until it exits.
func (d *Device) serve(ordinal int, opened chan<- error) {
	runtime.LockOSThread()
	defer close(d.done)
	if err := d.open(ordinal); err != nil {
		opened <- err
		return
	}
	opened <- nil
	for {
		select {
		case f := <-d.reqs:
			f()
		case <-d.quit:
			if err := d.mod.Unload(); err != nil {
				d.log.Warn("cuModuleUnload", "err", err)
			}
			if err := d.cctx.Destroy(); err != nil {
				d.log.Warn("cuCtxDestroy", "err", err)
			}
			return
		}
	}
}

func (d *Device) open(ordinal int) error {
	n, err := cu.NumDevices()
	if err != nil {
		return fmt.Errorf("%w: cuDeviceGetCount: %v", ErrNoDevice, err)
	}
	if ordinal < 0 || ordinal >= n {
		return fmt.Errorf("%w: device %d requested, %d present", ErrNoDevice, ordinal, n)
	}
	dev, err := cu.GetDevice(ordinal)
	if err != nil {
		return fmt.Errorf("%w: cuDeviceGet(%d): %v", ErrNoDevice, ordinal, err)
	}
	major, minor, err := dev.ComputeCapability()
	if err != nil {
		return fmt.Errorf("gpu: device %d compute capability: %w", ordinal, err)
	}
	name, err := dev.Name()
	if err != nil {
		return fmt.Errorf("gpu: cuDeviceGetName(%d): %w", ordinal, err)
	}
	if major < 8 {
		return fmt.Errorf("%w: %s has compute capability %d.%d; the kernels need 8.0 or newer", ErrNoDevice, name, major, minor)
	}
	if d.sms, err = dev.Attribute(cu.MultiprocessorCount); err != nil {
		return fmt.Errorf("gpu: device %d multiprocessor count: %w", ordinal, err)
	}
	mem, err := dev.TotalMem()
	if err != nil {
		return fmt.Errorf("gpu: cuDeviceTotalMem(%d): %w", ordinal, err)
	}
	d.name = fmt.Sprintf("%s (sm_%d%d, %d SMs, %d MiB)", name, major, minor, d.sms, mem>>20)

	if d.cctx, err = dev.MakeContext(cu.SchedBlockingSync); err != nil {
		return fmt.Errorf("gpu: cuCtxCreate on %s: %w", name, err)
	}
	logBuf := &cu.JITErrorLogBuffer{Buffer: make([]byte, 16<<10)}
	if d.mod, err = cu.LoadDataEx(kernels.PTX(), logBuf); err != nil {
		jitLog := strings.TrimRight(string(logBuf.Buffer), "\x00")
		_ = d.cctx.Destroy()
		return fmt.Errorf("gpu: cuModuleLoadDataEx (kernels PTX) on %s: %w; JIT log: %s", name, err, jitLog)
	}
	for _, f := range []struct {
		fn   *cu.Function
		name string
	}{
		{&d.fnShared, kernels.SolveShared}, {&d.fnGlobal, kernels.SolveGlobal}, {&d.fnSSE, kernels.SSE},
		{&d.fnCGShared, kernels.CGShared}, {&d.fnCGGlobal, kernels.CGGlobal},
		{&d.fnImpShared, kernels.ImplicitShared}, {&d.fnImpGlobal, kernels.ImplicitGlobal},
		{&d.fnImpCGShared, kernels.ImplicitCGShared}, {&d.fnImpCGGlobal, kernels.ImplicitCGGlobal},
		{&d.fnGram, kernels.GramPartial}, {&d.fnReduce, kernels.GramReduce}, {&d.fnPrefSSE, kernels.PreferenceSSE},
		{&d.fnSplitGram, kernels.SplitGram}, {&d.fnSplitGramI, kernels.SplitGramImplicit},
		{&d.fnSplitSolve, kernels.SplitSolve}, {&d.fnSplitSolveI, kernels.SplitSolveImplicit},
		{&d.fnCopyRuns, kernels.CopyRuns},
	} {
		if *f.fn, err = d.mod.Function(f.name); err != nil {
			_ = d.mod.Unload()
			_ = d.cctx.Destroy()
			return fmt.Errorf("gpu: cuModuleGetFunction %s: %w", f.name, err)
		}
		t, err := f.fn.Attribute(cu.FnMaxThreadsPerBlock)
		if err != nil {
			_ = d.mod.Unload()
			_ = d.cctx.Destroy()
			return fmt.Errorf("gpu: cuFuncGetAttribute %s MAX_THREADS_PER_BLOCK: %w", f.name, err)
		}
		d.maxT[f.name] = t
		d.fns[f.name] = *f.fn
		// Post-JIT resources, for the first GPU run's log (device-check.sh).
		regs, _ := f.fn.Attribute(cu.NumRegs)
		local, _ := f.fn.Attribute(cu.LocalSizeBytes)
		d.log.Info("kernel", "name", f.name, "regs", regs, "local_bytes", local, "max_threads", t)
	}
	d.smem = smemNoOptIn
	if optin, err := sharedOptIn(); err != nil {
		d.log.Warn("no opt-in shared memory; the row kernels keep 48 KiB", "err", err)
	} else if optin > smemNoOptIn {
		ok := true
		// The heavy rows' solve uses the row kernels' shared memory.
		for _, fn := range []cu.Function{d.fnShared, d.fnCGShared, d.fnImpShared, d.fnImpCGShared, d.fnSplitSolve, d.fnSplitSolveI} {
			if err := setMaxDynamicShared(fn, optin); err != nil {
				d.log.Warn("opt-in shared memory refused; the row kernels keep 48 KiB", "err", err)
				ok = false
				break
			}
		}
		if ok {
			d.smem = optin
		}
	}
	return nil
}

// do runs f on the device goroutine and returns its error.
func (d *Device) do(f func() error) error {
	errc := make(chan error, 1)
	select {
	case d.reqs <- func() { errc <- f() }:
		return <-errc
	case <-d.done:
		return ErrClosed
	}
}

// Close releases the context. It waits for a running request to finish.
func (d *Device) Close() error {
	d.closeOnce.Do(func() { close(d.quit) })
	<-d.done
	return nil
}

// Fit implements als.Solver. The model starts from als.Prepare exactly as
// on the CPU; each iteration solves the items, then the users, then
// computes the training error on the device (als.TrainError: the RMSE, or
// for the implicit objective als.PreferenceRMSE). For the implicit
// objective each half first forms the fixed side's Gram matrix on the
// device (als_gram_partial, als_gram_reduce), then solves the rows
// (als_implicit_shared or als_implicit_global). With p.Solver ==
// als.CG the rows take p.Steps() conjugate-gradient steps from their
// current factors instead of the exact Cholesky: als_cg_shared or
// als_cg_global for the explicit objective, als_implicit_cg_shared or
// als_implicit_cg_global for the implicit one (as the CPU backend's
// als.CG). Rows any kernel reports as failed are re-solved exactly, in
// float64 on the host.
// There is no early stopping on the device: it trains on every rating and
// runs all p.Iterations, ignoring p.Tolerance and p.Validation (whose
// ValidationRMSE it reports as 0).
func (d *Device) Fit(ctx context.Context, dst *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	return d.fit(ctx, dst, nil, r, p, progress, false)
}

// FitFrom implements als.WarmSolver: Fit starting from from's factors and
// biases (als.PrepareFrom on the host, then the same upload as Fit's)
// instead of als.Prepare's. It returns an error wrapping
// als.ErrInvalidParams when from does not suit p (als.WarmCompatible).
func (d *Device) FitFrom(ctx context.Context, dst, from *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	if !als.WarmCompatible(from, p) {
		return fmt.Errorf("gpu: fit: %w: the starting model does not have rank %d and bias %v", als.ErrInvalidParams, p.Rank, p.Bias)
	}
	return d.fit(ctx, dst, from, r, p, progress, false)
}

// HalfStep runs only the first half of the first iteration (the items
// against the initial user factors) and downloads the model: the item
// factors (and biases) are solved, the user side is still als.Prepare's. It
// exists for tests that compare one half-step with the CPU.
func (d *Device) HalfStep(ctx context.Context, dst *als.Model, r *als.Ratings, p als.Params) error {
	return d.fit(ctx, dst, nil, r, p, nil, true)
}

// fit is Fit (from nil) or FitFrom.
func (d *Device) fit(ctx context.Context, dst, from *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration), half bool) (err error) {
	if err := checkParams(p); err != nil {
		return err
	}
	d.fitMu.Lock()
	defer d.fitMu.Unlock()
	pt := d.pending
	d.pending = nil
	if from != nil {
		als.PrepareFrom(dst, r, p, from)
	} else {
		als.Prepare(dst, r, p)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("gpu: fit: %w", err)
	}
	defer func() {
		if err != nil && ctx.Err() == nil {
			// A failed launch may leave the context unusable: hold
			// nothing. (A cancelled Fit stops between requests, and a
			// patch is one request, so what is held stays whole.)
			_ = d.do(func() error { d.held.free(); d.spare.free(); return nil })
		}
	}()
	var j *job
	if err := d.do(func() error {
		var err error
		j, err = d.upload(dst, r, p, pt)
		return err
	}); err != nil {
		return err
	}
	defer func() {
		ferr := d.do(func() error { return j.free() })
		if err == nil && ferr != nil {
			err = ferr
		}
	}()
	if half {
		if err := d.do(func() error { _, err := j.solve(&j.items, &j.users); return err }); err != nil {
			return err
		}
		return d.do(func() error { return j.download(dst) })
	}
	for it := 1; it <= p.Iterations; it++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("gpu: fit: before iteration %d: %w", it, err)
		}
		var rmse float64
		var took time.Duration
		failed := 0
		if err := d.do(func() error {
			start := time.Now()
			fi, err := j.solve(&j.items, &j.users)
			if err != nil {
				return err
			}
			fu, err := j.solve(&j.users, &j.items)
			if err != nil {
				return err
			}
			failed = fi + fu
			took = time.Since(start)
			rmse, err = j.rmse()
			return err
		}); err != nil {
			return fmt.Errorf("gpu: iteration %d: %w", it, err)
		}
		if progress != nil {
			progress(als.Iteration{N: it, Of: p.Iterations, TrainRMSE: rmse, Duration: took, FailedRows: failed})
		}
	}
	return d.do(func() error { return j.download(dst) })
}

// side is one side's device data: its CSR ratings (rows of this side), the
// permutation of its rows by length, and its factors and biases.
type side struct {
	name            string
	rows            int
	ptr, idx, val   cu.DevicePtr
	perm            cu.DevicePtr
	factors, biases cu.DevicePtr // biases is 0 without Params.Bias
	hostF, hostB    []float32
	hostPtr         []int64
	hostIdx         []int32
	hostVal         []float32
	hostPerm        []int32
	factorBytes     int64
	biasBytes       int64
	permLen         int64

	// Heavy rows (job.split): the first split.Heavy rows of perm, their
	// slices (3 int32 each) and each row's first slice (Heavy+1 int32).
	split         splitRows
	slices, first cu.DevicePtr
}

// job is one Fit's device state. Its methods run on the device goroutine.
type job struct {
	d            *Device
	p            als.Params
	k, ka, nnz   int
	lambda, mu   float32
	plan         solvePlan
	fn           cu.Function
	slots        int
	ws           cu.DevicePtr
	sse          cu.DevicePtr
	failed       cu.DevicePtr // the kernels' failed list: count, then 1 + max(rows) int32 (als.cu)
	failedHost   []int32      // its host copy, for resolveRows
	users, items side
	allocs       []cu.DevicePtr

	// Heavy rows: the plan, and the slices' partial systems (the larger
	// side's slice count × split.SlotFloats float32), sized once per Fit.
	split splitPlan
	part  cu.DevicePtr

	// The implicit objective only (zero for explicit fits): the Gram plan,
	// the per-stripe partial Grams (gramSlots slots of gram.Len float64,
	// enough for either side), and w₀·G of the current fixed side
	// (gram.Len float32). Owned by the job, freed with it.
	implicit  bool
	gram      gramPlan
	gramSlots int
	gramPart  cu.DevicePtr
	wgram     cu.DevicePtr
}

func (d *Device) upload(m *als.Model, r *als.Ratings, p als.Params, pt *Patch) (*job, error) {
	j := &job{d: d, p: p, k: p.Rank, ka: p.AugmentedRank(), nnz: r.NNZ(), lambda: float32(p.Lambda), mu: m.Mean,
		implicit: p.Objective == als.Implicit}
	shared, global := rowKernels(p)
	j.plan = planFor(p, min(d.maxT[shared], d.maxT[global]), d.smem)
	j.fn = d.fns[j.plan.Kernel]
	gramK, solveK := kernels.SplitGram, kernels.SplitSolve
	if j.implicit {
		gramK, solveK = kernels.SplitGramImplicit, kernels.SplitSolveImplicit
	}
	j.split = planSplit(j.plan, d.maxT[gramK], d.maxT[solveK], d.splitAt, d.splitSlice)
	if j.implicit {
		j.gram = planGram(j.k, d.maxT[kernels.GramPartial])
		us, _ := gramStripes(r.NumUsers)
		is, _ := gramStripes(r.NumItems)
		j.gramSlots = max(us, is)
	}
	if !j.plan.sharedKernel() {
		per, err := j.fn.MaxActiveBlocksPerMultiProcessor(j.plan.Threads, int64(j.plan.SharedBytes))
		if err != nil {
			return nil, fmt.Errorf("gpu: cuOccupancyMaxActiveBlocksPerMultiprocessor %s: %w", j.plan.Kernel, err)
		}
		if per < 1 {
			return nil, fmt.Errorf("gpu: %s cannot run with %v on %s", j.plan.Kernel, j.plan, d.name)
		}
		j.slots = d.sms * per
	}
	j.users = side{name: "users", rows: r.NumUsers, hostPtr: r.UserPtr, hostIdx: r.UserIdx, hostVal: r.UserVal,
		hostF: m.UserFactors, hostB: m.UserBias}
	j.items = side{name: "items", rows: r.NumItems, hostPtr: r.ItemPtr, hostIdx: r.ItemIdx, hostVal: r.ItemVal,
		hostF: m.ItemFactors, hostB: m.ItemBias}

	// Check the total against free memory first, for a clear error.
	need := int64(0)
	for _, s := range []*side{&j.users, &j.items} {
		s.hostPerm = sortByLength(s.hostPtr)
		s.permLen = int64(len(s.hostPerm))
		s.factorBytes = 4 * int64(len(s.hostF))
		s.biasBytes = 4 * int64(len(s.hostB))
		need += 4*s.permLen + s.factorBytes + s.biasBytes // the ratings themselves are resident
	}
	split, slice := splitSides(j.split, [2][]int64{j.users.hostPtr, j.items.hostPtr}, [2][]int32{j.users.hostPerm, j.items.hostPerm})
	j.split.Slice = slice
	j.users.split, j.items.split = split[0], split[1]
	for _, s := range []*side{&j.users, &j.items} {
		need += 4 * int64(len(s.split.Slices)+len(s.split.First))
	}
	partBytes := 4 * int64(max(j.users.split.NumSlices(), j.items.split.NumSlices())) * int64(j.split.SlotFloats)
	need += partBytes
	wsBytes := 4 * int64(j.slots) * int64(j.plan.GramFloats)
	failedBytes := 4 * (1 + int64(max(r.NumUsers, r.NumItems)))
	need += wsBytes + 8 + failedBytes
	gramPartBytes := 8 * int64(j.gramSlots) * int64(j.gram.Len)
	wgramBytes := 4 * int64(j.gram.Len)
	need += gramPartBytes + wgramBytes
	// The ratings first: held, patched or sent in full (resident.go).
	mode, sent, err := d.resident(r, pt)
	if err != nil {
		return nil, err
	}
	d.lastMode, d.lastSent = mode, sent
	for _, c := range []struct {
		s *side
		h *devCSR
	}{{&j.users, &d.held.users}, {&j.items, &d.held.items}} {
		c.s.ptr, c.s.idx, c.s.val = c.h.ptr, c.h.idx, c.h.val
	}
	free, total, err := cu.MemInfo()
	if err != nil {
		return nil, fmt.Errorf("gpu: cuMemGetInfo: %w", err)
	}
	if need > free && d.spare.bytes() > 0 {
		d.spare.free() // the next retrain sends in full rather than fail this one
		if free, total, err = cu.MemInfo(); err != nil {
			return nil, fmt.Errorf("gpu: cuMemGetInfo: %w", err)
		}
	}
	if need > free {
		return nil, fmt.Errorf("gpu: training needs %d MiB of device memory beyond the %d MiB of ratings it holds, %d of %d MiB free",
			need>>20, d.held.bytes()>>20, free>>20, total>>20)
	}
	d.log.Info("upload", "users", r.NumUsers, "items", r.NumItems, "ratings", j.nnz,
		"ratings_upload", string(mode), "ratings_bytes_sent", sent, "resident_mib", (d.held.bytes()+d.spare.bytes())>>20,
		"device_mib", need>>20, "plan", j.plan.String(), "slots", j.slots, "split", j.split.String(),
		"heavy_items", j.items.split.Heavy, "item_slices", j.items.split.NumSlices(),
		"heavy_users", j.users.split.Heavy, "user_slices", j.users.split.NumSlices())
	if per, err := j.fn.MaxActiveBlocksPerMultiProcessor(j.plan.Threads, int64(j.plan.SharedBytes)); err == nil {
		d.log.Info("occupancy", "kernel", j.plan.Kernel, "blocks_per_sm", per, "threads", j.plan.Threads)
	}
	if j.implicit {
		d.log.Info("upload implicit", "gram_plan", j.gram.String(), "gram_slots", j.gramSlots)
	}

	ok := false
	defer func() {
		if !ok {
			_ = j.free()
		}
	}()
	for _, s := range []*side{&j.users, &j.items} {
		if s.perm, err = j.alloc(s.name+" permutation", 4*s.permLen); err != nil {
			return nil, err
		}
		if s.factors, err = j.alloc(s.name+" factors", s.factorBytes); err != nil {
			return nil, err
		}
		if p.Bias {
			if s.biases, err = j.alloc(s.name+" biases", s.biasBytes); err != nil {
				return nil, err
			}
		}
		if s.split.Heavy > 0 {
			if s.slices, err = j.alloc(s.name+" heavy-row slices", 4*int64(len(s.split.Slices))); err != nil {
				return nil, err
			}
			if s.first, err = j.alloc(s.name+" heavy-row first slices", 4*int64(len(s.split.First))); err != nil {
				return nil, err
			}
		}
		for _, c := range []struct {
			what string
			dst  cu.DevicePtr
			src  unsafe.Pointer
			n    int64
		}{
			{"permutation", s.perm, sliceData(s.hostPerm), 4 * s.permLen},
			{"factors", s.factors, sliceData(s.hostF), s.factorBytes},
			{"biases", s.biases, sliceData(s.hostB), s.biasBytes},
			{"heavy-row slices", s.slices, sliceData(s.split.Slices), 4 * int64(len(s.split.Slices))},
			{"heavy-row first slices", s.first, sliceData(s.split.First), 4 * int64(len(s.split.First))},
		} {
			if c.n == 0 || c.dst == 0 {
				continue
			}
			if err := cu.MemcpyHtoD(c.dst, c.src, c.n); err != nil {
				return nil, fmt.Errorf("gpu: cuMemcpyHtoD %s %s (%d bytes): %w", s.name, c.what, c.n, err)
			}
		}
	}
	if j.slots > 0 {
		if j.ws, err = j.alloc("Gram workspace", wsBytes); err != nil {
			return nil, err
		}
	}
	if partBytes > 0 {
		if j.part, err = j.alloc("heavy-row partial systems", partBytes); err != nil {
			return nil, err
		}
	}
	if j.sse, err = j.alloc("RMSE accumulator", 8); err != nil {
		return nil, err
	}
	if j.failed, err = j.alloc("failed rows", failedBytes); err != nil {
		return nil, err
	}
	if j.implicit {
		if j.gramPart, err = j.alloc("partial Gram matrices", gramPartBytes); err != nil {
			return nil, err
		}
		if j.wgram, err = j.alloc("Gram matrix", wgramBytes); err != nil {
			return nil, err
		}
	}
	ok = true
	return j, nil
}

func sliceData[T any](s []T) unsafe.Pointer {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Pointer(&s[0])
}

// alloc allocates n bytes (at least 16, so empty arrays get a valid pointer).
func (j *job) alloc(what string, n int64) (cu.DevicePtr, error) {
	p, err := cu.MemAlloc(max(n, 16))
	if err != nil {
		return 0, fmt.Errorf("gpu: cuMemAlloc %s (%d bytes): %w", what, n, err)
	}
	j.allocs = append(j.allocs, p)
	return p, nil
}

func (j *job) free() error {
	var first error
	for _, p := range j.allocs {
		if err := cu.MemFree(p); err != nil && first == nil {
			first = fmt.Errorf("gpu: cuMemFree: %w", err)
		}
	}
	j.allocs = nil
	return first
}

// Kernel scalar arguments: package cu copies 8 bytes from each argument
// pointer, so 4-byte values travel in the low half of a uint64 (little-endian).
func argInt(v int) *uint64        { a := uint64(uint32(int32(v))); return &a }
func argFloat(v float32) *uint64  { a := uint64(math.Float32bits(v)); return &a }
func argDouble(v float64) *uint64 { a := math.Float64bits(v); return &a }

// solve runs one half-iteration: every row of s against the fixed factors of
// other (for the implicit objective, after forming other's Gram matrix). It
// synchronises, so a fault is reported against this launch. Rows whose
// float32 solve failed (the kernel's failed list) are solved again in
// float64 on the host and uploaded (resolveFailed); failed is their number.
func (j *job) solve(s, other *side) (failed int, err error) {
	if s.rows == 0 {
		return 0, nil
	}
	if err := cu.MemsetD8(j.failed, 0, 4); err != nil {
		return 0, fmt.Errorf("gpu: cuMemsetD8 failed-row count: %w", err)
	}
	start := time.Now()
	if j.implicit {
		err = j.solveImplicit(s, other)
	} else {
		err = j.solveExplicit(s, other)
	}
	if err != nil {
		return 0, err
	}
	if j.d.timing {
		j.d.log.Info("half", "side", s.name, "kernel", j.plan.Kernel, "ms", float64(time.Since(start).Microseconds())/1e3)
	}
	return j.resolveFailed(s, other)
}

// solveExplicit launches the explicit kernels over s and synchronises:
// the heavy rows' slices (als_split_gram), the row kernel over the light
// rows (the rest of the permutation), the heavy rows' reduce and solve
// (als_split_solve), in stream order.
func (j *job) solveExplicit(s, other *side) error {
	heavy := s.split.Heavy
	if heavy > 0 {
		args := []unsafe.Pointer{
			unsafe.Pointer(&s.ptr), unsafe.Pointer(&s.idx), unsafe.Pointer(&s.val),
			unsafe.Pointer(&s.slices), unsafe.Pointer(argInt(s.split.NumSlices())),
			unsafe.Pointer(&other.factors), unsafe.Pointer(&other.biases),
			unsafe.Pointer(argInt(j.k)), unsafe.Pointer(argInt(j.ka)), unsafe.Pointer(argFloat(j.mu)),
			unsafe.Pointer(argInt(j.split.Gram.Chunk)), unsafe.Pointer(argInt(j.split.Gram.Buffers)), unsafe.Pointer(&j.part),
		}
		if err := j.splitGram(s, j.d.fnSplitGram, args); err != nil {
			return err
		}
	}
	if err := j.solveLight(s, func(perm *cu.DevicePtr, nrows *uint64) []unsafe.Pointer {
		return []unsafe.Pointer{
			unsafe.Pointer(&s.ptr), unsafe.Pointer(&s.idx), unsafe.Pointer(&s.val),
			unsafe.Pointer(perm), unsafe.Pointer(nrows),
			unsafe.Pointer(&other.factors), unsafe.Pointer(&other.biases),
			unsafe.Pointer(&s.factors), unsafe.Pointer(&s.biases),
			unsafe.Pointer(argInt(j.k)), unsafe.Pointer(argInt(j.ka)),
			unsafe.Pointer(argFloat(j.lambda)), unsafe.Pointer(argFloat(j.mu)),
			unsafe.Pointer(argInt(j.plan.Chunk)), unsafe.Pointer(argInt(j.plan.Buffers)), unsafe.Pointer(&j.ws), unsafe.Pointer(&j.failed),
		}
	}); err != nil {
		return err
	}
	if heavy > 0 {
		args := []unsafe.Pointer{
			unsafe.Pointer(&s.ptr), unsafe.Pointer(&s.perm), unsafe.Pointer(&s.first), unsafe.Pointer(argInt(heavy)),
			unsafe.Pointer(&j.part), unsafe.Pointer(&s.factors), unsafe.Pointer(&s.biases),
			unsafe.Pointer(argInt(j.k)), unsafe.Pointer(argInt(j.ka)), unsafe.Pointer(argFloat(j.lambda)),
			unsafe.Pointer(argInt(j.plan.Chunk)), unsafe.Pointer(argInt(j.plan.Buffers)), unsafe.Pointer(&j.ws), unsafe.Pointer(&j.failed),
			unsafe.Pointer(argInt(j.plan.CGSteps)),
		}
		if err := j.splitSolve(s, j.d.fnSplitSolve, args); err != nil {
			return err
		}
	}
	if err := cu.Synchronize(); err != nil {
		return fmt.Errorf("gpu: %s, %s or %s (%s, %v; %v) failed: cuCtxSynchronize: %w", j.split.GramKernel, j.plan.Kernel,
			j.split.SolveKernel, s.name, j.plan, j.split, err)
	}
	return nil
}

// solveLight launches the row kernel (j.fn) over the light rows of s: the
// permutation after its s.split.Heavy heavy rows. args builds the kernel's
// arguments from the permutation pointer and row count; the CG steps are
// appended. It does not synchronise.
func (j *job) solveLight(s *side, args func(perm *cu.DevicePtr, nrows *uint64) []unsafe.Pointer) error {
	heavy := s.split.Heavy
	light := s.rows - heavy
	if light == 0 {
		return nil
	}
	perm := s.perm + cu.DevicePtr(4*heavy)
	a := args(&perm, argInt(light))
	if j.plan.CGSteps > 0 {
		a = append(a, unsafe.Pointer(argInt(j.plan.CGSteps)))
	}
	grid := solveGrid(j.plan, light, j.slots)
	if err := j.fn.Launch(grid, 1, 1, j.plan.Threads, 1, 1, j.plan.SharedBytes, cu.NoStream, a); err != nil {
		return fmt.Errorf("gpu: cuLaunchKernel %s (%s, %d light rows, grid %d, %v): %w", j.plan.Kernel, s.name, light, grid, j.plan, err)
	}
	return nil
}

// splitGram launches fn (als_split_gram or als_split_gram_implicit) with
// args over the slices of s's heavy rows, one block per slice. It does
// not synchronise.
func (j *job) splitGram(s *side, fn cu.Function, args []unsafe.Pointer) error {
	g := j.split.Gram
	grid := min(s.split.NumSlices(), maxGridX)
	if err := fn.Launch(grid, 1, 1, g.Threads, 1, 1, g.SharedBytes, cu.NoStream, args); err != nil {
		return fmt.Errorf("gpu: cuLaunchKernel %s (%s, %d heavy rows, %d slices, %v): %w", j.split.GramKernel, s.name,
			s.split.Heavy, s.split.NumSlices(), j.split, err)
	}
	return nil
}

// splitSolve launches fn (als_split_solve or als_split_solve_implicit)
// with args over s's heavy rows: the row plan's shared memory and grid
// (one block per row, or at most the workspace slots), split.SolveThreads
// threads. It does not synchronise.
func (j *job) splitSolve(s *side, fn cu.Function, args []unsafe.Pointer) error {
	grid := solveGrid(j.plan, s.split.Heavy, j.slots)
	if err := fn.Launch(grid, 1, 1, j.split.SolveThreads, 1, 1, j.plan.SharedBytes, cu.NoStream, args); err != nil {
		return fmt.Errorf("gpu: cuLaunchKernel %s (%s, %d heavy rows, grid %d, %v): %w", j.split.SolveKernel, s.name,
			s.split.Heavy, grid, j.split, err)
	}
	return nil
}

// resolveFailed reads the failed list of the last solve of s; if it is not
// empty, it downloads the fixed side's current factors, solves the listed
// rows in float64 on the host (resolveRows) and uploads their factors (and
// biases). This is the rare path: a λ near als.MinLambda, or extreme data.
func (j *job) resolveFailed(s, other *side) (int, error) {
	var n int32
	if err := cu.MemcpyDtoH(unsafe.Pointer(&n), j.failed, 4); err != nil {
		return 0, fmt.Errorf("gpu: cuMemcpyDtoH failed-row count (%s): %w", s.name, err)
	}
	if n <= 0 {
		return 0, nil
	}
	if int(n) > s.rows {
		return 0, fmt.Errorf("gpu: %s: kernel reports %d failed rows of %d", s.name, n, s.rows)
	}
	if cap(j.failedHost) < int(1+n) {
		j.failedHost = make([]int32, 1+n)
	}
	list := j.failedHost[:1+n]
	if err := cu.MemcpyDtoH(unsafe.Pointer(&list[0]), j.failed, 4*int64(1+n)); err != nil {
		return 0, fmt.Errorf("gpu: cuMemcpyDtoH failed rows (%s): %w", s.name, err)
	}
	rows := list[1:]
	y := make([]float32, other.rows*j.k)
	var yb []float32
	if err := copyDtoH(y, other.factors); err != nil {
		return 0, fmt.Errorf("gpu: cuMemcpyDtoH %s factors: %w", other.name, err)
	}
	if j.p.Bias {
		yb = make([]float32, other.rows)
		if err := copyDtoH(yb, other.biases); err != nil {
			return 0, fmt.Errorf("gpu: cuMemcpyDtoH %s biases: %w", other.name, err)
		}
	}
	x := make([]float32, len(rows)*j.k)
	var xb []float32
	if j.p.Bias {
		xb = make([]float32, len(rows))
	}
	h := hostHalf{ptr: s.hostPtr, idx: s.hostIdx, val: s.hostVal, y: y, yb: yb, nfixed: other.rows, mu: j.mu, p: j.p}
	if err := resolveRows(x, xb, h, rows); err != nil {
		return 0, fmt.Errorf("gpu: %s: %w", s.name, err)
	}
	rowBytes := 4 * int64(j.k)
	for i, row := range rows {
		if row < 0 || int(row) >= s.rows {
			return 0, fmt.Errorf("gpu: %s: kernel reports failed row %d of %d", s.name, row, s.rows)
		}
		dst := s.factors + cu.DevicePtr(int64(row)*rowBytes)
		if err := cu.MemcpyHtoD(dst, unsafe.Pointer(&x[i*j.k]), rowBytes); err != nil {
			return 0, fmt.Errorf("gpu: cuMemcpyHtoD re-solved %s row %d: %w", s.name, row, err)
		}
		if j.p.Bias {
			if err := cu.MemcpyHtoD(s.biases+cu.DevicePtr(4*int64(row)), unsafe.Pointer(&xb[i]), 4); err != nil {
				return 0, fmt.Errorf("gpu: cuMemcpyHtoD re-solved %s bias %d: %w", s.name, row, err)
			}
		}
	}
	j.d.log.Warn("rows failed in float32; re-solved in float64 on the host", "side", s.name, "rows", len(rows))
	return len(rows), nil
}

// copyDtoH copies len(dst) floats from src.
func copyDtoH(dst []float32, src cu.DevicePtr) error {
	if len(dst) == 0 {
		return nil
	}
	return cu.MemcpyDtoH(unsafe.Pointer(&dst[0]), src, 4*int64(len(dst)))
}

// gramOf sets j.wgram to w₀ times the Gram matrix of other's factors:
// als_gram_partial over gramStripes(other.rows) stripes into j.gramPart,
// then als_gram_reduce. Both launches go to the same stream, so the reduce
// sees the partial sums; solveImplicit synchronises after its own launch.
func (j *job) gramOf(other *side) error {
	stripes, per := gramStripes(other.rows)
	g := j.gram
	if stripes > 0 {
		args := []unsafe.Pointer{
			unsafe.Pointer(&other.factors), unsafe.Pointer(argInt(other.rows)), unsafe.Pointer(argInt(j.k)),
			unsafe.Pointer(argInt(per)), unsafe.Pointer(argInt(g.Chunk)), unsafe.Pointer(&j.gramPart),
		}
		if err := j.d.fnGram.Launch(stripes, g.Groups, 1, g.Threads, 1, 1, g.SharedBytes, cu.NoStream, args); err != nil {
			return fmt.Errorf("gpu: cuLaunchKernel %s (%s, %d stripes of %d rows, %v): %w", kernels.GramPartial, other.name, stripes, per, g, err)
		}
	}
	grid := (g.Len + reduceThreads - 1) / reduceThreads
	args := []unsafe.Pointer{
		unsafe.Pointer(&j.gramPart), unsafe.Pointer(argInt(stripes)), unsafe.Pointer(argInt(g.Len)),
		unsafe.Pointer(argDouble(j.p.Unobserved)), unsafe.Pointer(&j.wgram),
	}
	if err := j.d.fnReduce.Launch(grid, 1, 1, reduceThreads, 1, 1, 0, cu.NoStream, args); err != nil {
		return fmt.Errorf("gpu: cuLaunchKernel %s (%s, %d stripes, grid %d): %w", kernels.GramReduce, other.name, stripes, grid, err)
	}
	return nil
}

// solveImplicit runs one half-iteration of the implicit objective: the
// Gram matrix of other (gramOf), then every row of s as solveExplicit
// launches them (heavy rows' slices, light rows, heavy rows' solve). It
// synchronises, so a fault is reported against these launches.
func (j *job) solveImplicit(s, other *side) error {
	if err := j.gramOf(other); err != nil {
		return err
	}
	heavy := s.split.Heavy
	if heavy > 0 {
		args := []unsafe.Pointer{
			unsafe.Pointer(&s.ptr), unsafe.Pointer(&s.idx), unsafe.Pointer(&s.val),
			unsafe.Pointer(&s.slices), unsafe.Pointer(argInt(s.split.NumSlices())),
			unsafe.Pointer(&other.factors), unsafe.Pointer(argInt(j.k)),
			unsafe.Pointer(argDouble(j.p.Alpha)), unsafe.Pointer(argDouble(j.p.Unobserved)),
			unsafe.Pointer(argInt(j.split.Gram.Chunk)), unsafe.Pointer(argInt(j.split.Gram.Buffers)), unsafe.Pointer(&j.part),
		}
		if err := j.splitGram(s, j.d.fnSplitGramI, args); err != nil {
			return err
		}
	}
	if err := j.solveLight(s, func(perm *cu.DevicePtr, nrows *uint64) []unsafe.Pointer {
		return []unsafe.Pointer{
			unsafe.Pointer(&s.ptr), unsafe.Pointer(&s.idx), unsafe.Pointer(&s.val),
			unsafe.Pointer(perm), unsafe.Pointer(nrows),
			unsafe.Pointer(&other.factors), unsafe.Pointer(&s.factors), unsafe.Pointer(argInt(j.k)),
			unsafe.Pointer(&j.wgram), unsafe.Pointer(argDouble(j.p.Lambda)), unsafe.Pointer(argDouble(j.p.Alpha)),
			unsafe.Pointer(argDouble(j.p.Unobserved)), unsafe.Pointer(argDouble(j.p.RegExponent)),
			unsafe.Pointer(argInt(other.rows)), unsafe.Pointer(argInt(j.plan.Chunk)), unsafe.Pointer(argInt(j.plan.Buffers)), unsafe.Pointer(&j.ws),
			unsafe.Pointer(&j.failed),
		}
	}); err != nil {
		return err
	}
	if heavy > 0 {
		args := []unsafe.Pointer{
			unsafe.Pointer(&s.ptr), unsafe.Pointer(&s.perm), unsafe.Pointer(&s.first), unsafe.Pointer(argInt(heavy)),
			unsafe.Pointer(&j.part), unsafe.Pointer(&s.factors), unsafe.Pointer(argInt(j.k)),
			unsafe.Pointer(&j.wgram), unsafe.Pointer(argDouble(j.p.Lambda)), unsafe.Pointer(argDouble(j.p.Unobserved)),
			unsafe.Pointer(argDouble(j.p.RegExponent)), unsafe.Pointer(argInt(other.rows)),
			unsafe.Pointer(argInt(j.plan.Chunk)), unsafe.Pointer(argInt(j.plan.Buffers)), unsafe.Pointer(&j.ws), unsafe.Pointer(&j.failed),
			unsafe.Pointer(argInt(j.plan.CGSteps)),
		}
		if err := j.splitSolve(s, j.d.fnSplitSolveI, args); err != nil {
			return err
		}
	}
	if err := cu.Synchronize(); err != nil {
		return fmt.Errorf("gpu: %s, %s, %s, %s or %s (%s against %s, %v; %v) failed: cuCtxSynchronize: %w",
			kernels.GramPartial, kernels.GramReduce, j.split.GramKernel, j.plan.Kernel, j.split.SolveKernel,
			s.name, other.name, j.plan, j.split, err)
	}
	return nil
}

// rmse returns the training error of the resident model: the RMSE, or
// for the implicit objective the distance of the scores from 1 over the
// rated pairs (als.PreferenceRMSE).
func (j *job) rmse() (float64, error) {
	if j.nnz == 0 || j.users.rows == 0 {
		return 0, nil
	}
	if err := cu.MemsetD8(j.sse, 0, 8); err != nil {
		return 0, fmt.Errorf("gpu: cuMemsetD8 RMSE accumulator: %w", err)
	}
	warps := sseThreads / 32
	grid := max(1, min(j.d.sms*sseBlocksPerSM, (j.users.rows+warps-1)/warps))
	args := []unsafe.Pointer{
		unsafe.Pointer(&j.users.ptr), unsafe.Pointer(&j.users.idx), unsafe.Pointer(&j.users.val),
		unsafe.Pointer(argInt(j.users.rows)), unsafe.Pointer(&j.users.factors), unsafe.Pointer(&j.items.factors),
		unsafe.Pointer(&j.users.biases), unsafe.Pointer(&j.items.biases),
		unsafe.Pointer(argInt(j.k)), unsafe.Pointer(argFloat(j.mu)), unsafe.Pointer(&j.sse),
	}
	fn, name := j.d.fnSSE, kernels.SSE
	if j.implicit {
		fn, name = j.d.fnPrefSSE, kernels.PreferenceSSE
	}
	if err := fn.Launch(grid, 1, 1, sseThreads, 1, 1, 0, cu.NoStream, args); err != nil {
		return 0, fmt.Errorf("gpu: cuLaunchKernel %s (grid %d): %w", name, grid, err)
	}
	var se float64
	if err := cu.MemcpyDtoH(unsafe.Pointer(&se), j.sse, 8); err != nil {
		return 0, fmt.Errorf("gpu: %s or cuMemcpyDtoH of its sum failed: %w", name, err)
	}
	return math.Sqrt(se / float64(j.nnz)), nil
}

// download copies the factors (and biases) back into m.
func (j *job) download(m *als.Model) error {
	for _, c := range []struct {
		what string
		dst  []float32
		src  cu.DevicePtr
	}{
		{"user factors", m.UserFactors, j.users.factors},
		{"item factors", m.ItemFactors, j.items.factors},
		{"user biases", m.UserBias, j.users.biases},
		{"item biases", m.ItemBias, j.items.biases},
	} {
		if len(c.dst) == 0 || c.src == 0 {
			continue
		}
		if err := cu.MemcpyDtoH(unsafe.Pointer(&c.dst[0]), c.src, 4*int64(len(c.dst))); err != nil {
			return fmt.Errorf("gpu: cuMemcpyDtoH %s: %w", c.what, err)
		}
	}
	return nil
}
