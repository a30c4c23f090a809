package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadTest(t *testing.T) {
	s, base := startServer(t, serveConfig{})
	v0 := s.Engine().DataVersion()
	var out, errb bytes.Buffer
	args := []string{"--http", "--url", base, "--duration", "1s", "--get-concurrency", "4", "--post-rate", "40", "--users", "610", "--json"}
	if err := runLoadTest(t.Context(), args, &out, &errb); err != nil {
		t.Fatalf("runLoadTest(%v) = %v; stderr:\n%s", args, err, errb.String())
	}
	var rep loadReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("decode the JSON report %s: %v", out.String(), err)
	}
	if rep.Get.Requests == 0 || rep.Post.Requests == 0 || rep.Errors != 0 {
		t.Errorf("report = %+v, want GETs and POSTs without errors; stderr:\n%s", rep, errb.String())
	}
	if rep.Acknowledged != rep.Post.Requests || rep.Verified != rep.Acknowledged {
		t.Errorf("acknowledged %d, verified %d of %d POSTs; want all", rep.Acknowledged, rep.Verified, rep.Post.Requests)
	}
	if v := s.Engine().DataVersion(); v != v0+int64(rep.Acknowledged) {
		t.Errorf("data version %d → %d after %d acknowledged POSTs", v0, v, rep.Acknowledged)
	}
	if rep.Get.P50ms <= 0 || rep.Get.P50ms > rep.Get.P99ms || rep.Get.P99ms > rep.Get.MaxMs {
		t.Errorf("GET latencies p50 %v p99 %v max %v, want 0 < p50 ≤ p99 ≤ max", rep.Get.P50ms, rep.Get.P99ms, rep.Get.MaxMs)
	}

	var text bytes.Buffer
	rep.print(&text)
	if !strings.Contains(text.String(), "acknowledged") || !strings.Contains(text.String(), "GET  /{user}/ratings/top/10") {
		t.Errorf("text report = %s", text.String())
	}
}

func TestLoadTestRejectsFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"remote host", []string{"--url", "http://example.com:8080"}, "loopback"},
		{"private address", []string{"--url", "http://10.0.0.1:8080"}, "loopback"},
		{"unspecified address", []string{"--url", "http://0.0.0.0:8080"}, "loopback"},
		{"not http", []string{"--url", "ftp://127.0.0.1/"}, "http"},
		{"zero duration", []string{"--duration", "0s"}, "--duration"},
		{"nothing to send", []string{"--get-concurrency", "0", "--post-rate", "0"}, "nothing to send"},
		{"post users beyond int32", []string{"--post-user-base", "2147483000", "--post-users", "1000"}, "--post-user-base"},
		{"one remote among several", []string{"--url", "http://127.0.0.1:1,http://example.com:8080"}, "loopback"},
		{"visibility with one server", []string{"--visibility-probes", "5"}, "two --url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := runLoadTest(t.Context(), tc.args, &out, &errb)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("runLoadTest(%v) = %v, want an error containing %q", tc.args, err, tc.wantErr)
			}
		})
	}
	for _, ok := range []string{"http://127.0.0.1:8080", "http://127.1.2.3", "http://[::1]:8080/", "https://localhost:8443"} {
		if err := checkLoopback(ok); err != nil {
			t.Errorf("checkLoopback(%q) = %v, want nil", ok, err)
		}
	}
}

func TestURLListFlag(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"default", nil, []string{"http://127.0.0.1:8080"}},
		{"one", []string{"--url", "http://127.0.0.1:1/"}, []string{"http://127.0.0.1:1"}},
		{"comma-separated", []string{"--url", "http://127.0.0.1:1, http://127.0.0.1:2"}, []string{"http://127.0.0.1:1", "http://127.0.0.1:2"}},
		{"repeated", []string{"--url", "http://127.0.0.1:1", "--url", "http://127.0.0.1:2,http://127.0.0.1:3"},
			[]string{"http://127.0.0.1:1", "http://127.0.0.1:2", "http://127.0.0.1:3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loadConfig{urls: urlList{urls: []string{"http://127.0.0.1:8080"}}, duration: time.Second, getWorkers: 1,
				users: 1, postUsers: 1, timeout: time.Second}
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.Var(&cfg.urls, "url", "")
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if err := cfg.validate(); err != nil {
				t.Fatalf("validate() = %v", err)
			}
			if !slices.Equal(cfg.urls.urls, tc.want) {
				t.Errorf("--url %v gives %v, want %v", tc.args, cfg.urls.urls, tc.want)
			}
		})
	}
}

// TestLoadTestSpreads: with two URLs both servers get the GETs. (POSTs
// are checked through the replicas of one PostgreSQL database in
// TestReplicasAndTrainer: two SQLite servers do not share ratings.)
func TestLoadTestSpreads(t *testing.T) {
	_, baseA := startServer(t, serveConfig{})
	_, baseB := startServer(t, serveConfig{})
	var out, errb bytes.Buffer
	args := []string{"--http", "--url", baseA + "," + baseB, "--duration", "500ms", "--get-concurrency", "2", "--post-rate", "0", "--json"}
	if err := runLoadTest(t.Context(), args, &out, &errb); err != nil {
		t.Fatalf("runLoadTest(%v) = %v; stderr:\n%s", args, err, errb.String())
	}
	for _, base := range []string{baseA, baseB} {
		resp, err := http.Get(base + "/api/v1/status")
		if err != nil {
			t.Fatal(err)
		}
		var st struct {
			Requests struct {
				ByRoute []struct {
					Route string
					Count int
				} `json:"by_route"`
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range st.Requests.ByRoute {
			if strings.Contains(r.Route, "/ratings/top/") {
				n += r.Count
			}
		}
		if n == 0 {
			t.Errorf("%s got no GETs: %+v", base, st.Requests.ByRoute)
		}
	}
}
