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
