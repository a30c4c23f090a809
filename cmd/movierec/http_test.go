package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeHTTPFlagChecks: bad auth and CORS flags stop serve before it
// listens, and the error never shows the key.
func TestServeHTTPFlagChecks(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	tests := []struct {
		name string
		env  string // $MOVIEREC_API_KEY
		args []string
		want string
	}{
		{"key with spaces", "", []string{"--api-key", " s3cret-key "}, "leading or trailing whitespace"},
		{"key with newline from env", "s3cret-key\n", nil, "leading or trailing whitespace"},
		{"auth reads without key", "", []string{"--auth-reads"}, "--auth-reads needs an API key"},
		{"cors origin with path", "", []string{"--cors-origin", "https://app.example.com/x"}, "--cors-origin"},
		{"cors origin without scheme", "", []string{"--cors-origin", "app.example.com"}, "--cors-origin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("MOVIEREC_API_KEY", tc.env)
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db}, tc.args...)
			code, _, errs := runCLI(t, args...)
			if code == 0 || !strings.Contains(errs, tc.want) {
				t.Fatalf("movierec %v = exit %d %q, want a failure naming %q", tc.args, code, errs, tc.want)
			}
			if strings.Contains(errs, "s3cret") {
				t.Errorf("movierec %v error shows the key: %q", tc.args, errs)
			}
		})
	}
}

// TestStartingHandlerRequestID: the 503s while the data loads are the
// API's JSON errors with a request id.
func TestStartingHandlerRequestID(t *testing.T) {
	h := startingHandler(http.NotFoundHandler())
	for _, path := range []string{"/api/v1/model", "/readyz", "/1/ratings/top/3"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		var eb struct {
			Error     string
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil || w.Code != 503 || eb.RequestID == "" ||
			eb.RequestID != w.Header().Get("X-Request-ID") || !strings.Contains(eb.Error, "starting") {
			t.Errorf("GET %s while starting = %d %s (X-Request-ID %q), want 503 JSON with a request id", path, w.Code, w.Body, w.Header().Get("X-Request-ID"))
		}
	}
}

// TestBenchHelpHidesAPIKey: bench --http takes the key from the
// environment too, and its usage text must not print it.
func TestBenchHelpHidesAPIKey(t *testing.T) {
	t.Setenv("MOVIEREC_API_KEY", "s3cret-key")
	code, _, errs := runCLI(t, "bench", "--http", "-h")
	if code != 2 || !strings.Contains(errs, "$MOVIEREC_API_KEY") {
		t.Errorf("bench --http -h exit %d, want 2 and the variable named:\n%s", code, errs)
	}
	if strings.Contains(errs, "s3cret") {
		t.Errorf("bench --http -h prints the API key:\n%s", errs)
	}
}
