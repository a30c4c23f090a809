//go:build !linux

package cpu

// lowerThreadPriority does nothing outside Linux, where a thread's
// priority cannot be set on its own portably.
func lowerThreadPriority(int) error { return nil }

// priorityLowered reports whether lowerThreadPriority changes anything
// on this platform.
const priorityLowered = false
