package eval_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"movierec/als"
	"movierec/engine"
	"movierec/eval"
)

// scorerOf adapts fixed per-user scores to a Scorer.
func scorerOf(scores [][]float64) eval.Scorer {
	return func(dst []float64, u int, items []int32) {
		for _, i := range items {
			dst[i] = scores[u][i]
		}
	}
}

func TestTaskMAPAndCoverage(t *testing.T) {
	// The plain model of TestRanking as fixed scores: user 10 prefers
	// 100 > 101 > 102 > 103, user 20 the reverse.
	scores := [][]float64{{4, 3, 2, 1}, {-4, -3, -2, -1}, {4, 3, 2, 1}}
	train := []engine.Rating{rating(10, 100, 4), rating(20, 103, 1), rating(40, 101, 3)}
	test := []engine.Rating{rating(10, 102, 5), rating(10, 103, 4), rating(20, 100, 4.5), rating(40, 102, 3.5)}
	for _, tc := range []struct {
		name      string
		k, minR   int
		wantMAP   float64
		wantCover float64
		wantUsers int
	}{
		// user 10: 101, 102 → hit at 2: AP = (1/2)/min(2, 2); user 20:
		// 102, 101 → no hit. Shown: 101, 102 of 4 movies.
		{name: "k=2", k: 2, wantMAP: (0.25 + 0) / 2, wantCover: 0.5, wantUsers: 2},
		// user 10: 101, 102, 103 → hits at 2 and 3: AP = (1/2 + 2/3)/2;
		// user 20: 102, 101, 100 → hit at 3: AP = (1/3)/1. All 4 shown.
		{name: "k=3", k: 3, wantMAP: (7.0/12 + 1.0/3) / 2, wantCover: 1, wantUsers: 2},
		// minRatings 1 makes 102 (no training rating) ineligible: user 10
		// gets 101, 103 → hit 103 at 2: AP = (1/2)/1; user 20 gets 101,
		// 100 → hit at 2: AP = (1/2)/1. Shown: all 3 eligible movies.
		{name: "min ratings", k: 2, minR: 1, wantMAP: 0.5, wantCover: 1, wantUsers: 2},
		// minRatings 2: nothing is eligible, so nobody is averaged.
		{name: "nothing eligible", k: 2, minR: 2, wantMAP: 0, wantCover: 0, wantUsers: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := eval.NewTask(tinyIndex, train, test, tc.k, 4, tc.minR)
			got := task.Rank(scorerOf(scores))
			if math.Abs(got.MAPAt-tc.wantMAP) > 1e-12 || math.Abs(got.Coverage-tc.wantCover) > 1e-12 || got.Users != tc.wantUsers {
				t.Errorf("Rank() = %+v, want MAP %v, coverage %v over %d users", got, tc.wantMAP, tc.wantCover, tc.wantUsers)
			}
		})
	}
}

func TestRankingMinEqualsTaskWithModelScorer(t *testing.T) {
	m := &als.Model{Rank: 1, NumUsers: 3, NumItems: 4, UserFactors: []float32{1, -1, 1}, ItemFactors: []float32{4, 3, 2, 1}}
	train := []engine.Rating{rating(10, 100, 4), rating(20, 103, 1), rating(40, 101, 3)}
	test := []engine.Rating{rating(10, 102, 5), rating(10, 103, 4), rating(20, 100, 4.5)}
	a := eval.RankingMin(m, tinyIndex, train, test, 2, 4, 1)
	b := eval.NewTask(tinyIndex, train, test, 2, 4, 1).Rank(eval.ModelScorer(m))
	if a != b {
		t.Errorf("RankingMin = %+v, Task.Rank(ModelScorer) = %+v", a, b)
	}
}

func TestBaselines(t *testing.T) {
	// Movie 100: 5, 5, 4 (mean 14/3); 101: 3; 102: 1, 2. Global mean 20/6.
	train := []engine.Rating{
		rating(1, 100, 5), rating(2, 100, 5), rating(3, 100, 4),
		rating(1, 101, 3), rating(2, 102, 1), rating(3, 102, 2),
	}
	r, ix := eval.Matrix(train)
	mu := 20.0 / 6
	for _, tc := range []struct {
		name  string
		score eval.Scorer
		want  map[int32]float64 // by movie id
	}{
		{"most-rated", eval.MostRated(r).Score, map[int32]float64{100: 3, 101: 1, 102: 2}},
		{"best-average plain", eval.BestAverage(r, 0).Score, map[int32]float64{100: 14.0 / 3, 101: 3, 102: 1.5}},
		{"best-average damped", eval.BestAverage(r, 2).Score, map[int32]float64{
			100: (14 + 2*mu) / 5, 101: (3 + 2*mu) / 3, 102: (3 + 2*mu) / 4,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]float64, r.NumItems)
			items := []int32{0, 1, 2}
			for u := range r.NumUsers {
				tc.score(dst, u, items)
				for movie, want := range tc.want {
					if got := dst[ix.Movies[movie]]; math.Abs(got-want) > 1e-12 {
						t.Errorf("user %d, movie %d: score %v, want %v", u, movie, got, want)
					}
				}
			}
		})
	}
}

