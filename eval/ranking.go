package eval

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"movierec/als"
	"movierec/engine"
	"movierec/internal/f32"
)

// RankingResult holds top-k ranking metrics averaged over the test users
// that have at least one relevant test rating.
type RankingResult struct {
	PrecisionAt float64 `json:"precision"` // mean of hits/K
	RecallAt    float64 `json:"recall"`    // mean of hits/relevant
	NDCGAt      float64 `json:"ndcg"`      // mean binary-relevance NDCG@K
	MAPAt       float64 `json:"map"`       // mean average precision at K
	Coverage    float64 `json:"coverage"`  // share of eligible movies in at least one top K
	K           int     `json:"k"`
	Users       int     `json:"users"` // users averaged over
}

// A Scorer writes user u's score of movie i into dst[i] for every dense
// movie index i in items (ascending; the same slice for every user); it may
// write other entries of dst, which are ignored. A higher score ranks first
// and ties go to the lower index. dst has one entry per movie of the task's
// Index. A Scorer is called from several goroutines at once, each with its
// own dst, so it must only read shared state.
type Scorer func(dst []float64, u int, items []int32)

// A BatchScorer is a Scorer for several users at once: it writes user
// users[j]'s scores into dst[j], as a Scorer would. Scoring users
// together lets it reuse each block of item factors from cache.
type BatchScorer func(dst [][]float64, users []int32, items []int32)

// Batch returns score as a BatchScorer that scores one user at a time.
func Batch(score Scorer) BatchScorer {
	return func(dst [][]float64, users []int32, items []int32) {
		for j, u := range users {
			score(dst[j], int(u), items)
		}
	}
}

// ModelScorer scores with m.Predict (unclamped, biases included), in one
// pass over the item factors of items (see ModelBatchScorer).
func ModelScorer(m *als.Model) Scorer {
	bs := ModelBatchScorer(m)
	return func(dst []float64, u int, items []int32) {
		dsts, us := [1][]float64{dst}, [1]int32{int32(u)}
		bs(dsts[:], us[:], items)
	}
}

// ModelBatchScorer scores with m.Predict (unclamped, biases included):
// items are taken scoreBlock at a time, and each block's factor rows
// (scoreBlock·k·4 bytes, L2-resident) are scored for every user before
// the next block, on the float32 AVX2/FMA kernel f32.DotsIdx through a
// buffer on the stack, so a call allocates nothing.
func ModelBatchScorer(m *als.Model) BatchScorer {
	return func(dst [][]float64, users []int32, items []int32) {
		var buf [scoreBlock]float32
		for lo := 0; lo < len(items); lo += scoreBlock {
			ids := items[lo:min(lo+scoreBlock, len(items))]
			for j, u := range users {
				f32.DotsIdx(buf[:], m.ItemFactors, m.Rank, ids, m.User(int(u)))
				d := dst[j]
				if !m.Bias {
					for l, i := range ids {
						d[i] = float64(buf[l])
					}
					continue
				}
				base := float64(m.Mean) + float64(m.UserBias[u])
				for l, i := range ids {
					d[i] = float64(buf[l]) + base + float64(m.ItemBias[i])
				}
			}
		}
	}
}

// scoreBlock is the number of items ModelBatchScorer scores per pass over
// its users.
const scoreBlock = 256

// Task is one top-k ranking problem built from a train/test split, which
// any number of Scorers can be ranked on.
//
// Eligible movies are those with at least minRatings ratings in train (all
// movies of the Index when minRatings ≤ 0): the ones the service would
// recommend. For each user of the Index with at least one relevant test
// rating (Value ≥ relevant) of an eligible movie, a ranker's top k of the
// eligible movies the user did not rate in train is compared with those
// relevant test movies. Test ratings of an unknown user or movie are
// dropped, as Score drops them; so are relevant ratings of ineligible
// movies (no ranking could find them).
//
// Per user, with hits the relevant movies among the top k and R the number
// of relevant movies: precision = hits/k, recall = hits/R, NDCG = DCG/IDCG
// where DCG sums 1/log2(pos+1) over the 1-based positions of the hits and
// IDCG is the DCG of min(R, k) hits at the top, and AP = (Σ over the hits
// of precision at the hit's position) / min(R, k). Coverage is the share of
// eligible movies that appear in the top k of at least one averaged user.
//
// A Task is only read after NewTask, so Rank may be called concurrently.
type Task struct {
	k                  int
	numUsers, numItems int
	seenPtr, relPtr    []int
	seenIdx, relIdx    []int32
	eligible           []int32 // ascending
	inel               []bool  // by movie: not eligible
	users              []int32 // averaged over
}

// NewTask builds the ranking task of train and test over the users and
// movies of ix (which must hold every id the Scorers know: Matrix(train)'s
// Index). k must be positive.
func NewTask(ix Index, train, test []engine.Rating, k int, relevant float32, minRatings int) *Task {
	return newTask(len(ix.Users), len(ix.Movies), ix, train, test, k, relevant, minRatings)
}

func newTask(numUsers, numItems int, ix Index, train, test []engine.Rating, k int, relevant float32, minRatings int) *Task {
	if k <= 0 {
		panic("eval: ranking with k ≤ 0")
	}
	t := &Task{k: k, numUsers: numUsers, numItems: numItems}
	t.seenPtr, t.seenIdx = groupByUser(numUsers, numItems, ix, train, func(engine.Rating) bool { return true })
	count := make([]int, numItems)
	for _, i := range t.seenIdx {
		count[i]++
	}
	t.inel = make([]bool, numItems)
	for i, c := range count {
		t.inel[i] = c < minRatings
		if !t.inel[i] {
			t.eligible = append(t.eligible, int32(i))
		}
	}
	t.relPtr, t.relIdx = groupByUser(numUsers, numItems, ix, test, func(r engine.Rating) bool {
		return r.Value >= relevant && !t.inel[ix.Movies[r.Movie]]
	})
	for u := range numUsers {
		if t.relPtr[u+1] > t.relPtr[u] {
			t.users = append(t.users, int32(u))
		}
	}
	return t
}

