package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"movierec/api"
)

// TestV1 sends valid requests to the JSON API over a real engine and
// checks each answer against the OpenAPI document and the expected content.
func TestV1(t *testing.T) {
	s, e := newServer(t, api.Options{})
	doc := loadOpenAPI(t, s)
	tests := []struct {
		name       string
		req        request
		wantStatus int
		want       string // a substring of the body
	}{
		{"recommendations", get("/api/v1/users/1/recommendations?limit=2"), 200, `"user_id":1,"recommendations":[{"movie_id":`},
		{"recommendations by genre", get("/api/v1/users/2/recommendations?genre=comedy&min_ratings=0"), 200, `"Comedy"`},
		{"recommendations new user", get("/api/v1/users/99/recommendations"), 200, `"predicted_rating":`},
		{"user ratings", get("/api/v1/users/1/ratings"), 200, `{"movie_id":1,"title":"Toy Story (1995)","rating":`},
		{"movie", get("/api/v1/movies/4"), 200, `{"movie_id":4,"title":"American President, The (1995)","genres":["Comedy","Drama"],"ratings_count":`},
		{"movie unrated", get("/api/v1/movies/8"), 200, `"genres":[],"ratings_count":0,"average_rating":0}`},
		{"similar", get("/api/v1/movies/1/similar?limit=3"), 200, `{"movie_id":1,"similar":[{"movie_id":`},
		{"popular", get("/api/v1/movies/popular?limit=3&min_ratings=1"), 200, `{"movies":[{"movie_id":`},
		{"model", get("/api/v1/model"), 200, `"params":{"rank":3,"iterations":3,"lambda":0.1,"reg_offset":0,"seed":1,"bias":false},"backend":"tiny"`},
		{"post", jsonPost("/api/v1/users/42/ratings", `[{"movie_id":1,"rating":4.5},{"movie_id":8,"rating":2}]`), 200, `{"user_id":42,"stored":[{"movie_id":1,"rating":4.5,"timestamp":`},
		{"post charset", request{method: "POST", path: "/api/v1/users/42/ratings", contentType: "application/json; charset=utf-8", body: ` [ {"rating": 3, "movie_id": 2} ] `}, 200, `"stored":[{"movie_id":2,"rating":3,`},
		{"tutorial top", get("/1/ratings/top/2"), 200, `[["`},
		{"tutorial predict", get("/1/ratings/4"), 200, `[["American President, The (1995)",`},
		{"tutorial post", request{method: "POST", path: "/43/ratings", contentType: "text/plain", body: "1,4\n"}, 200, `[[43,1,4]]`},
		{"healthz", get("/healthz"), 200, `"ok"`},
		{"readyz", get("/readyz"), 200, `"ready"`},
		{"search", get("/api/v1/movies?query=toy%20story"), 200, `{"query":"toy story","movies":[{"movie_id":1,"title":"Toy Story (1995)","genres":["Animation","Comedy"],"ratings_count":`},
		{"search accents and case", get("/api/v1/movies?query=G%C3%93LDEN&limit=1"), 200, `"movies":[{"movie_id":7,"title":"GoldenEye (1995)"`},
		{"search trailing article", get("/api/v1/movies?query=the+american+president"), 200, `"movies":[{"movie_id":4,`},
		{"search nothing", get("/api/v1/movies?query=zebra"), 200, `{"query":"zebra","movies":[]}`},
		{"search no words", get("/api/v1/movies?query=%21%21"), 200, `"movies":[]}`},
		{"delete", request{method: "DELETE", path: "/api/v1/users/2/ratings/2"}, 200, `{"user_id":2,"movie_id":2,"deleted":true}`},
		{"retrain", request{method: "POST", path: "/api/v1/model/retrain"}, 202, `{"status":"retrain requested","pending":true}`},
		{"trainings", get("/api/v1/model/trainings?limit=5"), 200, `{"trainings":[{"id":1,"started_at":"`},
		{"status", get("/api/v1/status"), 200, `"retrain_pending":true,"training":false,"device":"tiny","requests":{"total":`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body, _ := serve(t, s, tc.req)
			if status != tc.wantStatus || !strings.Contains(body, tc.want) {
				t.Fatalf("%v = %d %s, want %d with %s", tc.req, status, body, tc.wantStatus, tc.want)
			}
			doc.check(t, tc.req, status, body)
		})
	}

	// The post is stored and folded in: the user's ratings list it, and
	// their recommendations leave the rated movies out.
	_, body, _ := serve(t, s, get("/api/v1/users/42/ratings"))
	var ur struct {
		Ratings []struct {
			MovieID int32   `json:"movie_id"`
			Rating  float64 `json:"rating"`
		}
	}
	if err := json.Unmarshal([]byte(body), &ur); err != nil || len(ur.Ratings) != 3 {
		t.Fatalf("GET /api/v1/users/42/ratings = %s, want the 3 posted ratings", body)
	}
	_, body, _ = serve(t, s, get("/api/v1/users/42/recommendations?limit=100"))
	for _, id := range []string{`"movie_id":1,`, `"movie_id":2,`, `"movie_id":8,`} {
		if strings.Contains(body, id) {
			t.Errorf("recommendations of user 42 = %s, contain rated movie %s", body, id)
		}
	}
	if v := e.DataVersion(); v != 4 {
		t.Errorf("DataVersion() after 3 posts and a delete = %d, want 4", v)
	}
}

