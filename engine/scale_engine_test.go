package engine_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"movierec/als"
	"movierec/cpu"
	"movierec/engine"
)

// TestEngineOwnScale runs the engine on ids 0 and 2^31−1 and on scales
// other than MovieLens: POSTs are checked against the scale, averages are
// exact for tiny and huge values, and predictions are clamped only on a
// bounded scale.
func TestEngineOwnScale(t *testing.T) {
	movies := []engine.Movie{{ID: 0, Title: "Zero"}, {ID: 7, Title: "Seven"}, {ID: math.MaxInt32, Title: "Last"}}
	p := als.Params{Rank: 2, Iterations: 5, Lambda: 0.01, Seed: 1}

	t.Run("unbounded", func(t *testing.T) {
		f := func(v float32) float64 { return float64(v) }
		rs := []engine.Rating{
			{User: 0, Movie: 0, Value: -9.4e-05}, {User: 1, Movie: 0, Value: -9.6e-05},
			{User: 0, Movie: math.MaxInt32, Value: 12.5}, {User: math.MaxInt32, Movie: 7, Value: -3},
			{User: math.MaxInt32, Movie: math.MaxInt32, Value: 13.5}, {User: 1, Movie: 7, Value: -2},
		}
		e, err := engine.New(engine.Config{Params: p, Scale: engine.Unbounded}, cpu.New(1), movies, rs)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, avg, _ := e.MovieStats(0); avg != (f(-9.4e-05)+f(-9.6e-05))/2 {
			t.Errorf("MovieStats(0) average = %v, want -9.5e-05", avg)
		}
		if _, err := e.Retrain(t.Context()); err != nil {
			t.Fatal(err)
		}
		// A new user's prediction is the movie's average: 13 on an
		// unbounded scale, where a MovieLens engine would clamp it to 5.
		if pr, err := e.Predict(t.Context(), 5, math.MaxInt32); err != nil || pr.Score != 13 {
			t.Errorf("Predict(5, MaxInt32) = %+v, %v, want the unclamped average 13", pr, err)
		}
		if _, err := e.AddRatings(t.Context(), 0, []engine.RatingInput{{Movie: 7, Value: math.Inf(1)}}); !errors.Is(err, engine.ErrInvalidRating) {
			t.Errorf("AddRatings(+Inf) error = %v, want ErrInvalidRating", err)
		}
		if _, err := e.AddRatings(t.Context(), 0, []engine.RatingInput{{Movie: 7, Value: -1e30}}); err != nil {
			t.Errorf("AddRatings(-1e30) error = %v", err)
		}
		// Huge values: the averages neither round nor overflow.
		big := []engine.Rating{{User: 0, Movie: 0, Value: 1e12}, {User: 1, Movie: 0, Value: 3e12}, {User: 2, Movie: 0, Value: 3e37}}
		e, err = engine.New(engine.Config{Params: p, Scale: engine.Unbounded}, cpu.New(1), movies, big[:2])
		if err != nil {
			t.Fatal(err)
		}
		if _, _, avg, _ := e.MovieStats(0); avg != (f(1e12)+f(3e12))/2 {
			t.Errorf("MovieStats(0) average = %v, want 2e12", avg)
		}
		if _, err := engine.New(engine.Config{Params: p, Scale: engine.Unbounded}, cpu.New(1), movies, big); err != nil {
			t.Errorf("engine.New(3e37) error = %v", err)
		}
	})

	t.Run("one to ten", func(t *testing.T) {
		ten := engine.Scale{Min: 1, Max: 10, Step: 1}
		rs := []engine.Rating{{User: 0, Movie: 0, Value: 10}, {User: 1, Movie: 7, Value: 1}, {User: 0, Movie: math.MaxInt32, Value: 10}}
		e, err := engine.New(engine.Config{Params: p, Scale: ten}, cpu.New(1), movies, rs)
		if err != nil {
			t.Fatal(err)
		}
		if e.Scale() != ten {
			t.Errorf("Scale() = %v, want %v", e.Scale(), ten)
		}
		if _, err := e.Retrain(t.Context()); err != nil {
			t.Fatal(err)
		}
		for _, v := range []float64{11, 0.5, 0} {
			_, err := e.AddRatings(t.Context(), 0, []engine.RatingInput{{Movie: 7, Value: v}})
			if !errors.Is(err, engine.ErrInvalidRating) || !strings.Contains(err.Error(), "allowed: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10") {
				t.Errorf("AddRatings(%v) error = %v, want ErrInvalidRating naming 1..10", v, err)
			}
		}
		if _, err := e.AddRatings(t.Context(), 0, []engine.RatingInput{{Movie: 7, Value: 10}}); err != nil {
			t.Errorf("AddRatings(10) error = %v", err)
		}
		for _, user := range []int32{0, 1, math.MaxInt32} {
			for _, m := range movies {
				pr, err := e.Predict(t.Context(), user, m.ID)
				if err != nil || pr.Score < 1 || pr.Score > 10 {
					t.Errorf("Predict(%d, %d) = %+v, %v, want a score in 1..10", user, m.ID, pr, err)
				}
			}
		}
	})
}
