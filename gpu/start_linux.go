//go:build linux

package gpu

import (
	"fmt"
	"os/exec"
	"runtime"

	"golang.org/x/sys/unix"
)

// startNiced starts cmd with its nice value raised by nice (capped at 19)
// above this process's. Linux gives each thread its own nice value and a
// child inherits the one of the thread that forks it, and Go forks on the
// calling thread: so the start runs on a thread of its own whose priority
// is lowered first, and which is thrown away afterwards (its goroutine
// exits still locked), since an unprivileged thread cannot raise its
// priority back (when that thread is the process's main thread, Go parks
// it for good instead: one idle thread). nice ≤ 0 starts cmd as is. A refused setpriority is
// returned and cmd is not started.
func startNiced(cmd *exec.Cmd, nice int) error {
	if nice <= 0 {
		return cmd.Start()
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		tid := unix.Gettid()
		p, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
		if err != nil {
			done <- fmt.Errorf("getpriority: %w", err)
			return
		}
		cur := 20 - p // the raw system call answers 20 − nice
		if want := min(19, cur+nice); want > cur {
			if err := unix.Setpriority(unix.PRIO_PROCESS, tid, want); err != nil {
				done <- fmt.Errorf("setpriority(%d): %w", want, err)
				return
			}
		}
		done <- cmd.Start()
	}()
	return <-done
}