// TestStatus checks GET /api/v1/status against GET /api/v1/model and the
// requests served, and the training history against the trainings run.
func TestStatus(t *testing.T) {
	e := newEngine(t, false)
	s := api.New(e, api.Options{}, nil)
	doc := loadOpenAPI(t, s)
	status, body, _ := serve(t, s, get("/api/v1/status"))
	if status != 200 || !strings.HasPrefix(body, `{"model":null,"retrain_pending":false,"training":false,"device":"tiny",`) {
		t.Errorf("GET /api/v1/status before the first model = %d %s, want model null", status, body)
	}
	doc.check(t, get("/api/v1/status"), status, body)
	for range 2 {
		if _, err := e.Retrain(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		serve(t, s, get("/api/v1/movies/1"))
	}
	_, model, _ := serve(t, s, get("/api/v1/model"))
	status, body, _ = serve(t, s, get("/api/v1/status"))
	doc.check(t, get("/api/v1/status"), status, body)
	var st struct {
		Model    json.RawMessage
		Requests struct {
			Total     int
			PerSecond float64 `json:"per_second"`
			P99       float64 `json:"latency_p99_ms"`
			ByRoute   []struct {
				Route string
				Count int
			} `json:"by_route"`
		}
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("GET /api/v1/status = %s: %v", body, err)
	}
	if string(st.Model) != model {
		t.Errorf("status model = %s, want the body of GET /api/v1/model %s", st.Model, model)
	}
	// Before this status request: 1 status, 3 movies, 1 model, and the openapi fetch.
	if st.Requests.Total != 6 || st.Requests.PerSecond <= 0 || st.Requests.P99 <= 0 {
		t.Errorf("status requests = %+v, want 6 in all, a rate and a p99", st.Requests)
	}
	if len(st.Requests.ByRoute) == 0 || st.Requests.ByRoute[0].Route != "GET /api/v1/movies/:movie" || st.Requests.ByRoute[0].Count != 3 {
		t.Errorf("status by_route = %+v, want GET /api/v1/movies/:movie first with 3", st.Requests.ByRoute)
	}

	status, body, _ = serve(t, s, get("/api/v1/model/trainings?limit=1"))
	doc.check(t, get("/api/v1/model/trainings"), status, body)
	var tr struct {
		Trainings []struct {
			ID     int64
			Result string
			Models []struct {
				Model      string
				Params     string
				Iterations []struct{ N int }
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &tr); err != nil || len(tr.Trainings) != 1 {
		t.Fatalf("GET /api/v1/model/trainings?limit=1 = %s, want one training", body)
	}
	got := tr.Trainings[0]
	if got.ID != 2 || got.Result != "ok" || len(got.Models) != 1 || got.Models[0].Model != "rating" ||
		got.Models[0].Params != "rank=3 iterations=3 lambda=0.1 seed=1 bias=false" || len(got.Models[0].Iterations) != 3 {
		t.Errorf("newest training = %+v, want id 2, ok, the rating model with 3 iterations", got)
	}
}

// TestV1NotReady checks the 503s before the first model.
func TestV1NotReady(t *testing.T) {
	s := api.New(newEngine(t, false), api.Options{}, nil)
	doc := loadOpenAPI(t, s)
	for _, r := range []request{
		get("/api/v1/model"), get("/api/v1/users/1/recommendations"), get("/api/v1/movies/1/similar"), get("/readyz"), get("/1/ratings/top/3"),
	} {
		status, body, _ := serve(t, s, r)
		if status != 503 {
			t.Errorf("%v before the first model = %d %s, want 503", r, status, body)
		}
		doc.check(t, r, status, body)
	}
}

// TestHostileInput sends malformed requests: each gets a 4xx with a JSON
// error naming the problem, and nothing is stored.
func TestHostileInput(t *testing.T) {
	s, e := newServer(t, api.Options{})
	doc := loadOpenAPI(t, s)
	const u = "/api/v1/users/7/ratings"
	huge := "[" + strings.Repeat(" ", 1<<20) + `{"movie_id":1,"rating":4}]`
	tests := []struct {
		name       string
		req        request
		wantStatus int
		wantErr    string // a substring of the error message
	}{
		// Ids and counts in paths and queries.
		{"user text", get("/api/v1/users/abc/recommendations"), 400, `user id "abc"`},
		{"user negative", get("/api/v1/users/-1/recommendations"), 400, "user id"},
		{"user beyond int32", get("/api/v1/users/2147483648/recommendations"), 400, "user id"},
		{"user huge", get("/api/v1/users/99999999999999999999999/ratings"), 400, "user id"},
		{"limit zero", get("/api/v1/users/1/recommendations?limit=0"), 400, "limit 0 must be between 1 and 1000"},
		{"limit negative", get("/api/v1/users/1/recommendations?limit=-5"), 400, "limit -5"},
		{"limit over max", get("/api/v1/users/1/recommendations?limit=1001"), 400, "limit 1001 must be between 1 and 1000"},
		{"limit text", get("/api/v1/users/1/recommendations?limit=ten"), 400, `limit "ten" is not an integer`},
		{"limit empty", get("/api/v1/users/1/recommendations?limit="), 400, "limit"},
		{"limit beyond int64", get("/api/v1/movies/popular?limit=99999999999999999999"), 400, "limit"},
		{"min_ratings negative", get("/api/v1/users/1/recommendations?min_ratings=-1"), 400, "min_ratings"},
		{"min_ratings beyond int32", get("/api/v1/movies/popular?min_ratings=2147483648"), 400, "min_ratings"},
		{"genre too long", get("/api/v1/users/1/recommendations?genre=" + strings.Repeat("x", 65)), 400, "genre"},
		{"movie text", get("/api/v1/movies/x"), 400, `movie id "x"`},
		{"movie beyond int32", get("/api/v1/movies/2147483648"), 400, "movie id"},
		{"movie unknown", get("/api/v1/movies/999"), 404, "unknown movie 999"},
		{"similar unknown", get("/api/v1/movies/999/similar"), 404, "unknown movie 999"},
		{"similar limit zero", get("/api/v1/movies/1/similar?limit=0"), 400, "limit 0"},
		{"popular limit over max", get("/api/v1/movies/popular?limit=5000"), 400, "limit 5000"},
		{"tutorial count zero", get("/1/ratings/top/0"), 400, "count 0"},
		{"tutorial count over max", get("/1/ratings/top/1001"), 400, "count 1001"},
		{"tutorial movie beyond int32", get("/1/ratings/4294967297"), 400, "movie id"},

		// JSON API bodies.
		{"no content type", request{method: "POST", path: u, body: `[{"movie_id":1,"rating":4}]`}, 415, "want application/json"},
		{"text content type", request{method: "POST", path: u, contentType: "text/plain", body: `[{"movie_id":1,"rating":4}]`}, 415, `Content-Type "text/plain"`},
		{"form content type", request{method: "POST", path: u, contentType: "application/x-www-form-urlencoded", body: `[{"movie_id":1,"rating":4}]`}, 415, "application/json"},
		{"post user text", jsonPost("/api/v1/users/x/ratings", `[{"movie_id":1,"rating":4}]`), 400, "user id"},
		{"post user beyond int32", jsonPost("/api/v1/users/2147483648/ratings", `[{"movie_id":1,"rating":4}]`), 400, "user id"},
		{"empty body", jsonPost(u, ""), 400, "empty body"},
		{"blank body", jsonPost(u, " \n\t"), 400, "empty body"},
		{"empty array", jsonPost(u, "[]"), 400, "no ratings"},
		{"null", jsonPost(u, "null"), 400, "no ratings"},
		{"object not array", jsonPost(u, `{"movie_id":1,"rating":4}`), 400, "not a JSON array"},
		{"invalid JSON", jsonPost(u, `[{"movie_id":1,`), 400, "not a JSON array"},
		{"trailing data", jsonPost(u, `[{"movie_id":1,"rating":4}] [`), 400, "after the JSON array"},
		{"too large", jsonPost(u, huge), 413, "over 1048576 bytes"},
		{"null element", jsonPost(u, `[null]`), 400, "rating 1 is null"},
		{"missing rating", jsonPost(u, `[{"movie_id":1,"rating":4},{"movie_id":2}]`), 400, "rating 2: rating is missing"},
		{"missing movie", jsonPost(u, `[{"rating":4}]`), 400, "rating 1: movie_id is missing"},
		{"null rating", jsonPost(u, `[{"movie_id":1,"rating":null}]`), 400, "rating is missing"},
		{"extra field", jsonPost(u, `[{"movie_id":1,"rating":4,"user_id":3}]`), 400, `unknown field "user_id"`},
		{"NaN", jsonPost(u, `[{"movie_id":1,"rating":NaN}]`), 400, "not a JSON array"},
		{"Inf", jsonPost(u, `[{"movie_id":1,"rating":1e999}]`), 400, "rating 1e999 is not a finite number"},
		{"rating string", jsonPost(u, `[{"movie_id":1,"rating":"4"}]`), 400, "not a finite number"},
		{"rating bool", jsonPost(u, `[{"movie_id":1,"rating":true}]`), 400, "not a finite number"},
		{"rating off scale", jsonPost(u, `[{"movie_id":1,"rating":5.5}]`), 400, "not on the scale 0.5 to 5 in steps of 0.5"},
		{"rating zero", jsonPost(u, `[{"movie_id":1,"rating":0}]`), 400, "not on the scale"},
		{"rating negative", jsonPost(u, `[{"movie_id":1,"rating":-4}]`), 400, "not on the scale"},
		{"rating not a half star", jsonPost(u, `[{"movie_id":1,"rating":3.2}]`), 400, "not on the scale"},
		{"rating between steps", jsonPost(u, `[{"movie_id":1,"rating":4.5000004}]`), 400, "4.5000004 for movie 1 is not on the scale 0.5 to 5 in steps of 0.5 (allowed: 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5)"},
		{"rating exponent off scale", jsonPost(u, `[{"movie_id":1,"rating":5.1e-05}]`), 400, "not on the scale"},
		{"duplicate key", jsonPost(u, `[{"movie_id":1,"rating":4,"rating":5}]`), 400, `rating 1: duplicate key "rating"`},
		{"duplicate movie key", jsonPost(u, `[{"movie_id":1,"rating":4},{"movie_id":1,"movie_id":2,"rating":5}]`), 400, `rating 2: duplicate key "movie_id"`},
		{"key case", jsonPost(u, `[{"movie_id":1,"Rating":4}]`), 400, `rating 1: key "Rating" differs from "rating" only in case`},
		{"key case twice", jsonPost(u, `[{"MOVIE_ID":2,"movie_id":1,"rating":4}]`), 400, `key "MOVIE_ID" differs from "movie_id" only in case`},
		{"trailing garbage", jsonPost(u, `[{"movie_id":1,"rating":4}]x`), 400, "after the JSON array"},
		{"trailing second array", jsonPost(u, `[{"movie_id":1,"rating":4}][]`), 400, "after the JSON array"},
		{"movie zero unknown", jsonPost(u, `[{"movie_id":0,"rating":4}]`), 400, "unknown movie 0"},
		{"movie negative", jsonPost(u, `[{"movie_id":-1,"rating":4}]`), 400, "movie_id -1"},
		{"movie beyond int32", jsonPost(u, `[{"movie_id":2147483648,"rating":4}]`), 400, "movie_id 2147483648"},
		{"movie fraction", jsonPost(u, `[{"movie_id":1.5,"rating":4}]`), 400, "movie_id 1.5"},
		{"movie string", jsonPost(u, `[{"movie_id":"1","rating":4}]`), 400, `movie_id "1"`},
		{"movie unknown", jsonPost(u, `[{"movie_id":1,"rating":4},{"movie_id":999,"rating":4}]`), 400, "rating 2: unknown movie 999"},
		{"same movie twice", jsonPost(u, `[{"movie_id":3,"rating":4},{"movie_id":3,"rating":2}]`), 400, "movie 3 is rated twice"},

		// Tutorial line bodies.
		{"line missing field", request{method: "POST", path: "/7/ratings", body: "1,4\n2\n"}, 400, "line 2: want 2 fields"},
		{"line extra field", request{method: "POST", path: "/7/ratings", body: "1,4,5\n"}, 400, "line 1: want 2 fields"},
		{"line NaN", request{method: "POST", path: "/7/ratings", body: "1,NaN\n"}, 400, "not a finite number"},
		{"line Inf", request{method: "POST", path: "/7/ratings", body: "1,-Inf\n"}, 400, "not a finite number"},
		{"line off scale", request{method: "POST", path: "/7/ratings", body: "1,11\n"}, 400, "not on the scale"},
		{"line underscore", request{method: "POST", path: "/7/ratings", body: "1,0_5\n"}, 400, `line 1: rating "0_5" is not a finite number`},
		{"line hex float", request{method: "POST", path: "/7/ratings", body: "1,0x1p2\n"}, 400, `rating "0x1p2" is not a finite number`},
		{"line inf", request{method: "POST", path: "/7/ratings", body: "1,inf\n"}, 400, `rating "inf" is not a finite number`},
		{"line nan", request{method: "POST", path: "/7/ratings", body: "1,nan\n"}, 400, `rating "nan" is not a finite number`},
		{"line inner space", request{method: "POST", path: "/7/ratings", body: "1,4 .5\n"}, 400, `rating "4 .5" is not a finite number`},
		{"line leading dot", request{method: "POST", path: "/7/ratings", body: "1,.5\n"}, 400, `rating ".5" is not a finite number`},
		{"line between steps", request{method: "POST", path: "/7/ratings", body: "1,4.5000004\n"}, 400, "4.5000004 for movie 1 is not on the scale 0.5 to 5 in steps of 0.5 (allowed: 0.5, 1,"},
		{"line exponent off scale", request{method: "POST", path: "/7/ratings", body: "1,5.1e-05\n"}, 400, "not on the scale"},
		{"line unknown movie", request{method: "POST", path: "/7/ratings", body: "999,4\n"}, 404, "unknown movie 999"},
		{"line same movie twice", request{method: "POST", path: "/7/ratings", body: "1,4\n1,3\n"}, 400, "rated twice"},
		{"line empty", request{method: "POST", path: "/7/ratings"}, 400, "no ratings"},
		{"line too large", request{method: "POST", path: "/7/ratings", body: strings.Repeat("1,4\n", 1<<18+1)}, 413, "over"},

		// Search.
		{"search no query", get("/api/v1/movies"), 400, "query is required"},
		{"search empty query", get("/api/v1/movies?query="), 400, "query must be 1 to 200 characters, not 0"},
		{"search query too long", get("/api/v1/movies?query=" + strings.Repeat("é", 201)), 400, "not 201"},
		{"search bad escape", get("/api/v1/movies?query=%zz"), 400, "malformed query string"},
		{"search bad escape elsewhere", get("/api/v1/movies?query=toy&x=%"), 400, "malformed query string"},
		{"search not UTF-8", get("/api/v1/movies?query=%ff"), 400, "not valid UTF-8"},
		{"search limit zero", get("/api/v1/movies?query=toy&limit=0"), 400, "limit 0"},
		{"search limit over max", get("/api/v1/movies?query=toy&limit=1001"), 400, "limit 1001"},
		{"search limit text", get("/api/v1/movies?query=toy&limit=all"), 400, `limit "all"`},

		// Deletes.
		{"delete user text", request{method: "DELETE", path: "/api/v1/users/x/ratings/1"}, 400, "user id"},
		{"delete user negative", request{method: "DELETE", path: "/api/v1/users/-1/ratings/1"}, 400, "user id"},
		{"delete user beyond int32", request{method: "DELETE", path: "/api/v1/users/2147483648/ratings/1"}, 400, "user id"},
		{"delete movie text", request{method: "DELETE", path: "/api/v1/users/1/ratings/x"}, 400, "movie id"},
		{"delete movie beyond int32", request{method: "DELETE", path: "/api/v1/users/1/ratings/4294967296"}, 400, "movie id"},
		{"delete movie unknown", request{method: "DELETE", path: "/api/v1/users/1/ratings/999"}, 404, "unknown movie 999"},
		{"delete not rated", request{method: "DELETE", path: "/api/v1/users/1/ratings/2"}, 404, "user 1 has no rating of movie 2"},
		{"delete unknown user", request{method: "DELETE", path: "/api/v1/users/12345/ratings/1"}, 404, "no rating"},
		{"delete unrated movie", request{method: "DELETE", path: "/api/v1/users/1/ratings/8"}, 404, "no rating"},
		{"delete all ratings", request{method: "DELETE", path: "/api/v1/users/1/ratings"}, 405, "DELETE not allowed"},
		{"retrain wrong method", get("/api/v1/model/retrain"), 405, "GET not allowed"},

		// Trainings.
		{"trainings limit zero", get("/api/v1/model/trainings?limit=0"), 400, "limit 0"},
		{"trainings limit text", get("/api/v1/model/trainings?limit=x"), 400, `limit "x"`},
		{"trainings limit over max", get("/api/v1/model/trainings?limit=1001"), 400, "limit 1001"},

		// Query strings that do not parse, on every kind of route.
		{"bad escape recommendations", get("/api/v1/users/1/recommendations?genre=%zz"), 400, `malformed query string: invalid URL escape "%zz"`},
		{"bad escape popular", get("/api/v1/movies/popular?limit=3&x=%"), 400, "malformed query string"},
		{"bad escape tutorial", get("/1/ratings/top/3?%zz"), 400, "malformed query string"},
		{"bad escape healthz", get("/healthz?x=%zz"), 400, "malformed query string"},
		{"semicolon separator", get("/api/v1/movies/popular?limit=3;min_ratings=1"), 400, "malformed query string"},
		{"bad escape post", jsonPost(u+"?%zz", `[{"movie_id":1,"rating":4}]`), 400, "malformed query string"},
		{"bad escape delete", request{method: "DELETE", path: "/api/v1/users/1/ratings/1?a=%g0"}, 400, "malformed query string"},

		// Routing.
		{"no route", get("/api/v1/nothing"), 404, "no route"},
		{"trailing slash", get("/api/v1/movies/"), 404, "no route GET /api/v1/movies/"},
		{"trailing slash probe", get("/healthz/"), 404, "no route"},
		{"trailing slash post", request{method: "POST", path: "/api/v1/model/retrain/"}, 404, "no route POST /api/v1/model/retrain/"},
		{"double slash", get("/api/v1//movies/1"), 404, "no route"},
		{"wrong method", request{method: "DELETE", path: u}, 405, "DELETE not allowed"},
	}
	v0 := e.DataVersion()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body, hdr := serve(t, s, tc.req)
			if status != tc.wantStatus {
				t.Fatalf("%v = %d %s, want %d", tc.req, status, body, tc.wantStatus)
			}
			var eb struct {
				Error     string
				RequestID string `json:"request_id"`
			}
			if err := json.Unmarshal([]byte(body), &eb); err != nil || !strings.Contains(eb.Error, tc.wantErr) {
				t.Errorf("%v error = %s, want a JSON error containing %q", tc.req, body, tc.wantErr)
			}
			if eb.RequestID == "" || eb.RequestID != hdr.Get("X-Request-ID") {
				t.Errorf("%v request_id = %q, X-Request-ID = %q, want the same non-empty id", tc.req, eb.RequestID, hdr.Get("X-Request-ID"))
			}
			if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("%v Content-Type = %q, want application/json", tc.req, ct)
			}
			doc.check(t, tc.req, status, body)
			if v := e.DataVersion(); v != v0 {
				t.Fatalf("%v changed the data version %d → %d; want nothing stored", tc.req, v0, v)
			}
		})
	}
}
