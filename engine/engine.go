package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"movierec/als"
)

// Log keys used by the engine.
const (
	logKeyComponent = "component"
	logKeyIteration = "iteration"
	logKeyRMSE      = "train_rmse"
	logKeySeconds   = "seconds"
	logKeyVersion   = "data_version"
	logKeyErr       = "err"
)

// Store persists ratings. AddRatings must have made the whole batch durable
// (all of it or none of it) when it returns nil. It is called concurrently,
// but never concurrently for the same user.
type Store interface {
	AddRatings(ctx context.Context, rs []Rating) error
}

// Deleter removes stored ratings. A Store implements it to support
// Engine.DeleteRating. DeleteRating must have made the removal durable when
// it returns nil; it may return an error wrapping ErrNotRated when no such
// rating is stored (nothing changed). It is never called concurrently for
// the same user.
type Deleter interface {
	DeleteRating(ctx context.Context, user, movie int32) error
}

// ModelSaver keeps published models so a restart can load instead of
// retrain. SaveModel is called from the training goroutine after a swap.
type ModelSaver interface {
	SaveModel(ctx context.Context, s *Snapshot) error
}

// RatingLister lists one user's stored ratings with their timestamps. A
// Store may implement it; without it the engine answers from memory with
// zero timestamps.
type RatingLister interface {
	UserRatings(ctx context.Context, user int32) ([]Rating, error)
}

// Config holds the engine's settings. The zero value of every field but
// Params and Scale has a sane default.
type Config struct {
	Params als.Params // training parameters of the rating model (explicit: predicted ratings)
	// Ranking holds the training parameters of the ranking model, which
	// orders every top-N list and similar movies (implicit-feedback ALS,
	// see DESIGN.md "Two models"). The zero value (Rank 0) means no
	// ranking model: the rating model ranks too.
	Ranking als.Params
	// RankingWarmIterations, when positive and below Ranking.Iterations,
	// makes a retrain of the ranking model start from the published one
	// (its users' and movies' factors, matched by id; new ones start
	// random) and run this many iterations, when the solver can
	// (als.WarmSolver), the published ranker was trained with Ranking,
	// the number of ratings changed by at most a twentieth since, and
	// fewer than maxWarmChain retrains in a row started warm. Otherwise,
	// and with 0, every retrain starts from random factors; so does one
	// whose FitFrom answers als.ErrNoWarmStart (a CUDA worker built before
	// warm starts), with all of Ranking.Iterations.
	RankingWarmIterations int
	MinRatings            int        // a movie needs this many ratings to be recommended (default 0 = no floor; main sets 25)
	Scale                 Scale      // valid rating values
	Backend               string     // name of the training backend, for reports
	Device                string     // what trains, for reports ("2 cores"); a solver's Device() method overrides it; "" means Backend
	Store                 Store      // where ratings are made durable; nil keeps them in memory only
	Models                ModelSaver // where trained models are kept; nil keeps none
	Version               int64      // data version of the initial ratings (the store's)

	// NeverTrain makes the engine a follower that never trains: Run
	// returns at once when called, RequestRetrain does nothing, and models
	// come through Follow (serve --train=false). Retrain still trains when
	// called directly.
	NeverTrain bool
	// Lock, when set, elects the one trainer among processes sharing the
	// store: Run trains only while it holds the lock, and a retrain
	// requested meanwhile does nothing (the lock holder sees the change
	// through its own feed). LockRetry is how often Run tries to take the
	// lock while another process holds it (default 2 s).
	Lock      TrainerLock
	LockRetry time.Duration

	// RetrainInterval is the least time between the starts of two
	// background retrains. Requests in between coalesce; fold-in keeps the
	// posting users' recommendations current meanwhile. 0 retrains as soon
	// as a request comes.
	RetrainInterval time.Duration
	Logger          *slog.Logger // nil discards logs
	Now             func() time.Time
}

