package alstest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"movierec/als"
)

// Size is a problem size class for benchmarks.
type Size struct {
	Name         string
	Users, Items int
	NNZ          int
}

// Sizes are the benchmark size classes: "small" has the shape of
// MovieLens ml-latest-small, "medium" is a 2M-rating problem.
var Sizes = []Size{
	{Name: "small", Users: 610, Items: 9724, NNZ: 100836},
	{Name: "medium", Users: 20000, Items: 10000, NNZ: 2_000_000},
}

// Ratings builds the size class's synthetic ratings: a rank-10 ground
// truth plus Gaussian noise of 0.5, from seed.
func (s Size) Ratings(seed uint64) *als.Ratings {
	r, _ := Synthetic(s.Users, s.Items, s.NNZ, 10, 0.5, seed)
	return r
}

// Synthetic returns nnz ratings drawn from a rank-rank ground truth without
// biases, and the truth itself. Each value is the truth's prediction plus
// Gaussian noise of standard deviation noise, clipped to [0.5, 5]; the
// truth's predictions average about 3.5 with a spread of about 1.
//
// Row lengths are skewed the way rating data is: users and items get
// Zipf-like popularity, so a few rows are very long (thousands of ratings
// when the sizes allow), many are short, and some users and items (about
// 2% of each, at least one when there are four or more) have no ratings
// at all; about 2% of users (at least one) have exactly one. Each
// (user, item) pair occurs at most once. The result depends only on the
// arguments. It panics if nnz ratings cannot be placed.
func Synthetic(numUsers, numItems, nnz, rank int, noise float64, seed uint64) (*als.Ratings, *als.Model) {
	return synthetic(numUsers, numItems, nnz, rank, noise, seed, false)
}

// SyntheticBias is Synthetic with a biased ground truth: mean 3.5, user
// and item biases of standard deviation 0.5, and factors whose products
// have standard deviation about 0.5. The returned truth has Bias set.
func SyntheticBias(numUsers, numItems, nnz, rank int, noise float64, seed uint64) (*als.Ratings, *als.Model) {
	return synthetic(numUsers, numItems, nnz, rank, noise, seed, true)
}

func synthetic(numUsers, numItems, nnz, rank int, noise float64, seed uint64, bias bool) (*als.Ratings, *als.Model) {
	if rank < 1 || numUsers < 0 || numItems < 0 || nnz < 0 {
		panic(fmt.Sprintf("alstest: bad synthetic shape %d×%d nnz %d rank %d", numUsers, numItems, nnz, rank))
	}
	rng := rand.New(rand.NewPCG(seed, 0x616c7374657374))
	truth := groundTruth(rng, numUsers, numItems, rank, bias)

	userW := zipfWeights(rng, numUsers)
	itemW := zipfWeights(rng, numItems)
	counts := userCounts(userW, nnz, countPositive(itemW))

	// Cumulative item weights for inverse-CDF sampling.
	cdf := make([]float64, numItems)
	var acc float64
	for i, w := range itemW {
		acc += w
		cdf[i] = acc
	}
	users := make([]int32, 0, nnz)
	items := make([]int32, 0, nnz)
	vals := make([]float32, 0, nnz)
	taken := make([]int32, numItems) // taken[i] == u+1: user u rated item i
	eligible := countPositive(itemW)
	for u, c := range counts {
		if c == 0 {
			continue
		}
		start := len(items)
		if 4*c > eligible {
			items = append(items, heaviest(rng, itemW, c)...)
		} else {
			for len(items)-start < c {
				i := sampleCDF(rng, cdf)
				if taken[i] == int32(u+1) {
					continue
				}
				taken[i] = int32(u + 1)
				items = append(items, int32(i))
			}
		}
		for _, i := range items[start:] {
			users = append(users, int32(u))
			v := truth.Predict(u, int(i)) + noise*rng.NormFloat64()
			vals = append(vals, float32(min(5, max(0.5, v))))
		}
	}
	return als.NewRatings(numUsers, numItems, users, items, vals), truth
}

