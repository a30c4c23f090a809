package cpu

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync/atomic"
	"time"

	"movierec/als"
)

// chunk is the number of rows a worker takes from the shared counter at a
// time.
const chunk = 64

// Solver fits ALS models on the CPU with a pool of worker goroutines.
//
// A Solver holds only its configuration: every Fit allocates its own
// workspaces (one per worker, sized once per Fit) and starts and joins its
// own goroutines. It is therefore safe for concurrent Fit calls on
// different destination models, although concurrent fits compete for the
// same cores. The zero value is a Solver with runtime.GOMAXPROCS(0)
// workers. Close is a no-op.
type Solver struct {
	opts Options
	kern kernel
}

var _ als.Solver = (*Solver)(nil)

// Options say how a Solver shares the machine with other work, such as a
// server answering requests while it trains. None of them changes the
// trained model, which is bit-for-bit the same for any Options.
type Options struct {
	// Workers is the number of goroutines that share each
	// half-iteration; ≤ 0 means runtime.GOMAXPROCS(0).
	Workers int

	// Nice, when positive, lowers the OS scheduling priority of the
	// workers' threads: each worker locks its goroutine to an OS thread
	// for the Fit and raises that thread's nice value by Nice (capped at
	// 19), so that other threads of the process (and other processes)
	// get the cores first when they want them. The threads end with the
	// Fit, so the lowered priority never reaches another goroutine. Linux
	// only; elsewhere, or when the system refuses, it changes nothing.
	Nice int

	// Yield makes each worker call runtime.Gosched between chunks of
	// rows, at most every half millisecond, letting goroutines queued on
	// its processor run without waiting for the Go scheduler to preempt
	// it.
	Yield bool
}

// New returns a Solver that shares each half-iteration among workers
// goroutines; workers ≤ 0 means runtime.GOMAXPROCS(0).
func New(workers int) *Solver {
	return NewWithOptions(Options{Workers: workers})
}

// NewWithOptions returns a Solver configured by o.
func NewWithOptions(o Options) *Solver {
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return &Solver{opts: o, kern: defaultKernel}
}

// Options returns the Solver's options, with Workers filled in.
func (s *Solver) Options() Options {
	o, _ := s.config()
	return o
}

// config returns the options and kernel, filling in a zero Solver's.
func (s *Solver) config() (Options, kernel) {
	o, kern := s.opts, s.kern
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if kern.block <= 0 {
		kern = defaultKernel
	}
	return o, kern
}

// Close releases nothing (a Solver holds no resources) and returns nil.
func (s *Solver) Close() error { return nil }

// Fit implements als.Solver. It validates p, initialises dst with
// als.Prepare and runs p.Iterations iterations (item half, then user
// half; fewer when p.Tolerance stops it), checking ctx before each half.
// After each iteration it computes the training RMSE (when progress is
// non-nil or p.Tolerance is set) and calls progress (when non-nil) from the calling
// goroutine; Duration covers the two halves only. (An implicit fit whose
// item half is solved in a rotated basis computes that error, and makes
// the call, while the next iteration's eigendecomposition runs, before
// anything changes the factors: the same reports and model, a
// decomposition's time later.)
//
// With p.Validation it trains on r less the share r.HoldOut(p.Validation,
// p.Seed) sets aside (a copy of the rest, allocated per Fit), computes the
// held-out RMSE after each iteration (Iteration.ValidationRMSE, serially:
// a pass over the held-out share) and stops by that error
// (als.Params.HeldOutConverged) instead of the training error. When the
// share holds no rating (tiny data), the training error decides as
// without it.
//
// dst is owned by the caller; Fit resizes it (reusing its slices when
// large enough) and writes it from the worker goroutines, which have all
// stopped when Fit returns. r is only read and must not change during the
// call; it is assumed valid (see als.Ratings.Validate). Besides dst, Fit
// allocates about 8·(k'+4)·(min(longest row, 128) + k'+4) bytes of
// workspace per worker, k' = p.AugmentedRank() (implicit fits about
// 4·k² more per worker and 8·k² per half, see implicit.go), and nothing
// per row. A fit whose larger factor table has 8 MiB or more (rank 64 from
// about 32,000 rows) trains in the degree order (order.go): on a
// renumbered copy of r (16 bytes a rating, 16 a row) and of dst's
// factors, copied back into dst before each progress call and at the
// end. Its model differs from one trained without only by rounding.
//
// Errors: one wrapping als.ErrInvalidParams for bad p; one wrapping
// ctx.Err() when ctx is done (dst then holds a partial model); and, only
// for non-finite data, an error reporting rows whose system was not
// positive definite.
func (s *Solver) Fit(ctx context.Context, dst *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	return s.fit(ctx, dst, nil, r, p, progress)
}