// Engine serves recommendations and accepts ratings. All methods are safe
// for concurrent use.
type Engine struct {
	cfg    Config
	log    *slog.Logger
	solver als.Solver

	// The catalog with the per-movie statistics (movies.go): replaced,
	// longer, by AddMovies; readers load it once per call.
	cat   atomic.Pointer[catalog]
	catMu sync.Mutex // serialises AddMovies

	// The movies with at least Config.MinRatings ratings, for top-N lists
	// (eligible.go): rebuilt on demand after a count crosses that floor.
	eligible atomic.Pointer[eligibleMovies] // nil until first asked
	eligGen  atomic.Uint64                  // bumped when a count crosses the floor
	eligMu   sync.Mutex                     // serialises rebuilds
	quant    atomic.Pointer[quantRows]      // the ordering model's 8-bit rows of the eligible list
	quantMu  sync.Mutex                     // serialises building it

	mu      sync.RWMutex
	userIx  map[int32]int32 // user id → user index (guarded by mu)
	userIDs []int32         // user index → id (guarded by mu)
	rows    []row           // user index → ratings (guarded by mu; each row is copy-on-write)
	version int64           // data version: bumped by every applied write (guarded by mu)
	folded  map[int32]folded

	// Following a shared store (see shared.go). applied is the version
	// through which every change of the feed is applied (the follower's
	// cursor; local writes do not move it). ahead holds, per user and
	// movie, the version of a local write applied before the feed got
	// there, so an older change from the feed does not roll it back;
	// entries go once applied passes them. Both guarded by mu.
	applied   int64
	following bool // ApplyChanges has run: models are trained at applied
	ahead     map[userMovie]int64
	applyMu   sync.Mutex // serialises ApplyChanges
	followMu  sync.Mutex // guards followSt
	followSt  FollowStatus

	// The catalog's source while following a store that reads and
	// versions its catalog (set once by Follow, guarded by mu), and the
	// store's catalog version last read whole, plus one (0: none yet),
	// which Follow and syncCatalog both move.
	catReader    CatalogReader
	catVersioner CatalogVersioner
	catSeen      atomic.Int64
	catSync      chan struct{} // one slot: serialises followCatalog

	leader atomic.Bool                 // holds the trainer lock (Config.Lock)
	lease  atomic.Pointer[leaseHolder] // the lease held, nil when none

	userLocks [64]sync.Mutex // serialise writes per user (striped)
	lockSeed  maphash.Seed

	scratch sync.Pool // *scratch for Recommend

	current atomic.Pointer[Snapshot]
	kick    chan struct{} // retrain requested (cap 1: coalesces)
	trained chan struct{} // closed and replaced after each swap; for tests and Wait
	trainMu sync.Mutex    // at most one training at a time
	// warmChain counts the retrains in a row whose ranking model started
	// from the published one (guarded by trainMu).
	warmChain int
	running   atomic.Bool // a training holds trainMu
	waiting   atomic.Bool // Run took a request and waits for RetrainInterval
	force     atomic.Bool // the next Run retrain happens even with nothing changed
	countMu   sync.Mutex  // guards counts of trainings
	histMu    sync.Mutex  // guards history and histID
	history   []Training  // oldest first; without a TrainingLog store
	histID    int64
	tcounts   map[string]*TrainingCount
	tmu       sync.Mutex // guards trained
}

// row is one user's ratings, movies ascending by catalog index. A row is
// never modified in place once published: writers build a new one.
type row struct {
	movies []int32
	vals   []float32
}

// folded is a user vector solved against a model's item factors after the
// user's ratings changed at data version version.
type folded struct {
	model   *als.Model
	version int64
	x       []float32
	bias    float32
	rx      []float32 // the ranking model's user vector; nil without one or when unsolvable
}

// TrainingCount counts the trainings of one backend since the engine was
// built.
type TrainingCount struct {
	Backend string
	OK      int64   // trainings that published a model
	Failed  int64   // trainings that returned an error (cancellations included)
	Seconds float64 // wall time of all of them
}

// TrainingCounts returns the training counters, ordered by backend.
func (e *Engine) TrainingCounts() []TrainingCount {
	e.countMu.Lock()
	defer e.countMu.Unlock()
	out := make([]TrainingCount, 0, len(e.tcounts))
	for _, c := range e.tcounts {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b TrainingCount) int { return cmp.Compare(a.Backend, b.Backend) })
	return out
}

