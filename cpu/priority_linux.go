//go:build linux

package cpu

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// lowerThreadPriority raises the nice value of the calling OS thread by
// by (capped at 19, the lowest priority). Linux gives every thread its
// own nice value (setpriority(PRIO_PROCESS, tid)); the caller must have
// locked its goroutine to the thread. Lowering one's own priority needs
// no privilege.
func lowerThreadPriority(by int) error {
	tid := unix.Gettid()
	cur, err := threadNice(tid)
	if err != nil {
		return err
	}
	want := min(19, cur+by)
	if want <= cur {
		return nil
	}
	if err := unix.Setpriority(unix.PRIO_PROCESS, tid, want); err != nil {
		return fmt.Errorf("setpriority(thread %d, %d): %w", tid, want, err)
	}
	return nil
}

// threadNice returns the nice value of thread tid (-20..19). The raw
// getpriority system call, which x/sys/unix returns as is, answers
// 20 − nice so that it is never negative.
func threadNice(tid int) (int, error) {
	p, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
	if err != nil {
		return 0, fmt.Errorf("getpriority(thread %d): %w", tid, err)
	}
	return 20 - p, nil
}

// priorityLowered reports whether lowerThreadPriority changes anything
// on this platform.
const priorityLowered = true