// groundTruth draws the truth model's factors (and biases).
func groundTruth(rng *rand.Rand, numUsers, numItems, rank int, bias bool) *als.Model {
	m := &als.Model{
		Rank: rank, NumUsers: numUsers, NumItems: numItems,
		UserFactors: make([]float32, numUsers*rank),
		ItemFactors: make([]float32, numItems*rank),
		Bias:        bias,
	}
	k := float64(rank)
	var mu, sd float64
	if bias {
		// Products x·y of zero-mean factors: variance k·sd⁴ = 0.25.
		sd = math.Sqrt(0.5 / math.Sqrt(k))
		m.Mean = 3.5
		m.UserBias = make([]float32, numUsers)
		m.ItemBias = make([]float32, numItems)
		for u := range m.UserBias {
			m.UserBias[u] = float32(0.5 * rng.NormFloat64())
		}
		for i := range m.ItemBias {
			m.ItemBias[i] = float32(0.5 * rng.NormFloat64())
		}
	} else {
		// Factors with mean mu: E[x·y] = k·mu² = 3.5 and
		// Var[x·y] = k(2mu²sd² + sd⁴) = 1.
		mu = math.Sqrt(3.5 / k)
		sd = math.Sqrt((-7 + math.Sqrt(49+4*k)) / (2 * k))
	}
	for j := range m.UserFactors {
		m.UserFactors[j] = float32(mu + sd*rng.NormFloat64())
	}
	for j := range m.ItemFactors {
		m.ItemFactors[j] = float32(mu + sd*rng.NormFloat64())
	}
	return m
}

// zipfWeights returns n popularity weights: a random permutation of
// 1/(j+5)^0.9, with the n/50 lowest (at least one when n ≥ 4) set to zero.
func zipfWeights(rng *rand.Rand, n int) []float64 {
	w := make([]float64, n)
	zeros := n / 50
	if n >= 4 {
		zeros = max(zeros, 1)
	}
	perm := rng.Perm(n)
	for j, at := range perm {
		if j < n-zeros {
			w[at] = math.Pow(float64(j+5), -0.9)
		}
	}
	return w
}

func countPositive(w []float64) int {
	n := 0
	for _, v := range w {
		if v > 0 {
			n++
		}
	}
	return n
}

// userCounts shares nnz ratings among users in proportion to their
// weights, at most capacity each. Zero-weight users get none; the
// lowest-weight users (2%, at least one when there are four or more
// users) get exactly one.
func userCounts(w []float64, nnz, capacity int) []int {
	n := len(w)
	order := make([]int, n) // users by decreasing weight
	for u := range order {
		order[u] = u
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case w[a] > w[b]:
			return -1
		case w[a] < w[b]:
			return 1
		}
		return 0
	})
	active := order[:countPositive(w)]
	ones := n / 50
	if n >= 4 {
		ones = max(ones, 1)
	}
	ones = min(ones, len(active), nnz)
	if capacity == 0 {
		ones = 0
	}
	counts := make([]int, n)
	for _, u := range active[len(active)-ones:] {
		counts[u] = 1
	}
	rest := active[:len(active)-ones]
	left := nnz - ones
	if left > len(rest)*capacity || (left > 0 && len(rest) == 0) {
		panic(fmt.Sprintf("alstest: cannot place %d ratings in %d users × %d items", nnz, len(active), capacity))
	}
	var total float64
	for _, u := range rest {
		total += w[u]
	}
	for _, u := range rest {
		c := min(capacity, int(float64(left)*w[u]/total))
		counts[u] = c
	}
	placed := 0
	for _, u := range rest {
		placed += counts[u]
	}
	for left -= placed; left > 0; {
		for _, u := range rest {
			if left == 0 {
				break
			}
			if counts[u] < capacity {
				counts[u]++
				left--
			}
		}
	}
	return counts
}

// sampleCDF draws an index with probability proportional to its weight,
// given the cumulative weights.
func sampleCDF(rng *rand.Rand, cdf []float64) int {
	x := rng.Float64() * cdf[len(cdf)-1]
	i, _ := slices.BinarySearch(cdf, x)
	for i < len(cdf)-1 && cdf[i] <= x { // x fell exactly on a boundary
		i++
	}
	return i
}

// heaviest draws c distinct indices without replacement with
// probabilities proportional to w (Efraimidis–Spirakis keys); for rows
// that take a large share of the items, where rejection would crawl.
func heaviest(rng *rand.Rand, w []float64, c int) []int32 {
	type kv struct {
		key float64
		i   int32
	}
	keys := make([]kv, 0, len(w))
	for i, wi := range w {
		if wi > 0 {
			keys = append(keys, kv{math.Log(1-rng.Float64()) / wi, int32(i)})
		}
	}
	slices.SortFunc(keys, func(a, b kv) int {
		switch {
		case a.key > b.key:
			return -1
		case a.key < b.key:
			return 1
		}
		return int(a.i - b.i)
	})
	out := make([]int32, c)
	for j := range out {
		out[j] = keys[j].i
	}
	return out
}
