package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"movierec/web"
)

func newHandler(t *testing.T) *web.Handler {
	t.Helper()
	h, err := web.New()
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	return h
}

func serve(h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

var hashedRef = regexp.MustCompile(`["'](/static/[A-Za-z0-9_-]+\.[0-9a-f]{12}\.(?:js|css|svg))["']`)

// TestPagesAndAssets loads both pages and every asset they reach through
// <script>, <link> and import, as a browser would.
func TestPagesAndAssets(t *testing.T) {
	h := newHandler(t)
	seen := map[string]bool{}
	var walk func(path string, body string)
	walk = func(path, body string) {
		for _, m := range hashedRef.FindAllStringSubmatch(body, -1) {
			p := m[1]
			if seen[p] {
				continue
			}
			seen[p] = true
			w := serve(h, "GET", p, nil)
			if w.Code != 200 {
				t.Fatalf("GET %s (from %s) = %d, want 200", p, path, w.Code)
			}
			if got := w.Header().Get("Cache-Control"); !strings.Contains(got, "immutable") {
				t.Errorf("GET %s Cache-Control = %q, want a long immutable cache", p, got)
			}
			walk(p, w.Body.String())
		}
		// Every reference to an asset is hashed: no "./x.js" or "/static/x.css" left.
		if m := regexp.MustCompile(`["'](?:\./|/static/)[A-Za-z0-9_-]+\.(?:js|css|svg)["']`).FindString(body); m != "" {
			t.Errorf("%s references %s without a hash", path, m)
		}
	}
	for _, page := range []string{"/", "/status"} {
		w := serve(h, "GET", page, nil)
		if w.Code != 200 {
			t.Fatalf("GET %s = %d, want 200", page, w.Code)
		}
		hd := w.Header()
		for k, want := range map[string]string{
			"Content-Type":           "text/html; charset=utf-8",
			"Cache-Control":          "no-cache",
			"X-Content-Type-Options": "nosniff",
		} {
			if got := hd.Get(k); got != want {
				t.Errorf("GET %s %s = %q, want %q", page, k, got, want)
			}
		}
		csp := hd.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "default-src 'none'", "require-trusted-types-for 'script'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s CSP = %q, want it to contain %q", page, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("GET %s CSP = %q allows inline code", page, csp)
		}
		walk(page, w.Body.String())

		// A revalidation with the ETag is a 304.
		w2 := serve(h, "GET", page, map[string]string{"If-None-Match": hd.Get("ETag")})
		if w2.Code != http.StatusNotModified {
			t.Errorf("GET %s If-None-Match = %d, want 304", page, w2.Code)
		}
	}
	for _, name := range []string{"api.js", "dom.js", "rate.js", "status.js", "chart.js", "style.css", "icon.svg"} {
		if p := h.AssetPath(name); p == "" || !seen[p] {
			t.Errorf("asset %s (%q) not reached from the pages", name, p)
		}
	}
	if w := serve(h, "GET", h.AssetPath("api.js"), nil); !strings.HasPrefix(w.Header().Get("Content-Type"), "text/javascript") {
		t.Errorf("api.js Content-Type = %q, want text/javascript", w.Header().Get("Content-Type"))
	}
}

func TestServes(t *testing.T) {
	h := newHandler(t)
	for _, tc := range []struct {
		method, path string
		want         bool
	}{
		{"GET", "/", true},
		{"HEAD", "/", true},
		{"GET", "/status", true},
		{"GET", "/static/api.0123456789ab.js", true},
		{"GET", "/static/nope.js", true}, // served as a 404 by the page handler
		{"POST", "/", false},
		{"DELETE", "/status", false},
		{"GET", "/status/", false},
		{"GET", "/status/ratings/top/5", false}, // a tutorial route: the API's
		{"GET", "/static/ratings/5", false},
		{"GET", "/static/", false},
		{"GET", "/1/ratings/top/10", false},
		{"GET", "/api/v1/model", false},
		{"GET", "/healthz", false},
		{"GET", "/index.html", false},
	} {
		r := httptest.NewRequest(tc.method, tc.path, nil)
		if got := h.Serves(r); got != tc.want {
			t.Errorf("Serves(%s %s) = %v, want %v", tc.method, tc.path, got, tc.want)
		}
	}
	if w := serve(h, "GET", "/static/nope.js", nil); w.Code != 404 {
		t.Errorf("GET /static/nope.js = %d, want 404", w.Code)
	}
	if w := serve(h, "POST", "/", nil); w.Code != 405 {
		t.Errorf("POST / = %d, want 405", w.Code)
	}
	w := serve(h, "HEAD", "/", nil)
	if b, _ := io.ReadAll(w.Body); w.Code != 200 || len(b) != 0 {
		t.Errorf("HEAD / = %d with %d bytes, want 200 and no body", w.Code, len(b))
	}
}

// TestNoHTMLSinks keeps data out of HTML parsing: the scripts build the
// DOM with textContent, never innerHTML and the like, and the pages carry
// no inline script or style.
func TestNoHTMLSinks(t *testing.T) {
	sinks := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\(\s*['"](?:style|on)`)
	files, _ := filepath.Glob("static/*.js")
	pages, _ := filepath.Glob("pages/*.html")
	if len(files) == 0 || len(pages) == 0 {
		t.Fatal("no static/*.js or pages/*.html found")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := sinks.Find(b); m != nil {
			t.Errorf("%s uses %s; build the DOM with dom.js (textContent)", f, m)
		}
	}
	inline := regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]|<style|\sstyle=|\son[a-z]+=`)
	for _, f := range pages {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := inline.Find(b); m != nil {
			t.Errorf("%s has inline code or style %q; the CSP forbids it", f, m)
		}
	}
}
