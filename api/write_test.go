package api_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"movierec/als"
	"movierec/als/alstest"
	"movierec/api"
	"movierec/engine"
	"movierec/store/sqlite"
)

// openStore opens a SQLite store at path holding catalog and testRatings.
func openStore(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path, nil)
	if err != nil {
		t.Fatalf("sqlite.Open(%s) error = %v", path, err)
	}
	if empty, _ := db.Empty(t.Context()); empty {
		if _, err := db.Import(t.Context(), catalog, testRatings(), engine.MovieLensScale, nil); err != nil {
			t.Fatalf("Import() error = %v", err)
		}
	}
	return db
}

// recommended returns the movie ids of a user's recommendations.
func recommended(t *testing.T, s *api.Server, user string) []int32 {
	t.Helper()
	status, body, _ := serve(t, s, get("/api/v1/users/"+user+"/recommendations?limit=100&min_ratings=0"))
	var out struct {
		Recommendations []struct {
			MovieID int32 `json:"movie_id"`
		}
	}
	if status != 200 || json.Unmarshal([]byte(body), &out) != nil {
		t.Fatalf("recommendations of user %s = %d %s", user, status, body)
	}
	var ids []int32
	for _, r := range out.Recommendations {
		ids = append(ids, r.MovieID)
	}
	return ids
}

// TestDeleteRating checks DELETE's semantics over the SQLite store: the
// rating is gone from disk before the answer, the user is folded in again
// at once, the movie's statistics change, a second delete is a 404 that
// changes nothing, and a user without ratings gets the list of users
// without ratings.
func TestDeleteRating(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	db := openStore(t, path)
	e := newEngineWith(t, true, alstest.ReferenceSolver{}, db)
	s := api.New(e, api.Options{}, nil)
	doc := loadOpenAPI(t, s)

	before := recommended(t, s, "1")
	if slices.Contains(before, 1) {
		t.Fatalf("recommendations of user 1 = %v, contain rated movie 1", before)
	}
	_, body, _ := serve(t, s, get("/api/v1/movies/1"))
	var m0 struct {
		RatingsCount int `json:"ratings_count"`
	}
	_ = json.Unmarshal([]byte(body), &m0)
	v0 := e.DataVersion()

	del := request{method: "DELETE", path: "/api/v1/users/1/ratings/1"}
	status, body, _ := serve(t, s, del)
	if status != 200 || body != `{"user_id":1,"movie_id":1,"deleted":true}` {
		t.Fatalf("%v = %d %s, want 200 and the deletion", del, status, body)
	}
	doc.check(t, del, status, body)
	if v := e.DataVersion(); v != v0+1 {
		t.Errorf("DataVersion() after a delete = %d, want %d", v, v0+1)
	}
	if after := recommended(t, s, "1"); !slices.Contains(after, 1) || slices.Equal(after, before) {
		t.Errorf("recommendations of user 1 after deleting movie 1 = %v (before %v), want a new list with movie 1", after, before)
	}
	_, body, _ = serve(t, s, get("/api/v1/movies/1"))
	var m1 struct {
		RatingsCount int `json:"ratings_count"`
	}
	_ = json.Unmarshal([]byte(body), &m1)
	if m1.RatingsCount != m0.RatingsCount-1 {
		t.Errorf("ratings_count of movie 1 after a delete = %d, want %d", m1.RatingsCount, m0.RatingsCount-1)
	}
	_, body, _ = serve(t, s, get("/api/v1/users/1/ratings"))
	if strings.Contains(body, `"movie_id":1,`) {
		t.Errorf("ratings of user 1 after the delete = %s, still list movie 1", body)
	}

	// Again: 404, nothing changes.
	status, body, _ = serve(t, s, del)
	if status != 404 || !strings.Contains(body, "no rating") {
		t.Errorf("second %v = %d %s, want 404", del, status, body)
	}
	doc.check(t, del, status, body)
	if v := e.DataVersion(); v != v0+1 {
		t.Errorf("DataVersion() after a 404 delete = %d, want %d unchanged", v, v0+1)
	}

	// Durable: a reopened store no longer has it.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openStore(t, path)
	defer db.Close()
	rs, err := db.UserRatings(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Movie == 1 {
			t.Errorf("reopened store still has user 1's rating of movie 1: %+v", rs)
		}
	}
	if len(rs) == 0 {
		t.Errorf("reopened store has no ratings of user 1, want all but movie 1's")
	}
	if v, _ := db.DataVersion(t.Context()); v != 2 {
		t.Errorf("store DataVersion() after import and one delete = %d, want 2", v)
	}
}

// TestDeleteLastRating removes all of a user's ratings: they get what a
// user without ratings gets.
func TestDeleteLastRating(t *testing.T) {
	s, _ := newServer(t, api.Options{})
	for _, m := range []string{"1", "3", "4", "6", "7"} { // user 1's ratings: (1+m)%3 != 0
		if status, body, _ := serve(t, s, request{method: "DELETE", path: "/api/v1/users/1/ratings/" + m}); status != 200 {
			t.Fatalf("DELETE user 1 movie %s = %d %s", m, status, body)
		}
	}
	if got, want := recommended(t, s, "1"), recommended(t, s, "999"); !slices.Equal(got, want) {
		t.Errorf("recommendations of user 1 without ratings = %v, want those of a new user %v", got, want)
	}
}

// gateSolver is the reference solver that signals each start and waits
// for a release.
type gateSolver struct {
	fits    atomic.Int32
	started chan struct{}
	release chan struct{}
}

func (g *gateSolver) Fit(ctx context.Context, dst *als.Model, r *als.Ratings, p als.Params, progress func(als.Iteration)) error {
	g.fits.Add(1)
	g.started <- struct{}{}
	<-g.release
	return alstest.ReferenceSolver{}.Fit(ctx, dst, r, p, progress)
}

func (g *gateSolver) Close() error { return nil }

// TestRetrainCoalesces asks for retrains while one runs: they coalesce
// into one more training, and a request with no new ratings still
// retrains.
func TestRetrainCoalesces(t *testing.T) {
	g := &gateSolver{started: make(chan struct{}), release: make(chan struct{})}
	e := newEngineWith(t, false, g, nil)
	s := api.New(e, api.Options{}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- e.Run(ctx) }()
	defer func() { cancel(); <-done }()

	retrain := request{method: "POST", path: "/api/v1/model/retrain"}
	post := func() {
		t.Helper()
		if status, body, _ := serve(t, s, retrain); status != 202 {
			t.Fatalf("%v = %d %s, want 202", retrain, status, body)
		}
	}
	state := func(wantPending, wantRunning bool) {
		t.Helper()
		if p, r := e.RetrainState(); p != wantPending || r != wantRunning {
			t.Errorf("RetrainState() = %v, %v, want %v, %v", p, r, wantPending, wantRunning)
		}
	}
	post()
	<-g.started
	state(false, true)
	for range 3 {
		post()
	}
	if _, err := e.AddRatings(t.Context(), 50, []engine.RatingInput{{Movie: 1, Value: 4}}); err != nil {
		t.Fatal(err)
	}
	state(true, true)
	trained := e.Trained()
	g.release <- struct{}{}
	<-trained
	<-g.started // the one coalesced retrain
	state(false, true)
	trained = e.Trained()
	g.release <- struct{}{}
	<-trained
	// Nothing changed since: a forced request retrains anyway.
	post()
	<-g.started
	trained = e.Trained()
	g.release <- struct{}{}
	<-trained
	if n := g.fits.Load(); n != 3 {
		t.Errorf("fits = %d, want 3 (one, one for four coalesced requests, one forced)", n)
	}
}
