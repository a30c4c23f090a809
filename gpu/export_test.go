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