func TestEASETwoMovies(t *testing.T) {
	// Movies A (100) and B (200): A rated by 3 users, B by 2, both by 1.
	// With G = XᵀX + λI = [[3+λ, 1], [1, 2+λ]], P = G⁻¹ and
	// B_ij = −P_ij/P_jj: B_AB = 1/(3+λ) and B_BA = 1/(2+λ).
	train := []engine.Rating{
		rating(1, 100, 5), rating(1, 200, 1), rating(2, 100, 3), rating(3, 200, 4), rating(4, 100, 2),
	}
	r, ix := eval.Matrix(train)
	const lambda = 1
	e, err := eval.NewEASE(r, lambda, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := int(ix.Movies[100]), int(ix.Movies[200])
	for _, c := range []struct {
		i, j int
		want float64
	}{{a, b, 1.0 / 4}, {b, a, 1.0 / 3}, {a, a, 0}, {b, b, 0}} {
		if got := e.Weight(c.i, c.j); math.Abs(got-c.want) > 1e-6 {
			t.Errorf("Weight(%d, %d) = %v, want %v", c.i, c.j, got, c.want)
		}
	}
	// User 2 rated only A: scores A 0, B B_AB.
	dst := make([]float64, 2)
	e.Score(dst, int(ix.Users[2]), []int32{0, 1})
	if math.Abs(dst[a]) > 0 || math.Abs(dst[b]-0.25) > 1e-6 {
		t.Errorf("user 2's scores %v, want A 0 and B 0.25", dst)
	}

	// With minRatings 3 only A is in EASE's set: B scores −∞ and weighs 0.
	e, err = eval.NewEASE(r, lambda, 3)
	if err != nil {
		t.Fatal(err)
	}
	e.Score(dst, int(ix.Users[1]), []int32{0, 1})
	if e.Movies() != 1 || dst[a] != 0 || !math.IsInf(dst[b], -1) || e.Weight(a, b) != 0 {
		t.Errorf("EASE over A only: %d movies, user 1's scores %v; want 1 movie, A 0, B −∞", e.Movies(), dst)
	}
	if _, err := eval.NewEASE(r, 0, 0); err == nil {
		t.Error("NewEASE(λ 0) error nil, want one")
	}
}

// TestEASEClosedForm checks B on random data against the identity that
// defines it: with G = XᵀX + λI, B = I − P·diag(1/diag P) gives
// G·B = G − diag(1/diag P), so (G·B)_ij = G_ij off the diagonal, and
// diag(B) = 0.
func TestEASEClosedForm(t *testing.T) {
	const users, items, lambda = 40, 6, 2.5
	rng := rand.New(rand.NewPCG(5, 6))
	var train []engine.Rating
	for u := range users {
		for i := range items {
			if rng.IntN(3) == 0 {
				train = append(train, rating(int32(u), int32(i), 3))
			}
		}
	}
	r, _ := eval.Matrix(train)
	e, err := eval.NewEASE(r, lambda, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := r.NumItems
	g := make([]float64, n*n)
	for u := range r.NumUsers {
		row := r.UserIdx[r.UserPtr[u]:r.UserPtr[u+1]]
		for _, i := range row {
			for _, j := range row {
				g[int(i)*n+int(j)]++
			}
		}
	}
	for i := range n {
		g[i*n+i] += lambda
		if w := e.Weight(i, i); w != 0 {
			t.Errorf("B[%d][%d] = %v, want 0", i, i, w)
		}
	}
	for i := range n {
		for j := range n {
			if i == j {
				continue
			}
			var gb float64
			for l := range n {
				gb += g[i*n+l] * e.Weight(l, j)
			}
			if math.Abs(gb-g[i*n+j]) > 1e-4*(1+math.Abs(g[i*n+j])) {
				t.Errorf("(G·B)[%d][%d] = %v, want G's %v", i, j, gb, g[i*n+j])
			}
		}
	}
}
