package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"mime"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
)

// files holds the page sources: pages/ are the HTML documents, static/ the
// assets they load. It is read once, by New.
//
//go:embed pages/*.html static/*.js static/*.css static/*.svg
var files embed.FS

// pageCSP is the Content-Security-Policy of both pages: scripts, styles,
// images and fetches from this origin only, no inline script or style,
// no plugins, no framing, and Trusted Types required so that no string
// can reach an HTML sink such as innerHTML.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; " +
	"require-trusted-types-for 'script'; trusted-types 'none'"

// assetCache lets browsers keep a hashed asset for a year: its name
// changes with its content.
const assetCache = "public, max-age=31536000, immutable"

// asset is one file ready to serve.
type asset struct {
	body  []byte
	ctype string
	etag  string
}

// Handler serves the web page: GET / (rating view), GET /status (operator
// view) and GET /static/<name>.<hash>.<ext>. Build it with New; it is
// immutable and safe for concurrent use.
type Handler struct {
	pages  map[string]asset // by URL path: "/" and "/status"
	assets map[string]asset // by URL path: "/static/api.<hash>.js"
	paths  map[string]string
}

// pageFiles maps each page's URL path to its source in pages/.
var pageFiles = [...]struct{ url, file string }{
	{"/", "pages/index.html"},
	{"/status", "pages/status.html"},
}

// assetRef finds the references to an asset in a page or an asset: a
// quoted "/static/name.ext" (HTML) or "./name.ext" (an import between
// modules). The first group is the file name.
var assetRef = regexp.MustCompile(`["'](?:\./|/static/)([A-Za-z0-9_-]+\.(?:js|css|svg))["']`)

// New reads the embedded files and builds the asset table: each asset is
// renamed with the first 12 hex digits of the SHA-256 of its content after
// its own references were renamed, so a change to api.js renames the
// modules that import it too. It fails on a reference to a missing asset
// or on an import cycle.
func New() (*Handler, error) {
	src := map[string][]byte{}
	entries, err := fs.ReadDir(files, "static")
	if err != nil {
		return nil, fmt.Errorf("read static: %w", err)
	}
	for _, e := range entries {
		b, err := fs.ReadFile(files, "static/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("read static/%s: %w", e.Name(), err)
		}
		src[e.Name()] = b
	}
	h := &Handler{pages: map[string]asset{}, assets: map[string]asset{}, paths: map[string]string{}}
	// Hash the assets whose references are all hashed, until none is left.
	for len(h.paths) < len(src) {
		progress := false
		for _, name := range slices.Sorted(maps.Keys(src)) {
			if _, done := h.paths[name]; done {
				continue
			}
			body, ok, err := h.rewrite(src[name], src)
			if err != nil {
				return nil, fmt.Errorf("static/%s: %w", name, err)
			}
			if !ok {
				continue
			}
			sum := sha256.Sum256(body)
			ext := path.Ext(name)
			p := "/static/" + strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:6]) + ext
			h.paths[name] = p
			h.assets[p] = asset{body: body, ctype: contentType(ext), etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
			progress = true
		}
		if !progress {
			return nil, fmt.Errorf("static: import cycle among the assets not yet hashed")
		}
	}
	for _, pf := range pageFiles {
		b, err := fs.ReadFile(files, pf.file)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", pf.file, err)
		}
		body, _, err := h.rewrite(b, src) // every asset is hashed by now
		if err != nil {
			return nil, fmt.Errorf("%s: %w", pf.file, err)
		}
		sum := sha256.Sum256(body)
		h.pages[pf.url] = asset{body: body, ctype: "text/html; charset=utf-8", etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	}
	return h, nil
}

// rewrite replaces the asset references in b by their hashed paths. ok is
// false when a referenced asset is not hashed yet.
func (h *Handler) rewrite(b []byte, src map[string][]byte) (out []byte, ok bool, err error) {
	ok = true
	out = assetRef.ReplaceAllFunc(b, func(m []byte) []byte {
		name := string(assetRef.FindSubmatch(m)[1])
		if _, exists := src[name]; !exists {
			err = fmt.Errorf("reference to missing asset %s", name)
			return m
		}
		p, done := h.paths[name]
		if !done {
			ok = false
			return m
		}
		q := m[:1]
		return []byte(string(q) + p + string(q))
	})
	return out, ok && err == nil, err
}

func contentType(ext string) string {
	switch ext {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	return mime.TypeByExtension(ext)
}

// AssetPath returns the hashed URL path of a static file such as
// "api.js", or "" when there is none.
func (h *Handler) AssetPath(name string) string { return h.paths[name] }

// Serves reports whether r is for the web page: a GET or HEAD of /,
// /status or /static/<one segment>. Everything else (the API, the
// tutorial's /{user}/ratings/... routes, other methods) belongs to the
// caller's other handler.
func (h *Handler) Serves(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := r.URL.Path
	if _, ok := h.pages[p]; ok {
		return true
	}
	rest, ok := strings.CutPrefix(p, "/static/")
	return ok && rest != "" && !strings.Contains(rest, "/")
}

// ServeHTTP serves a page or an asset; an unknown asset is a 404.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if a, ok := h.pages[r.URL.Path]; ok {
		hd.Set("Content-Security-Policy", pageCSP)
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cache-Control", "no-cache")
		serve(w, r, a)
		return
	}
	if a, ok := h.assets[r.URL.Path]; ok {
		hd.Set("Cache-Control", assetCache)
		serve(w, r, a)
		return
	}
	hd.Set("Cache-Control", "no-store")
	http.Error(w, "no such asset", http.StatusNotFound)
}

func serve(w http.ResponseWriter, r *http.Request, a asset) {
	w.Header().Set("Content-Type", a.ctype)
	w.Header().Set("ETag", a.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}
