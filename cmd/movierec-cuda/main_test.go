//go:build !cuda

package main

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"

	"movierec/als"
	"movierec/als/alstest"
	"movierec/gpu"
)

// session runs the worker in-process over pipes and returns the client's
// ends and a channel with run's exit status.
func session(t *testing.T, env map[string]string) (*gpu.Encoder, *gpu.Decoder, io.Closer, <-chan int) {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	status := make(chan int, 1)
	go func() {
		status <- run(inR, outW, slog.New(slog.DiscardHandler), func(k string) string { return env[k] }, 0)
		outW.Close()
	}()
	t.Cleanup(func() { inW.Close(); outR.Close() })
	return gpu.NewEncoder(inW), gpu.NewDecoder(outR), inW, status
}

func next(t *testing.T, dec *gpu.Decoder) gpu.Message {
	t.Helper()
	m, err := dec.Next()
	if err != nil {
		t.Fatalf("Next() = %v", err)
	}
	return m
}

func TestBadVersion(t *testing.T) {
	enc, dec, _, status := session(t, nil)
	if err := enc.Write(&gpu.Hello{Version: gpu.ProtocolVersion + 1}); err != nil {
		t.Fatal(err)
	}
	h, ok := next(t, dec).(*gpu.Hello)
	if !ok || h.Status != gpu.HelloBadVersion {
		t.Fatalf("hello = %+v, want status HelloBadVersion", h)
	}
	if s := <-status; s != 2 {
		t.Errorf("exit status %d, want 2", s)
	}
}

func TestJobs(t *testing.T) {
	enc, dec, stdin, status := session(t, nil)
	if err := enc.Write(&gpu.Hello{Version: gpu.ProtocolVersion}); err != nil {
		t.Fatal(err)
	}
	if h := next(t, dec).(*gpu.Hello); h.Status != gpu.HelloOK || h.Device != "cpu (no cuda tag)" {
		t.Fatalf("hello = %+v", h)
	}
	r, _ := alstest.Synthetic(40, 30, 300, 2, 0.3, 1)
	good := als.Params{Rank: 3, Iterations: 2, Lambda: 0.1, Seed: 1}
	broken := *r
	broken.UserIdx = append([]int32(nil), r.UserIdx...)
	broken.UserIdx[0] = 1000
	init := &als.Model{}
	als.Prepare(init, r, good)
	implicit := alstest.ImplicitParams(3, 2, 0.1, 1, 0.5, 0.5)
	implicitBias := implicit
	implicitBias.Bias = true
	unknownObjective := good
	unknownObjective.Objective = 9

	tests := []struct {
		name string
		job  gpu.Job
		code gpu.ErrorCode // of the JobError; 255: want a Result
	}{
		{"ok", gpu.Job{Params: good, Ratings: r}, 255},
		{"implicit", gpu.Job{Params: implicit, Ratings: r}, 255},
		{"implicit with bias", gpu.Job{Params: implicitBias, Ratings: r}, gpu.CodeInvalidParams},
		{"unknown objective", gpu.Job{Params: unknownObjective, Ratings: r}, gpu.CodeInvalidParams},
		{"invalid params", gpu.Job{Params: als.Params{Rank: 0, Iterations: 1, Lambda: 0.1}, Ratings: r}, gpu.CodeInvalidParams},
		{"malformed ratings", gpu.Job{Params: good, Ratings: &broken}, gpu.CodeInvalidJob},
		{"initial factors", gpu.Job{Params: good, Ratings: r, Init: init}, gpu.CodeInvalidJob},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.job.ID = uint64(i + 10)
			if err := enc.Write(&tc.job); err != nil {
				t.Fatal(err)
			}
			progress := 0
			for {
				switch m := next(t, dec).(type) {
				case *gpu.Progress:
					progress++
					continue
				case *gpu.Result:
					if tc.code != 255 || m.ID != tc.job.ID {
						t.Fatalf("Result %d, want a JobError of code %d for job %d", m.ID, tc.code, tc.job.ID)
					}
					if progress != tc.job.Params.Iterations {
						t.Errorf("%d progress frames, want %d", progress, tc.job.Params.Iterations)
					}
					want := &als.Model{}
					alstest.Reference(want, r, tc.job.Params)
					if d := alstest.MaxRelDiff(m.Model, want); d > 1e-4 {
						t.Errorf("result differs from alstest.Reference by %.3g", d)
					}
				case *gpu.JobError:
					if m.Code != tc.code || m.ID != tc.job.ID {
						t.Fatalf("JobError %+v, want code %d for job %d", m, tc.code, tc.job.ID)
					}
				default:
					t.Fatalf("unexpected %T", m)
				}
				break
			}
		})
	}
	stdin.Close()
	if s := <-status; s != 0 {
		t.Errorf("exit status %d after stdin closed, want 0", s)
	}
}

