package gpu_test

import (
	"math/rand/v2"
	"testing"

	"movierec/als"
	"movierec/engine"
)

// TestEngineRetrainAfterPostSendsDelta: the engine's retrain after one POST
// of ratings (a new user) sends the worker only the delta, by the byte
// count on the worker's stdin (issue 13's acceptance test).
func TestEngineRetrainAfterPostSendsDelta(t *testing.T) {
	ms, rs := engineWorld(400, 120)
	c := start(t)
	p := als.Params{Rank: 4, Iterations: 2, Lambda: 0.1, Seed: 5}
	e, err := engine.New(engine.Config{Params: p, MinRatings: 1, Scale: engine.MovieLensScale}, c, ms, rs)
	if err != nil {
		t.Fatal(err)
	}
	before := c.SentBytes()
	if _, err := e.Retrain(t.Context()); err != nil {
		t.Fatalf("Retrain() = %v", err)
	}
	full := c.SentBytes() - before
	if _, err := e.AddRatings(t.Context(), 9999, []engine.RatingInput{{Movie: 3, Value: 4}, {Movie: 7, Value: 2.5}}); err != nil {
		t.Fatalf("AddRatings() = %v", err)
	}
	before = c.SentBytes()
	if _, err := e.Retrain(t.Context()); err != nil {
		t.Fatalf("Retrain() = %v", err)
	}
	delta := c.SentBytes() - before
	t.Logf("first retrain sent %d bytes, the retrain after a POST %d", full, delta)
	if delta*50 > full || c.DeltaJobs() == 0 {
		t.Errorf("retrain after a POST sent %d bytes (%d delta jobs), want a delta under 2%% of the full %d", delta, c.DeltaJobs(), full)
	}
}

// engineWorld returns movies 1..movies and about 30 random ratings by each
// of users 1..users.
func engineWorld(users, movies int) ([]engine.Movie, []engine.Rating) {
	rng := rand.New(rand.NewPCG(3, 4))
	var ms []engine.Movie
	for i := range movies {
		ms = append(ms, engine.Movie{ID: int32(i + 1), Title: "m"})
	}
	var rs []engine.Rating
	seen := map[[2]int32]bool{}
	for u := range users {
		for range 30 {
			k := [2]int32{int32(u + 1), int32(1 + rng.IntN(movies))}
			if !seen[k] {
				seen[k] = true
				rs = append(rs, engine.Rating{User: k[0], Movie: k[1], Value: float32(1 + rng.IntN(5))})
			}
		}
	}
	return ms, rs
}
