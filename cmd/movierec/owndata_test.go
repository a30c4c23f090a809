package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// writeTenScale writes a plain CSV of users 0..users-1 rating movies
// 0..movies-1 on 1..10 (whole numbers from a rank-2 model, every value
// present) and a movies file whose titles hold the separator, and returns
// their paths.
func writeTenScale(t *testing.T, users, movies int) (ratings, titles string) {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(11, 1))
	uv := make([][2]float64, users)
	mv := make([][2]float64, movies)
	for i := range uv {
		uv[i] = [2]float64{rng.NormFloat64(), rng.NormFloat64()}
	}
	for i := range mv {
		mv[i] = [2]float64{rng.NormFloat64(), rng.NormFloat64()}
	}
	var b bytes.Buffer
	b.WriteString("user_id;item_id;score\n")
	for u := range users {
		for m := range movies {
			if (u+m)%3 == 0 && u != 1 {
				continue
			}
			v := 5.5 + 1.8*(uv[u][0]*mv[m][0]+uv[u][1]*mv[m][1])
			r := min(max(int(math.Round(v)), 1), 10)
			if u == 1 { // every value of the scale occurs
				r = 1 + m%10
			}
			fmt.Fprintf(&b, "%d;%d;%d\n", u, m, r)
		}
	}
	ratings = filepath.Join(dir, "scores.csv")
	if err := os.WriteFile(ratings, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	b.Reset()
	b.WriteString("id;title\n")
	for m := range movies {
		fmt.Fprintf(&b, "%d;\"Item %d; the sequel\"\n", m, m)
	}
	titles = filepath.Join(dir, "items.csv")
	if err := os.WriteFile(titles, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return ratings, titles
}

// TestServeOwnData serves a generated 1–10 data set with 0-based ids from
// a plain file: the scale is detected, shown in /api/v1/model, POSTs off it
// are refused with a 400 naming the allowed values, and predictions stay
// in 1–10.
func TestServeOwnData(t *testing.T) {
	ratings, titles := writeTenScale(t, 120, 60)
	cfg := serveConfig{data: dataSource{ratings: ratings, movies: titles}, minRatings: 1}
	_, base := startServer(t, cfg)

	status, body := get(t, base+"/api/v1/model")
	var model struct {
		Scale struct {
			Kind, Spec, Allowed string
			Min, Max, Step      float64
		} `json:"scale"`
	}
	if err := json.Unmarshal([]byte(body), &model); status != http.StatusOK || err != nil {
		t.Fatalf("GET /api/v1/model = %d %s (%v)", status, body, err)
	}
	if s := model.Scale; s.Kind != "stepped" || s.Spec != "1:10:1" || s.Min != 1 || s.Max != 10 || s.Step != 1 {
		t.Errorf("GET /api/v1/model scale = %+v, want stepped 1:10:1", s)
	}

	for _, tc := range []struct {
		name, url, ct, body string
		want                int
		contains            string
	}{
		{"tutorial 11", base + "/0/ratings", "text/plain", "0,11\n", 400, "1, 2, 3, 4, 5, 6, 7, 8, 9, 10"},
		{"tutorial 0.5", base + "/0/ratings", "text/plain", "0,0.5\n", 400, "1 to 10 in steps of 1"},
		{"json 11", base + "/api/v1/users/0/ratings", "application/json", `[{"movie_id":0,"rating":11}]`, 400, "1, 2, 3, 4, 5, 6, 7, 8, 9, 10"},
		{"json 0.5", base + "/api/v1/users/0/ratings", "application/json", `[{"movie_id":59,"rating":0.5}]`, 400, "not on the scale"},
		{"tutorial 10, movie 0, user 0", base + "/0/ratings", "text/plain", "0,10\n", 200, "[[0,0,10]]"},
		{"json 1e1 for a new user at the top id", base + "/api/v1/users/2147483647/ratings", "application/json", `[{"movie_id":1,"rating":1e1}]`, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(t, tc.url, tc.ct, tc.body)
			if status != tc.want || !strings.Contains(body, tc.contains) {
				t.Errorf("POST %s %q = %d %s, want %d containing %q", tc.url, tc.body, status, body, tc.want, tc.contains)
			}
		})
	}

	// Predictions stay on 1–10: every movie for a few users, the top list.
	for _, user := range []int{0, 1, 7, 2147483647} {
		for m := range 60 {
			status, body := get(t, fmt.Sprintf("%s/%d/ratings/%d", base, user, m))
			var rows [][3]any
			if err := json.Unmarshal([]byte(body), &rows); status != http.StatusOK || err != nil || len(rows) != 1 {
				t.Fatalf("GET /%d/ratings/%d = %d %s", user, m, status, body)
			}
			if p, ok := rows[0][1].(float64); !ok || p < 1 || p > 10 {
				t.Errorf("GET /%d/ratings/%d predicted %v, want 1 to 10", user, m, rows[0][1])
			}
			if m == 0 && rows[0][0] != "Item 0; the sequel" {
				t.Errorf("GET /%d/ratings/0 title %v, want the quoted title", user, rows[0][0])
			}
		}
		if user == 1 {
			continue // has rated every movie
		}
		status, body := get(t, fmt.Sprintf("%s/%d/ratings/top/20", base, user))
		var rows [][3]any
		if err := json.Unmarshal([]byte(body), &rows); status != http.StatusOK || err != nil || len(rows) == 0 {
			t.Fatalf("GET /%d/ratings/top/20 = %d %s", user, status, body)
		}
		for _, r := range rows {
			if p := r[1].(float64); p < 1 || p > 10 {
				t.Errorf("GET /%d/ratings/top/20: predicted %v, want 1 to 10", user, p)
			}
		}
	}
}