func (e *Engine) countTraining(backend string, ok bool, secs float64) {
	e.countMu.Lock()
	defer e.countMu.Unlock()
	if e.tcounts == nil {
		e.tcounts = make(map[string]*TrainingCount)
	}
	c := e.tcounts[backend]
	if c == nil {
		c = &TrainingCount{Backend: backend}
		e.tcounts[backend] = c
	}
	if ok {
		c.OK++
	} else {
		c.Failed++
	}
	c.Seconds += secs
}

// Snapshot is a published model with what it was trained on. It is
// immutable.
type Snapshot struct {
	Model        *als.Model
	Params       als.Params
	DataVersion  int64 // the engine's data version the model saw
	Backend      string
	Device       string // what trained it: "2 cores", a GPU's name (see Config.Device)
	TrainedAt    time.Time
	TrainSeconds float64
	TrainRMSE    float64
	Ratings      int // ratings trained on

	// UserIDs and MovieIDs give the external id of each model row (of
	// both models), so a model can be loaded by an engine whose indices
	// differ.
	UserIDs  []int32
	MovieIDs []int32

	// Ranker is the ranking model that orders top-N lists and similar
	// movies, trained with RankerParams on the same ratings and rows as
	// Model; nil when Model ranks too (Config.Ranking unset).
	Ranker        *als.Model
	RankerParams  als.Params
	RankerSeconds float64 // wall time of the ranker's fit
	RankerError   float64 // its training error (als.TrainError)

	rankerGram *lazyGram   // Gram matrix of Ranker's item factors, for fold-in; set by prepare
	quant      *quantItems // the ordering model's (Ranker, else Model) item rows in 8 bits, for top-N lists; set by prepare
}

// lazyGram is a Gram matrix computed once, on its own goroutine from
// prepare (0.2 s for a rank-128 model of 59,000 movies, which a server's
// start no longer waits for), or by the first fold-in that needs it
// before then. Safe for concurrent use.
type lazyGram struct {
	once sync.Once
	m    *als.Model
	g    []float64
}

// get returns the Gram matrix, computing it on the first call.
func (l *lazyGram) get() []float64 {
	l.once.Do(func() { l.g = als.Gram(l.m.ItemFactors, l.m.Rank) })
	return l.g
}

// prepare computes what serving needs of s beyond its models: the Gram
// matrix of the ranking model's item factors, which an implicit fold-in
// solves against (started on its own goroutine: see lazyGram), and the
// 8-bit copy of the ordering model's item rows that top-N lists start
// from (quant.go). It is called before s is
// published, outside e.mu.
func (s *Snapshot) prepare() {
	if s.Ranker != nil && s.rankerGram == nil {
		s.rankerGram = &lazyGram{m: s.Ranker}
		go s.rankerGram.get()
	}
	if s.quant == nil {
		m := s.Model
		if s.Ranker != nil {
			m = s.Ranker
		}
		s.quant = quantize(m)
	}
}

