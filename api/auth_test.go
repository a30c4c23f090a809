package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"movierec/api"
)

func TestAuth(t *testing.T) {
	const key = "s3cret-key"
	post := jsonPost("/api/v1/users/50/ratings", `[{"movie_id":1,"rating":4}]`)
	withAuth := func(r request, auth string) request { r.auth = auth; return r }
	tutorialPost := request{method: "POST", path: "/50/ratings", body: "2,4\n"}
	tests := []struct {
		name       string
		authReads  bool
		req        request
		wantStatus int
		wantErr    string
	}{
		{"write without key", false, post, 401, "needs an API key"},
		{"write wrong key", false, withAuth(post, "Bearer wrong"), 401, "not valid"},
		{"write key prefix", false, withAuth(post, "Bearer s3cret"), 401, "not valid"},
		{"write basic scheme", false, withAuth(post, "Basic czNjcmV0LWtleQ=="), 401, "Bearer scheme"},
		{"write bare key", false, withAuth(post, key), 401, "Bearer scheme"},
		{"write Bearer without token", false, withAuth(post, "Bearer"), 401, "missing token"},
		{"write Bearer and spaces", false, withAuth(post, "Bearer   "), 401, "missing token"},
		{"read Bearer without token", true, withAuth(get("/api/v1/model"), "Bearer "), 401, "missing token"},
		{"options open", true, request{method: "OPTIONS", path: "/api/v1/users/1/ratings"}, 204, ""},
		{"head closed", true, request{method: "HEAD", path: "/api/v1/model"}, 401, ""},
		{"tutorial write without key", false, tutorialPost, 401, "needs an API key"},
		{"write with key", false, withAuth(post, "Bearer "+key), 200, ""},
		{"write lower-case scheme", false, withAuth(post, "bearer "+key), 200, ""},
		{"tutorial write with key", false, withAuth(tutorialPost, "Bearer "+key), 200, ""},
		{"delete without key", false, request{method: "DELETE", path: "/api/v1/users/1/ratings/1"}, 401, "needs an API key"},
		{"delete wrong key", false, request{method: "DELETE", path: "/api/v1/users/1/ratings/1", auth: "Bearer wrong"}, 401, "not valid"},
		{"delete with key", false, request{method: "DELETE", path: "/api/v1/users/1/ratings/1", auth: "Bearer " + key}, 200, ""},
		{"retrain without key", false, request{method: "POST", path: "/api/v1/model/retrain"}, 401, "needs an API key"},
		{"retrain with key", false, request{method: "POST", path: "/api/v1/model/retrain", auth: "Bearer " + key}, 202, ""},
		{"search open", false, get("/api/v1/movies?query=toy"), 200, ""},
		{"search closed", true, get("/api/v1/movies?query=toy"), 401, "needs an API key"},
		{"read open", false, get("/api/v1/movies/1"), 200, ""},
		{"tutorial read open", false, get("/1/ratings/top/3"), 200, ""},
		{"read closed", true, get("/api/v1/movies/1"), 401, "needs an API key"},
		{"tutorial read closed", true, get("/1/ratings/4"), 401, "needs an API key"},
		{"read with key", true, withAuth(get("/api/v1/model"), "Bearer "+key), 200, ""},
		{"healthz open", true, get("/healthz"), 200, ""},
		{"readyz open", true, get("/readyz"), 200, ""},
		{"metrics open", true, get("/metrics"), 200, ""},
		{"openapi open", true, get("/openapi.json"), 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, e := newServer(t, api.Options{APIKey: key, AuthReads: tc.authReads})
			v0 := e.DataVersion()
			status, body, hdr := serve(t, s, tc.req)
			if status != tc.wantStatus {
				t.Fatalf("%v (Authorization %q) = %d %s, want %d", tc.req, tc.req.auth, status, body, tc.wantStatus)
			}
			if status != 401 {
				return
			}
			if got := hdr.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("%v WWW-Authenticate = %q, want a Bearer challenge", tc.req, got)
			}
			if strings.Contains(body, key) {
				t.Errorf("%v body = %s, contains the API key", tc.req, body)
			}
			if tc.req.method == "HEAD" {
				return
			}
			var eb struct{ Error string }
			if err := json.Unmarshal([]byte(body), &eb); err != nil || !strings.Contains(eb.Error, tc.wantErr) {
				t.Errorf("%v body = %s, want a JSON error containing %q", tc.req, body, tc.wantErr)
			}
			if v := e.DataVersion(); v != v0 {
				t.Errorf("%v without a valid key changed the data version %d → %d", tc.req, v0, v)
			}
		})
	}
}
