package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// team is the worker goroutines of one Fit, one per workspace. They are
// started once per Fit (not once per parallel loop), so each can lock
// its OS thread and lower that thread's scheduling priority once
// (Options.Nice). A team with one workspace and no priority change runs
// its loops inline on the caller's goroutine.
//
// A team is used by one goroutine at a time (the Fit's); close ends its
// workers.
type team struct {
	ws    []*workspace
	yield bool
	nice  int

	jobs []chan *job // one per worker; nil when loops run inline
	done sync.WaitGroup
}

// job is one parallel loop: chunks 0..chunks-1 taken from next.
type job struct {
	chunks int
	body   func(w, c int)
	next   atomic.Int64
	wg     sync.WaitGroup
}

// newTeam starts a worker per workspace in ws (none when there is one
// workspace and nice ≤ 0). Call close when done.
func newTeam(ws []*workspace, nice int, yield bool) *team {
	t := &team{ws: ws, yield: yield, nice: nice}
	if len(ws) <= 1 && nice <= 0 {
		return t
	}
	t.jobs = make([]chan *job, len(ws))
	for w := range t.jobs {
		jobs := make(chan *job)
		t.jobs[w] = jobs
		t.done.Go(func() { t.work(w, jobs) })
	}
	return t
}

// work is worker w's loop: it runs its share of each job from jobs until
// close.
func (t *team) work(w int, jobs <-chan *job) {
	if t.nice > 0 {
		// Never unlocked: when this goroutine returns, the runtime ends
		// the thread, so no other goroutine ever runs at the lowered
		// priority and nothing has to raise it back (which an
		// unprivileged process may not do).
		runtime.LockOSThread()
		_ = lowerThreadPriority(t.nice) // best effort: unsupported or refused leaves it as is
	}
	for j := range jobs {
		t.loop(j, w)
		j.wg.Done()
	}
}

// loop runs chunks of j on worker w until none is left, yielding the
// processor when t.yield is set and yieldGap has passed since its last
// yield (or since it began).
//
// (It yielded after every chunk. A yield from a goroutine locked to its
// thread, as a niced worker is, hands the thread off and back, tens of
// microseconds; with chunks of 16 rows that made the ranking fit on
// ml-latest-small 20% slower, as serve runs it.)
func (t *team) loop(j *job, w int) {
	var last time.Time
	if t.yield {
		last = time.Now()
	}
	for {
		c := int(j.next.Add(1) - 1)
		if c >= j.chunks {
			return
		}
		j.body(w, c)
		if t.yield {
			if now := time.Now(); now.Sub(last) >= yieldGap {
				runtime.Gosched()
				last = time.Now()
			}
		}
	}
}

// yieldGap is the least time between two yields of a worker: about what a
// chunk of 64 rows took in the ranking fit, when workers yielded after
// every chunk.
const yieldGap = 500 * time.Microsecond

// parallel runs body(w, c) for every chunk c in 0..chunks-1 on
// min(workers, chunks) of the team's workers, worker w taking chunks
// from a shared counter, and returns when all are done. Which worker
// runs a chunk varies; results must not depend on it.
func (t *team) parallel(chunks int, body func(w, c int)) {
	if chunks <= 0 {
		return
	}
	j := &job{chunks: chunks, body: body}
	if t.jobs == nil {
		t.loop(j, 0)
		return
	}
	n := min(len(t.jobs), chunks)
	j.wg.Add(n)
	for w := range n {
		t.jobs[w] <- j
	}
	j.wg.Wait()
}

// close ends the workers (and, with Nice, their threads) and waits for
// them. It is idempotent.
func (t *team) close() {
	for _, c := range t.jobs {
		close(c)
	}
	t.jobs = nil
	t.done.Wait()
}