func TestCancel(t *testing.T) {
	enc, dec, _, _ := session(t, nil)
	if err := enc.Write(&gpu.Hello{Version: gpu.ProtocolVersion}); err != nil {
		t.Fatal(err)
	}
	next(t, dec)
	r, _ := alstest.Synthetic(500, 300, 20000, 4, 0.3, 2)
	if err := enc.Write(&gpu.Job{ID: 1, Params: als.Params{Rank: 8, Iterations: 100000, Lambda: 0.1}, Ratings: r}); err != nil {
		t.Fatal(err)
	}
	if _, ok := next(t, dec).(*gpu.Progress); !ok {
		t.Fatal("want a progress frame first")
	}
	if err := enc.Write(&gpu.Cancel{ID: 1}); err != nil {
		t.Fatal(err)
	}
	for {
		m := next(t, dec)
		if _, ok := m.(*gpu.Progress); ok {
			continue
		}
		if e, ok := m.(*gpu.JobError); !ok || e.Code != gpu.CodeCanceled {
			t.Fatalf("after Cancel: %+v, want a JobError of code CodeCanceled", m)
		}
		return
	}
}

func TestNoDeviceHook(t *testing.T) {
	enc, dec, _, status := session(t, map[string]string{"MOVIEREC_WORKER_NO_DEVICE": "1"})
	if err := enc.Write(&gpu.Hello{Version: gpu.ProtocolVersion}); err != nil {
		t.Fatal(err)
	}
	if h := next(t, dec).(*gpu.Hello); h.Status != gpu.HelloNoDevice {
		t.Fatalf("hello = %+v, want HelloNoDevice", h)
	}
	if s := <-status; s != 0 {
		t.Errorf("exit status %d, want 0", s)
	}
}

// TestResidentData: the worker applies a Delta to the version it holds,
// answers CodeStaleData for any other base (and for a delta after a job that
// kept nothing), and CodeInvalidJob for a Delta that does not fit, after
// which it holds nothing.
func TestResidentData(t *testing.T) {
	enc, dec, _, _ := session(t, nil)
	if err := enc.Write(&gpu.Hello{Version: gpu.ProtocolVersion}); err != nil {
		t.Fatal(err)
	}
	next(t, dec)
	r := als.NewRatings(3, 2, []int32{0, 1, 2}, []int32{0, 1, 0}, []float32{4, 3, 5})
	p := als.Params{Rank: 2, Iterations: 1, Lambda: 0.1, Seed: 1}
	// finish reads job id's frames to its end and returns the last one.
	finish := func(id uint64) gpu.Message {
		t.Helper()
		for {
			m := next(t, dec)
			switch m := m.(type) {
			case *gpu.Result:
				if m.ID == id {
					return m
				}
			case *gpu.JobError:
				if m.ID == id {
					return m
				}
			}
		}
	}
	code := func(m gpu.Message) gpu.ErrorCode {
		t.Helper()
		e, ok := m.(*gpu.JobError)
		if !ok {
			t.Fatalf("got %T, want a JobError", m)
		}
		return e.Code
	}
	send := func(j *gpu.Job) gpu.Message {
		t.Helper()
		if err := enc.Write(j); err != nil {
			t.Fatal(err)
		}
		return finish(j.ID)
	}
	grow := &gpu.Delta{NumUsers: 4, NumItems: 2, SetUser: []int32{1, 3}, SetItem: []int32{0, 1}, SetVal: []float32{2, 1},
		DelUser: []int32{2}, DelItem: []int32{0}}

	// A job without a dataset keeps nothing.
	if m, ok := send(&gpu.Job{ID: 1, Params: p, Ratings: r}).(*gpu.Result); !ok {
		t.Fatalf("full upload without a dataset: %+v", m)
	}
	if c := code(send(&gpu.Job{ID: 2, Params: p, Dataset: 5, Version: 2, Base: 1, Delta: grow})); c != gpu.CodeStaleData {
		t.Errorf("delta with nothing held: code %d, want CodeStaleData", c)
	}
	if m, ok := send(&gpu.Job{ID: 3, Params: p, Ratings: r, Dataset: 5, Version: 1}).(*gpu.Result); !ok {
		t.Fatalf("full upload: %+v", m)
	}
	if c := code(send(&gpu.Job{ID: 4, Params: p, Dataset: 5, Version: 3, Base: 7, Delta: grow})); c != gpu.CodeStaleData {
		t.Errorf("delta from another version: code %d, want CodeStaleData", c)
	}
	if m, ok := send(&gpu.Job{ID: 5, Params: p, Ratings: r, Dataset: 5, Version: 1}).(*gpu.Result); !ok {
		t.Fatalf("full upload: %+v", m)
	}
	res, ok := send(&gpu.Job{ID: 6, Params: p, Dataset: 5, Version: 2, Base: 1, Delta: grow}).(*gpu.Result)
	if !ok || res.Model.NumUsers != 4 {
		t.Fatalf("delta: %+v, want a model of 4 users", res)
	}
	bad := &gpu.Delta{NumUsers: 4, NumItems: 2, DelUser: []int32{0}, DelItem: []int32{1}} // (0, 1) is not rated
	if c := code(send(&gpu.Job{ID: 7, Params: p, Dataset: 5, Version: 3, Base: 2, Delta: bad})); c != gpu.CodeInvalidJob {
		t.Errorf("delta that does not fit: code %d, want CodeInvalidJob", c)
	}
	if c := code(send(&gpu.Job{ID: 8, Params: p, Dataset: 5, Version: 3, Base: 2, Delta: grow})); c != gpu.CodeStaleData {
		t.Errorf("delta after a failed one: code %d, want CodeStaleData", c)
	}
}

