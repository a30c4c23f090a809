package gpu

import "testing"

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
