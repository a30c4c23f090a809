package eval_test

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"movierec/als"
	"movierec/engine"
	"movierec/eval"
)

// rankProblem is a random ranking problem with many exact score ties:
// factors and biases are small integers (or halves), and a fifth of the
// movies copy another movie's factors and bias.
type rankProblem struct {
	m           *als.Model
	ix          eval.Index
	train, test []engine.Rating
}

func newRankProblem(users, items, rank int, bias bool, seed uint64) rankProblem {
	rng := rand.New(rand.NewPCG(seed, 7))
	m := &als.Model{Rank: rank, NumUsers: users, NumItems: items,
		UserFactors: make([]float32, users*rank), ItemFactors: make([]float32, items*rank)}
	small := func() float32 { return float32(rng.IntN(5)-2) / 2 }
	for _, s := range [][]float32{m.UserFactors, m.ItemFactors} {
		for i := range s {
			s[i] = small()
		}
	}
	if bias {
		m.Bias, m.Mean = true, 3.5
		m.UserBias, m.ItemBias = make([]float32, users), make([]float32, items)
		for _, s := range [][]float32{m.UserBias, m.ItemBias} {
			for i := range s {
				s[i] = small()
			}
		}
	}
	for i := range items {
		if j := rng.IntN(items); rng.IntN(5) == 0 {
			copy(m.ItemFactors[i*rank:(i+1)*rank], m.ItemFactors[j*rank:(j+1)*rank])
			if bias {
				m.ItemBias[i] = m.ItemBias[j]
			}
		}
	}
	ix := eval.Index{Users: map[int32]int32{}, Movies: map[int32]int32{}}
	for u := range users {
		ix.Users[int32(u+1)] = int32(u)
	}
	for i := range items {
		ix.Movies[int32(i+1)] = int32(i)
	}
	var train, test []engine.Rating
	for u := range users {
		for range 40 {
			r := rating(int32(u+1), int32(1+rng.IntN(items)), float32(1+rng.IntN(10))/2)
			if rng.IntN(4) == 0 {
				test = append(test, r)
			} else {
				train = append(train, r)
			}
		}
	}
	return rankProblem{m, ix, train, test}
}

// referenceRanking computes a Task's metrics the plain way: every user's
// eligible unrated movies sorted by score (score(u) gives them by dense
// movie), with the metrics' formulas of Task.
func referenceRanking(p rankProblem, k int, relevant float32, minRatings int, score func(u int) []float64) eval.RankingResult {
	users, items := len(p.ix.Users), len(p.ix.Movies)
	count := make([]int, items)
	for _, r := range p.train {
		count[p.ix.Movies[r.Movie]]++
	}
	seen := make([]map[int32]bool, users)
	rel := make([]map[int32]bool, users)
	for u := range users {
		seen[u], rel[u] = map[int32]bool{}, map[int32]bool{}
	}
	for _, r := range p.train {
		seen[p.ix.Users[r.User]][p.ix.Movies[r.Movie]] = true
	}
	for _, r := range p.test {
		if i := p.ix.Movies[r.Movie]; r.Value >= relevant && count[i] >= minRatings {
			rel[p.ix.Users[r.User]][i] = true
		}
	}
	var eligible int
	for _, c := range count {
		if c >= minRatings {
			eligible++
		}
	}
	res := eval.RankingResult{K: k}
	shown := map[int32]bool{}
	for u := range users {
		if len(rel[u]) == 0 {
			continue
		}
		s := score(u)
		var cand []int32
		for i := range int32(items) {
			if count[i] >= minRatings && !seen[u][i] {
				cand = append(cand, i)
			}
		}
		slices.SortStableFunc(cand, func(a, b int32) int { return cmp.Compare(s[b], s[a]) })
		cand = cand[:min(k, len(cand))]
		var hits int
		var dcg, idcg, ap float64
		for pos, i := range cand {
			shown[i] = true
			if rel[u][i] {
				hits++
				dcg += 1 / math.Log2(float64(pos+2))
				ap += float64(hits) / float64(pos+1)
			}
		}
		nrel := len(rel[u])
		for pos := range min(nrel, k) {
			idcg += 1 / math.Log2(float64(pos+2))
		}
		res.Users++
		res.PrecisionAt += float64(hits) / float64(k)
		res.RecallAt += float64(hits) / float64(nrel)
		res.NDCGAt += dcg / idcg
		res.MAPAt += ap / float64(min(nrel, k))
	}
	if res.Users > 0 {
		n := float64(res.Users)
		res.PrecisionAt /= n
		res.RecallAt /= n
		res.NDCGAt /= n
		res.MAPAt /= n
		res.Coverage = float64(len(shown)) / float64(eligible)
	}
	return res
}

