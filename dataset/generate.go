package dataset

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"sync"

	"movierec/engine"
)

// GenConfig describes a synthetic MovieLens data set for [Generate].
type GenConfig struct {
	Users   int    // number of users, numbered 1..Users; each rates at least one movie
	Movies  int    // number of movies, numbered 1..Movies; all are listed in movies.csv
	Ratings int64  // total number of ratings, Users ≤ Ratings ≤ Users·Movies
	Seed    uint64 // seed of every random stream; the same config gives the same bytes
	Rank    int    // rank of the hidden user and movie vectors; 0 means 10
	// Noise is the standard deviation of the Gaussian noise added to each
	// hidden score before rounding; 0 means 0.5 and a negative value means
	// no noise (only rounding and clipping).
	Noise float64
}

// Presets returns the named configurations shaped like real data sets: the
// counts of "ml-25m" (MovieLens 25M), "netflix" (the Netflix Prize training
// set) and "small" (ml-latest-small), with the default rank and noise and
// seed 1. The map is new on every call.
func Presets() map[string]GenConfig {
	return map[string]GenConfig{
		"ml-25m":  {Users: 162541, Movies: 59047, Ratings: 25000095, Seed: 1, Rank: genDefaultRank, Noise: genDefaultNoise},
		"netflix": {Users: 480189, Movies: 17770, Ratings: 100480507, Seed: 1, Rank: genDefaultRank, Noise: genDefaultNoise},
		"small":   {Users: 610, Movies: 9742, Ratings: 100836, Seed: 1, Rank: genDefaultRank, Noise: genDefaultNoise},
	}
}

// GenStats summarises what [Generate] wrote.
type GenStats struct {
	Users   int   `json:"users"`
	Movies  int   `json:"movies"`
	Ratings int64 `json:"ratings"`
	// RatedMovies is the number of movies with at least one rating.
	RatedMovies int `json:"rated_movies"`
	// MaxUserRatings and MedianUserRatings describe user activity.
	MaxUserRatings    int `json:"max_user_ratings"`
	MedianUserRatings int `json:"median_user_ratings"`
	// MeanRating is the mean of the written ratings.
	MeanRating float64 `json:"mean_rating"`
	// NoiseRMSE is the RMSE of the written (rounded, clipped) ratings
	// against the noiseless hidden scores clamped to 0.5..5: the error a
	// perfect model, served clamped to the scale as eval.Score does, would
	// reach. A trained model's test RMSE can be compared with it.
	NoiseRMSE float64 `json:"noise_rmse"`
	// Histogram counts the ratings 0.5, 1.0, …, 5.0.
	Histogram [10]int64 `json:"histogram"`
}

// Shape of the generated data. Movie popularity follows a Zipf-like law: the
// weight of the r-th most popular movie (r from 1) is (r+q)^−zipfExponent,
// with the offset q chosen so that the most popular movie is expected to be
// rated by topShare of the users (as in ml-25m and Netflix, where the top
// movie has 40–50%), which flattens the head that sampling without
// replacement would otherwise saturate. User activity is lognormal with
// σ = activitySigma before the exact total is apportioned. A hidden score is
// globalMean + b_u + b_i + interactionStd·(u·v)/√rank with b_u, b_i, u and v
// Gaussian.
const (
	genDefaultRank  = 10
	genDefaultNoise = 0.5

	zipfExponent   = 1.8
	topShare       = 0.4
	activitySigma  = 1.3
	globalMean     = 3.5
	userBiasStd    = 0.35
	movieBiasStd   = 0.45
	interactionStd = 0.8

	blockUsers    = 256        // users per parallel work unit
	epoch2000     = 946684800  // 2000-01-01T00:00:00Z
	epochEnd      = 1704067200 // 2024-01-01T00:00:00Z, no timestamp is later
	progressEvery = 1 << 20    // ratings between progress calls

	// Random stream domains: each user, each movie and each global use has
	// its own PCG stream (seed, domain<<62|index), so the output does not
	// depend on how users are shared among goroutines.
	streamUser   = 0 << 62
	streamMovie  = 1 << 62
	streamGlobal = 2 << 62
)