// TestDeclaredScaleMismatch: a server started with --scale on a database
// that holds another scale refuses to start and says why.
func TestDeclaredScaleMismatch(t *testing.T) {
	ratings, titles := writeTenScale(t, 30, 20)
	db := filepath.Join(t.TempDir(), "m.db")
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"import", "--db", db, "--ratings", ratings, "--movies", titles, "--scale", "1:10:1"}, &out, &errb); code != 0 {
		t.Fatalf("import = %d: %s", code, errb.String())
	}
	errb.Reset()
	code := run(t.Context(), []string{"import", "--db", db, "--ratings", ratings, "--scale", "0:10"}, &out, &errb)
	if code == 0 || !strings.Contains(errb.String(), "holds ratings on the scale 1:10:1") {
		t.Errorf("import --scale 0:10 on a 1:10:1 database = %d, %s; want an error naming both", code, errb.String())
	}
	// Without --scale, data added to the database must be on its scale.
	off := filepath.Join(t.TempDir(), "off.csv")
	if err := os.WriteFile(off, []byte("user,movie,rating\n3,4,7\n5,6,10.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	code = run(t.Context(), []string{"import", "--db", db, "--ratings", off}, &out, &errb)
	if code == 0 || !strings.Contains(errb.String(), off+`:3: rating "10.5" is not on the scale 1 to 10 in steps of 1`) {
		t.Errorf("import of 10.5 into a 1:10:1 database = %d, %s; want an error naming the file, line and value", code, errb.String())
	}
	errb.Reset()
	code = run(t.Context(), []string{"import", "--db", db, "--data", "x", "--ratings", ratings}, &out, &errb)
	if code == 0 || !strings.Contains(errb.String(), "exclude each other") {
		t.Errorf("import --data --ratings = %d, %s; want a usage error", code, errb.String())
	}
}

// TestEvalLowRankUnbounded: eval on a synthetic rank-3 problem with real,
// unbounded ratings (negative, exponent notation, no noise) reaches a test
// RMSE below 0.01 at the true rank, as Spark's ALS tests demand of theirs.
func TestEvalLowRankUnbounded(t *testing.T) {
	const users, movies, rank = 300, 150, 3
	rng := rand.New(rand.NewPCG(5, 8))
	u := make([][rank]float64, users)
	v := make([][rank]float64, movies)
	for i := range u {
		for j := range rank {
			u[i][j] = rng.NormFloat64()
		}
	}
	for i := range v {
		for j := range rank {
			v[i][j] = rng.NormFloat64()
		}
	}
	var b bytes.Buffer
	b.WriteString("user,movie,rating\n")
	small := 0
	for i := range users {
		for m := range movies {
			if rng.Float64() > 0.4 {
				continue
			}
			var x float64
			for j := range rank {
				x += u[i][j] * v[m][j]
			}
			s := strconv.FormatFloat(x, 'g', -1, 32)
			if strings.Contains(s, "e") {
				small++
			}
			fmt.Fprintf(&b, "%d,%d,%s\n", i, m, s)
		}
	}
	path := filepath.Join(t.TempDir(), "lowrank.csv")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	args := []string{"eval", "--ratings", path, "--scale", "unbounded", "--rank", "3", "--lambda", "1e-6", "--iterations", "60",
		"--ranking", "explicit", "--min-ratings", "0", "--backend", "cpu", "--json"}
	if code := run(t.Context(), args, &out, &errb); code != 0 {
		t.Fatalf("eval = %d: %s", code, errb.String())
	}
	var rep evalReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	var rmse *float64
	for _, r := range rep.Rows {
		if r.RMSE != nil {
			rmse = r.RMSE
		}
	}
	t.Logf("test RMSE %v over %d test ratings (%d values in exponent notation); relevant ≥ %v", *rmse, rep.TestPairs, small, rep.Relevant)
	if rmse == nil || *rmse >= 0.01 || rep.TestPairs < 3000 {
		t.Errorf("eval on a noiseless rank-3 problem: RMSE %v over %d test pairs, want < 0.01", rmse, rep.TestPairs)
	}
}

// TestNetflixLayoutCLI: gen writes the Netflix layout, import stores it
// with its detected whole-star scale, and eval ranks with relevant = 4.
func TestNetflixLayoutCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nf")
	var out, errb bytes.Buffer
	gen := []string{"gen", "--layout", "netflix", "--users", "3000", "--movies", "150", "--ratings", "30000", "--out", dir}
	if code := run(t.Context(), gen, &out, &errb); code != 0 {
		t.Fatalf("gen = %d: %s", code, errb.String())
	}
	for _, f := range []string{"combined_data_1.txt", "movie_titles.csv", "README.txt"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("gen --layout netflix wrote no %s: %v", f, err)
		}
	}
	db := filepath.Join(t.TempDir(), "nf.db")
	out.Reset()
	if code := run(t.Context(), []string{"import", "--db", db, "--data", dir}, &out, &errb); code != 0 || !strings.Contains(out.String(), "imported 30000") {
		t.Fatalf("import = %d: %s %s", code, out.String(), errb.String())
	}
	out.Reset()
	args := []string{"eval", "--data", dir, "--ranking", "explicit", "--iterations", "3", "--min-ratings", "0", "--backend", "cpu", "--json"}
	if code := run(t.Context(), args, &out, &errb); code != 0 {
		t.Fatalf("eval = %d: %s", code, errb.String())
	}
	var rep evalReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Relevant != 4 || rep.TrainRatings+rep.TestRatings != 30000 {
		t.Errorf("eval on the Netflix layout: relevant %v, %d+%d ratings; want 4 (top fifth of 1:5:1) and 30000", rep.Relevant, rep.TrainRatings, rep.TestRatings)
	}
	out.Reset()
	if code := run(t.Context(), []string{"eval", "--data", dir, "--layout", "ml-latest"}, &out, &errb); code == 0 {
		t.Errorf("eval --layout ml-latest on Netflix files succeeded")
	}
}

// TestTuneOwnData: tune reads a plain 1–10 file and ranks with relevant
// = 8, the top fifth of the detected scale.
func TestTuneOwnData(t *testing.T) {
	ratings, _ := writeTenScale(t, 120, 60)
	var out, errb bytes.Buffer
	args := []string{"--ratings", ratings, "--model", "explicit", "--ranks", "2", "--lambdas", "0.1", "--iterations", "2", "--json"}
	if err := runTune(t.Context(), args, &out, &errb); err != nil {
		t.Fatalf("tune: %v\n%s", err, errb.String())
	}
	var rep tuneReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Relevant != 8 || rep.Test == nil || rep.Test.RMSE <= 0 || rep.Test.RMSE > 4 {
		t.Errorf("tune on 1:10:1 data: relevant %v, test %+v; want 8 and a test RMSE", rep.Relevant, rep.Test)
	}
}