// TestRankMethodsBitIdentical checks RankModel, RankFixed and RankBatch
// against the plain reference, with ==: random models with and without
// biases, many tied scores, ranks with and without an 8-column tail,
// eligible lists spanning several scoring blocks and ending off a multiple
// of four, on 1 and 2 goroutines.
func TestRankMethodsBitIdentical(t *testing.T) {
	for _, tc := range []struct {
		users, items, rank, k, minRatings int
		bias                              bool
	}{
		{users: 101, items: 700, rank: 5, k: 10, minRatings: 0, bias: false},
		{users: 101, items: 700, rank: 16, k: 10, minRatings: 2, bias: true},
		{users: 77, items: 603, rank: 64, k: 20, minRatings: 3, bias: false},
		{users: 50, items: 517, rank: 13, k: 7, minRatings: 1, bias: true},
		{users: 30, items: 40, rank: 8, k: 50, minRatings: 0, bias: true}, // k above the candidates
	} {
		name := fmt.Sprintf("users=%d/items=%d/rank=%d/k=%d/min=%d/bias=%v", tc.users, tc.items, tc.rank, tc.k, tc.minRatings, tc.bias)
		t.Run(name, func(t *testing.T) {
			p := newRankProblem(tc.users, tc.items, tc.rank, tc.bias, uint64(tc.items))
			task := eval.NewTask(p.ix, p.train, p.test, tc.k, 4, tc.minRatings)
			all := make([]int32, tc.items)
			for i := range all {
				all[i] = int32(i)
			}
			modelScores := func(u int) []float64 {
				s := make([]float64, tc.items)
				eval.ModelScorer(p.m)(s, u, all)
				return s
			}
			want := referenceRanking(p, tc.k, 4, tc.minRatings, modelScores)
			if want.Users < tc.users/2 {
				t.Fatalf("reference too weak: %+v", want)
			}
			// A fixed list with ties: the movie's index mod 7.
			fixed := make(eval.Fixed, tc.items)
			for i := range fixed {
				fixed[i] = float64(i % 7)
			}
			wantFixed := referenceRanking(p, tc.k, 4, tc.minRatings, func(int) []float64 { return fixed })
			prev := runtime.GOMAXPROCS(0)
			defer runtime.GOMAXPROCS(prev)
			for _, procs := range []int{1, 2} {
				runtime.GOMAXPROCS(procs)
				for _, got := range []struct {
					name      string
					res, want eval.RankingResult
				}{
					{"RankModel", task.RankModel(p.m), want},
					{"RankBatch(ModelBatchScorer)", task.RankBatch(eval.ModelBatchScorer(p.m)), want},
					{"RankFixed", task.RankFixed(fixed), wantFixed},
					{"Rank(Fixed.Score)", task.Rank(fixed.Score), wantFixed},
				} {
					if got.res != got.want {
						t.Errorf("%s on %d goroutines = %+v, want %+v", got.name, procs, got.res, got.want)
					}
				}
			}
			if tc.minRatings == 0 {
				if got := eval.Ranking(p.m, p.ix, p.train, p.test, tc.k, 4); got != want {
					t.Errorf("Ranking = %+v, want %+v", got, want)
				}
			}
		})
	}
}

// TestRankModelAllocs checks that RankModel allocates per goroutine and
// per call, not per user: the same count for 400 users as for 40.
func TestRankModelAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation count")
	}
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	var counts []float64
	for _, users := range []int{40, 400} {
		p := newRankProblem(users, 300, 16, true, 9)
		task := eval.NewTask(p.ix, p.train, p.test, 10, 4, 0)
		counts = append(counts, testing.AllocsPerRun(5, func() { task.RankModel(p.m) }))
	}
	if counts[0] != counts[1] {
		t.Errorf("RankModel allocations: %v for 40 users, %v for 400; want the same", counts[0], counts[1])
	}
}
