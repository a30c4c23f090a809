package gpu

import (
	"testing"

	"movierec/als"
	"movierec/als/alstest"
)

// WorkerPID returns the pid of c's current worker (0 when there is none).
func WorkerPID(t *testing.T, c *Client) int {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.w == nil {
		return 0
	}
	return c.w.cmd.Process.Pid
}

// WorkerExited returns a channel closed once c's current worker process
// has exited and been reaped (nil when there is no worker).
func WorkerExited(t *testing.T, c *Client) <-chan struct{} {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.w == nil {
		return nil
	}
	return c.w.exited
}

// SkewHeldVersion makes c believe its worker holds another version than it
// does, so that the next Fit's Delta meets a version gap (CodeStaleData).
func SkewHeldVersion(t *testing.T, c *Client) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held.version += 100
}

// ReferenceImplicitCGHalf is referenceImplicitCGHalf (emulate_implicit_cg_test.go),
// for the device tests: steps CG steps in float64 on every row of side's
// implicit normal equations, from the row's factors in m.
func ReferenceImplicitCGHalf(m *als.Model, r *als.Ratings, p als.Params, side alstest.Side, steps int) {
	referenceImplicitCGHalf(m, r, p, side, steps)
}

// ReplayedCSR is one orientation's entries as a device holds them after
// replaying a Patch, and how many times each entry was written.
type ReplayedCSR struct {
	Idx    []int32
	Val    []float32
	Writes []int
}

// ReplayPatch does on the host what a device holding p.Base does to hold
// p.Result: the upload's plan (patchUpload.plan), then kernels.CopyRuns
// over its two run tables, emulated (one run per block, element e of the
// run copied by thread e mod blockDim.x: order does not matter, as no two
// runs write the same entry when the plan is right, which Writes checks).
// base gives the arrays the device holds (p.Base's, or an earlier replay's).
func ReplayPatch(t *testing.T, p *Patch, baseUsers, baseItems ReplayedCSR) (users, items ReplayedCSR) {
	t.Helper()
	replay := func(c *CSRPatch, idx []int32, val []float32, held ReplayedCSR) ReplayedCSR {
		var u patchUpload
		u.plan(c, idx, val)
		out := ReplayedCSR{Idx: make([]int32, len(idx)), Val: make([]float32, len(idx)), Writes: make([]int, len(idx))}
		for k := range out.Idx {
			out.Idx[k], out.Val[k] = -1, -1 // what a fresh allocation may hold
		}
		copyRuns := func(srcIdx []int32, srcVal []float32, runs []int64) {
			for r := 0; r < len(runs); r += 3 {
				src, dst, n := runs[r], runs[r+1], runs[r+2]
				if n > patchRun {
					t.Fatalf("run of %d entries, more than patchRun %d", n, patchRun)
				}
				for e := int64(0); e < n; e++ {
					out.Idx[dst+e], out.Val[dst+e] = srcIdx[src+e], srcVal[src+e]
					out.Writes[dst+e]++
				}
			}
		}
		copyRuns(held.Idx, held.Val, u.oldRuns)
		copyRuns(u.stagedIdx, u.stagedVal, u.newRuns)
		return out
	}
	r := p.Result
	return replay(&p.Users, r.UserIdx, r.UserVal, baseUsers), replay(&p.Items, r.ItemIdx, r.ItemVal, baseItems)
}
