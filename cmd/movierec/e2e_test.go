package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"movierec/als"
)

// startServer runs the whole program on port 0 over the bundled data and
// waits until it is ready.
func startServer(t *testing.T, cfg serveConfig) (*server, string) {
	if cfg.dbPath == "" {
		cfg.dbPath = filepath.Join(t.TempDir(), "movierec.db")
	}
	t.Helper()
	if cfg.addr == "" {
		cfg.addr = "127.0.0.1:0"
	}
	if cfg.minRatings == 0 {
		cfg.minRatings = 25
	}
	if cfg.maxCount == 0 {
		cfg.maxCount = 1000
	}
	if cfg.model.p.Rank == 0 {
		cfg.model.p = als.DefaultParams()
	}
	if cfg.ranking.kind == "" {
		// A small implicit ranking model keeps the tests quick under -race.
		cfg.ranking.kind = "implicit"
		cfg.ranking.p = als.DefaultImplicitParams()
		cfg.ranking.p.Rank, cfg.ranking.p.Iterations = 8, 5
	}
	if cfg.model.backend == "" {
		cfg.model.backend = "cpu"
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := newServer(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		cancel()
		t.Fatalf("newServer() error = %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v, want nil after cancel", err)
		}
		s.Close()
	})
	base := "http://" + s.Addr()
	// A first start imports the bundled data and trains before it is
	// ready: about 20 s under -race on an idle 2-core box, several times
	// that while other test packages share the cores.
	deadline := time.Now().Add(180 * time.Second)
	for {
		status, _ := get(t, base+"/readyz")
		if status == http.StatusOK {
			return s, base
		}
		if status != http.StatusServiceUnavailable {
			t.Fatalf("GET /readyz = %d, want 503 then 200", status)
		}
		if time.Now().After(deadline) {
			t.Fatal("server not ready after 180 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func post(t *testing.T, url, contentType, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// tuples decodes a tutorial response [[title, predicted, count], ...].
func tuples(t *testing.T, body string) [][3]any {
	t.Helper()
	var out [][3]any
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return out
}

// The tutorial's walkthrough: user 0 posts ratings (the tutorial's, halved
// onto our 0.5–5 scale), gets a top 10 and a prediction for movie 500.
var tutorialRatings = "260,4.5\n1,4\n16,3.5\n25,4\n32,4.5\n335,2\n379,1.5\n296,3.5\n858,5\n50,4\n"

func TestEndToEndTutorial(t *testing.T) {
	s, base := startServer(t, serveConfig{})

	// A title with a comma comes back whole.
	status, body := get(t, base+"/1/ratings/11")
	if status != 200 {
		t.Fatalf("GET /1/ratings/11 = %d %s", status, body)
	}
	got := tuples(t, body)
	if len(got) != 1 || got[0][0] != "American President, The (1995)" {
		t.Errorf("GET /1/ratings/11 = %s, want the title whole", body)
	}
	if n, ok := got[0][2].(float64); !ok || n < 1 {
		t.Errorf("GET /1/ratings/11 ratings_count = %v, want a positive count", got[0][2])
	}

	// Existing user: ten movies, none of them rated, best first.
	status, body = get(t, base+"/1/ratings/top/10")
	if status != 200 {
		t.Fatalf("GET /1/ratings/top/10 = %d %s", status, body)
	}
	top := tuples(t, body)
	if len(top) != 10 {
		t.Fatalf("GET /1/ratings/top/10 returned %d movies, want 10", len(top))
	}

	// Malformed bodies are answered 400 and store nothing.
	v0 := s.Engine().DataVersion()
	for _, bad := range []string{"260,4.5\n1;4\n", "260,4.5\n1,11\n", "", "260,4.5,1\n", "260,4.5\n999999999,4\n", "260,NaN\n"} {
		status, body := post(t, base+"/0/ratings", "application/x-www-form-urlencoded", bad)
		if status/100 != 4 {
			t.Errorf("POST /0/ratings %q = %d %s, want 4xx", bad, status, body)
		}
		var e struct{ Error string }
		if json.Unmarshal([]byte(body), &e) != nil || e.Error == "" {
			t.Errorf("POST /0/ratings %q body = %s, want a JSON error", bad, body)
		}
	}
	if v := s.Engine().DataVersion(); v != v0 {
		t.Fatalf("rejected POSTs changed the data version %d → %d", v0, v)
	}

	// New user 0 posts the tutorial's ratings, as curl --data-binary sends them.
	status, body = post(t, base+"/0/ratings", "application/x-www-form-urlencoded", tutorialRatings)
	if status != 200 {
		t.Fatalf("POST /0/ratings = %d %s", status, body)
	}
	var stored [][3]float64
	if err := json.Unmarshal([]byte(body), &stored); err != nil || len(stored) != 10 || stored[0] != [3]float64{0, 260, 4.5} {
		t.Fatalf("POST /0/ratings = %s, want [[0,260,4.5],...] for 10 ratings", body)
	}

	status, body = get(t, base+"/0/ratings/top/10")
	if status != 200 {
		t.Fatalf("GET /0/ratings/top/10 = %d %s", status, body)
	}
	top = tuples(t, body)
	if len(top) != 10 {
		t.Fatalf("GET /0/ratings/top/10 returned %d movies, want 10", len(top))
	}
	posted := map[string]bool{"Star Wars: Episode IV - A New Hope (1977)": true, "Toy Story (1995)": true, "Casino (1995)": true,
		"Leaving Las Vegas (1995)": true, "Twelve Monkeys (a.k.a. 12 Monkeys) (1995)": true, "Underneath (1995)": true,
		"Timecop (1994)": true, "Pulp Fiction (1994)": true, "Godfather, The (1972)": true, "Usual Suspects, The (1995)": true}
	seen := map[string]bool{}
	for _, m := range top {
		title := m[0].(string)
		if posted[title] {
			t.Errorf("top 10 of user 0 contains %q, which they just rated", title)
		}
		if seen[title] {
			t.Errorf("top 10 of user 0 contains %q twice", title)
		}
		seen[title] = true
		if n := m[2].(float64); n < 25 {
			t.Errorf("top 10 of user 0 contains %q with %v ratings, want ≥ 25", title, n)
		}
	}

	status, body = get(t, base+"/0/ratings/500")
	if status != 200 || !strings.Contains(body, "Mrs. Doubtfire (1993)") {
		t.Errorf("GET /0/ratings/500 = %d %s, want Mrs. Doubtfire", status, body)
	}
	status, body = get(t, base+"/0/ratings/99999999")
	if status != 404 {
		t.Errorf("GET /0/ratings/99999999 = %d %s, want 404", status, body)
	}
}

func TestReadyzBeforeModel(t *testing.T) {
	// A huge rank and many iterations keep the first training busy long
	// enough to observe 503; the cancel at cleanup stops it.
	cfg := serveConfig{addr: "127.0.0.1:0", minRatings: 25, maxCount: 10, dbPath: filepath.Join(t.TempDir(), "m.db")}
	cfg.model.p = als.Params{Rank: 200, Iterations: 1000, Lambda: 0.1, Seed: 1}
	cfg.model.backend = "cpu"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := newServer(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	base := "http://" + s.Addr()
	var status int
	for range 100 {
		if status, _ = get(t, base+"/healthz"); status == 200 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if status != 200 {
		t.Fatalf("GET /healthz = %d, want 200", status)
	}
	if status, body := get(t, base+"/readyz"); status != 503 {
		t.Errorf("GET /readyz before the first model = %d %s, want 503", status, body)
	}
	if status, body := get(t, base+"/1/ratings/top/5"); status != 503 {
		t.Errorf("GET top before the first model = %d %s, want 503", status, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v", err)
	}
}

func TestStartingHandler(t *testing.T) {
	h := startingHandler(http.NotFoundHandler())
	for _, tc := range []struct {
		path string
		want int
	}{{"/healthz", 200}, {"/readyz", 503}, {"/1/ratings/top/10", 503}, {"/api/v1/model", 503}} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", tc.path, nil))
		var body map[string]string
		if w.Code != tc.want || json.Unmarshal(w.Body.Bytes(), &body) != nil {
			t.Errorf("GET %s while starting = %d %s, want %d and JSON", tc.path, w.Code, w.Body, tc.want)
		}
	}
}

// failedStart runs a server on cfg and returns Run's error, which a start
// that fails must end it with (within 60 s).
func failedStart(t *testing.T, cfg serveConfig) error {
	t.Helper()
	s, err := newServer(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	done := make(chan error, 1)
	go func() { done <- s.Run(t.Context()) }()
	select {
	case err := <-done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatal("Run() did not end after a failed start")
		return nil
	}
}

func TestFailedStartEndsRun(t *testing.T) {
	cfg := testServeConfig(filepath.Join(t.TempDir(), "m.db"))
	cfg.data = dataSource{dir: filepath.Join(t.TempDir(), "no-such-dir")}
	if err := failedStart(t, cfg); err == nil || !strings.Contains(err.Error(), "no-such-dir") {
		t.Errorf("Run() with a missing data dir = %v, want an error naming it", err)
	}
}
