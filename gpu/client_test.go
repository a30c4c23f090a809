package gpu_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"movierec/als"
	"movierec/als/alstest"
	"movierec/cpu"
	"movierec/gpu"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// workerPath builds the untagged worker (which trains with package cpu)
// once per test binary and returns its path.
func workerPath(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "movierec-cuda-test"); buildErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(buildDir, "movierec-cuda"), "movierec/cmd/movierec-cuda").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("build worker: %v", buildErr)
	}
	return filepath.Join(buildDir, "movierec-cuda")
}

func start(t *testing.T) *gpu.Client {
	t.Helper()
	c, err := gpu.StartWorker(t.Context(), workerPath(t), nil, nil)
	if err != nil {
		t.Fatalf("StartWorker() = %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func cpuFit(t *testing.T, r *als.Ratings, p als.Params) *als.Model {
	t.Helper()
	s := cpu.New(1)
	defer s.Close()
	var m als.Model
	if err := s.Fit(t.Context(), &m, r, p, nil); err != nil {
		t.Fatalf("cpu Fit(%v) = %v", p, err)
	}
	return &m
}

func TestClientMatchesCPU(t *testing.T) {
	c := start(t)
	if got, want := c.Device(), "cpu (no cuda tag)"; got != want {
		t.Errorf("Device() = %q, want %q", got, want)
	}
	r, _ := alstest.Synthetic(300, 200, 6000, 4, 0.3, 11)
	// The implicit objective with each solver (what --ranking-solver
	// sets): the worker must get Solver and CGSteps, which change the
	// model (checked below, so that a dropped field cannot pass).
	rankCG := alstest.ImplicitParams(6, 3, 0.1, 1, 1, 0.75)
	rankCG.Solver, rankCG.CGSteps = als.CG, 2
	rankExact := rankCG
	rankExact.Solver, rankExact.CGSteps = als.Cholesky, 0
	if cmp.Equal(cpuFit(t, r, rankCG), cpuFit(t, r, rankExact)) {
		t.Fatalf("cpu fits of %v and %v are equal: the test cannot see the solver", rankCG, rankExact)
	}
	for _, p := range []als.Params{
		{Rank: 5, Iterations: 4, Lambda: 0.1, Seed: 3},
		{Rank: 7, Iterations: 3, Lambda: 0.05, Seed: 4, Bias: true},
		rankCG,
		rankExact,
	} {
		var got als.Model
		var its []als.Iteration
		if err := c.Fit(t.Context(), &got, r, p, func(it als.Iteration) { its = append(its, it) }); err != nil {
			t.Fatalf("Fit(%v) = %v", p, err)
		}
		if len(its) != p.Iterations || its[len(its)-1].N != p.Iterations {
			t.Errorf("Fit(%v) progress = %+v, want %d reports", p, its, p.Iterations)
		}
		if diff := cmp.Diff(cpuFit(t, r, p), &got); diff != "" {
			t.Errorf("Fit(%v) through the worker differs from cpu.New(1) (-cpu +worker):\n%s", p, diff)
		}
	}
}

func TestClientConformance(t *testing.T) {
	alstest.Run(t, func(t *testing.T) als.Solver {
		c, err := gpu.StartWorker(t.Context(), workerPath(t), nil, nil)
		if err != nil {
			t.Fatalf("StartWorker() = %v", err)
		}
		return c
	})
}

func TestNoDevice(t *testing.T) {
	t.Setenv("MOVIEREC_WORKER_NO_DEVICE", "1")
	c, err := gpu.StartWorker(t.Context(), workerPath(t), nil, nil)
	if !errors.Is(err, gpu.ErrNoDevice) {
		t.Fatalf("StartWorker(no device) = %v, %v; want an error wrapping ErrNoDevice", c, err)
	}
}

// fakeWorker writes a shell script standing in for the worker.
func fakeWorker(t *testing.T, script string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fake-worker")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestStartFailures(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		noDevice bool
	}{
		{"missing binary", filepath.Join(t.TempDir(), "nope"), false},
		// What package cu's init prints (to stdout) before os.Exit(1).
		{"cu init without device", fakeWorker(t, `echo 'Error in initialization, please refer to "https://docs.nvidia.com/cuda/cuda-driver-api/group__CUDA__INITIALIZE.html" for details on: NoDevice'; exit 1`), true},
		{"no driver library", fakeWorker(t, `echo 'movierec-cuda: error while loading shared libraries: libcuda.so.1: cannot open shared object file' >&2; exit 127`), true},
		{"exits at once", fakeWorker(t, `exit 0`), false},
		{"garbage", fakeWorker(t, `echo hello world; sleep 1`), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			c, err := gpu.StartWorker(t.Context(), tc.path, nil, nil)
			if err == nil {
				c.Close()
				t.Fatalf("StartWorker() succeeded")
			}
			if !errors.Is(err, gpu.ErrWorker) {
				t.Errorf("StartWorker() = %v, want an error wrapping ErrWorker", err)
			}
			if got := errors.Is(err, gpu.ErrNoDevice); got != tc.noDevice {
				t.Errorf("StartWorker() = %v; errors.Is(ErrNoDevice) = %t, want %t", err, got, tc.noDevice)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("StartWorker() took %v", d)
			}
		})
	}
}

