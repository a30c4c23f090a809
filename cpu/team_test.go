package cpu

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestTeamRunsEveryChunkOnce(t *testing.T) {
	for _, tc := range []struct {
		workers, nice int
		yield         bool
		chunks        int
	}{
		{1, 0, false, 5}, // inline
		{1, 3, false, 5}, // one locked worker
		{3, 0, true, 100},
		{3, 0, false, 2}, // fewer chunks than workers
		{4, 2, true, 37},
		{2, 0, false, 0},
	} {
		t.Run(fmt.Sprintf("workers=%d/nice=%d/yield=%v/chunks=%d", tc.workers, tc.nice, tc.yield, tc.chunks), func(t *testing.T) {
			tm := newTeam(make([]*workspace, tc.workers), tc.nice, tc.yield)
			defer tm.close()
			for range 3 { // the same workers serve several loops
				counts := make([]atomic.Int32, tc.chunks)
				var bad atomic.Int32
				tm.parallel(tc.chunks, func(w, c int) {
					if w < 0 || w >= tc.workers {
						bad.Add(1)
					}
					counts[c].Add(1)
				})
				if bad.Load() != 0 {
					t.Errorf("parallel(%d) gave worker indices outside 0..%d", tc.chunks, tc.workers-1)
				}
				for c := range counts {
					if n := counts[c].Load(); n != 1 {
						t.Errorf("parallel(%d) ran chunk %d %d times, want 1", tc.chunks, c, n)
					}
				}
			}
		})
	}
}

// TestTeamNice checks that a team with Nice runs its loops on threads at
// the lowered priority, leaves the caller's thread alone, and that those
// threads end with the team.
func TestTeamNice(t *testing.T) {
	if !priorityLowered {
		t.Skip("thread priorities are left alone on " + runtime.GOOS)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self := gettid()
	base, err := threadNice(self)
	if err != nil {
		t.Fatal(err)
	}
	if base >= 19 {
		t.Skipf("the test already runs at nice %d: nothing to lower", base)
	}
	want := min(19, base+5)
	tm := newTeam(make([]*workspace, 3), 5, false)
	var mu sync.Mutex
	var tids []int
	var nices []int
	tm.parallel(64, func(w, c int) {
		tid := gettid()
		n, err := threadNice(tid)
		if err != nil {
			n = -100
		}
		mu.Lock()
		tids, nices = append(tids, tid), append(nices, n)
		mu.Unlock()
		time.Sleep(100 * time.Microsecond) // let every worker take a chunk
	})
	tm.close()
	for i, n := range nices {
		if n != want {
			t.Errorf("chunk on thread %d ran at nice %d, want %d (base %d + 5)", tids[i], n, want, base)
		}
		if tids[i] == self {
			t.Errorf("a chunk ran on the caller's thread %d, want the workers' own", self)
		}
	}
	if n, err := threadNice(self); err != nil || n != base {
		t.Errorf("caller's thread nice after the team = %d, %v, want %d", n, err, base)
	}
	// The workers' threads exit with them (a locked goroutine that
	// returns takes its thread along), so no goroutine inherits the
	// lowered priority. The one exception is the process's main thread,
	// which the runtime parks for good instead of ending it: it runs
	// nothing again either.
	slices.Sort(tids)
	tids = slices.Compact(tids)
	deadline := time.Now().Add(5 * time.Second)
	for _, tid := range tids {
		for tid != os.Getpid() {
			_, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", tid))
			if os.IsNotExist(err) {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("worker thread %d still exists after close", tid)
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func TestLowerThreadPriorityCaps(t *testing.T) {
	if !priorityLowered {
		t.Skip("thread priorities are left alone on " + runtime.GOOS)
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		if err := lowerThreadPriority(100); err != nil {
			done <- err
			return
		}
		n, err := threadNice(gettid())
		if err == nil && n != 19 {
			err = fmt.Errorf("nice after lowering by 100 = %d, want 19", n)
		}
		if err == nil {
			err = lowerThreadPriority(1) // already the lowest: no error
		}
		done <- err
	}()
	if err := <-done; err != nil {
		t.Error(err)
	}
}
