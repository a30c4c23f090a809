package main

import (
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"movierec/als"
	"movierec/als/alstest"
	"movierec/gpu"
	"movierec/store/postgres/pgtest"
)

var (
	workerOnce sync.Once
	workerPath string
	workerErr  error
)

// untaggedWorker builds cmd/movierec-cuda without the cuda tag: it trains on
// the CPU behind the real protocol, which is how CI tests the fallback.
func untaggedWorker(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the worker binary")
	}
	workerOnce.Do(func() {
		dir, err := exec.Command("mktemp", "-d").Output()
		if err != nil {
			workerErr = err
			return
		}
		workerPath = filepath.Join(string(dir[:len(dir)-1]), workerName)
		out, err := exec.Command("go", "build", "-o", workerPath, "../movierec-cuda").CombinedOutput()
		if err != nil {
			workerErr = errors.New(string(out))
		}
	})
	if workerErr != nil {
		t.Fatalf("build worker: %v", workerErr)
	}
	return workerPath
}

func TestBackendSelection(t *testing.T) {
	worker := untaggedWorker(t)
	r, _ := alstest.Synthetic(50, 40, 600, 3, 0.1, 1)
	p := als.Params{Rank: 4, Iterations: 3, Lambda: 0.1, Seed: 1}
	tests := []struct {
		name        string
		backend     string
		worker      string
		env         map[string]string
		wantErr     error
		wantBackend string // reported at start
		wantTrained string // backend that trained the model
	}{
		{"cpu", "cpu", worker, nil, nil, "cpu", "cpu"},
		{"auto with worker", "auto", worker, nil, nil, "cuda", "cuda"},
		{"auto without worker", "auto", filepath.Join(t.TempDir(), "missing"), nil, nil, "cpu", "cpu"},
		{"auto, worker has no device", "auto", worker, map[string]string{"MOVIEREC_WORKER_NO_DEVICE": "1"}, nil, "cpu", "cpu"},
		{"auto, worker crashes mid-job", "auto", worker, map[string]string{"MOVIEREC_WORKER_CRASH_AFTER": "1"}, nil, "cuda", "cpu"},
		{"cuda without worker", "cuda", filepath.Join(t.TempDir(), "missing"), nil, gpu.ErrWorker, "", ""},
		{"cuda, no device", "cuda", worker, map[string]string{"MOVIEREC_WORKER_NO_DEVICE": "1"}, gpu.ErrNoDevice, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			s, backend, err := newSolver(t.Context(), modelFlags{p: p, backend: tc.backend, cudaWorker: tc.worker, workers: 1}, slog.New(slog.DiscardHandler))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("newSolver(%s) error = %v, want %v", tc.backend, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("newSolver(%s) error = %v", tc.backend, err)
			}
			defer s.Close()
			if backend != tc.wantBackend {
				t.Errorf("newSolver(%s) backend = %q, want %q", tc.backend, backend, tc.wantBackend)
			}
			var m als.Model
			if err := s.Fit(t.Context(), &m, r, p, nil); err != nil {
				t.Fatalf("Fit() error = %v", err)
			}
			trained := backend
			if n, ok := s.(interface{ Name() string }); ok {
				trained = n.Name()
			}
			if trained != tc.wantTrained {
				t.Errorf("model trained by %q, want %q", trained, tc.wantTrained)
			}
			if rmse := als.RMSE(&m, r); !(rmse > 0 && rmse < 1) {
				t.Errorf("RMSE after Fit = %v, want a trained model", rmse)
			}
		})
	}
}

func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	if workerPath != "" {
		os.RemoveAll(filepath.Dir(workerPath))
	}
	os.Exit(code)
}
