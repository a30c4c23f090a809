package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"movierec/api"
)

func TestMetrics(t *testing.T) {
	e := newEngine(t, false)
	reg := prometheus.NewRegistry()
	now := time.Now()
	s := api.New(e, api.Options{Registry: reg, Now: func() time.Time { return now }}, nil)

	status, body, _ := serve(t, s, get("/metrics"))
	if status != 200 || !strings.Contains(body, "movierec_model_ready 0") {
		t.Fatalf("GET /metrics before training = %d, want movierec_model_ready 0 in:\n%s", status, body)
	}
	if _, err := e.Retrain(t.Context()); err != nil {
		t.Fatal(err)
	}
	now = now.Add(90 * time.Second) // the model is 90 s old at the next scrape
	for _, r := range []request{
		get("/api/v1/movies/1"), get("/api/v1/movies/2"), get("/api/v1/movies/x"), get("/nothing"),
		jsonPost("/api/v1/users/60/ratings", `[{"movie_id":1,"rating":4},{"movie_id":2,"rating":3}]`),
		{method: "POST", path: "/61/ratings", body: "3,5\n"},
		{method: "POST", path: "/61/ratings", body: "999,5\n"},
	} {
		serve(t, s, r)
	}
	_, body, _ = serve(t, s, get("/metrics"))
	for _, want := range []string{
		`movierec_http_requests_total{method="GET",route="/api/v1/movies/:movie",status="200"} 2`,
		`movierec_http_requests_total{method="GET",route="/api/v1/movies/:movie",status="400"} 1`,
		`movierec_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`movierec_http_requests_total{method="POST",route="/:user/ratings",status="404"} 1`,
		`movierec_http_request_duration_seconds_count{method="POST",route="/api/v1/users/:user/ratings"} 1`,
		`movierec_ratings_stored_total 3`,
		`movierec_trainings_total{backend="tiny",result="ok"} 1`,
		`movierec_trainings_total{backend="tiny",result="failed"} 0`,
		`movierec_training_seconds_total{backend="tiny"}`,
		`movierec_model_ready 1`,
		`movierec_model_data_version 0`,
		`movierec_data_version 2`,
		`movierec_model_age_seconds 89.`, // 90 s minus the time the training took
		`movierec_model_train_seconds{backend="tiny"}`,
		`movierec_model_ratings 28`,
		`go_goroutines`, // the registry passed in is used as is; only a new one gets the Go collector
	} {
		if want == "go_goroutines" {
			if strings.Contains(body, want) {
				t.Errorf("GET /metrics with a registry passed in has %s, want only the server's metrics", want)
			}
			continue
		}
		if !strings.Contains(body, want) {
			t.Errorf("GET /metrics lacks %s in:\n%s", want, body)
		}
	}

	// Without a registry the server makes its own, with the Go collector.
	_, body, _ = serve(t, api.New(e, api.Options{}, nil), get("/metrics"))
	if !strings.Contains(body, "go_goroutines") || !strings.Contains(body, "movierec_model_ready 1") {
		t.Errorf("GET /metrics with its own registry lacks go_goroutines or the model metrics:\n%s", body)
	}
}
