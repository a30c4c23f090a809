package eval

import (
	"cmp"
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
// any number of rankers can be ranked on.
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
// A top k ranks by score, higher first, and ties go to the lower movie
// index. Every Rank method computes these the same way, so the same scores
// give bit-identical results whichever method ranks them.
//
// A Task is only read after NewTask, so its methods may be called
// concurrently.
type Task struct {
	k                  int
	numUsers, numItems int
	seenPtr, relPtr    []int
	seenPos            []int32 // per user: the eligible positions of the training movies, ascending
	relIdx             []int32
	eligible           []int32 // ascending
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
	seenPtr, seenIdx := groupByUser(numUsers, numItems, ix, train, func(engine.Rating) bool { return true })
	count := make([]int, numItems)
	for _, i := range seenIdx {
		count[i]++
	}
	pos := make([]int32, numItems) // by movie: its index in eligible, or -1
	for i, c := range count {
		pos[i] = -1
		if c >= minRatings {
			pos[i] = int32(len(t.eligible))
			t.eligible = append(t.eligible, int32(i))
		}
	}
	// Each user's training movies become their eligible positions, sorted,
	// in place: what the rankers skip, walking the eligible list in order.
	t.seenPtr = make([]int, numUsers+1)
	w := 0
	for u := range numUsers {
		start := w
		for _, i := range seenIdx[seenPtr[u]:seenPtr[u+1]] {
			if p := pos[i]; p >= 0 {
				seenIdx[w] = p
				w++
			}
		}
		slices.Sort(seenIdx[start:w])
		t.seenPtr[u+1] = w
	}
	t.seenPos = seenIdx[:w:w]
	t.relPtr, t.relIdx = groupByUser(numUsers, numItems, ix, test, func(r engine.Rating) bool {
		return r.Value >= relevant && pos[ix.Movies[r.Movie]] >= 0
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

// seen returns user u's training movies as eligible positions, ascending.
func (t *Task) seen(u int32) []int32 { return t.seenPos[t.seenPtr[u]:t.seenPtr[u+1]] }

// Ranking scores m as a recommender over every movie of ix: it is
// RankingMin with minRatings 0. m, ix, train and test are only read.
func Ranking(m *als.Model, ix Index, train, test []engine.Rating, k int, relevant float32) RankingResult {
	return RankingMin(m, ix, train, test, k, relevant, 0)
}

// RankingMin ranks m (by Task.RankModel) on the Task of train and test,
// over the users and movies of m that ix maps (train should be the ratings
// m was trained on). k must be positive.
func RankingMin(m *als.Model, ix Index, train, test []engine.Rating, k int, relevant float32, minRatings int) RankingResult {
	return newTask(m.NumUsers, m.NumItems, ix, train, test, k, relevant, minRatings).RankModel(m)
}

// Rank ranks score's top k for every averaged user and returns the mean
// metrics. Users are scored in parallel on GOMAXPROCS goroutines, each with
// its own buffers; the result does not depend on their number.
func (t *Task) Rank(score Scorer) RankingResult { return t.RankBatch(Batch(score)) }

// RankBatch is Rank with a BatchScorer, called for chunks of 16 users.
func (t *Task) RankBatch(score BatchScorer) RankingResult {
	const chunk = 16
	return t.run(chunk, func() ranker {
		batch := make([][]float64, chunk)
		for j := range batch {
			batch[j] = make([]float64, t.numItems)
		}
		var sel selector
		return func(tops [][]int32, users []int32) {
			score(batch[:len(users)], users, t.eligible)
			for j, u := range users {
				sel.reset(t.k, t.seen(u))
				sel.offerByMovie(batch[j], t.eligible)
				tops[j] = sel.appendTop(tops[j][:0], t.eligible)
			}
		}
	})
}

// RankModel is RankBatch(ModelBatchScorer(m)), bit for bit, faster: the
// eligible movies' factor rows are packed once, contiguous, and scored
// scoreBlock at a time for 24 users at once by f32.DotsTile (which sums
// as ModelBatchScorer's kernel does), and each block's scores go straight
// into the users' top k, where all but a few are rejected by comparison
// with the worst score kept (without biases, on the float32 scores eight
// at a time by f32.IndexAbove). m is only read; it must have the users and
// movies of the Task.
func (t *Task) RankModel(m *als.Model) RankingResult {
	const chunk = 24 // a multiple of DotsTile's three vectors
	k, e := m.Rank, len(t.eligible)
	ld := f32.TileStride(k)
	items := make([]float32, e*ld) // zero-padded rows, as DotsTile wants
	var bias []float64             // by eligible position
	for p, i := range t.eligible {
		copy(items[p*ld:p*ld+k], m.ItemFactors[int(i)*k:int(i)*k+k])
	}
	if m.Bias {
		bias = make([]float64, e)
		for p, i := range t.eligible {
			bias[p] = float64(m.ItemBias[i])
		}
	}
	return t.run(chunk, func() ranker {
		ps := make([]float32, chunk*ld)
		buf := make([]float32, chunk*scoreBlock)
		sel := make([]selector, chunk)
		hs := make([]scored, chunk*t.k)
		for j := range sel {
			sel[j].h = hs[j*t.k : j*t.k : (j+1)*t.k]
		}
		return func(tops [][]int32, users []int32) {
			for j, u := range users {
				copy(ps[j*ld:j*ld+k], m.User(int(u)))
				sel[j].reset(t.k, t.seen(u))
			}
			for lo := 0; lo < e; lo += scoreBlock {
				n := min(scoreBlock, e-lo)
				f32.DotsTile(buf, scoreBlock, items[lo*ld:], n, ps, len(users), k)
				for j, u := range users {
					row := buf[j*scoreBlock : j*scoreBlock+n]
					if bias == nil {
						sel[j].offer32(row, lo)
						continue
					}
					// As ModelBatchScorer adds them, in float64.
					sel[j].offerBiased(row, lo, float64(m.Mean)+float64(m.UserBias[u]), bias[lo:lo+n])
				}
			}
			for j := range users {
				tops[j] = sel[j].appendTop(tops[j][:0], t.eligible)
			}
		}
	})
}

// RankFixed is Rank(scores.Score), bit for bit, for scores that are the
// same for every user (such as MostRated's and BestAverage's): the
// eligible movies are sorted by score once, and each user's top k is the
// first k of that list the user did not rate in train. scores is only
// read, and must hold no NaN.
func (t *Task) RankFixed(scores Fixed) RankingResult {
	order := make([]int32, len(t.eligible)) // eligible positions, best first
	for p := range order {
		order[p] = int32(p)
	}
	slices.SortFunc(order, func(a, b int32) int {
		sa, sb := scores[t.eligible[a]], scores[t.eligible[b]]
		switch {
		case sa > sb:
			return -1
		case sa < sb:
			return 1
		}
		return cmp.Compare(a, b)
	})
	return t.run(256, func() ranker {
		seen := make([]bool, len(t.eligible)) // by eligible position
		return func(tops [][]int32, users []int32) {
			for j, u := range users {
				for _, p := range t.seen(u) {
					seen[p] = true
				}
				top := tops[j][:0]
				for _, p := range order {
					if len(top) == t.k {
						break
					}
					if !seen[p] {
						top = append(top, t.eligible[p])
					}
				}
				tops[j] = top
				for _, p := range t.seen(u) {
					seen[p] = false
				}
			}
		}
	})
}

// A ranker sets tops[j] (capacity k) to the top k of user users[j], dense
// movie indices, best first. Each goroutine of Task.run has its own.
type ranker func(tops [][]int32, users []int32)

// run ranks every averaged user, chunk users at a time, on GOMAXPROCS
// goroutines that each get a ranker from newRanker, and returns the mean
// metrics, summed in user order so that the result does not depend on
// the goroutines.
func (t *Task) run(chunk int, newRanker func() ranker) RankingResult {
	res := RankingResult{K: t.k}
	users := t.users
	if len(users) == 0 {
		return res
	}
	per := make([]metrics, len(users))
	var next atomic.Int64
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), (len(users)+chunk-1)/chunk)
	shown := make([][]bool, workers) // per worker: movies in some top k
	for w := range workers {
		wg.Go(func() {
			rank := newRanker()
			rel := make([]bool, t.numItems)
			seenTop := make([]bool, t.numItems)
			shown[w] = seenTop
			tops, all := make([][]int32, chunk), make([]int32, chunk*t.k)
			for j := range tops {
				tops[j] = all[j*t.k : j*t.k : (j+1)*t.k]
			}
			for {
				lo := int(next.Add(int64(chunk))) - chunk
				if lo >= len(users) {
					return
				}
				hi := min(lo+chunk, len(users))
				rank(tops[:hi-lo], users[lo:hi])
				for j := lo; j < hi; j++ {
					per[j] = t.metrics(tops[j-lo], users[j], rel, seenTop)
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

// metrics are one user's ranking metrics.
type metrics struct{ p, r, n, ap float64 }

// metrics scores user u's top list against the user's relevant test
// movies, and marks top's movies in shown. rel (by movie, all false) is
// scratch, returned all false.
func (t *Task) metrics(top []int32, u int32, rel, shown []bool) metrics {
	k := t.k
	want := t.relIdx[t.relPtr[u]:t.relPtr[u+1]]
	nrel := 0
	for _, i := range want {
		if !rel[i] {
			rel[i] = true
			nrel++
		}
	}
	var hits int
	var dcg, idcg, ap float64
	for pos, i := range top {
		shown[i] = true
		if rel[i] {
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
	return metrics{float64(hits) / float64(k), float64(hits) / float64(nrel), dcg / idcg, ap / float64(min(nrel, k))}
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

// scored is a candidate movie in a top-k list: its score and its
// position in the Task's eligible list (ordered as the movie indices).
type scored struct {
	s float64
	i int32
}

// worse reports whether a ranks below b: a lower score, or an equal score
// and a higher index.
func worse(a, b scored) bool { return a.s < b.s || a.s == b.s && a.i > b.i }

// A selector keeps one user's best k candidates, offered in ascending
// position, in a min-heap (by worse) of at most k, skipping the user's
// training movies by a cursor into their sorted positions. As positions
// only grow, a candidate that merely ties the worst kept loses to it, so
// once the heap is full one comparison with the worst score rejects most
// candidates: before any other work, and on the float32 score itself
// where the score is a float32. The zero value is ready for reset.
type selector struct {
	h    []scored
	k    int
	seen []int32 // the user's training movies' positions, ascending
	cur  int     // seen[:cur] are below every position still to come
}

// reset starts a new user's top k, with seen (ascending positions)
// excluded.
func (s *selector) reset(k int, seen []int32) {
	if cap(s.h) < k {
		s.h = make([]scored, 0, k)
	}
	s.h, s.k, s.seen, s.cur = s.h[:0], k, seen, 0
}

// offer considers the candidate at position p (above every earlier one)
// with score v, and reports whether it was kept.
func (s *selector) offer(v float64, p int32) bool {
	h := s.h
	if len(h) == s.k && !(v > h[0].s) {
		return false // ties the worst kept, or below it: loses on position
	}
	for s.cur < len(s.seen) && s.seen[s.cur] < p {
		s.cur++
	}
	if s.cur < len(s.seen) && s.seen[s.cur] == p {
		return false
	}
	c := scored{v, p}
	if len(h) < s.k {
		h = append(h, c)
		for j := len(h) - 1; j > 0; { // sift up
			q := (j - 1) / 2
			if !worse(h[j], h[q]) {
				break
			}
			h[j], h[q] = h[q], h[j]
			j = q
		}
		s.h = h
		return true
	}
	h[0] = c
	siftDown(h, 0, len(h))
	return true
}

// offer32 offers row[l] at position lo+l for every l.
func (s *selector) offer32(row []float32, lo int) {
	l := 0
	for ; l < len(row) && len(s.h) < s.k; l++ {
		s.offer(float64(row[l]), int32(lo+l))
	}
	if l == len(row) {
		return
	}
	// offer's first test, in float32 (exact: every kept score is a
	// float32), eight scores a compare by f32.IndexAbove.
	thr := float32(s.h[0].s)
	for l < len(row) {
		d := f32.IndexAbove(row[l:], thr)
		if d < 0 {
			return
		}
		l += d
		if s.offer(float64(row[l]), int32(lo+l)) {
			thr = float32(s.h[0].s)
		}
		l++
	}
}

// offerBiased offers float64(row[l]) + base + bias[l] at position lo+l for
// every l.
func (s *selector) offerBiased(row []float32, lo int, base float64, bias []float64) {
	bias = bias[:len(row)]
	l := 0
	for ; l < len(row) && len(s.h) < s.k; l++ {
		s.offer(float64(row[l])+base+bias[l], int32(lo+l))
	}
	if l == len(row) {
		return
	}
	thr := s.h[0].s
	for ; l < len(row); l++ {
		if v := float64(row[l]) + base + bias[l]; v > thr {
			if s.offer(v, int32(lo+l)) {
				thr = s.h[0].s
			}
		}
	}
}

// offerByMovie offers scores[i] for each movie i of items, at its
// position in items.
func (s *selector) offerByMovie(scores []float64, items []int32) {
	l := 0
	for ; l < len(items) && len(s.h) < s.k; l++ {
		s.offer(scores[items[l]], int32(l))
	}
	if l == len(items) {
		return
	}
	thr := s.h[0].s
	for ; l < len(items); l++ {
		if v := scores[items[l]]; v > thr {
			if s.offer(v, int32(l)) {
				thr = s.h[0].s
			}
		}
	}
}

// appendTop appends the kept candidates to dst as movies (items[position]),
// best first, and empties the heap.
func (s *selector) appendTop(dst []int32, items []int32) []int32 {
	h := s.h
	// Heap sort: pop the worst to the end until the best is first.
	for end := len(h) - 1; end > 0; end-- {
		h[0], h[end] = h[end], h[0]
		siftDown(h, 0, end)
	}
	for _, c := range h {
		dst = append(dst, items[c.i])
	}
	s.h = h[:0]
	return dst
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