func TestCrashRestart(t *testing.T) {
	t.Setenv("MOVIEREC_WORKER_CRASH_AFTER", "2")
	c := start(t)
	r, _ := alstest.Synthetic(200, 150, 3000, 3, 0.3, 12)
	p := als.Params{Rank: 4, Iterations: 5, Lambda: 0.1, Seed: 1}
	var m als.Model
	calls := 0
	err := c.Fit(t.Context(), &m, r, p, func(als.Iteration) { calls++ })
	if !errors.Is(err, gpu.ErrWorker) {
		t.Fatalf("Fit(worker crashes after 2 iterations) = %v, want an error wrapping ErrWorker", err)
	}
	if !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("Fit() = %v, want it to mention exit status 3", err)
	}
	if calls != 2 {
		t.Errorf("progress called %d times before the crash, want 2", calls)
	}
	// The next Fit restarts the worker (which would crash again only after
	// two more progress events).
	p.Iterations = 1
	if err := c.Fit(t.Context(), &m, r, p, nil); err != nil {
		t.Fatalf("Fit after a crash = %v, want a restarted worker", err)
	}
	if diff := cmp.Diff(cpuFit(t, r, p), &m); diff != "" {
		t.Errorf("Fit after restart differs from cpu (-cpu +worker):\n%s", diff)
	}
}