// Users returns the number of users Rank averages over.
func (t *Task) Users() int { return len(t.users) }

// Eligible returns the dense indices of the eligible movies, ascending.
// The caller must not modify it.
func (t *Task) Eligible() []int32 { return t.eligible }

// Ranking scores m as a recommender over every movie of ix: it is
// RankingMin with minRatings 0. m, ix, train and test are only read.
func Ranking(m *als.Model, ix Index, train, test []engine.Rating, k int, relevant float32) RankingResult {
	return RankingMin(m, ix, train, test, k, relevant, 0)
}

// RankingMin ranks m (by ModelScorer) on the Task of train and test, over
// the users and movies of m that ix maps (train should be the ratings m was
// trained on). k must be positive.
func RankingMin(m *als.Model, ix Index, train, test []engine.Rating, k int, relevant float32, minRatings int) RankingResult {
	return newTask(m.NumUsers, m.NumItems, ix, train, test, k, relevant, minRatings).RankBatch(ModelBatchScorer(m))
}

// Rank ranks score's top k for every averaged user and returns the mean
// metrics. Users are scored in parallel on GOMAXPROCS goroutines, each with
// its own buffers; the result does not depend on their number.
func (t *Task) Rank(score Scorer) RankingResult { return t.RankBatch(Batch(score)) }

// RankBatch is Rank with a BatchScorer, called for chunks of 16 users.
func (t *Task) RankBatch(score BatchScorer) RankingResult {
	res := RankingResult{K: t.k}
	users, k := t.users, t.k
	if len(users) == 0 {
		return res
	}
	type metrics struct{ p, r, n, ap float64 }
	per := make([]metrics, len(users))
	var next atomic.Int64
	const chunk = 16
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), (len(users)+chunk-1)/chunk)
	shown := make([][]bool, workers) // per worker: movies in some top k
	for w := range workers {
		wg.Go(func() {
			excl := slices.Clone(t.inel)
			rel := make([]bool, t.numItems)
			seenTop := make([]bool, t.numItems)
			shown[w] = seenTop
			batch := make([][]float64, chunk)
			for j := range batch {
				batch[j] = make([]float64, t.numItems)
			}
			top := make([]scored, 0, k)
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(users) {
					return
				}
				hi := min(lo+chunk, len(users))
				score(batch[:hi-lo], users[lo:hi], t.eligible)
				for j := lo; j < hi; j++ {
					u := int(users[j])
					seen, want := t.seenIdx[t.seenPtr[u]:t.seenPtr[u+1]], t.relIdx[t.relPtr[u]:t.relPtr[u+1]]
					scores := batch[j-lo]
					for _, i := range seen {
						excl[i] = true
					}
					top = topK(top[:0], scores, t.eligible, k, excl)
					for _, i := range seen {
						excl[i] = t.inel[i]
					}
					nrel := 0
					for _, i := range want {
						if !rel[i] {
							rel[i] = true
							nrel++
						}
					}
					var hits int
					var dcg, idcg, ap float64
					for pos, s := range top {
						seenTop[s.i] = true
						if rel[s.i] {
							hits++
							dcg += 1 / math.Log2(float64(pos+2))
							ap += float64(hits) / float64(pos+1)
						}
					}
					for pos := range min(nrel, k) {
						idcg += 1 / math.Log2(float64(pos+2))
					}
					for _, i := range want {
						rel[i] = false
					}
					per[j] = metrics{float64(hits) / float64(k), float64(hits) / float64(nrel), dcg / idcg, ap / float64(min(nrel, k))}
				}
			}
		})
	}
	wg.Wait()
	for _, x := range per {
		res.PrecisionAt += x.p
		res.RecallAt += x.r
		res.NDCGAt += x.n
		res.MAPAt += x.ap
	}
	n := float64(len(users))
	res.PrecisionAt /= n
	res.RecallAt /= n
	res.NDCGAt /= n
	res.MAPAt /= n
	res.Users = len(users)
	if len(t.eligible) > 0 {
		covered := 0
		for _, i := range t.eligible {
			for _, s := range shown {
				if s != nil && s[i] {
					covered++
					break
				}
			}
		}
		res.Coverage = float64(covered) / float64(len(t.eligible))
	}
	return res
}

// groupByUser returns, for the ratings that keep accepts and whose user and
// movie are in ix (and below numUsers and numItems), the dense movie indices grouped by dense user in
// CSR form: user u's are idx[ptr[u]:ptr[u+1]].
func groupByUser(numUsers, numItems int, ix Index, rs []engine.Rating, keep func(engine.Rating) bool) (ptr []int, idx []int32) {
	known := func(r engine.Rating) (int32, int32, bool) {
		u, ok1 := ix.Users[r.User]
		i, ok2 := ix.Movies[r.Movie]
		return u, i, ok1 && ok2 && int(u) < numUsers && int(i) < numItems && keep(r)
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

// topK appends to dst (empty, capacity ≥ k) the k best of items that excl
// does not mark, by scores, best first. It keeps a min-heap of the best k.
func topK(dst []scored, scores []float64, items []int32, k int, excl []bool) []scored {
	h := dst[:0]
	for _, i := range items {
		s := scores[i]
		if k > 0 && len(h) == k && s < h[0].s {
			continue // below the worst kept: most movies, decided on the score alone
		}
		if excl[i] {
			continue
		}
		c := scored{s, i}
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
