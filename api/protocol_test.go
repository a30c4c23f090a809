package api_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"movierec/api"
)

// errorBody decodes an error answer and fails unless it is JSON with a
// request id equal to the X-Request-ID header.
func errorBody(t *testing.T, what, body string, hdr http.Header) string {
	t.Helper()
	var eb struct {
		Error     string
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal([]byte(body), &eb); err != nil || eb.Error == "" {
		t.Fatalf("%s body = %q, want a JSON error", what, body)
	}
	if eb.RequestID == "" || eb.RequestID != hdr.Get("X-Request-ID") {
		t.Errorf("%s request_id = %q, X-Request-ID = %q, want the same non-empty id", what, eb.RequestID, hdr.Get("X-Request-ID"))
	}
	return eb.Error
}

// TestHead checks that every GET route answers HEAD with the GET's status
// and headers and no body.
func TestHead(t *testing.T) {
	s, _ := newServer(t, api.Options{})
	n := 0
	for _, r := range s.Routes() {
		if r.Method != "GET" {
			continue
		}
		n++
		path := ginParam.ReplaceAllString(r.Path, "1")
		if strings.HasPrefix(r.Path, "/api/v1/movies") && !strings.Contains(r.Path, ":") && !strings.HasSuffix(r.Path, "popular") {
			path += "?query=toy"
		}
		gs, _, gh := serve(t, s, get(path))
		hs, hb, hh := serve(t, s, request{method: "HEAD", path: path})
		if hs != gs || hb != "" || hh.Get("Content-Type") != gh.Get("Content-Type") {
			t.Errorf("HEAD %s = %d %q (Content-Type %q), want %d, no body, Content-Type %q",
				path, hs, hb, hh.Get("Content-Type"), gs, gh.Get("Content-Type"))
		}
	}
	if n < 15 {
		t.Fatalf("%d GET routes, want at least 15", n)
	}
}

// TestOptions checks OPTIONS on every route path: 204 with Allow.
func TestOptions(t *testing.T) {
	s, _ := newServer(t, api.Options{APIKey: "k", AuthReads: true})
	tests := []struct{ path, allow string }{
		{"/healthz", "GET, HEAD, OPTIONS"},
		{"/api/v1/users/1/ratings", "GET, HEAD, OPTIONS, POST"},
		{"/api/v1/users/1/ratings/2", "DELETE, OPTIONS"},
		{"/api/v1/model/retrain", "OPTIONS, POST"},
		{"/1/ratings", "OPTIONS, POST"},
		{"/1/ratings/top/3", "GET, HEAD, OPTIONS"},
	}
	for _, tc := range tests {
		status, body, hdr := serve(t, s, request{method: "OPTIONS", path: tc.path})
		if status != 204 || body != "" || hdr.Get("Allow") != tc.allow {
			t.Errorf("OPTIONS %s = %d %q Allow %q, want 204, no body, Allow %q", tc.path, status, body, hdr.Get("Allow"), tc.allow)
		}
		if hdr.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("OPTIONS %s with CORS off has Access-Control-Allow-Origin %q", tc.path, hdr.Get("Access-Control-Allow-Origin"))
		}
	}
	// A 405 lists the methods too, OPTIONS included.
	status, body, hdr := serve(t, s, request{method: "PUT", path: "/api/v1/model/retrain"})
	if a := hdr.Get("Allow"); status != 405 || !strings.Contains(a, "POST") || !strings.Contains(a, "OPTIONS") {
		t.Errorf("PUT /api/v1/model/retrain = %d Allow %q, want 405 Allow POST and OPTIONS", status, a)
	}
	errorBody(t, "PUT /api/v1/model/retrain", body, hdr)
}

func TestCORS(t *testing.T) {
	preflight := func(path, origin string) *http.Request {
		r := httptest.NewRequest("OPTIONS", path, nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		return r
	}
	simple := func(path, origin string) *http.Request {
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("Origin", origin)
		return r
	}
	const app = "https://app.example.com"
	tests := []struct {
		name    string
		origins []string
		req     *http.Request
		status  int
		allow   string // Access-Control-Allow-Origin
		methods string // Access-Control-Allow-Methods
	}{
		{"off", nil, simple("/api/v1/movies/1", app), 200, "", ""},
		{"off preflight", nil, preflight("/api/v1/users/1/ratings", app), 204, "", ""},
		{"exact", []string{app}, simple("/api/v1/movies/1", app), 200, app, ""},
		{"exact preflight", []string{app}, preflight("/api/v1/users/1/ratings", app), 204, app, "GET, HEAD, OPTIONS, POST"},
		{"other origin", []string{app}, simple("/api/v1/movies/1", "https://evil.example.com"), 200, "", ""},
		{"other origin preflight", []string{app}, preflight("/api/v1/users/1/ratings", "https://app.example.com.evil"), 204, "", ""},
		{"prefix is not a match", []string{app}, simple("/api/v1/movies/1", "https://app.example.co"), 200, "", ""},
		{"any", []string{"*"}, simple("/api/v1/movies/1", "http://localhost:3000"), 200, "*", ""},
		{"any preflight", []string{"*"}, preflight("/api/v1/model/retrain", "http://localhost:3000"), 204, "*", "OPTIONS, POST"},
		{"error answer", []string{app}, simple("/api/v1/movies/999", app), 404, app, ""},
		{"no origin", []string{app}, simple("/api/v1/movies/1", ""), 200, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newServer(t, api.Options{CORSOrigins: tc.origins, APIKey: "k"})
			w := httptest.NewRecorder()
			s.ServeHTTP(w, tc.req)
			h := w.Header()
			if w.Code != tc.status || h.Get("Access-Control-Allow-Origin") != tc.allow || h.Get("Access-Control-Allow-Methods") != tc.methods {
				t.Fatalf("%s %s from %q = %d, Allow-Origin %q, Allow-Methods %q; want %d, %q, %q", tc.req.Method, tc.req.URL,
					tc.req.Header.Get("Origin"), w.Code, h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Methods"), tc.status, tc.allow, tc.methods)
			}
			if tc.methods != "" && !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") {
				t.Errorf("preflight Access-Control-Allow-Headers = %q, want Authorization", h.Get("Access-Control-Allow-Headers"))
			}
			if tc.origins != nil && !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
				t.Errorf("Vary = %q, want Origin", h.Values("Vary"))
			}
		})
	}
}