// FitFrom implements als.WarmSolver: Fit starting from from's factors
// (als.PrepareFrom) instead of random ones. It returns an error wrapping
// als.ErrInvalidParams when from does not suit p (als.WarmCompatible).
func (s *Solver) FitFrom(ctx context.Context, dst, from *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	if !als.WarmCompatible(from, p) {
		return fmt.Errorf("cpu fit: %w: the starting model does not have rank %d and bias %v", als.ErrInvalidParams, p.Rank, p.Bias)
	}
	return s.fit(ctx, dst, from, r, p, progress)
}

var _ als.WarmSolver = (*Solver)(nil)

func (s *Solver) fit(ctx context.Context, dst, from *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("cpu fit: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("cpu fit: %w", err)
	}
	if err := checkIndices(r); err != nil {
		return fmt.Errorf("cpu fit: %w", err)
	}
	var held als.HeldOut
	if p.Validation > 0 {
		r, held = r.HoldOut(p.Validation, p.Seed) // train on the rest
	}
	opts, kern := s.config()
	// A cold fit in the ratings' own order with iterations to run draws
	// the items' starting factors as the first item half reads them
	// (kernel.lazyInit): the initialisation was 8 of the ranking fit's
	// 190 CPU ms on ml-latest-small, nine tenths of it for movies solved
	// exactly.
	lazy := from == nil && kern.lazyInit && p.Iterations > 0 && !kern.wantOrder(r, p)
	switch {
	case from != nil:
		als.PrepareFrom(dst, r, p, from)
	case lazy:
		als.Shape(dst, r, p)
		als.InitFactors(dst.UserFactors, p.Rank, p.Seed, 0)
	default:
		als.Prepare(dst, r, p)
	}
	if p.Iterations == 0 {
		return nil
	}

	kp := p.AugmentedRank()
	maxN := max(maxRowLen(r.UserPtr), maxRowLen(r.ItemPtr))
	nw := max(1, min(opts.Workers, (max(r.NumUsers, r.NumItems)+chunk-1)/chunk))
	ws := make([]*workspace, nw)
	for w := range ws {
		ws[w] = kern.newWorkspace(kp, maxN)
	}
	t := newTeam(ws, opts.Nice, opts.Yield)
	defer t.close()
	// m is the model the iterations write: dst itself, or, when the
	// tables are large enough to gain from it, a copy in the degree
	// order (order.go), trained on ratings renumbered alike and written
	// back into dst before each progress call and when Fit returns,
	// whatever happens.
	m := dst
	var ord *order
	if kern.wantOrder(r, p) {
		ord = newOrder(r)
		r, m = ord.ratings(t, r), ord.model(dst)
		held = ord.heldOut(held)
		defer ord.restore(dst, m)
	}
	items, users := newHalves(m, r, p)
	items.initPending, items.initSeed = lazy, p.Seed
	if p.Solver == als.CG {
		items.cg, users.cg = p.Steps(), p.Steps()
		for _, w := range ws {
			kern.growCG(w, p.Rank, kp, maxN, p.Objective == als.Implicit)
		}
	}
	var partial []float64 // RMSE partial sums, one per chunk of users
	if progress != nil || p.Tolerance > 0 {
		partial = make([]float64, (r.NumUsers+chunk-1)/chunk)
	}
	var isc *implicitScratch
	if p.Objective == als.Implicit {
		ld, k := gramDim(kp), p.Rank
		isc = newImplicitScratch(ld, max(r.NumUsers, r.NumItems), k)
		items.imp = &implicitHalf{p: p, fixed: r.NumUsers, ld: ld, gram: make([]float64, ld*ld), diag: make([]float64, k)}
		users.imp = &implicitHalf{p: p, fixed: r.NumItems, ld: ld, gram: make([]float64, ld*ld), diag: make([]float64, k)}
		kern.countShort(items)
		kern.countShort(users)
		for _, w := range ws {
			kern.growImplicit(w, k)
		}
		// Halves solved in a rotated basis leave both sides rotated;
		// whatever happens, return the model in the original one.
		defer unrotate(t, isc, m.UserFactors, m.ItemFactors)
	}

	prev, prevHeld := math.NaN(), math.NaN() // the previous iteration's training and held-out errors
	// With a held-out share and a tolerance: the iterate with the lowest
	// held-out error so far (a copy), which a fit stopped by it returns,
	// and the iterations since the best improved by the tolerance.
	var best *als.Model
	bestHeld, bestTrain, bestIt, stale := math.Inf(1), math.NaN(), 0, 0
	if held.Len() > 0 && p.Tolerance > 0 {
		best = &als.Model{}
	}
	// report ends iteration n, whose halves took d, with its training
	// error e: the held-out error, the best iterate, the stopping rule and
	// the progress call. It reports whether the fit stops there.
	report := func(n int, e float64, d time.Duration) bool {
		rep := als.Iteration{N: n, Of: p.Iterations, TrainRMSE: e, Duration: d}
		var stop bool
		if held.Len() > 0 {
			cur := held.RMSE(m)
			rep.ValidationRMSE = cur
			if best != nil {
				improved := math.IsInf(bestHeld, 1) || (bestHeld-cur)/bestHeld >= p.Tolerance
				if cur < bestHeld {
					copyFactors(best, m)
					bestHeld, bestTrain, bestIt = cur, e, n
				}
				if improved {
					stale = 0
				} else {
					stale++
				}
				if stale >= max(p.Patience, 1) {
					stop = true
					if p.Patience > 1 {
						rep.Stopped = fmt.Sprintf("held-out error did not improve by %g%% on its best (%.5g, iteration %d) for %d iterations",
							100*p.Tolerance, bestHeld, bestIt, stale)
					} else {
						_, rep.Stopped = p.HeldOutConverged(prevHeld, cur)
					}
					if bestIt != n {
						// The report then describes the model returned.
						copyFactors(m, best)
						rep.Stopped += fmt.Sprintf("; kept iteration %d's model", bestIt)
						rep.TrainRMSE, rep.ValidationRMSE = bestTrain, bestHeld
					}
				}
			}
			prevHeld = cur
		} else {
			stop, rep.Stopped = p.Converged(prev, e)
		}
		prev = e
		if progress != nil {
			if ord != nil { // the callback may read dst (eval's curves do)
				ord.restore(dst, m)
			}
			progress(rep)
		}
		return stop
	}
	// An implicit fit whose item half turns into the eigenbasis of the
	// users' Gram matrix reports each iteration but the last during the
	// next one, while that matrix is decomposed: the decomposition is
	// serial, the training error (on the workers) and the report only read
	// the factors, and nothing changes them before the rotation that
	// follows. The factors and the reports are the same as when reported
	// at once; the report comes the decomposition's time later
	// (Iteration.Duration still covers the iteration's halves only).
	// Only with two workers or more: the error's pass would otherwise run
	// beside the decomposition on a core the Options did not give the fit.
	deferReport := partial != nil && items.imp != nil && kern.wantRotate(items) && len(ws) > 1
	pending, pendingD := 0, time.Duration(0) // the iteration whose report waits, and its halves' time
	for it := 1; it <= p.Iterations; it++ {
		start := time.Now()
		for _, h := range []*half{items, users} {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("cpu fit: iteration %d: %w", it, err)
			}
			if h.imp != nil {
				kern.fixedGram(t, h, isc)
				if h == items && pending > 0 {
					errc := make(chan float64, 1)
					go func() {
						e := rmse(t, partial, m, r, true)
						isc.accumulate(t) // the last rotation into R, also beside it
						errc <- e
					}()
					h.imp.rotated = false
					ok := kern.decompose(h, isc)
					e := <-errc
					r0 := time.Now()
					if report(pending, e, pendingD) {
						return nil
					}
					start = start.Add(time.Since(r0))
					pending = 0
					if ok {
						kern.applyRotation(t, h, isc)
					}
				} else {
					kern.rotate(t, h, isc)
				}
				if h.cg > 0 && !h.imp.rotated {
					cgShared(h)
				}
			}
			bad := runHalf(&kern, t, h)
			h.initPending = false
			if bad > 0 {
				side := "item"
				if h == users {
					side = "user"
				}
				return fmt.Errorf("cpu fit: iteration %d: %d %s rows not positive definite", it, bad, side)
			}
		}
		d := time.Since(start)
		if partial == nil {
			continue
		}
		if deferReport && it < p.Iterations {
			pending, pendingD = it, d
			continue
		}
		if report(it, rmse(t, partial, m, r, p.Objective == als.Implicit), d) {
			break
		}
	}
	return nil
}