// New builds an engine over a catalog and the initial ratings. A later
// rating of the same user and movie replaces an earlier one. It fails when a
// rating names a movie missing from the catalog or is off the scale. New
// does not train: call Retrain, or Run and RequestRetrain.
func New(cfg Config, solver als.Solver, movies []Movie, ratings []Rating) (*Engine, error) {
	if err := cfg.Params.Validate(); err != nil {
		return nil, err
	}
	if cfg.Ranking.Rank != 0 {
		if err := cfg.Ranking.Validate(); err != nil {
			return nil, fmt.Errorf("ranking model: %w", err)
		}
		if cfg.Ranking.Objective != als.Implicit {
			return nil, fmt.Errorf("ranking model: %w: objective %v, want implicit", als.ErrInvalidParams, cfg.Ranking.Objective)
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c, err := newCatalog(movies)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		cfg:      cfg,
		log:      cfg.Logger.With(logKeyComponent, "engine"),
		solver:   solver,
		userIx:   make(map[int32]int32),
		folded:   make(map[int32]folded),
		kick:     make(chan struct{}, 1),
		catSync:  make(chan struct{}, 1),
		lockSeed: maphash.MakeSeed(),
		version:  cfg.Version,
		applied:  cfg.Version,
		ahead:    make(map[userMovie]int64),
		trained:  make(chan struct{}),
	}
	e.cat.Store(c)
	if err := e.load(c, ratings); err != nil {
		return nil, err
	}
	return e, nil
}

// load builds the user rows from ratings (last write wins). It looks
// each movie id up once (in a table when the ids are dense, as in the
// MovieLens and Netflix sets) and each run of one user's ratings once.
// Ratings in the stores' order become runs of one array (loadSorted);
// others are grouped by user and each row sorted by packed (movie,
// position) keys. c is the engine's catalog, not yet shared.
func (e *Engine) load(c *catalog, ratings []Rating) error {
	contains := e.cfg.Scale.containsFunc()
	movieIndex := c.indexFunc()
	// Count per user to size rows exactly, after mapping ids.
	perUser := make([]int32, 0)
	mix := make([]int32, len(ratings))
	lastUser, u := int32(-1), int32(-1)
	// sorted: each user's ratings in one run, by ascending catalog index
	// (as the stores read them); the rows are then runs of mix as it is.
	sorted := true
	for k, r := range ratings {
		i, ok := movieIndex(r.Movie)
		if !ok {
			return fmt.Errorf("rating %d (user %d): %w %d", k+1, r.User, ErrUnknownMovie, r.Movie)
		}
		if !contains(r.Value) {
			return fmt.Errorf("rating %d (user %d, movie %d): %w: %v not on the scale %v", k+1, r.User, r.Movie, ErrInvalidRating, r.Value, e.cfg.Scale)
		}
		if r.User != lastUser || u < 0 {
			if u, ok = e.userIx[r.User]; !ok {
				u = int32(len(e.userIDs))
				e.userIx[r.User] = u
				e.userIDs = append(e.userIDs, r.User)
				perUser = append(perUser, 0)
			} else {
				sorted = false // a second run of the user
			}
			lastUser = r.User
		} else if i <= mix[k-1] {
			sorted = false
		}
		mix[k] = i
		perUser[u]++
	}
	if sorted {
		e.loadSorted(c, ratings, perUser, mix)
		return nil
	}
	// Each rating's user index, a map lookup per run again.
	uix := make([]int32, len(ratings))
	lastUser, u = int32(-1), int32(-1)
	for k, r := range ratings {
		if r.User != lastUser || u < 0 {
			u, lastUser = e.userIx[r.User], r.User
		}
		uix[k] = u
	}
	// One backing array for all rows.
	ptr := make([]int, len(perUser)+1)
	for u, n := range perUser {
		ptr[u+1] = ptr[u] + int(n)
	}
	movies := make([]int32, len(ratings))
	vals := make([]float32, len(ratings))
	pos := slices.Clone(ptr[:len(perUser)])
	for k, r := range ratings {
		u := uix[k]
		movies[pos[u]] = mix[k]
		vals[pos[u]] = r.Value
		pos[u]++
	}
	e.rows = make([]row, len(perUser))
	keys := make([]uint64, 0, 64)
	t := newTally(c)
	for u := range perUser {
		ms, vs := movies[ptr[u]:ptr[u+1]], vals[ptr[u]:ptr[u+1]]
		// Sort by (movie, position in the input): of a movie rated twice
		// the later rating comes last, and wins.
		keys = keys[:0]
		for j, m := range ms {
			keys = append(keys, uint64(uint32(m))<<32|uint64(j))
		}
		slices.Sort(keys)
		outM := make([]int32, 0, len(ms))
		outV := make([]float32, 0, len(ms))
		for n, key := range keys {
			if n+1 < len(keys) && keys[n+1]>>32 == key>>32 {
				continue // a later rating of the same movie wins
			}
			outM = append(outM, int32(key>>32))
			outV = append(outV, vs[uint32(key)])
		}
		e.rows[u] = row{movies: outM, vals: outV}
		for j, m := range outM {
			t.add(m, outV[j])
		}
	}
	t.store(c)
	return nil
}

// tally sums each movie's ratings and their values for load. The
// catalog's counts and sums are atomics (they change under readers
// later); while loading nothing reads them yet, so they are summed in
// plain memory, in the same order, and stored once.
type tally struct {
	counts []int32
	sums   []float64
}

func newTally(c *catalog) tally {
	t := tally{counts: make([]int32, len(c.counts)), sums: make([]float64, len(c.sums))}
	for i := range t.sums {
		t.sums[i] = c.sums[i].Load()
	}
	return t
}

func (t tally) add(m int32, v float32) {
	t.counts[m]++
	t.sums[m] += toSum(v)
}

// store adds the counts to c's and sets its sums.
func (t tally) store(c *catalog) {
	for i, n := range t.counts {
		c.counts[i].Add(n)
		c.sums[i].Store(t.sums[i])
	}
}

// loadSorted is load's end for sorted ratings: row u is the u-th run of
// mix (the catalog indices of ratings, perUser[u] long), its values
// copied alongside. The rows share the two arrays, each capped at its
// own length: rows are copy-on-write, never appended to in place.
func (e *Engine) loadSorted(c *catalog, ratings []Rating, perUser []int32, mix []int32) {
	vals := make([]float32, len(ratings))
	for k, r := range ratings {
		vals[k] = r.Value
	}
	t := newTally(c)
	e.rows = make([]row, len(perUser))
	lo := 0
	for u, n := range perUser {
		hi := lo + int(n)
		e.rows[u] = row{movies: mix[lo:hi:hi], vals: vals[lo:hi:hi]}
		for k := lo; k < hi; k++ {
			t.add(mix[k], vals[k])
		}
		lo = hi
	}
	t.store(c)
}

// indexFunc returns the catalog index of a movie id: from a table when
// the ids are dense (the largest below 4× the catalog size plus 1024),
// else from c.ix.
func (c *catalog) indexFunc() func(int32) (int32, bool) {
	maxID := int32(-1)
	for _, m := range c.movies {
		maxID = max(maxID, m.ID)
	}
	if maxID < 0 || int64(maxID) >= 4*int64(len(c.movies))+1024 {
		return func(id int32) (int32, bool) {
			i, ok := c.ix[id]
			return i, ok
		}
	}
	table := make([]int32, int(maxID)+1)
	for i := range table {
		table[i] = -1
	}
	for i, m := range c.movies {
		if m.ID >= 0 {
			table[m.ID] = int32(i)
		}
	}
	return func(id int32) (int32, bool) {
		if id < 0 || id > maxID {
			return 0, false
		}
		i := table[id]
		return i, i >= 0
	}
}

func toSum(v float32) float64 { return float64(v) }

// Snapshot returns the published model, or nil before the first training.
func (e *Engine) Snapshot() *Snapshot { return e.current.Load() }

// Ready reports whether a model is published.
func (e *Engine) Ready() bool { return e.current.Load() != nil }

// Publish installs a model trained elsewhere (for example loaded from the
// store) as the current one. Its dimensions must match the catalog and be no
// larger than the engine's users.
func (e *Engine) Publish(s *Snapshot) error {
	for _, m := range []*als.Model{s.Model, s.Ranker} {
		if m != nil && (len(s.UserIDs) != m.NumUsers || len(s.MovieIDs) != m.NumItems) {
			return fmt.Errorf("%w: model has %d×%d factors but %d user and %d movie ids",
				ErrInvalidInput, m.NumUsers, m.NumItems, len(s.UserIDs), len(s.MovieIDs))
		}
	}
	e.mu.Lock()
	r := e.remapLocked(s)
	e.mu.Unlock()
	r.prepare()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.swapLocked(r)
	return nil
}

// PublishFolding is Publish for a model of an older data version than
// the engine's (a restart's stored model after writes it never saw):
// users (ids; unknown ones are skipped), those whose ratings changed
// since s.DataVersion, are folded in against it as if they had just
// posted, so none is served from a vector that ignores its ratings (or,
// new since, from no vector at all). The caller still retrains.
func (e *Engine) PublishFolding(s *Snapshot, users []int32) error {
	e.mu.Lock()
	for _, id := range users {
		if u, ok := e.userIx[id]; ok {
			if _, pending := e.folded[u]; !pending {
				e.folded[u] = folded{version: e.version} // solved by swapLocked
			}
		}
	}
	e.mu.Unlock()
	return e.Publish(s)
}

// remapLocked returns s with its rows reordered to the engine's user and
// movie indices (the current catalog's). Rows the model lacks are zero;
// ids the engine lacks are dropped.
func (e *Engine) remapLocked(s *Snapshot) *Snapshot {
	cat := e.cat.Load()
	c := *s
	c.Model = e.remapModelLocked(cat, s, s.Model)
	if s.Ranker != nil {
		c.Ranker = e.remapModelLocked(cat, s, s.Ranker)
	}
	c.rankerGram, c.quant = nil, nil
	c.UserIDs = append([]int32(nil), e.userIDs...)
	c.MovieIDs = cat.ids()
	return &c
}

// remapModelLocked returns m (one of s's models) with its rows reordered
// to the engine's indices, cat's for movies.
func (e *Engine) remapModelLocked(cat *catalog, s *Snapshot, m *als.Model) *als.Model {
	if slices.Equal(s.UserIDs, e.userIDs) && len(s.MovieIDs) == len(cat.movies) &&
		slices.EqualFunc(s.MovieIDs, cat.movies, func(id int32, mv Movie) bool { return id == mv.ID }) {
		return m // already in the engine's order (a restart's stored model)
	}
	k := m.Rank
	nm := &als.Model{Rank: k, NumUsers: len(e.userIDs), NumItems: len(cat.movies), Bias: m.Bias, Mean: m.Mean,
		UserFactors: make([]float32, len(e.userIDs)*k), ItemFactors: make([]float32, len(cat.movies)*k)}
	if m.Bias {
		nm.UserBias = make([]float32, nm.NumUsers)
		nm.ItemBias = make([]float32, nm.NumItems)
	}
	for j, id := range s.UserIDs {
		if u, ok := e.userIx[id]; ok {
			copy(nm.User(int(u)), m.User(j))
			if m.Bias {
				nm.UserBias[u] = m.UserBias[j]
			}
		}
	}
	for j, id := range s.MovieIDs {
		if i, ok := cat.ix[id]; ok {
			copy(nm.Item(int(i)), m.Item(j))
			if m.Bias {
				nm.ItemBias[i] = m.ItemBias[j]
			}
		}
	}
	return nm
}

// DataVersion returns the current data version (bumped by every write).
func (e *Engine) DataVersion() int64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.version
}

