package eval

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"movierec/als"
	"movierec/engine"
)

// RankingResult holds top-k ranking metrics averaged over the test users
// that have at least one relevant test rating.
type RankingResult struct {
	PrecisionAt float64 `json:"precision"` // mean of hits/K
	RecallAt    float64 `json:"recall"`    // mean of hits/relevant
	NDCGAt      float64 `json:"ndcg"`      // mean binary-relevance NDCG@K
	K           int     `json:"k"`
	Users       int     `json:"users"` // users averaged over
}

// Ranking scores m as a recommender: for each user known to ix with at
// least one relevant test rating (Value ≥ relevant) of a movie known to ix,
// it ranks every movie of the model by predicted score (als.Model.Predict;
// ties go to the lower dense index), leaving out the movies the user rated
// in train, and compares the top k with the relevant test movies.
//
// Per user, with hits the relevant movies among the top k and R the number
// of relevant movies: precision = hits/k, recall = hits/R, and NDCG =
// DCG/IDCG where DCG sums 1/log2(pos+1) over the 1-based positions of the
// hits and IDCG is the DCG of min(R, k) hits at the top. Test ratings of an
// unknown user or movie are dropped, as Score drops them; train should be
// the ratings m was trained on (only pairs whose ids are in ix count).
//
// Users are scored in parallel on GOMAXPROCS goroutines, each with its own
// buffers; the result does not depend on their number. m, ix, train and
// test are only read. k must be positive.
func Ranking(m *als.Model, ix Index, train, test []engine.Rating, k int, relevant float32) RankingResult {
	return RankingMin(m, ix, train, test, k, relevant, 0)
}

// RankingMin is Ranking restricted to the movies the service would
// recommend: those with at least minRatings ratings in train. Other movies
// are never ranked, and relevant test movies among them are dropped (no
// ranking could find them).
func RankingMin(m *als.Model, ix Index, train, test []engine.Rating, k int, relevant float32, minRatings int) RankingResult {
	if k <= 0 {
		panic("eval: Ranking with k ≤ 0")
	}
	res := RankingResult{K: k}
	seenPtr, seenIdx := groupByUser(m, ix, train, func(engine.Rating) bool { return true })
	// inel marks the movies that may not be recommended.
	count := make([]int, m.NumItems)
	for _, i := range seenIdx {
		count[i]++
	}
	inel := make([]bool, m.NumItems)
	for i, c := range count {
		inel[i] = c < minRatings
	}
	relPtr, relIdx := groupByUser(m, ix, test, func(r engine.Rating) bool {
		return r.Value >= relevant && !inel[ix.Movies[r.Movie]]
	})
	var users []int32
	for u := range m.NumUsers {
		if relPtr[u+1] > relPtr[u] {
			users = append(users, int32(u))
		}
	}
	if len(users) == 0 {
		return res
	}

	type metrics struct{ p, r, n float64 }
	per := make([]metrics, len(users))
	var next atomic.Int64
	const chunk = 16
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), (len(users)+chunk-1)/chunk) {
		wg.Go(func() {
			excl := slices.Clone(inel)
			rel := make([]bool, m.NumItems)
			top := make([]scored, 0, k)
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(users) {
					return
				}
				for j := lo; j < min(lo+chunk, len(users)); j++ {
					u := int(users[j])
					seen, want := seenIdx[seenPtr[u]:seenPtr[u+1]], relIdx[relPtr[u]:relPtr[u+1]]
					for _, i := range seen {
						excl[i] = true
					}
					top = topK(top[:0], m, u, k, excl)
					for _, i := range seen {
						excl[i] = inel[i]
					}
					nrel := 0
					for _, i := range want {
						if !rel[i] {
							rel[i] = true
							nrel++
						}
					}
					var hits int
					var dcg, idcg float64
					for pos, s := range top {
						if rel[s.i] {
							hits++
							dcg += 1 / math.Log2(float64(pos+2))
						}
					}
					for pos := range min(nrel, k) {
						idcg += 1 / math.Log2(float64(pos+2))
					}
					for _, i := range want {
						rel[i] = false
					}
					per[j] = metrics{float64(hits) / float64(k), float64(hits) / float64(nrel), dcg / idcg}
				}
			}
		})
	}
	wg.Wait()
	for _, x := range per {
		res.PrecisionAt += x.p
		res.RecallAt += x.r
		res.NDCGAt += x.n
	}
	n := float64(len(users))
	res.PrecisionAt /= n
	res.RecallAt /= n
	res.NDCGAt /= n
	res.Users = len(users)
	return res
}