// patchRecorder is a solver that keeps its ratings between Fits, as the
// cuda Device does: it records what Patched and Fit receive.
type patchRecorder struct {
	patches []*gpu.Patch // the argument of each Patched call, nil for a Fit without one
	fits    []*als.Ratings
	pending *gpu.Patch
}

// Patched keeps a copy: the worker reuses pt for the next Delta.
func (s *patchRecorder) Patched(pt *gpu.Patch) {
	c := *pt
	c.Users.Old, c.Users.New = slices.Clone(pt.Users.Old), slices.Clone(pt.Users.New)
	c.Items.Old, c.Items.New = slices.Clone(pt.Items.Old), slices.Clone(pt.Items.New)
	s.pending = &c
}

func (s *patchRecorder) Fit(_ context.Context, _ *als.Model, r *als.Ratings, _ als.Params, _ func(als.Iteration)) error {
	s.patches = append(s.patches, s.pending)
	s.fits = append(s.fits, r)
	s.pending = nil
	return nil
}

func (s *patchRecorder) Close() error { return nil }

// TestWorkerPatchesResidentRatings checks what a device that keeps the
// ratings (gpu.Patcher) is told: nothing for a full upload, a Patch from
// exactly the ratings of its previous Fit to those of this one for a
// Delta, and for a Delta without changes (a retrain's second model) the
// very ratings it holds, so that it sends nothing at all.
func TestWorkerPatchesResidentRatings(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	s := &patchRecorder{}
	var held resident
	p := als.Params{Rank: 2, Iterations: 1, Lambda: 0.1, Seed: 1}
	r := als.NewRatings(3, 2, []int32{0, 1, 2}, []int32{0, 1, 0}, []float32{4, 3, 5})
	jobs := []*gpu.Job{
		{ID: 1, Params: p, Ratings: r, Dataset: 5, Version: 1},
		{ID: 2, Params: p, Dataset: 5, Version: 2, Base: 1, Delta: &gpu.Delta{NumUsers: 4, NumItems: 2,
			SetUser: []int32{1, 3}, SetItem: []int32{0, 1}, SetVal: []float32{2, 1}}},
		{ID: 3, Params: p, Dataset: 5, Version: 3, Base: 2, Delta: &gpu.Delta{NumUsers: 4, NumItems: 2}},
		{ID: 4, Params: p, Dataset: 5, Version: 4, Base: 3, Delta: &gpu.Delta{NumUsers: 4, NumItems: 2,
			DelUser: []int32{2}, DelItem: []int32{0}}},
	}
	for _, j := range jobs {
		if m, ok := train(context.Background(), s, j, &held, func(als.Iteration) error { return nil }, log).(*gpu.Result); !ok {
			t.Fatalf("job %d: %+v, want a Result", j.ID, m)
		}
	}
	if s.fits[0] != r || s.patches[0] != nil {
		t.Errorf("full upload: Fit got %p with patch %v, want the job's ratings and no patch", s.fits[0], s.patches[0])
	}
	if pt := s.patches[1]; pt == nil || pt.Base != s.fits[0] || pt.Result != s.fits[1] {
		t.Errorf("delta: patch %+v, want one from the previous Fit's ratings to this Fit's", pt)
	} else if got := pt.Users.Entries() + pt.Items.Entries(); got != 4 {
		t.Errorf("delta of 2 new ratings: the patch has %d new entries over both orientations, want 4", got)
	}
	if s.fits[2] != s.fits[1] || s.patches[2] != nil {
		t.Errorf("delta without changes: Fit got %p (patch %v), want the held %p and no patch", s.fits[2], s.patches[2], s.fits[1])
	}
	if pt := s.patches[3]; pt == nil || pt.Base != s.fits[2] || pt.Result != s.fits[3] {
		t.Errorf("delta after an unchanged one: patch %+v, want one from the held ratings", pt)
	}
	if got := s.fits[3].NNZ(); got != 4 {
		t.Errorf("after the deletion: %d ratings, want 4", got)
	}
}