// checkIndices checks that every rating's item index names one of r's
// items and every user index one of its users: the rows of the factor
// tables that the unchecked kernels (sdots, saxpys) read. One pass over
// the indices per Fit, instead of one per kernel call.
func checkIndices(r *als.Ratings) error {
	if len(r.UserIdx) != len(r.ItemIdx) {
		return fmt.Errorf("ratings: %d by user, %d by item", len(r.UserIdx), len(r.ItemIdx))
	}
	for _, c := range []struct {
		what string
		idx  []int32
		n    int
	}{{"item", r.UserIdx, r.NumItems}, {"user", r.ItemIdx, r.NumUsers}} {
		n := uint(c.n)
		for k, i := range c.idx {
			if uint(i) >= n {
				return fmt.Errorf("ratings: %s index %d out of range 0..%d at %d", c.what, i, c.n-1, k)
			}
		}
	}
	return nil
}

// newHalves returns the item and user halves of an iteration of dst on r,
// after als.Prepare(dst, r, p).
func newHalves(dst *als.Model, r *als.Ratings, p als.Params) (items, users *half) {
	items = &half{
		ptr: r.ItemPtr, idx: r.ItemIdx, val: r.ItemVal,
		fixed: dst.UserFactors, fixedBias: dst.UserBias,
		dst: dst.ItemFactors, dstBias: dst.ItemBias,
		k: p.Rank, kp: p.AugmentedRank(), bias: p.Bias, mean: float64(dst.Mean), lambda: p.Lambda, offset: p.RegOffset,
	}
	users = &half{
		ptr: r.UserPtr, idx: r.UserIdx, val: r.UserVal,
		fixed: dst.ItemFactors, fixedBias: dst.ItemBias,
		dst: dst.UserFactors, dstBias: dst.UserBias,
		k: p.Rank, kp: p.AugmentedRank(), bias: p.Bias, mean: float64(dst.Mean), lambda: p.Lambda, offset: p.RegOffset,
	}
	return items, users
}