func TestCancelMidFit(t *testing.T) {
	c := start(t)
	r, _ := alstest.Synthetic(3000, 2000, 150000, 8, 0.3, 13)
	p := als.Params{Rank: 32, Iterations: 1000, Lambda: 0.1, Seed: 1}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var canceledAt time.Time
	var m als.Model
	err := c.Fit(ctx, &m, r, p, func(it als.Iteration) {
		if it.N == 1 {
			canceledAt = time.Now()
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Fit(canceled after iteration 1) = %v, want context.Canceled", err)
	}
	if d := time.Since(canceledAt); d > 5*time.Second {
		t.Errorf("Fit returned %v after cancel", d)
	}
	// The worker stays usable.
	small, _ := alstest.Synthetic(50, 40, 500, 2, 0.3, 14)
	q := als.Params{Rank: 2, Iterations: 2, Lambda: 0.1, Seed: 1}
	if err := c.Fit(t.Context(), &m, small, q, nil); err != nil {
		t.Fatalf("Fit after cancel = %v", err)
	}
	if diff := cmp.Diff(cpuFit(t, small, q), &m); diff != "" {
		t.Errorf("Fit after cancel differs from cpu (-cpu +worker):\n%s", diff)
	}
}

func TestCloseDuringFit(t *testing.T) {
	c, err := gpu.StartWorker(t.Context(), workerPath(t), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := alstest.Synthetic(3000, 2000, 150000, 8, 0.3, 15)
	p := als.Params{Rank: 32, Iterations: 1000, Lambda: 0.1, Seed: 1}
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		var once sync.Once
		var m als.Model
		done <- c.Fit(context.Background(), &m, r, p, func(als.Iteration) { once.Do(func() { close(started) }) })
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("Fit ended before its first iteration: %v", err)
	}
	closed := time.Now()
	if err := c.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, gpu.ErrWorker) {
			t.Errorf("Fit interrupted by Close = %v, want ErrWorker", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Fit did not return after Close")
	}
	if d := time.Since(closed); d > 10*time.Second {
		t.Errorf("Close took %v", d)
	}
	var m als.Model
	if err := c.Fit(t.Context(), &m, r, p, nil); !errors.Is(err, gpu.ErrWorker) {
		t.Errorf("Fit after Close = %v, want ErrWorker", err)
	}
}

func TestInvalidParams(t *testing.T) {
	c := start(t)
	r, _ := alstest.Synthetic(20, 20, 100, 2, 0.3, 16)
	var m als.Model
	err := c.Fit(t.Context(), &m, r, als.Params{Rank: 0, Iterations: 1, Lambda: 0.1}, nil)
	if !errors.Is(err, als.ErrInvalidParams) {
		t.Errorf("Fit(rank 0) = %v, want ErrInvalidParams", err)
	}
}

func TestRestartAfterIdleDeath(t *testing.T) {
	c := start(t)
	r, _ := alstest.Synthetic(50, 40, 500, 2, 0.3, 17)
	p := als.Params{Rank: 2, Iterations: 2, Lambda: 0.1, Seed: 1}
	var m als.Model
	if err := c.Fit(t.Context(), &m, r, p, nil); err != nil {
		t.Fatal(err)
	}
	// Kill the worker behind the client's back, and wait until it is gone
	// (reaped), so the next Fit finds a dead idle worker.
	pid := gpu.WorkerPID(t, c)
	exited := gpu.WorkerExited(t, c)
	proc, err := os.FindProcess(pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := proc.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the killed worker was not reaped within 10 s")
	}
	if err := c.Fit(t.Context(), &m, r, p, nil); err != nil {
		t.Fatalf("Fit after the idle worker died = %v, want a restarted worker", err)
	}
}

func TestWatchdogKillsStalledWorker(t *testing.T) {
	r, _ := alstest.Synthetic(200, 150, 3000, 3, 0.3, 12)
	for _, tc := range []struct {
		name       string
		stallAfter string
		wantCalls  int
	}{
		{"before the first iteration", "0", 0},
		{"after two iterations", "2", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("MOVIEREC_WORKER_STALL_AFTER", tc.stallAfter)
			const floor = 300 * time.Millisecond
			c, err := gpu.StartWorkerWith(t.Context(), workerPath(t), gpu.WorkerOptions{WatchdogFloor: floor})
			if err != nil {
				t.Fatalf("StartWorkerWith() = %v", err)
			}
			t.Cleanup(func() { _ = c.Close() })
			exited := gpu.WorkerExited(t, c)
			p := als.Params{Rank: 4, Iterations: 5, Lambda: 0.1, Seed: 1}
			var m als.Model
			calls := 0
			start := time.Now()
			err = c.Fit(t.Context(), &m, r, p, func(als.Iteration) { calls++ })
			took := time.Since(start)
			if !errors.Is(err, gpu.ErrStalled) || !errors.Is(err, gpu.ErrWorker) {
				t.Fatalf("Fit(worker hangs) = %v, want an error wrapping ErrStalled and ErrWorker", err)
			}
			if calls != tc.wantCalls {
				t.Errorf("progress called %d times before the stall, want %d", calls, tc.wantCalls)
			}
			if took > floor+10*time.Second {
				t.Errorf("Fit returned after %v, want about the watchdog floor %v", took, floor)
			}
			select {
			case <-exited:
			default:
				t.Errorf("the stalled worker is still running after Fit returned")
			}
			// The next Fit starts a fresh worker, which (same environment)
			// trains as many iterations as it sends before it would hang.
			p.Iterations = max(1, tc.wantCalls)
			if tc.wantCalls == 0 {
				return
			}
			if err := c.Fit(t.Context(), &m, r, p, nil); err != nil {
				t.Fatalf("Fit after a stall = %v, want a restarted worker", err)
			}
			if diff := cmp.Diff(cpuFit(t, r, p), &m); diff != "" {
				t.Errorf("Fit after restart differs from cpu (-cpu +worker):\n%s", diff)
			}
		})
	}
}

// TestClientRejectsFloat32Lambda: the device solves in float32, so the
// client refuses an explicit λ below als.MinLambda before sending the job
// (the CPU, solving in float64, accepts it; see als.Params.ValidateFloat32).
func TestClientRejectsFloat32Lambda(t *testing.T) {
	c := start(t)
	r, _ := alstest.Synthetic(20, 15, 100, 2, 0.1, 1)
	p := als.Params{Rank: 128, Iterations: 1, Lambda: 1e-5, Seed: 1}
	if err := p.Validate(); err != nil {
		t.Fatalf("Validate(%v) = %v; the CPU must accept it", p, err)
	}
	var m als.Model
	err := c.Fit(t.Context(), &m, r, p, nil)
	if !errors.Is(err, als.ErrInvalidParams) || !strings.Contains(err.Error(), "float32") {
		t.Fatalf("Fit(lambda 1e-5, rank 128) = %v, want ErrInvalidParams naming float32", err)
	}
}
