//go:build !cuda

package main

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"movierec/als"
	"movierec/als/alstest"
	"movierec/cpu"
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
	// A start unlike Prepare's: a fit from it differs from a cold one.
	init := &als.Model{}
	als.Prepare(init, r, als.Params{Rank: 3, Seed: 99})
	otherRank := &als.Model{}
	als.Prepare(otherRank, r, als.Params{Rank: 2, Seed: 99})
	fewer := &als.Model{}
	als.Prepare(fewer, als.NewRatings(r.NumUsers-1, r.NumItems, nil, nil, nil), good)
	biased := good
	biased.Bias = true
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
		{"initial factors", gpu.Job{Params: good, Ratings: r, Init: init}, 255},
		{"initial factors of another rank", gpu.Job{Params: good, Ratings: r, Init: otherRank}, gpu.CodeInvalidJob},
		{"initial factors without biases", gpu.Job{Params: biased, Ratings: r, Init: init}, gpu.CodeInvalidJob},
		{"initial factors for fewer users", gpu.Job{Params: good, Ratings: r, Init: fewer}, gpu.CodeInvalidJob},
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
					if tc.job.Init != nil {
						if err := cpu.New(1).FitFrom(t.Context(), want, tc.job.Init, r, tc.job.Params, nil); err != nil {
							t.Fatal(err)
						}
						cold := &als.Model{}
						alstest.Reference(cold, r, tc.job.Params)
						if d := alstest.MaxRelDiff(m.Model, cold); d < 1e-2 {
							t.Errorf("result from initial factors is within %.3g of a cold fit: the start was not used", d)
						}
					} else {
						alstest.Reference(want, r, tc.job.Params)
					}
					if d := alstest.MaxRelDiff(m.Model, want); d > 1e-4 {
						t.Errorf("result differs from the CPU's by %.3g", d)
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

// warmRecorder is a patchRecorder that can also start from a model
// (als.WarmSolver), as the cuda Device does: it records a copy of what
// each FitFrom starts from (nil for a Fit).
type warmRecorder struct {
	patchRecorder
	froms []*als.Model
}

func (s *warmRecorder) Fit(ctx context.Context, dst *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	s.froms = append(s.froms, nil)
	return s.patchRecorder.Fit(ctx, dst, r, p, progress)
}

func (s *warmRecorder) FitFrom(ctx context.Context, dst, from *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	c := *from
	c.UserFactors, c.ItemFactors = slices.Clone(from.UserFactors), slices.Clone(from.ItemFactors)
	c.UserBias, c.ItemBias = slices.Clone(from.UserBias), slices.Clone(from.ItemBias)
	s.froms = append(s.froms, &c)
	return s.patchRecorder.Fit(ctx, dst, r, p, progress)
}

// TestWorkerWarmStart checks what the worker does with a Job's Init: a
// solver that can start from a model (als.WarmSolver) gets exactly the
// Init factors, with a full upload or with a Delta (whose Patch still
// reaches it); an Init that does not suit the job's parameters or the
// shape of its ratings after the Delta, or a solver without FitFrom, gets
// CodeInvalidJob without a fit, and the held ratings stay as they were
// (the next Delta from them applies).
func TestWorkerWarmStart(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	p := als.Params{Rank: 2, Iterations: 1, Lambda: 0.1, Seed: 1}
	pb := p
	pb.Bias = true
	r := als.NewRatings(3, 2, []int32{0, 1, 2}, []int32{0, 1, 0}, []float32{4, 3, 5})
	grow := &gpu.Delta{NumUsers: 4, NumItems: 2, SetUser: []int32{1, 3}, SetItem: []int32{0, 1}, SetVal: []float32{2, 1}}
	model := func(users, items int, p als.Params) *als.Model {
		m := &als.Model{}
		als.Prepare(m, als.NewRatings(users, items, nil, nil, nil), als.Params{Rank: p.Rank, Seed: 42, Bias: p.Bias})
		for i := range m.UserBias {
			m.UserBias[i] = float32(i) + 0.5
		}
		return m
	}
	broken := model(3, 2, p)
	broken.ItemFactors = broken.ItemFactors[:2]

	tests := []struct {
		name    string
		cold    bool // the solver has no FitFrom
		job     gpu.Job
		code    gpu.ErrorCode // of the JobError; 255: want a Result
		patched bool          // the fit gets a Patch
	}{
		{name: "full upload", job: gpu.Job{Params: p, Ratings: r, Dataset: 5, Version: 2, Init: model(3, 2, p)}, code: 255},
		{name: "full upload with biases", job: gpu.Job{Params: pb, Ratings: r, Dataset: 5, Version: 2, Init: model(3, 2, pb)}, code: 255},
		{name: "delta", job: gpu.Job{Params: p, Dataset: 5, Version: 2, Base: 1, Delta: grow, Init: model(4, 2, p)}, code: 255, patched: true},
		{name: "another rank", job: gpu.Job{Params: p, Ratings: r, Dataset: 5, Version: 2, Init: model(3, 2, als.Params{Rank: 3})}, code: gpu.CodeInvalidJob},
		{name: "no biases", job: gpu.Job{Params: pb, Ratings: r, Dataset: 5, Version: 2, Init: model(3, 2, p)}, code: gpu.CodeInvalidJob},
		{name: "short factors", job: gpu.Job{Params: p, Ratings: r, Dataset: 5, Version: 2, Init: broken}, code: gpu.CodeInvalidJob},
		{name: "more users than the ratings", job: gpu.Job{Params: p, Ratings: r, Dataset: 5, Version: 2, Init: model(4, 2, p)}, code: gpu.CodeInvalidJob},
		{name: "the base's shape, not the delta's", job: gpu.Job{Params: p, Dataset: 5, Version: 2, Base: 1, Delta: grow, Init: model(3, 2, p)}, code: gpu.CodeInvalidJob},
		{name: "solver without FitFrom", cold: true, job: gpu.Job{Params: p, Dataset: 5, Version: 2, Base: 1, Delta: grow, Init: model(4, 2, p)}, code: gpu.CodeInvalidJob},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &warmRecorder{}
			var s als.Solver = w
			if tc.cold {
				s = &w.patchRecorder
			}
			var held resident
			ok := func(als.Iteration) error { return nil }
			// The worker holds version 1 of dataset 5.
			if m, isResult := train(t.Context(), s, &gpu.Job{ID: 1, Params: p, Ratings: r, Dataset: 5, Version: 1}, &held, ok, log).(*gpu.Result); !isResult {
				t.Fatalf("first job: %+v, want a Result", m)
			}
			tc.job.ID = 2
			m := train(t.Context(), s, &tc.job, &held, ok, log)
			if tc.code != 255 {
				if e, isErr := m.(*gpu.JobError); !isErr || e.Code != tc.code {
					t.Fatalf("train() = %+v, want a JobError of code %d", m, tc.code)
				}
				if len(w.fits) != 1 {
					t.Errorf("%d fits, want none after the first job's", len(w.fits)-1)
				}
				// The held version 1 is intact: a Delta from it applies.
				if m, isResult := train(t.Context(), s, &gpu.Job{ID: 3, Params: p, Dataset: 5, Version: 3, Base: 1, Delta: grow}, &held, ok, log).(*gpu.Result); !isResult {
					t.Fatalf("a delta from the version held before the rejected job: %+v, want a Result", m)
				}
				return
			}
			if _, isResult := m.(*gpu.Result); !isResult {
				t.Fatalf("train() = %+v, want a Result", m)
			}
			if len(w.froms) != 2 || w.froms[0] != nil {
				t.Fatalf("starts %v, want a cold fit, then one from Init", w.froms)
			}
			if diff := cmp.Diff(tc.job.Init, w.froms[1], cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("FitFrom started from a model other than the job's Init (-init +got):\n%s", diff)
			}
			if got := w.fits[1]; got.NumUsers != tc.job.Init.NumUsers || got.NumItems != tc.job.Init.NumItems {
				t.Errorf("FitFrom got ratings of %d×%d, want %d×%d", got.NumUsers, got.NumItems, tc.job.Init.NumUsers, tc.job.Init.NumItems)
			}
			if pt := w.patches[1]; (pt != nil) != tc.patched || tc.patched && (pt.Base != w.fits[0] || pt.Result != w.fits[1]) {
				t.Errorf("patch %+v, want one from the first fit's ratings to this fit's: %t", pt, tc.patched)
			}
		})
	}
}
