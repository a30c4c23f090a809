package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/google/go-cmp/cmp"

	"movierec/api"
	"movierec/engine"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	m.Run()
}

// fakeRec is a function-field fake of api.Recommender.
type fakeRec struct {
	TopFn     func(ctx context.Context, user int32, n int) ([]engine.Prediction, error)
	PredictFn func(ctx context.Context, user, movie int32) (engine.Prediction, error)
	AddFn     func(ctx context.Context, user int32, in []engine.RatingInput) ([]engine.Rating, error)
	ListFn    func(ctx context.Context, user int32) ([]engine.Rating, error)
	StatsFn   func(id int32) (engine.Movie, int, float64, error)
	ReadyFn   func() bool
	// The fields below may stay nil: their methods then return zero values.
	RecommendFn func(ctx context.Context, q engine.Query) ([]engine.Prediction, error)
	SimilarFn   func(ctx context.Context, movie int32, n int) ([]engine.SimilarMovie, error)
	PopularFn   func(n, minRatings int) []engine.Prediction
	SnapshotFn  func() *engine.Snapshot
	SearchFn    func(query string, n int) ([]engine.Match, error)
	DeleteFn    func(ctx context.Context, user, movie int32) (engine.Rating, error)
	RetrainFn   func()
	StateFn     func() (pending, running bool)
}

var _ api.Recommender = (*fakeRec)(nil)

func (f *fakeRec) Top(ctx context.Context, user int32, n int) ([]engine.Prediction, error) {
	return f.TopFn(ctx, user, n)
}
func (f *fakeRec) Predict(ctx context.Context, user, movie int32) (engine.Prediction, error) {
	return f.PredictFn(ctx, user, movie)
}
func (f *fakeRec) AddRatings(ctx context.Context, user int32, in []engine.RatingInput) ([]engine.Rating, error) {
	return f.AddFn(ctx, user, in)
}
func (f *fakeRec) UserRatings(ctx context.Context, user int32) ([]engine.Rating, error) {
	return f.ListFn(ctx, user)
}
func (f *fakeRec) MovieStats(id int32) (engine.Movie, int, float64, error) { return f.StatsFn(id) }
func (f *fakeRec) Ready() bool                                             { return f.ReadyFn() }
func (f *fakeRec) Recommend(ctx context.Context, q engine.Query) ([]engine.Prediction, error) {
	if f.RecommendFn == nil {
		return nil, nil
	}
	return f.RecommendFn(ctx, q)
}
func (f *fakeRec) Similar(ctx context.Context, movie int32, n, minRatings int) ([]engine.SimilarMovie, error) {
	if f.SimilarFn == nil {
		return nil, nil
	}
	return f.SimilarFn(ctx, movie, n)
}
func (f *fakeRec) Popular(n, minRatings int) []engine.Prediction {
	if f.PopularFn == nil {
		return nil
	}
	return f.PopularFn(n, minRatings)
}
func (f *fakeRec) Snapshot() *engine.Snapshot {
	if f.SnapshotFn == nil {
		return nil
	}
	return f.SnapshotFn()
}
func (f *fakeRec) SearchMovies(query string, n int) ([]engine.Match, error) {
	if f.SearchFn == nil {
		return nil, nil
	}
	return f.SearchFn(query, n)
}
func (f *fakeRec) DeleteRating(ctx context.Context, user, movie int32) (engine.Rating, error) {
	if f.DeleteFn == nil {
		return engine.Rating{}, nil
	}
	return f.DeleteFn(ctx, user, movie)
}
func (f *fakeRec) RequestForcedRetrain() {
	if f.RetrainFn != nil {
		f.RetrainFn()
	}
}
func (f *fakeRec) Trainer() bool { return true }
func (f *fakeRec) RetrainState() (pending, running bool) {
	if f.StateFn == nil {
		return false, false
	}
	return f.StateFn()
}
func (f *fakeRec) Trainings(context.Context, int) ([]engine.Training, error) { return nil, nil }
func (f *fakeRec) Device() string                                            { return "" }
func (f *fakeRec) DataVersion() int64                                        { return 0 }
func (f *fakeRec) TrainingCounts() []engine.TrainingCount                    { return nil }