// NumUsers and NumRatings describe the data in memory.
func (e *Engine) NumUsers() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.userIDs)
}

// NumMovies returns the catalog size.
func (e *Engine) NumMovies() int { return len(e.cat.Load().movies) }

// swapLocked publishes s and re-solves pending fold-ins against it. e.mu must
// be held for writing.
func (e *Engine) swapLocked(s *Snapshot) {
	e.current.Store(s)
	var f als.FoldIn
	for u, fv := range e.folded {
		if fv.version <= s.DataVersion {
			delete(e.folded, u)
			continue
		}
		e.foldLocked(&f, u, s, fv.version)
	}
	e.tmu.Lock()
	close(e.trained)
	e.trained = make(chan struct{})
	e.tmu.Unlock()
}

// foldLocked solves user u's vector against s and records it at version v.
// Ratings of movies added to the catalog after s's models were made
// (AddMovies) are left out: the models know nothing of them.
func (e *Engine) foldLocked(f *als.FoldIn, u int32, s *Snapshot, v int64) {
	r := e.rows[u]
	ms, vs := covered(r, s.Model.NumItems)
	x := make([]float32, s.Model.Rank)
	b, ok := f.Solve(x, s.Model, ms, vs, s.Params)
	if !ok {
		delete(e.folded, u)
		return
	}
	fv := folded{model: s.Model, version: v, x: x, bias: b}
	if s.Ranker != nil {
		fv.rx = make([]float32, s.Ranker.Rank)
		ms, vs := covered(r, s.Ranker.NumItems)
		if !f.SolveImplicit(fv.rx, s.Ranker, s.rankerGram.get(), ms, vs, s.RankerParams) {
			fv.rx = nil
		}
	}
	e.folded[u] = fv
}

// covered returns r's movies and values below catalog index n, those a
// model of n items has factors for: all of them but ratings of movies
// added after the model (a suffix, as rows are sorted by index and
// AddMovies appends).
func covered(r row, n int) ([]int32, []float32) {
	j, _ := slices.BinarySearch(r.movies, int32(n))
	return r.movies[:j], r.vals[:j]
}

// Trained returns a channel closed at the next model swap.
func (e *Engine) Trained() <-chan struct{} {
	e.tmu.Lock()
	defer e.tmu.Unlock()
	return e.trained
}

// errorsIsCtx reports whether err is a context cancellation.
func errorsIsCtx(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
