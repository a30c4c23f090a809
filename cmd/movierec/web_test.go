package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"movierec/web"
)

// TestWithPage checks the split between the web page and the API: only
// GET and HEAD of /, /status and /static/<file> reach the page; paths that
// look like the tutorial's /{user}/ratings/... routes stay with the API
// even when the "user" is "status" or "static".
func TestWithPage(t *testing.T) {
	page, err := web.New()
	if err != nil {
		t.Fatalf("web.New() error = %v", err)
	}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := withPage(page, api)
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/", http.StatusOK},
		{"HEAD", "/", http.StatusOK},
		{"GET", "/status", http.StatusOK},
		{"GET", page.AssetPath("rate.js"), http.StatusOK},
		{"GET", "/static/missing.js", http.StatusNotFound},
		{"POST", "/", http.StatusTeapot},
		{"POST", "/status", http.StatusTeapot},
		{"GET", "/status/ratings/top/5", http.StatusTeapot},
		{"GET", "/status/ratings/1", http.StatusTeapot},
		{"POST", "/status/ratings", http.StatusTeapot},
		{"GET", "/static/ratings/1", http.StatusTeapot},
		{"GET", "/1/ratings/top/10", http.StatusTeapot},
		{"GET", "/api/v1/status", http.StatusTeapot},
		{"GET", "/readyz", http.StatusTeapot},
		{"GET", "/favicon.ico", http.StatusTeapot},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
		if w.Code != tc.want {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, w.Code, tc.want)
		}
	}
}