func maxRowLen(ptr []int64) int {
	var m int64
	for i := 1; i < len(ptr); i++ {
		m = max(m, ptr[i]-ptr[i-1])
	}
	return int(m)
}

// runHalf solves every row of h and returns the number of rows whose
// system was not positive definite.
//
// An implicit half takes its rows in h.imp.order, longest first: the rows
// that cost most are handed out first and the workers finish together on
// short ones. Halves of fewer than runSmall rows are handed out runChunk rows
// at a time instead of chunk, for the same balance. A lockstep half takes
// its rows of each chunk three at a time (solveRowsCG), whose shared
// products give every row the bits it would get alone. Every row's
// arithmetic is its own, so none of this changes anything but the time.
func runHalf(kern *kernel, t *team, h *half) int64 {
	rows := h.rows()
	var order []int32
	if h.imp != nil {
		order = h.imp.order
	}
	step := chunk
	if rows < runSmall {
		step = runChunk
	}
	var bad atomic.Int64
	if lockstep(h) && order != nil {
		t.parallel((rows+step-1)/step, func(w, c int) {
			for i := c * step; i < min((c+1)*step, rows); i += groupRows {
				if n := kern.solveRowsCG(t.ws[w], h, order[i:min(i+groupRows, (c+1)*step, rows)]); n > 0 {
					bad.Add(int64(n))
				}
			}
		})
		return bad.Load()
	}
	t.parallel((rows+step-1)/step, func(w, c int) {
		for i := c * step; i < min((c+1)*step, rows); i++ {
			row := i
			if order != nil {
				row = int(order[i])
			}
			if !kern.solveRow(t.ws[w], h, row) {
				bad.Add(1)
			}
		}
	})
	return bad.Load()
}

