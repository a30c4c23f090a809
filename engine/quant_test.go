package engine_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"movierec/als"
	"movierec/engine"
)

// TestQuantizedListsMatchFullPass: with the engine's own rating floor a
// list is chosen from 8-bit rows and its finalists scored again exactly;
// with the same floor given per query to an engine whose default is none,
// every movie's float32 score is computed. Over random catalogs, ranks,
// users and list lengths the two must give the same movies, order and
// scores: with biases or without, a ranking model or not, exact ties
// (identical rows and biases, broken by movie id), rated movies excluded,
// genre filters, zero user vectors and rows, near-ties that 8 bits cannot
// tell apart, magnitudes from 1e-6 to 1e6, and rows the 8-bit path must
// leave to the exact one (non-finite, or beyond its range).
func TestQuantizedListsMatchFullPass(t *testing.T) {
	const floor = 3
	trials := 60
	if testing.Short() {
		trials = 15
	}
	styles := []string{"normal", "ties", "near-ties", "magnitudes", "out-of-range"}
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := range trials {
		style := styles[trial%len(styles)]
		rank := []int{1, 2, 5, 8, 16, 33, 64}[rng.IntN(7)]
		bias, ranker := rng.IntN(2) == 0, rng.IntN(3) == 0
		name := fmt.Sprintf("%d/%s/rank=%d/bias=%t/ranker=%t", trial, style, rank, bias, ranker)
		t.Run(name, func(t *testing.T) {
			movies, rs, userIDs := randomCatalog(rng, 20+rng.IntN(700))
			snap := &engine.Snapshot{
				Model:    randomModel(rng, style, len(userIDs), len(movies), rank, bias),
				Params:   als.Params{Rank: rank, Iterations: 1, Lambda: 0.1, Bias: bias},
				UserIDs:  userIDs,
				MovieIDs: make([]int32, len(movies)),
			}
			for i, m := range movies {
				snap.MovieIDs[i] = m.ID
			}
			if ranker {
				snap.Ranker = randomModel(rng, style, len(userIDs), len(movies), rank, false)
				snap.RankerParams = als.Params{Rank: rank, Iterations: 1, Lambda: 0.1}
			}
			build := func(minRatings int) *engine.Engine {
				e, err := engine.New(engine.Config{Params: snap.Params, MinRatings: minRatings, Scale: engine.MovieLensScale}, &foldSolver{}, movies, rs)
				if err != nil {
					t.Fatal(err)
				}
				if err := e.Publish(snap); err != nil {
					t.Fatal(err)
				}
				return e
			}
			quant, scan := build(floor), build(0)
			listed := 0
			for _, u := range userIDs {
				for _, n := range []int{1, 3, 10, len(movies) + 5} {
					genre := ""
					if rng.IntN(4) == 0 {
						genre = "Comedy"
					}
					want, err := scan.Recommend(t.Context(), engine.Query{User: u, N: n, MinRatings: floor, Genre: genre})
					if err != nil {
						t.Fatal(err)
					}
					got, err := quant.Recommend(t.Context(), engine.Query{User: u, N: n, MinRatings: -1, Genre: genre})
					if err != nil {
						t.Fatal(err)
					}
					if d := firstDiff(got, want); d >= 0 {
						t.Fatalf("Recommend(%d, %d, %q): %d movies, entry %d = %s; want (full pass) %d movies, entry %d = %s",
							u, n, genre, len(got), d, entry(got, d), len(want), d, entry(want, d))
					}
					listed += len(got)
				}
			}
			if listed == 0 {
				t.Fatal("no list had a movie: the test tests nothing")
			}
		})
	}
}

// firstDiff returns the first index where a and b differ in movie, rank
// or score (bit for bit, so NaNs from non-finite factors compare equal),
// or −1.
func firstDiff(a, b []engine.Prediction) int {
	for i := range max(len(a), len(b)) {
		if i >= len(a) || i >= len(b) || a[i].Movie.ID != b[i].Movie.ID ||
			math.Float64bits(a[i].Rank) != math.Float64bits(b[i].Rank) ||
			math.Float64bits(a[i].Score) != math.Float64bits(b[i].Score) {
			return i
		}
	}
	return -1
}

func entry(ps []engine.Prediction, i int) string {
	if i >= len(ps) {
		return "none"
	}
	return fmt.Sprintf("movie %d, rank %v, score %v", ps[i].Movie.ID, ps[i].Rank, ps[i].Score)
}