// groupByUser returns, for the ratings that keep accepts and whose user and
// movie are in ix (and m), the dense movie indices grouped by dense user in
// CSR form: user u's are idx[ptr[u]:ptr[u+1]].
func groupByUser(m *als.Model, ix Index, rs []engine.Rating, keep func(engine.Rating) bool) (ptr []int, idx []int32) {
	numUsers := m.NumUsers
	known := func(r engine.Rating) (int32, int32, bool) {
		u, ok1 := ix.Users[r.User]
		i, ok2 := ix.Movies[r.Movie]
		return u, i, ok1 && ok2 && int(u) < numUsers && int(i) < m.NumItems && keep(r)
	}
	ptr = make([]int, numUsers+2)
	for _, r := range rs {
		if u, _, ok := known(r); ok {
			ptr[u+2]++
		}
	}
	for u := 2; u < len(ptr); u++ {
		ptr[u] += ptr[u-1]
	}
	idx = make([]int32, ptr[numUsers+1])
	for _, r := range rs {
		if u, i, ok := known(r); ok {
			idx[ptr[u+1]] = i
			ptr[u+1]++
		}
	}
	return ptr[:numUsers+1], idx
}

// scored is a candidate movie in a top-k list.
type scored struct {
	s float64
	i int32
}

// worse reports whether a ranks below b: a lower score, or an equal score
// and a higher index.
func worse(a, b scored) bool { return a.s < b.s || a.s == b.s && a.i > b.i }

// topK appends to dst (empty, capacity ≥ k) the k best movies for user u
// that excl does not mark, best first, scoring them as m.Predict does in
// one pass over the item factors. It keeps a min-heap of the best k.
func topK(dst []scored, m *als.Model, u, k int, excl []bool) []scored {
	x := m.User(u)
	var base float64
	if m.Bias {
		base = float64(m.Mean) + float64(m.UserBias[u])
	}
	h := dst[:0]
	r := m.Rank
	for i := range m.NumItems {
		if excl[i] {
			continue
		}
		s := float64(als.Dot(x, m.ItemFactors[i*r:(i+1)*r]))
		if m.Bias {
			s += base + float64(m.ItemBias[i])
		}
		c := scored{s, int32(i)}
		if len(h) < k {
			h = append(h, c)
			for j := len(h) - 1; j > 0; { // sift up
				p := (j - 1) / 2
				if !worse(h[j], h[p]) {
					break
				}
				h[j], h[p] = h[p], h[j]
				j = p
			}
			continue
		}
		if !worse(h[0], c) {
			continue
		}
		h[0] = c
		siftDown(h, 0, len(h))
	}
	// Heap sort: pop the worst to the end until the best is first.
	for end := len(h) - 1; end > 0; end-- {
		h[0], h[end] = h[end], h[0]
		siftDown(h, 0, end)
	}
	return h
}

// siftDown restores the min-heap (by worse) property of h[:n] below j.
func siftDown(h []scored, j, n int) {
	for {
		l := 2*j + 1
		if l >= n {
			return
		}
		if r := l + 1; r < n && worse(h[r], h[l]) {
			l = r
		}
		if !worse(h[l], h[j]) {
			return
		}
		h[j], h[l] = h[l], h[j]
		j = l
	}
}