func TestParseCORSOrigins(t *testing.T) {
	for _, ok := range []string{"", "*", "https://a.example", "http://localhost:3000", "https://a.example, http://b.example:8080"} {
		if _, err := api.ParseCORSOrigins(ok); err != nil {
			t.Errorf("ParseCORSOrigins(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"a.example", "https://a.example/", "https://a.example/x", "ftp://a.example", "https://", "https://u@a.example", "https://a.example?x", "*.example.com"} {
		if _, err := api.ParseCORSOrigins(bad); err == nil {
			t.Errorf("ParseCORSOrigins(%q) = nil error, want one", bad)
		}
	}
}

// timeoutErr is the error a connection's read deadline gives: it names
// the socket addresses.
type timeoutErr struct{}

func (timeoutErr) Error() string {
	return "read tcp 127.0.0.1:8080->127.0.0.1:50123: i/o timeout"
}
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

type stallingBody struct{ sent bool }

func (b *stallingBody) Read(p []byte) (int, error) {
	if !b.sent {
		b.sent = true
		return copy(p, `[{"movie_id":1,`), nil
	}
	return 0, timeoutErr{}
}

// TestStalledBody: a body that stops arriving answers 408 without the
// socket addresses of the read error, and nothing is stored.
func TestStalledBody(t *testing.T) {
	s, e := newServer(t, api.Options{})
	v0 := e.DataVersion()
	for _, path := range []string{"/api/v1/users/7/ratings", "/7/ratings"} {
		r := httptest.NewRequest("POST", path, &stallingBody{})
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		msg := errorBody(t, "stalled POST "+path, w.Body.String(), w.Header())
		if w.Code != 408 || !strings.Contains(msg, "read timeout") || strings.Contains(w.Body.String(), "127.0.0.1") || strings.Contains(msg, "tcp") {
			t.Errorf("stalled POST %s = %d %s, want 408 naming the read timeout and no address", path, w.Code, w.Body)
		}
	}
	if e.DataVersion() != v0 {
		t.Errorf("a stalled body changed the data version")
	}
}

// TestUnavailable checks the start-up 503.
func TestUnavailable(t *testing.T) {
	for _, id := range []string{"", "client-id-1"} {
		r := httptest.NewRequest("GET", "/api/v1/model", nil)
		if id != "" {
			r.Header.Set("X-Request-ID", id)
		}
		w := httptest.NewRecorder()
		api.Unavailable(w, r, "model not ready: starting")
		msg := errorBody(t, "Unavailable", w.Body.String(), w.Header())
		if w.Code != 503 || msg != "model not ready: starting" || w.Header().Get("Retry-After") == "" {
			t.Errorf("Unavailable = %d %s Retry-After %q, want 503 with the message and Retry-After", w.Code, w.Body, w.Header().Get("Retry-After"))
		}
		if id != "" && w.Header().Get("X-Request-ID") != id {
			t.Errorf("Unavailable X-Request-ID = %q, want the client's %q", w.Header().Get("X-Request-ID"), id)
		}
	}
}

// TestProtocolErrors sends requests net/http refuses before any handler
// runs to a real server on a wrapped listener: each answer is JSON with a
// request id, and a good request on the same listener is untouched.
func TestProtocolErrors(t *testing.T) {
	s, _ := newServer(t, api.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s, MaxHeaderBytes: 4 << 10, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(api.ProtocolErrors(ln)) }()
	t.Cleanup(func() { _ = srv.Close() })

	tests := []struct {
		name   string
		raw    string
		status int
		want   string
	}{
		{"headers too large", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 8<<10) + "\r\n\r\n", 431, "Request Header Fields Too Large"},
		{"bad request line", "GARBAGE\r\n\r\n", 400, "Bad Request"},
		{"no host", "GET /healthz HTTP/1.1\r\n\r\n", 400, "missing required Host header"},
		{"bad header", "GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n", 400, "Bad Request"},
		{"unsupported transfer encoding", "POST /1/ratings HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, "Unsupported transfer encoding"},
		{"good request", "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200, ""},
		{"handler error", "GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404, "no route"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.WriteString(c, tc.raw); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("read response: %v", err)
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("read body: %v", err)
			}
			if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("%q = %d %s %q, want %d JSON", tc.name, resp.StatusCode, resp.Header.Get("Content-Type"), body, tc.status)
			}
			if tc.status == 200 {
				return
			}
			if msg := errorBody(t, tc.name, string(body), resp.Header); !strings.Contains(msg, tc.want) {
				t.Errorf("%q error = %q, want it to contain %q", tc.name, msg, tc.want)
			}
		})
	}
}
