package api_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"movierec/als"
	"movierec/als/alstest"
	"movierec/api"
	"movierec/engine"
)

// fullStore fails every write with a full disk while full is set, as
// store.DB does, and reports it.
type fullStore struct {
	mu    sync.Mutex
	full  bool
	saves int64
}

func (f *fullStore) AddRatings(ctx context.Context, rs []engine.Rating) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.full {
		return fmt.Errorf("%w: m.db: database or disk is full (13)", engine.ErrDiskFull)
	}
	return nil
}

func (f *fullStore) StorageStatus() engine.StorageStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := engine.StorageStatus{ModelSaveFailures: f.saves}
	if f.saves > 0 {
		st.LastModelSaveError = "save model: disk full"
	}
	if f.full {
		st.WriteError, st.DiskFull = "disk full: m.db", true
	}
	return st
}

// TestDiskFull: POSTs answer 507 saying "disk full", /readyz is 503 while
// writes fail and 200 again once they work, and the model save failures
// show in /readyz details and /metrics.
func TestDiskFull(t *testing.T) {
	st := &fullStore{full: true, saves: 2}
	e := newEngineWith(t, true, alstest.ReferenceSolver{}, st)
	s := api.New(e, api.Options{Storage: st}, nil)

	for _, r := range []request{
		jsonPost("/api/v1/users/1/ratings", `[{"movie_id":1,"rating":4}]`),
		{method: "POST", path: "/1/ratings", contentType: "text/plain", body: "1,4\n"},
	} {
		code, body, _ := serve(t, s, r)
		if code != 507 || !strings.Contains(body, "disk full") || !strings.Contains(body, "request_id") {
			t.Errorf("%v on a full disk = %d %s, want 507 saying disk full", r, code, body)
		}
	}
	code, body, _ := serve(t, s, get("/readyz"))
	if code != 503 || !strings.Contains(body, "disk full") || !strings.Contains(body, `"model_save_failures":2`) {
		t.Errorf("/readyz on a full disk = %d %s, want 503 with the storage details", code, body)
	}
	_, metrics, _ := serve(t, s, get("/metrics"))
	for _, want := range []string{"movierec_storage_writes_ok 0", "movierec_model_save_failures_total 2"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	st.mu.Lock()
	st.full = false
	st.mu.Unlock()
	code, body, _ = serve(t, s, get("/readyz"))
	if code != 200 || !strings.Contains(body, `"last_model_save_error"`) {
		t.Errorf("/readyz after recovery = %d %s, want 200 with the last save error in the details", code, body)
	}
	if code, body, _ := serve(t, s, jsonPost("/api/v1/users/1/ratings", `[{"movie_id":1,"rating":4}]`)); code != 200 {
		t.Errorf("POST after recovery = %d %s, want 200", code, body)
	}
}

// downStore is a shared store that cannot be reached while down is set,
// as the PostgreSQL store reports it.
type downStore struct {
	mu   sync.Mutex
	down bool
	n    int
}

func (d *downStore) AddRatings(ctx context.Context, rs []engine.Rating) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.down {
		return fmt.Errorf("%w: failed to connect to 127.0.0.1:5432: connection refused", engine.ErrStoreUnavailable)
	}
	d.n += len(rs)
	return nil
}

func (d *downStore) StorageStatus() engine.StorageStatus {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.down {
		return engine.StorageStatus{WriteError: "store unavailable: connection refused", Unavailable: true}
	}
	return engine.StorageStatus{}
}

// TestStoreUnavailable: with the shared database down, POSTs answer 503
// naming the cause and store nothing, GETs are answered from memory, and
// /readyz is 200 "degraded"; all is back once it returns.
func TestStoreUnavailable(t *testing.T) {
	st := &downStore{down: true}
	e := newEngineWith(t, true, alstest.ReferenceSolver{}, st)
	s := api.New(e, api.Options{Storage: st}, nil)
	for _, r := range []request{
		jsonPost("/api/v1/users/1/ratings", `[{"movie_id":1,"rating":4}]`),
		{method: "POST", path: "/1/ratings", contentType: "text/plain", body: "1,4\n"},
	} {
		code, body, _ := serve(t, s, r)
		if code != 503 || !strings.Contains(body, "store unavailable") || !strings.Contains(body, "connection refused") {
			t.Errorf("%v with the database down = %d %s, want 503 naming the cause", r, code, body)
		}
	}
	if code, body, _ := serve(t, s, get("/1/ratings/top/3")); code != 200 {
		t.Errorf("GET top with the database down = %d %s, want 200 from memory", code, body)
	}
	code, body, _ := serve(t, s, get("/readyz"))
	if code != 200 || !strings.Contains(body, `"status":"degraded"`) || !strings.Contains(body, `"database_unavailable":true`) {
		t.Errorf("/readyz with the database down = %d %s, want 200 degraded", code, body)
	}
	st.mu.Lock()
	st.down = false
	st.mu.Unlock()
	if code, body, _ := serve(t, s, get("/readyz")); code != 200 || !strings.Contains(body, `"status":"ready"`) {
		t.Errorf("/readyz after the outage = %d %s, want 200 ready", code, body)
	}
	if code, body, _ := serve(t, s, jsonPost("/api/v1/users/1/ratings", `[{"movie_id":1,"rating":4}]`)); code != 200 || st.n != 1 {
		t.Errorf("POST after the outage = %d %s (stored %d), want 200 and 1 stored", code, body, st.n)
	}
}

// TestStartingMetrics: before the API is built, /metrics answers with
// movierec_model_ready 0 and the build info.
func TestStartingMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	api.RegisterBuildInfo(reg, api.BuildInfo{Version: "v1.2.3", Revision: "abc", GoVersion: "go1.26"})
	code, body, _ := serve(t, api.StartingMetrics(reg), get("/metrics"))
	for _, want := range []string{"movierec_model_ready 0", `movierec_build_info{goversion="go1.26",revision="abc",version="v1.2.3"} 1`} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics while starting = %d, lacks %q:\n%s", code, want, body)
		}
	}
	// The API then takes over on the same registry.
	s := api.New(newEngine(t, true), api.Options{Registry: reg}, nil)
	_, body, _ = serve(t, s, get("/metrics"))
	for _, want := range []string{"movierec_model_ready 1", "movierec_build_info{"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics after start lacks %q", want)
		}
	}
}

// TestRetrainOnFollower: a process that does not train answers 409 to a
// retrain request, naming why, and requests nothing.
func TestRetrainOnFollower(t *testing.T) {
	p := als.Params{Rank: 3, Iterations: 3, Lambda: 0.1, Seed: 1}
	e, err := engine.New(engine.Config{Params: p, Scale: engine.MovieLensScale, NeverTrain: true}, alstest.ReferenceSolver{}, catalog, testRatings())
	if err != nil {
		t.Fatal(err)
	}
	s := api.New(e, api.Options{}, nil)
	code, body, _ := serve(t, s, request{method: "POST", path: "/api/v1/model/retrain"})
	if code != 409 || !strings.Contains(body, "does not train") {
		t.Errorf("POST /api/v1/model/retrain on a follower = %d %s, want 409", code, body)
	}
	if pending, running := e.RetrainState(); pending || running {
		t.Errorf("RetrainState() = %v, %v after a refused request, want nothing", pending, running)
	}
}