func do(t *testing.T, h http.Handler, method, path, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code, strings.TrimSpace(w.Body.String())
}

func TestRoutes(t *testing.T) {
	var gotAdd []engine.RatingInput
	rec := &fakeRec{
		TopFn: func(_ context.Context, user int32, n int) ([]engine.Prediction, error) {
			if user == 9 {
				return nil, engine.ErrModelNotReady
			}
			return []engine.Prediction{
				{Movie: engine.Movie{ID: 11, Title: "American President, The (1995)"}, Score: 4.5, Count: 70},
				{Movie: engine.Movie{ID: 1, Title: "Toy Story (1995)"}, Score: 4.25, Count: 215},
			}[:min(n, 2)], nil
		},
		PredictFn: func(_ context.Context, user, movie int32) (engine.Prediction, error) {
			if movie == 999 {
				return engine.Prediction{}, errors.New("wrapped: " + engine.ErrUnknownMovie.Error())
			}
			if movie == 998 {
				return engine.Prediction{}, errors.Join(engine.ErrUnknownMovie)
			}
			return engine.Prediction{Movie: engine.Movie{ID: movie, Title: "Heat (1995)"}, Score: 3.75, Count: 102}, nil
		},
		AddFn: func(_ context.Context, user int32, in []engine.RatingInput) ([]engine.Rating, error) {
			gotAdd = in
			out := make([]engine.Rating, len(in))
			for i, r := range in {
				out[i] = engine.Rating{User: user, Movie: r.Movie, Value: float32(r.Value)}
			}
			return out, nil
		},
		ListFn: func(_ context.Context, user int32) ([]engine.Rating, error) {
			if user != 7 {
				return []engine.Rating{}, nil
			}
			return []engine.Rating{{User: 7, Movie: 1, Value: 4, Time: 964982703}}, nil
		},
		StatsFn: func(id int32) (engine.Movie, int, float64, error) {
			return engine.Movie{ID: id, Title: "Toy Story (1995)"}, 215, 3.92, nil
		},
		ReadyFn: func() bool { return true },
	}
	h := api.New(rec, api.Options{MaxCount: 100, MaxBodyBytes: 64}, nil)
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		wantBody   string // exact JSON, or "" to check only the error key
	}{
		{"top", "GET", "/0/ratings/top/2", "", 200, `[["American President, The (1995)",4.5,70],["Toy Story (1995)",4.25,215]]`},
		{"top one", "GET", "/0/ratings/top/1", "", 200, `[["American President, The (1995)",4.5,70]]`},
		{"top not ready", "GET", "/9/ratings/top/1", "", 503, ""},
		{"top count zero", "GET", "/0/ratings/top/0", "", 400, ""},
		{"top count negative", "GET", "/0/ratings/top/-3", "", 400, ""},
		{"top count over max", "GET", "/0/ratings/top/101", "", 400, ""},
		{"top count text", "GET", "/0/ratings/top/ten", "", 400, ""},
		{"top user text", "GET", "/abc/ratings/top/10", "", 400, ""},
		{"top user beyond int32", "GET", "/2147483648/ratings/top/10", "", 400, ""},
		{"predict", "GET", "/0/ratings/6", "", 200, `[["Heat (1995)",3.75,102]]`},
		{"predict unknown movie", "GET", "/0/ratings/998", "", 404, ""},
		{"predict unmapped error is 500", "GET", "/0/ratings/999", "", 500, ""},
		{"predict movie text", "GET", "/0/ratings/x", "", 400, ""},
		{"post", "POST", "/0/ratings", "260,4.5\r\n1,4\n\n", 200, `[[0,260,4.5],[0,1,4]]`},
		{"post bad line", "POST", "/0/ratings", "260,4.5\n1;4\n", 400, ""},
		{"post empty", "POST", "/0/ratings", "", 400, ""},
		{"post nan", "POST", "/0/ratings", "1,NaN", 400, ""},
		{"post too large", "POST", "/0/ratings", strings.Repeat("1,4\n", 20), 413, ""},
		{"healthz", "GET", "/healthz", "", 200, `{"status":"ok"}`},
		{"v1 user ratings", "GET", "/api/v1/users/7/ratings", "", 200, `{"user_id":7,"ratings":[{"movie_id":1,"title":"Toy Story (1995)","rating":4,"timestamp":964982703}]}`},
		{"v1 unknown user ratings", "GET", "/api/v1/users/8/ratings", "", 200, `{"user_id":8,"ratings":[]}`},
		{"v1 user ratings bad id", "GET", "/api/v1/users/x/ratings", "", 400, ""},
		{"readyz", "GET", "/readyz", "", 200, `{"status":"ready"}`},
		{"no route", "GET", "/0/nothing", "", 404, ""},
		{"wrong method", "DELETE", "/0/ratings", "", 405, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := do(t, h, tc.method, tc.path, tc.body)
			if status != tc.wantStatus {
				t.Fatalf("%s %s = %d %s, want %d", tc.method, tc.path, status, body, tc.wantStatus)
			}
			if tc.wantBody != "" {
				if body != tc.wantBody {
					t.Errorf("%s %s body = %s, want %s", tc.method, tc.path, body, tc.wantBody)
				}
				return
			}
			var e struct{ Error string }
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
				t.Errorf("%s %s body = %s, want a JSON error", tc.method, tc.path, body)
			}
			if status == 500 && e.Error != "internal error" {
				t.Errorf("%s %s error = %q, want the generic message", tc.method, tc.path, e.Error)
			}
		})
	}
	want := []engine.RatingInput{{Movie: 260, Value: 4.5}, {Movie: 1, Value: 4}}
	if diff := cmp.Diff(want, gotAdd); diff != "" {
		t.Errorf("AddRatings input mismatch (-want +got):\n%s", diff)
	}
}

