package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"movierec/als"
	"movierec/als/alstest"
	"movierec/api"
	"movierec/engine"
)

// catalog is a handful of movies; movie 8 is never rated.
var catalog = []engine.Movie{
	{ID: 1, Title: "Toy Story (1995)", Genres: []string{"Animation", "Comedy"}},
	{ID: 2, Title: "Jumanji (1995)", Genres: []string{"Adventure"}},
	{ID: 3, Title: "Heat (1995)", Genres: []string{"Action", "Crime"}},
	{ID: 4, Title: "American President, The (1995)", Genres: []string{"Comedy", "Drama"}},
	{ID: 5, Title: "Casino (1995)", Genres: []string{"Crime", "Drama"}},
	{ID: 6, Title: "Sabrina (1995)", Genres: []string{"Comedy", "Romance"}},
	{ID: 7, Title: "GoldenEye (1995)", Genres: []string{"Action"}},
	{ID: 8, Title: "Unrated (2000)"},
}

// newEngine builds an engine over catalog with a few users' ratings; with
// train it publishes a first model.
func newEngine(t *testing.T, train bool) *engine.Engine {
	t.Helper()
	return newEngineWith(t, train, alstest.ReferenceSolver{}, nil)
}

// testRatings are the ratings of newEngine: users 1–6 rate movie m when
// (user+m)%3 != 0.
func testRatings() []engine.Rating {
	var rs []engine.Rating
	for u := int32(1); u <= 6; u++ {
		for m := int32(1); m <= 7; m++ {
			if (u+m)%3 != 0 {
				rs = append(rs, engine.Rating{User: u, Movie: m, Value: float32(1+(u*m)%5) - 0.5*float32(m%2), Time: 964982703})
			}
		}
	}
	return rs
}

// newEngineWith is newEngine with a solver and a store of its own.
func newEngineWith(t *testing.T, train bool, solver als.Solver, st engine.Store) *engine.Engine {
	t.Helper()
	p := als.Params{Rank: 3, Iterations: 3, Lambda: 0.1, Seed: 1}
	e, err := engine.New(engine.Config{Params: p, Scale: engine.MovieLensScale, Backend: "tiny", Store: st}, solver, catalog, testRatings())
	if err != nil {
		t.Fatalf("engine.New() error = %v", err)
	}
	if train {
		if _, err := e.Retrain(t.Context()); err != nil {
			t.Fatalf("Retrain() error = %v", err)
		}
	}
	return e
}

// request is one HTTP request of a table test.
type request struct {
	method, path, contentType, auth, body string
}

func (r request) String() string { return r.method + " " + r.path }

// serve sends r to h and returns the status, the body and the response
// headers.
func serve(t *testing.T, h http.Handler, r request) (int, string, http.Header) {
	t.Helper()
	req := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.auth != "" {
		req.Header.Set("Authorization", r.auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code, w.Body.String(), w.Header()
}

func jsonPost(path, body string) request {
	return request{method: "POST", path: path, contentType: "application/json", body: body}
}

func get(path string) request { return request{method: "GET", path: path} }

// newServer returns the router over a trained engine.
func newServer(t *testing.T, opts api.Options) (*api.Server, *engine.Engine) {
	t.Helper()
	e := newEngine(t, true)
	return api.New(e, opts, nil), e
}