// genres are the MovieLens genres with their approximate number of movies
// in ml-25m, the weights of the generator's genre draw.
var genres = [...]struct {
	name   string
	weight int
}{
	{"Action", 7348}, {"Adventure", 4145}, {"Animation", 2929}, {"Children", 2935}, {"Comedy", 16870},
	{"Crime", 5319}, {"Documentary", 5605}, {"Drama", 25606}, {"Fantasy", 2731}, {"Film-Noir", 353},
	{"Horror", 5989}, {"IMAX", 195}, {"Musical", 1054}, {"Mystery", 2925}, {"Romance", 7719},
	{"Sci-Fi", 3595}, {"Thriller", 8654}, {"War", 1874}, {"Western", 1399},
}

// Generate writes a synthetic data set in the ml-latest layout: ratings.csv
// ("userId,movieId,rating,timestamp", sorted by user then movie, LF line
// ends) to ratings and movies.csv ("movieId,title,genres", RFC 4180 quoting)
// to movies. Ratings come from a hidden low-rank model with biases plus
// Gaussian noise, rounded to half stars and clipped to 0.5..5; movie
// popularity and user activity are long-tailed; no (user, movie) pair occurs
// twice. The output depends only on cfg: users are generated in blocks on
// GOMAXPROCS goroutines and written in order, and memory stays proportional
// to Users + Movies·Rank, not to Ratings.
//
// progress, when non-nil, is called from the calling goroutine about every
// million ratings and once at the end with done == total == cfg.Ratings.
//
// Errors: one wrapping engine.ErrInvalidInput for an impossible cfg; a write
// error, wrapped; ctx.Err(), wrapped, when ctx is done. The writers then
// hold a partial data set.
func Generate(ctx context.Context, cfg GenConfig, ratings io.Writer, movies io.Writer, progress func(done, total int64)) (GenStats, error) {
	g, err := newGenerator(cfg)
	if err != nil {
		return GenStats{}, err
	}
	bw := bufio.NewWriterSize(movies, 1<<16)
	if err := g.writeMovies(bw); err != nil {
		return GenStats{}, fmt.Errorf("write movies: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return GenStats{}, fmt.Errorf("write movies: %w", err)
	}
	st, err := g.writeRatings(ctx, ratings, progress)
	if err != nil {
		return GenStats{}, err
	}
	return st, nil
}

// withDefaults fills the zero fields of cfg and checks it.
func (cfg GenConfig) withDefaults() (GenConfig, error) {
	if cfg.Rank == 0 {
		cfg.Rank = genDefaultRank
	}
	if cfg.Noise == 0 {
		cfg.Noise = genDefaultNoise
	}
	switch {
	case cfg.Users < 1 || cfg.Users > math.MaxInt32:
		return cfg, fmt.Errorf("generate: %w: users %d not in 1..%d", engine.ErrInvalidInput, cfg.Users, math.MaxInt32)
	case cfg.Movies < 1 || cfg.Movies > math.MaxInt32:
		return cfg, fmt.Errorf("generate: %w: movies %d not in 1..%d", engine.ErrInvalidInput, cfg.Movies, math.MaxInt32)
	case cfg.Ratings < int64(cfg.Users):
		return cfg, fmt.Errorf("generate: %w: %d ratings for %d users: every user needs one", engine.ErrInvalidInput, cfg.Ratings, cfg.Users)
	case cfg.Ratings/int64(cfg.Users) > int64(cfg.Movies) ||
		cfg.Ratings/int64(cfg.Users) == int64(cfg.Movies) && cfg.Ratings%int64(cfg.Users) != 0:
		return cfg, fmt.Errorf("generate: %w: %d ratings exceed %d users × %d movies", engine.ErrInvalidInput, cfg.Ratings, cfg.Users, cfg.Movies)
	case cfg.Rank < 1 || cfg.Rank > 1024:
		return cfg, fmt.Errorf("generate: %w: rank %d not in 1..1024", engine.ErrInvalidInput, cfg.Rank)
	case math.IsNaN(cfg.Noise) || math.IsInf(cfg.Noise, 0):
		return cfg, fmt.Errorf("generate: %w: noise %v", engine.ErrInvalidInput, cfg.Noise)
	}
	return cfg, nil
}

// generator holds the read-only state shared by the worker goroutines.
type generator struct {
	cfg    GenConfig
	noise  float64   // effective noise std dev (0 for none)
	scale  float64   // interactionStd/√rank
	counts []int32   // ratings of user u at counts[u-1]
	perm   []int32   // perm[r] is the movie id of popularity rank r
	weight []float64 // popularity weight of rank r
	prob   []float64 // alias table over ranks: keep r with prob[r] ...
	alias  []int32   // ... else take alias[r]
	mvec   []float64 // movie id's hidden vector at mvec[(id-1)·rank:id·rank]
	mbias  []float64 // movie id's bias at mbias[id-1]
	// netflix: write the Netflix Prize layout, users and movies swapped
	// (see GenerateNetflix).
	netflix bool
}

func newGenerator(cfg GenConfig) (*generator, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	g := &generator{cfg: cfg, noise: max(cfg.Noise, 0), scale: interactionStd / math.Sqrt(float64(cfg.Rank))}
	var src rand.PCG
	rng := rand.New(&src)

	// User activity: lognormal weights, apportioned exactly.
	src.Seed(cfg.Seed, streamGlobal) // global stream 0
	act := make([]float64, cfg.Users)
	for u := range act {
		act[u] = math.Exp(activitySigma * rng.NormFloat64())
	}
	g.counts = apportion(act, cfg.Ratings-int64(cfg.Users), int64(cfg.Movies-1))

	// Movie popularity: Zipf weights over ranks, ranks shuffled onto ids.
	src.Seed(cfg.Seed, streamGlobal|1)
	g.perm = make([]int32, cfg.Movies)
	for r := range g.perm {
		g.perm[r] = int32(r + 1)
	}
	rng.Shuffle(len(g.perm), func(i, j int) { g.perm[i], g.perm[j] = g.perm[j], g.perm[i] })
	g.weight = make([]float64, cfg.Movies)
	q := popularityOffset(g.weight, float64(cfg.Ratings), topShare*float64(cfg.Users))
	zipfWeights(g.weight, q)
	g.prob, g.alias = aliasTable(g.weight)
	return g, nil
}

// zipfWeights sets w[r] to (r+1+q)^−zipfExponent and returns their sum.
func zipfWeights(w []float64, q float64) float64 {
	var sum float64
	for r := range w {
		w[r] = math.Pow(float64(r)+1+q, -zipfExponent)
		sum += w[r]
	}
	return sum
}

// popularityOffset returns the Zipf offset q ≥ 1 at which the most popular
// of len(w) movies expects at most top of the ratings ratings (or the
// flattest law tried when even that gives more), using w as scratch.
func popularityOffset(w []float64, ratings, top float64) float64 {
	first := func(q float64) float64 { return ratings * math.Pow(1+q, -zipfExponent) / zipfWeights(w, q) }
	lo, hi := 1.0, 1e3*float64(len(w))
	if first(lo) <= top {
		return lo
	}
	if first(hi) > top {
		return hi
	}
	for range 50 {
		mid := (lo + hi) / 2
		if first(mid) > top {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// apportion returns 1 + c_u for each weight a_u, where the c_u sum to extra,
// are at most limit and are proportional to a_u as far as the limit allows
// (floor of a_u·s for the largest s that does not overshoot, the remainder
// handed out one by one in user order).
func apportion(a []float64, extra, limit int64) []int32 {
	share := func(w, s float64) int64 {
		if x := w * s; x < float64(limit) {
			return int64(x)
		}
		return limit
	}
	sum := func(s float64) int64 {
		var t int64
		for _, w := range a {
			t += share(w, s)
		}
		return t
	}
	lo, hi := 0.0, 1.0
	for sum(hi) < extra && hi < 1e300 {
		hi *= 2
	}
	for range 200 {
		mid := lo + (hi-lo)/2
		if mid <= lo || mid >= hi {
			break
		}
		if t := sum(mid); t == extra {
			lo = mid
			break
		} else if t < extra {
			lo = mid
		} else {
			hi = mid
		}
	}
	counts := make([]int32, len(a))
	var total int64
	for u, w := range a {
		c := share(w, lo)
		counts[u] = int32(c)
		total += c
	}
	for total < extra {
		for u := range counts {
			if int64(counts[u]) < limit {
				counts[u]++
				if total++; total == extra {
					break
				}
			}
		}
	}
	for u := range counts {
		counts[u]++
	}
	return counts
}

// aliasTable builds Vose's alias tables for sampling index i with
// probability w[i]/Σw.
func aliasTable(w []float64) (prob []float64, alias []int32) {
	n := len(w)
	var sum float64
	for _, x := range w {
		sum += x
	}
	prob = make([]float64, n)
	alias = make([]int32, n)
	p := make([]float64, n)
	var small, large []int32
	for i, x := range w {
		p[i] = x * float64(n) / sum
		if p[i] < 1 {
			small = append(small, int32(i))
		} else {
			large = append(large, int32(i))
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small, large = small[:len(small)-1], large[:len(large)-1]
		prob[s], alias[s] = p[s], l
		p[l] += p[s] - 1
		if p[l] < 1 {
			small = append(small, l)
		} else {
			large = append(large, l)
		}
	}
	for _, i := range large {
		prob[i], alias[i] = 1, i
	}
	for _, i := range small { // only rounding leaves these
		prob[i], alias[i] = 1, i
	}
	return prob, alias
}

// writeMovies draws each movie's hidden vector and bias and writes
// movies.csv.
func (g *generator) writeMovies(w *bufio.Writer) error {
	k := g.cfg.Rank
	g.mvec = make([]float64, g.cfg.Movies*k)
	g.mbias = make([]float64, g.cfg.Movies)
	var src rand.PCG
	rng := rand.New(&src)
	buf := make([]byte, 0, 256)
	buf = append(buf, "movieId,title,genres\n"...)
	var title []byte
	genreTotal := 0
	for _, g := range genres {
		genreTotal += g.weight
	}
	for id := 1; id <= g.cfg.Movies; id++ {
		src.Seed(g.cfg.Seed, streamMovie|uint64(id))
		v := g.mvec[(id-1)*k : id*k]
		for j := range v {
			v[j] = rng.NormFloat64()
		}
		g.mbias[id-1] = movieBiasStd * rng.NormFloat64()
		year := 1920 + rng.IntN(104)

		title = title[:0]
		switch {
		case id%17 == 5:
			title = append(title, `"Synthetic" Movie `...)
			title = strconv.AppendInt(title, int64(id), 10)
		case id%10 == 3:
			title = append(title, "Synthetic Movie "...)
			title = strconv.AppendInt(title, int64(id), 10)
			title = append(title, ", The"...)
		default:
			title = append(title, "Synthetic Movie "...)
			title = strconv.AppendInt(title, int64(id), 10)
		}
		title = append(title, " ("...)
		title = strconv.AppendInt(title, int64(year), 10)
		title = append(title, ')')

		buf = strconv.AppendInt(buf, int64(id), 10)
		buf = append(buf, ',')
		buf = appendCSVField(buf, title)
		buf = append(buf, ',')
		if rng.IntN(100) == 0 {
			buf = append(buf, "(no genres listed)"...)
		} else {
			// 1 to 3 distinct genres, in list order.
			var mask uint32
			for n := 1 + rng.IntN(3); bits.OnesCount32(mask) < n; {
				x := rng.IntN(genreTotal)
				i := 0
				for x >= genres[i].weight {
					x -= genres[i].weight
					i++
				}
				mask |= 1 << i
			}
			first := true
			for i, g := range genres {
				if mask&(1<<i) == 0 {
					continue
				}
				if !first {
					buf = append(buf, '|')
				}
				first = false
				buf = append(buf, g.name...)
			}
		}
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return err
		}
		buf = buf[:0]
	}
	return nil
}

// appendCSVField appends f, quoted as RFC 4180 requires when it holds a
// comma, a quote or a line end.
func appendCSVField(dst, f []byte) []byte {
	if !slices.ContainsFunc(f, func(c byte) bool { return c == ',' || c == '"' || c == '\n' || c == '\r' }) {
		return append(dst, f...)
	}
	dst = append(dst, '"')
	for _, c := range f {
		if c == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}

// block is one run of users' ratings.csv rows with their statistics.
type block struct {
	buf   []byte
	n     int64
	se    float64 // squared error against the clamped noiseless score
	halfs int64   // sum of ratings in half stars
	hist  [10]int64
	err   error
}

// worker is one goroutine's reusable workspace.
type worker struct {
	src   rand.PCG
	rng   *rand.Rand
	seen  []uint64 // bitmap over popularity ranks; all clear between users
	ranks []int32
	ids   []int32
	uvec  []float64
	keys  []esKey
	rated []bool // by movie id - 1
}

func (g *generator) newWorker() *worker {
	w := &worker{
		seen:  make([]uint64, (g.cfg.Movies+63)/64),
		uvec:  make([]float64, g.cfg.Rank),
		rated: make([]bool, g.cfg.Movies),
	}
	w.rng = rand.New(&w.src)
	return w
}

// writeRatings generates the users in blocks on GOMAXPROCS goroutines and
// writes the blocks in order.
func (g *generator) writeRatings(ctx context.Context, out io.Writer, progress func(done, total int64)) (GenStats, error) {
	st := GenStats{Users: g.cfg.Users, Movies: g.cfg.Movies}
	if !g.netflix {
		if _, err := io.WriteString(out, "userId,movieId,rating,timestamp\n"); err != nil {
			return st, fmt.Errorf("write ratings: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	nw := runtime.GOMAXPROCS(0)
	nb := (g.cfg.Users + blockUsers - 1) / blockUsers
	type job struct {
		b   int
		out chan *block
	}
	jobs := make(chan job)
	order := make(chan chan *block, 2*nw)
	free := make(chan *block, 3*nw+1)
	go func() { // dispatcher: hands out blocks in order, at most 2·nw ahead of the writer
		defer close(jobs)
		defer close(order)
		for b := range nb {
			ch := make(chan *block, 1)
			select {
			case order <- ch:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- job{b, ch}:
			case <-ctx.Done():
				ch <- &block{err: ctx.Err()}
				return
			}
		}
	}()
	workers := make([]*worker, nw)
	var wg sync.WaitGroup
	for i := range workers {
		workers[i] = g.newWorker()
		wg.Go(func() {
			w := workers[i]
			for j := range jobs {
				var blk *block
				select {
				case blk = <-free:
					*blk = block{buf: blk.buf[:0]}
				default:
					blk = &block{}
				}
				if err := ctx.Err(); err != nil {
					blk.err = err
				} else {
					lo := j.b*blockUsers + 1
					for u := lo; u < lo+blockUsers && u <= g.cfg.Users; u++ {
						blk.buf = g.user(w, u, blk.buf, blk)
					}
				}
				j.out <- blk
			}
		})
	}

	var werr error
	var halfs int64
	next := int64(progressEvery)
	for ch := range order {
		blk := <-ch
		if blk.err != nil {
			werr = fmt.Errorf("generate ratings: %w", blk.err)
			break
		}
		if _, err := out.Write(blk.buf); err != nil {
			werr = fmt.Errorf("write ratings: %w", err)
			break
		}
		st.Ratings += blk.n
		st.NoiseRMSE += blk.se
		halfs += blk.halfs
		for i, c := range blk.hist {
			st.Histogram[i] += c
		}
		select {
		case free <- blk:
		default:
		}
		if progress != nil && st.Ratings >= next && st.Ratings < g.cfg.Ratings {
			progress(st.Ratings, g.cfg.Ratings)
			next = (st.Ratings/progressEvery + 1) * progressEvery
		}
	}
	if werr == nil && st.Ratings != g.cfg.Ratings {
		// The dispatcher stopped early: ctx is done.
		werr = fmt.Errorf("generate ratings: %w", context.Cause(ctx))
	}
	cancel()
	for range order { // let the dispatcher finish
	}
	wg.Wait()
	if werr != nil {
		return st, werr
	}
	if progress != nil {
		progress(st.Ratings, g.cfg.Ratings)
	}

	st.NoiseRMSE = math.Sqrt(st.NoiseRMSE / float64(st.Ratings))
	st.MeanRating = float64(halfs) / 2 / float64(st.Ratings)
	for id := range g.cfg.Movies {
		for _, w := range workers {
			if w.rated[id] {
				st.RatedMovies++
				break
			}
		}
	}
	sorted := slices.Clone(g.counts)
	slices.Sort(sorted)
	st.MaxUserRatings = int(sorted[len(sorted)-1])
	st.MedianUserRatings = int(sorted[len(sorted)/2])
	return st, nil
}

// user appends user u's rows to buf and adds their statistics to blk. It
// allocates nothing once w's slices have grown.
func (g *generator) user(w *worker, u int, buf []byte, blk *block) []byte {
	k := int(g.counts[u-1])
	rank := g.cfg.Rank
	w.src.Seed(g.cfg.Seed, streamUser|uint64(u))
	rng := w.rng
	bu := userBiasStd * rng.NormFloat64()
	for j := range w.uvec {
		w.uvec[j] = rng.NormFloat64()
	}
	t0 := epoch2000 + rng.Int64N(19*365*86400)
	span := 90 * 86400 * math.Exp(1.5*rng.NormFloat64()) // mean gap scale of this user's ratings

	g.choose(w, k)
	if g.netflix {
		buf = strconv.AppendInt(buf, int64(u), 10)
		buf = append(buf, ":\n"...)
	}
	w.ids = w.ids[:0]
	for _, r := range w.ranks {
		w.ids = append(w.ids, g.perm[r])
	}
	slices.Sort(w.ids)

	for _, id := range w.ids {
		w.rated[id-1] = true
		v := g.mvec[int(id-1)*rank : int(id)*rank]
		var dot float64
		for j, x := range w.uvec {
			dot += x * v[j]
		}
		score := globalMean + bu + g.mbias[id-1] + g.scale*dot
		x := score
		if g.noise > 0 {
			x += g.noise * rng.NormFloat64()
		}
		h := int64(math.Round(2 * x)) // half stars
		h = min(max(h, 1), 10)
		d := float64(h)/2 - min(max(score, 0.5), 5)
		if g.netflix { // whole stars 1–5
			h = 2 * min(max(int64(math.Round(x)), 1), 5)
			d = float64(h)/2 - min(max(score, 1), 5)
		}
		blk.se += d * d
		blk.halfs += h
		blk.hist[h-1]++
		ts := min(t0+int64(rng.ExpFloat64()*span), epochEnd)

		if g.netflix {
			buf = strconv.AppendInt(buf, int64(id), 10)
			buf = append(buf, ',', byte('0'+h/2), ',')
			buf = appendDate(buf, ts)
			buf = append(buf, '\n')
			continue
		}
		buf = strconv.AppendInt(buf, int64(u), 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(id), 10)
		buf = append(buf, ',', byte('0'+h/2), '.', "05"[h%2], ',')
		buf = strconv.AppendInt(buf, ts, 10)
		buf = append(buf, '\n')
	}
	blk.n += int64(k)
	return buf
}

// choose sets w.ranks to k distinct popularity ranks drawn one after another
// with probability proportional to weight among those not yet drawn. It
// samples with rejection while that is cheap and finishes with
// Efraimidis–Spirakis keys over the remaining ranks (the same distribution)
// when a user has rated most of the popular mass. w.seen is clear on return.
func (g *generator) choose(w *worker, k int) {
	w.ranks = w.ranks[:0]
	n := uint64(len(g.prob))
	for budget := 4*k + 32; len(w.ranks) < k && budget > 0; budget-- {
		hi, lo := bits.Mul64(w.src.Uint64(), n)
		r := int32(hi)
		if float64(lo>>11)*0x1p-53 >= g.prob[r] {
			r = g.alias[r]
		}
		if w.seen[r>>6]&(1<<(r&63)) != 0 {
			continue
		}
		w.seen[r>>6] |= 1 << (r & 63)
		w.ranks = append(w.ranks, r)
	}
	if need := k - len(w.ranks); need > 0 {
		w.keys = w.keys[:0]
		for r := range int32(n) {
			if w.seen[r>>6]&(1<<(r&63)) == 0 {
				w.keys = append(w.keys, esKey{w.rng.ExpFloat64() / g.weight[r], r})
			}
		}
		selectSmallest(w.keys, need)
		for _, e := range w.keys[:need] {
			w.ranks = append(w.ranks, e.rank)
		}
	}
	for _, r := range w.ranks {
		w.seen[r>>6] &^= 1 << (r & 63)
	}
}

// esKey is an Efraimidis–Spirakis sampling key: the ranks with the smallest
// Exp(1)/weight keys form a weighted sample without replacement.
type esKey struct {
	key  float64
	rank int32
}

// selectSmallest reorders a so that a[:k] hold its k smallest keys.
func selectSmallest(a []esKey, k int) {
	lo, hi := 0, len(a)-1
	for lo < hi {
		// Median of three as pivot, then Hoare partition.
		mid := lo + (hi-lo)/2
		if a[mid].key < a[lo].key {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi].key < a[lo].key {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi].key < a[mid].key {
			a[hi], a[mid] = a[mid], a[hi]
		}
		p := a[mid].key
		i, j := lo, hi
		for i <= j {
			for a[i].key < p {
				i++
			}
			for a[j].key > p {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		// a[lo:j+1] ≤ p ≤ a[i:hi+1]
		switch {
		case k-1 <= j:
			hi = j
		case k-1 >= i:
			lo = i
		default:
			return
		}
	}
}
