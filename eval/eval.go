package eval

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"movierec/als"
	"movierec/engine"
)

// Result is the outcome of one evaluation.
type Result struct {
	RMSE         float64 `json:"rmse"`
	MAE          float64 `json:"mae"`
	TestPairs    int     `json:"test_pairs"`
	Skipped      int     `json:"skipped"`
	TrainSeconds float64 `json:"train_seconds"`
}

// SplitInPlace makes the same split as Split with the same seed without
// copying the training part: it reorders rs so that the training ratings
// come first (in their original order) and returns train = rs[:n] and a new
// slice holding the test ratings. rs must not be used afterwards.
func SplitInPlace(rs []engine.Rating, fraction float64, seed uint64) (train, test []engine.Rating) {
	rng := rand.New(rand.NewPCG(seed, 0x6d6f76696572))
	test = make([]engine.Rating, 0, int(float64(len(rs))*fraction)+1)
	w := 0
	for _, r := range rs {
		if rng.Float64() < fraction {
			test = append(test, r)
		} else {
			rs[w] = r
			w++
		}
	}
	return rs[:w:w], test
}

// Split puts each rating into the test set with probability fraction,
// drawing from a PCG stream seeded by seed, so the same seed gives the same
// split. The input is not modified.
func Split(rs []engine.Rating, fraction float64, seed uint64) (train, test []engine.Rating) {
	rng := rand.New(rand.NewPCG(seed, 0x6d6f76696572))
	train = make([]engine.Rating, 0, int(float64(len(rs))*(1-fraction))+1)
	test = make([]engine.Rating, 0, int(float64(len(rs))*fraction)+1)
	for _, r := range rs {
		if rng.Float64() < fraction {
			test = append(test, r)
		} else {
			train = append(train, r)
		}
	}
	return train, test
}

// Index maps external user and movie ids of a training set to dense
// indices.
type Index struct {
	Users  map[int32]int32
	Movies map[int32]int32
}

// Matrix builds the training matrix from ratings: ids are mapped densely in
// order of first appearance, and a later rating of the same pair replaces an
// earlier one. Besides the result it allocates one int32 per rating.
func Matrix(train []engine.Rating) (*als.Ratings, Index) {
	ix := Index{Users: make(map[int32]int32), Movies: make(map[int32]int32)}
	uix := make([]int32, len(train))
	var counts []int64
	for k, r := range train {
		u, ok := ix.Users[r.User]
		if !ok {
			u = int32(len(ix.Users))
			ix.Users[r.User] = u
			counts = append(counts, 0)
		}
		if _, ok := ix.Movies[r.Movie]; !ok {
			ix.Movies[r.Movie] = int32(len(ix.Movies))
		}
		uix[k] = u
		counts[u]++
	}
	ptr := make([]int64, len(counts)+1)
	for u, n := range counts {
		ptr[u+1] = ptr[u] + n
	}
	idx := make([]int32, len(train))
	val := make([]float32, len(train))
	pos := counts // reuse: next free slot of each row, as an offset
	clear(pos)
	for k, r := range train {
		u := uix[k]
		p := ptr[u] + pos[u]
		idx[p], val[p] = ix.Movies[r.Movie], r.Value
		pos[u]++
	}
	uix = nil
	// Sort each row by item, keeping file order among duplicates, and keep
	// the last of each duplicate run; rows are compacted in place.
	type pair struct {
		i int32
		v float32
	}
	var scratch []pair
	w := int64(0)
	for u := 0; u < len(ptr)-1; u++ {
		lo, hi := ptr[u], ptr[u+1]
		scratch = scratch[:0]
		for p := lo; p < hi; p++ {
			scratch = append(scratch, pair{idx[p], val[p]})
		}
		slices.SortStableFunc(scratch, func(a, b pair) int { return cmp.Compare(a.i, b.i) })
		ptr[u] = w
		for j, pr := range scratch {
			if j+1 < len(scratch) && scratch[j+1].i == pr.i {
				continue
			}
			idx[w], val[w] = pr.i, pr.v
			w++
		}
	}
	ptr[len(ptr)-1] = w
	return als.NewRatingsCSR(len(ix.Users), len(ix.Movies), ptr, idx[:w:w], val[:w:w]), ix
}

// Run trains s on train with p and scores test. Predictions are clamped to
// scale, as the service serves them. progress may be nil.
func Run(ctx context.Context, s als.Solver, p als.Params, scale engine.Scale, train, test []engine.Rating, progress func(als.Iteration)) (Result, *als.Model, Index, error) {
	r, ix := Matrix(train)
	m, secs, err := Fit(ctx, s, r, p, progress)
	if err != nil {
		return Result{}, nil, ix, err
	}
	res := Score(m, ix, scale, test)
	res.TrainSeconds = secs
	return res, m, ix, nil
}

// Fit trains s on r with p and returns the model and the seconds it took.
// progress may be nil.
func Fit(ctx context.Context, s als.Solver, r *als.Ratings, p als.Params, progress func(als.Iteration)) (*als.Model, float64, error) {
	var m als.Model
	start := time.Now()
	if err := s.Fit(ctx, &m, r, p, progress); err != nil {
		return nil, 0, fmt.Errorf("train on %d ratings: %w", r.NNZ(), err)
	}
	return &m, time.Since(start).Seconds(), nil
}

// Score computes RMSE and MAE of m over test, skipping pairs whose user or
// movie is not in ix.
func Score(m *als.Model, ix Index, scale engine.Scale, test []engine.Rating) Result {
	var res Result
	var se, ae float64
	for _, t := range test {
		u, ok1 := ix.Users[t.User]
		i, ok2 := ix.Movies[t.Movie]
		if !ok1 || !ok2 {
			res.Skipped++
			continue
		}
		p := math.Max(float64(scale.Min), math.Min(float64(scale.Max), m.Predict(int(u), int(i))))
		d := p - float64(t.Value)
		se += d * d
		ae += math.Abs(d)
		res.TestPairs++
	}
	if res.TestPairs > 0 {
		res.RMSE = math.Sqrt(se / float64(res.TestPairs))
		res.MAE = ae / float64(res.TestPairs)
	}
	return res
}