func TestParseRatingLines(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    []engine.RatingInput
		wantErr string
	}{
		{"lf", "1,4\n2,3.5\n", []engine.RatingInput{{Movie: 1, Value: 4}, {Movie: 2, Value: 3.5}}, ""},
		{"crlf and spaces", " 1 , 4 \r\n\r\n2,0.5", []engine.RatingInput{{Movie: 1, Value: 4}, {Movie: 2, Value: 0.5}}, ""},
		{"three fields", "0,1,4\n", nil, "line 1: want 2 fields"},
		{"one field", "1\n", nil, "line 1: want 2 fields"},
		{"movie zero", "0,4\n", []engine.RatingInput{{Movie: 0, Value: 4}}, ""},
		{"movie negative", "-1,4\n", nil, "line 1: movie id"},
		{"largest movie", "2147483647,-9.4e-05\n", []engine.RatingInput{{Movie: 2147483647, Value: -9.4e-05}}, ""},
		{"movie beyond", "2147483648,4\n", nil, "line 1: movie id"},
		{"movie beyond int32", "2147483648,4\n", nil, "line 1: movie id"},
		{"rating text", "1,4\n2,good\n", nil, "line 2: rating"},
		{"rating inf", "1,+Inf\n", nil, "line 1: rating"},
		{"empty", "\n\n", nil, "no ratings"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := api.ParseRatingLines([]byte(tc.body))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, api.ErrBadRequest) {
					t.Fatalf("ParseRatingLines(%q) error = %v, want one containing %q", tc.body, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRatingLines(%q) error = %v", tc.body, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseRatingLines(%q) mismatch (-want +got):\n%s", tc.body, diff)
			}
		})
	}
}