// randomCatalog returns n movies with shuffled ids (so the id tie-breaker
// is not the table's order), some of them comedies, and ratings by 25
// users that leave some movies below a floor of 3 and give every user a
// few rated movies to exclude.
func randomCatalog(rng *rand.Rand, n int) ([]engine.Movie, []engine.Rating, []int32) {
	movies := make([]engine.Movie, n)
	perm := rng.Perm(n)
	for i := range movies {
		g := []string{"Drama"}
		if rng.IntN(3) == 0 {
			g = []string{"Comedy"}
		}
		movies[i] = engine.Movie{ID: int32(1 + 7*perm[i]), Title: fmt.Sprintf("Movie %d", i), Genres: g}
	}
	const users = 25
	var rs []engine.Rating
	for u := int32(1); u <= users; u++ {
		for i := range movies {
			if rng.IntN(6) == 0 || i == int(u)%n {
				rs = append(rs, engine.Rating{User: u, Movie: movies[i].ID, Value: float32(1 + rng.IntN(5))})
			}
		}
	}
	userIDs := make([]int32, users)
	for u := range userIDs {
		userIDs[u] = int32(u + 1)
	}
	return movies, rs, userIDs
}

// randomModel returns a model whose factors follow style (see
// TestQuantizedListsMatchFullPass).
func randomModel(rng *rand.Rand, style string, users, items, rank int, bias bool) *als.Model {
	m := &als.Model{Rank: rank, NumUsers: users, NumItems: items, Bias: bias,
		UserFactors: make([]float32, users*rank), ItemFactors: make([]float32, items*rank)}
	normal := func() float32 { return float32(rng.NormFloat64()) }
	for j := range m.UserFactors {
		m.UserFactors[j] = normal()
	}
	// Every fifth user has no taste: all scores tie on the biases.
	for u := 0; u < users; u += 5 {
		clear(m.UserFactors[u*rank : (u+1)*rank])
	}
	pool := make([][]float32, 4)
	for p := range pool {
		pool[p] = make([]float32, rank)
		for c := range pool[p] {
			pool[p][c] = normal()
		}
	}
	for i := range items {
		row := m.ItemFactors[i*rank : (i+1)*rank]
		switch style {
		case "normal":
			for c := range row {
				row[c] = normal()
			}
		case "ties":
			if i%7 != 0 { // else a zero row
				copy(row, pool[rng.IntN(len(pool))])
			}
		case "near-ties":
			// Rows within a fraction of a quantisation step of each
			// other: 8 bits order them at random.
			for c := range row {
				row[c] = pool[0][c] * (1 + float32(rng.Float64())*0.004)
			}
		case "magnitudes":
			mag := float32(math.Pow(10, float64(rng.IntN(13)-6)))
			for c := range row {
				row[c] = normal() * mag
			}
		case "out-of-range":
			for c := range row {
				row[c] = normal()
			}
			if i == items/2 {
				row[0] = []float32{1e12, float32(math.Inf(1)), float32(math.NaN())}[rng.IntN(3)]
			}
		}
	}
	if bias {
		m.Mean = 3.5
		m.UserBias = make([]float32, users)
		m.ItemBias = make([]float32, items)
		for u := range m.UserBias {
			m.UserBias[u] = normal() * 0.3
		}
		for i := range m.ItemBias {
			m.ItemBias[i] = float32(rng.IntN(5)) * 0.25 // few values: ties
		}
	}
	return m
}

// TestQuantizedListAllocs: a list from 8-bit rows allocates only its
// result once the scratch buffers have grown.
func TestQuantizedListAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops buffers at random")
	}
	rng := rand.New(rand.NewPCG(13, 14))
	movies, rs, userIDs := randomCatalog(rng, 3000)
	m := randomModel(rng, "normal", len(userIDs), len(movies), 64, true)
	snap := &engine.Snapshot{Model: m, Params: als.Params{Rank: 64, Iterations: 1, Lambda: 0.1, Bias: true},
		UserIDs: userIDs, MovieIDs: make([]int32, len(movies))}
	for i, mv := range movies {
		snap.MovieIDs[i] = mv.ID
	}
	e, err := engine.New(engine.Config{Params: snap.Params, MinRatings: 3, Scale: engine.MovieLensScale}, &foldSolver{}, movies, rs)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Publish(snap); err != nil {
		t.Fatal(err)
	}
	u := userIDs[1]
	if _, err := e.Top(t.Context(), u, 10); err != nil { // grows the buffers
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = e.Top(t.Context(), u, 10) }); n > 1 {
		t.Errorf("Top(%d, 10) allocates %v times, want 1 (the result)", u, n)
	}
}