// runChunk is runHalf's chunk of rows for halves of fewer than runSmall
// rows.
const (
	runChunk = 16
	runSmall = 1 << 14
)

// rmse is als.RMSE (als.PreferenceRMSE when implicit) computed in
// parallel, the scores by the sdots kernel: each chunk of users sums its squared errors in the same order
// as als.RMSE into partial, and the partial sums are added in chunk order,
// so the result does not depend on the number of workers and matches
// als.RMSE to rounding.
func rmse(t *team, partial []float64, m *als.Model, r *als.Ratings, implicit bool) float64 {
	if r.NNZ() == 0 {
		return 0
	}
	t.parallel(len(partial), func(w, c int) {
		var se float64
		dots := t.ws[w].dots
		for u := c * chunk; u < min((c+1)*chunk, r.NumUsers); u++ {
			x := m.User(u)
			for lo, hi := r.UserPtr[u], r.UserPtr[u+1]; lo < hi; lo += int64(len(dots)) {
				ids := r.UserIdx[lo:min(hi, lo+int64(len(dots)))]
				sdots(dots, m.ItemFactors, m.Rank, ids, x)
				for l, it := range ids {
					p := lo + int64(l)
					pred := float64(dots[l])
					if m.Bias {
						pred += float64(m.Mean) + float64(m.UserBias[u]) + float64(m.ItemBias[it])
					}
					t := float64(r.UserVal[p])
					if implicit {
						t = 1
					}
					d := pred - t
					se += d * d
				}
			}
		}
		partial[c] = se
	})
	var se float64
	for _, v := range partial {
		se += v
	}
	return math.Sqrt(se / float64(r.NNZ()))
}

// copyFactors sets dst's factors and biases to src's, reusing dst's
// slices when large enough.
func copyFactors(dst, src *als.Model) {
	cp := func(d, s []float32) []float32 {
		if s == nil {
			return nil
		}
		if cap(d) < len(s) {
			d = make([]float32, len(s))
		}
		d = d[:len(s)]
		copy(d, s)
		return d
	}
	dst.UserFactors = cp(dst.UserFactors, src.UserFactors)
	dst.ItemFactors = cp(dst.ItemFactors, src.ItemFactors)
	dst.UserBias = cp(dst.UserBias, src.UserBias)
	dst.ItemBias = cp(dst.ItemBias, src.ItemBias)
}
