//go:build linux

package gpu

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// processNice reads the nice value of process pid from /proc (field 19 of
// stat, counted after the parenthesised command name).
func processNice(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	n, err := strconv.Atoi(fields[16]) // field 19 overall; fields starts at field 3
	if err != nil {
		t.Fatalf("parse nice of %d from %q: %v", pid, s, err)
	}
	return n
}

// threadNice returns the nice value of the calling thread.
func threadNice(t *testing.T) int {
	t.Helper()
	p, err := unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
	if err != nil {
		t.Fatal(err)
	}
	return 20 - p
}

func TestStartNiced(t *testing.T) {
	// The test's own thread must keep its priority (startNiced lowers only
	// a thread it throws away): lock to one to look at it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self := threadNice(t)
	for _, tc := range []struct{ nice, want int }{
		{0, self},
		{5, min(19, self+5)},
		{40, 19},
	} {
		cmd := exec.Command("sleep", "30")
		if err := startNiced(cmd, tc.nice); err != nil {
			t.Fatalf("startNiced(nice %d) = %v", tc.nice, err)
		}
		got := processNice(t, cmd.Process.Pid)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if got != tc.want {
			t.Errorf("startNiced(nice %d): child nice = %d, want %d", tc.nice, got, tc.want)
		}
		if after := threadNice(t); after != self {
			t.Errorf("startNiced(nice %d) changed the calling thread's nice from %d to %d", tc.nice, self, after)
		}
	}
}
