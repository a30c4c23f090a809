package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"movierec/als"
	"movierec/api"
	"movierec/engine"
	"movierec/store"
	"movierec/store/sqlite"
	"movierec/web"
)

// serveConfig is everything `movierec serve` is configured with.
type serveConfig struct {
	addr       string
	data       dataSource
	dbPath     string
	minRatings int
	maxCount   int
	apiKey     string
	authReads  bool
	corsOrigin string
	retrainInt time.Duration
	skipCheck  bool
	noTrain    bool // --train=false: never trains (the zero value trains)
	probesOnly bool // the trainer role: /healthz, /readyz and /metrics only
	model      modelFlags
	ranking    rankingFlags
	warmIters  int // --ranking-warm-iterations
	log        logFlags
}

// registerWarm registers --ranking-warm-iterations (serve, trainer).
func registerWarm(fs *flag.FlagSet, v *int) {
	fs.IntVar(v, "ranking-warm-iterations", 3, "a retrain after few changes (at most 5% more or fewer ratings; every 21st retrain excepted) starts the ranking model from the published one and runs this many iterations instead of --ranking-iterations (0: always from random factors)")
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "listen address")
	cfg.data.register(fs, "data set directory imported into an empty database (default: the bundled ml-latest-small)")
	fs.StringVar(&cfg.dbPath, "db", "movierec.db", dbUsage)
	train := fs.Bool("train", true, "eligible to train: with PostgreSQL the eligible processes compete for the trainer lock and one trains at a time; false never trains and loads the models others publish")
	fs.IntVar(&cfg.minRatings, "min-ratings", 25, "a movie needs this many ratings to be recommended")
	fs.IntVar(&cfg.maxCount, "max-count", 1000, "largest count a top-N request may ask for")
	fs.StringVar(&cfg.apiKey, "api-key", "", "require Authorization: Bearer <key> on writes")
	fs.BoolVar(&cfg.authReads, "auth-reads", false, "require the API key on reads too (needs --api-key)")
	fs.StringVar(&cfg.corsOrigin, "cors-origin", "", "let web pages from these origins call the API: comma-separated exact origins (https://app.example.com) or * (default: CORS off)")
	fs.DurationVar(&cfg.retrainInt, "retrain-interval", 10*time.Second, "least time between two background retrains (POSTs are folded in at once meanwhile)")
	fs.BoolVar(&cfg.skipCheck, "skip-check", false, "skip PRAGMA quick_check of the database at start (seconds per GiB)")
	cfg.model.register(fs)
	cfg.ranking.register(fs)
	registerWarm(fs, &cfg.warmIters)
	cfg.log.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg.noTrain = !*train
	log, err := cfg.log.logger(stderr)
	if err != nil {
		return err
	}
	m, err := newServer(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer m.Close()
	return m.Run(ctx)
}

// server is the running service: like wtf's Main, it is built, run until
// its context ends, and closed, so the end-to-end test can start the whole
// program on port 0.
//
// It listens at once: while the data is imported or read (tens of seconds
// for tens of millions of ratings) /healthz answers 200 and every other
// route 503, and the API takes over when the engine is built.
type server struct {
	cfg     serveConfig
	log     *slog.Logger
	http    *http.Server
	ln      net.Listener
	handler atomic.Pointer[http.Handler]  // the start-up handler, then the API
	eng     atomic.Pointer[engine.Engine] // nil until the data is loaded

	mu     sync.Mutex // guards solver and db, set by start and released by Close
	solver als.Solver
	db     store.DB

	reg    *prometheus.Registry // /metrics: from the start, then the API's
	unlock func() error         // releases the single-writer lock on the database
}

// newServer checks the configuration and listens; Run does the rest.
func newServer(ctx context.Context, cfg serveConfig, log *slog.Logger) (*server, error) {
	if err := cfg.model.validate(); err != nil {
		return nil, err
	}
	if err := cfg.ranking.validate(); err != nil {
		return nil, err
	}
	if cfg.warmIters < 0 {
		return nil, fmt.Errorf("--ranking-warm-iterations %d: want 0 (off) or more", cfg.warmIters)
	}
	if err := cfg.data.validate(); err != nil {
		return nil, err
	}
	if err := cfg.validateHTTP(); err != nil {
		return nil, err
	}
	// One server per SQLite file: a second would keep its own copy of
	// the ratings in memory and diverge (sqlite.LockWriter). PostgreSQL
	// replicas follow each other's writes instead.
	unlock := func() error { return nil }
	if !isPostgres(cfg.dbPath) {
		var err error
		if unlock, err = sqlite.LockWriter(cfg.dbPath); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	page, err := web.New()
	if err != nil {
		ln.Close()
		unlock()
		return nil, fmt.Errorf("build the web page: %w", err)
	}
	s := &server{cfg: cfg, log: log, ln: ln, unlock: unlock, reg: prometheus.NewRegistry()}
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	bi := readBuildInfo(version)
	api.RegisterBuildInfo(s.reg, api.BuildInfo{Version: bi.Version, Revision: bi.Revision, GoVersion: bi.GoVersion})
	starting := startingHandler(api.StartingMetrics(s.reg))
	s.handler.Store(&starting)
	var root http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*s.handler.Load()).ServeHTTP(w, r)
	})
	if !cfg.probesOnly {
		root = withPage(page, root)
	}
	s.http = &http.Server{
		Handler:           root,
		ReadHeaderTimeout: 5 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// maxHeaderBytes bounds a request's headers; net/http answers 431 beyond
// it (as JSON, through api.ProtocolErrors).
const maxHeaderBytes = 64 << 10

// validateHTTP checks the HTTP flags: the API key must not have
// surrounding whitespace (a pasted newline would make every request 401),
// --auth-reads needs a key, and --cors-origin must parse. The key is
// never part of an error.
func (cfg *serveConfig) validateHTTP() error {
	if cfg.apiKey != strings.TrimSpace(cfg.apiKey) {
		return errors.New("--api-key (or $MOVIEREC_API_KEY) has leading or trailing whitespace; remove it")
	}
	if cfg.authReads && cfg.apiKey == "" {
		return errors.New("--auth-reads needs an API key: set --api-key or $MOVIEREC_API_KEY")
	}
	if _, err := api.ParseCORSOrigins(cfg.corsOrigin); err != nil {
		return fmt.Errorf("--cors-origin: %w", err)
	}
	return nil
}

// withPage sends the web page's requests (GET or HEAD of /, /status and
// /static/<file>) to page and every other request (the API, the
// tutorial's /{user}/ratings/... routes, the probes) to next. The page is
// served from the moment the server listens, so it can show "loading"
// while the data loads.
func withPage(page *web.Handler, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if page.Serves(r) {
			page.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// startingHandler answers while the data loads: alive, not ready, and
// /metrics (movierec_model_ready 0) from metrics.
func startingHandler(metrics http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			metrics.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if r.URL.Path == "/healthz" {
			_, _ = io.WriteString(w, `{"status":"ok"}`)
			return
		}
		api.Unavailable(w, r, "model not ready: the service is starting (loading the data)")
	})
}

// start imports or reads the data, builds the trainer and the engine, loads
// a stored model if one fits, and hands the routes to the API.
func (s *server) start(ctx context.Context) (*engine.Engine, error) {
	cfg, log := s.cfg, s.log
	st, err := openState(ctx, cfg.dbPath, &cfg.data, cfg.skipCheck, log)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.db = st.db
	s.mu.Unlock()
	mf := cfg.model
	if cfg.noTrain {
		mf.backend = "cpu" // never trains: start no CUDA worker
	}
	solver, backend, err := newServingSolver(ctx, mf, log)
	if err != nil {
		return nil, err
	}
	if f, ok := solver.(*fallback); ok {
		f.onFallback = api.RegisterGPUFallbacks(s.reg)
	}
	s.mu.Lock()
	s.solver = solver
	s.mu.Unlock()
	ranking, _ := cfg.ranking.params(cfg.model.p.Seed)
	ecfg := engine.Config{
		Params:     cfg.model.p,
		Ranking:    ranking,
		MinRatings: cfg.minRatings,

		RankingWarmIterations: cfg.warmIters,
		Scale:                 st.scale,
		Backend:               backend,
		Store:                 st.db,
		Models:                st.db,
		Version:               st.version,
		Logger:                log,

		RetrainInterval: cfg.retrainInt,
	}
	var storage api.StorageChecker = st.db
	if sh, ok := sharedStore(st.db); ok {
		if !cfg.noTrain {
			ecfg.Lock = sh
		} else {
			ecfg.NeverTrain = true
		}
		log.Info("shared database: following other processes' writes and models", "train", !cfg.noTrain)
	} else if cfg.noTrain {
		ecfg.NeverTrain = true
		log.Warn("--train=false on a SQLite database: nothing will train; the stored model is served as it is")
	}
	// The stored models are read and decoded (about 0.5 s for a rank-128
	// ranking model at 25M ratings) while the engine builds its rows.
	stored := make(chan storedModel, 1)
	go func() {
		snap, changed, err := storedModels(ctx, st, cfg.model.p, ranking, log)
		stored <- storedModel{snap, changed, err}
	}()
	eng, err := engine.New(ecfg, solver, st.movies, st.ratings)
	if err != nil {
		return nil, fmt.Errorf("build engine: %w", err)
	}
	st.ratings = nil // the engine holds its own copy
	sm := <-stored
	if err := st.checked(); err != nil { // before anything is served
		return nil, err
	}
	if sm.err != nil {
		log.Warn("stored model not usable; training instead", "err", sm.err)
	} else if sm.snap != nil {
		if err := eng.PublishFolding(sm.snap, sm.changed); err != nil {
			log.Warn("stored model not usable; training instead", "err", err)
		} else if sm.snap.DataVersion < st.version {
			log.Info("model loaded from the database; users who rated since folded in, retraining", "model_data_version", sm.snap.DataVersion,
				"data_version", st.version, "users_folded", len(sm.changed), "trained_at", sm.snap.TrainedAt, "ranking_model", sm.snap.Ranker != nil)
			eng.RequestRetrain() // Run takes it up
		} else {
			log.Info("model loaded from the database; not training", "data_version", sm.snap.DataVersion,
				"trained_at", sm.snap.TrainedAt, "backend", sm.snap.Backend, "train_rmse", sm.snap.TrainRMSE, "ranking_model", sm.snap.Ranker != nil)
		}
	}
	gin.SetMode(gin.ReleaseMode)
	cors, _ := api.ParseCORSOrigins(cfg.corsOrigin) // checked by validateHTTP
	if _, ok := sharedStore(st.db); ok {
		storage = sharedHealth{db: st.db, eng: eng}
	}
	var h http.Handler = api.New(eng, api.Options{MaxCount: cfg.maxCount, APIKey: cfg.apiKey, AuthReads: cfg.authReads, CORSOrigins: cors,
		Registry: s.reg, Storage: storage}, log)
	if cfg.probesOnly {
		h = probesOnly(h)
	}
	s.eng.Store(eng)
	s.handler.Store(&h)
	return eng, nil
}

// Addr is the address the server listens on.
func (s *server) Addr() string { return s.ln.Addr().String() }

// Engine returns the engine, or nil while the data is still loading.
func (s *server) Engine() *engine.Engine { return s.eng.Load() }

// Run serves until ctx ends: it loads the data and trains the first model
// in the background (readyz answers 503 until a model is published), then
// shuts down gracefully: in-flight requests finish, the retrain loop stops.
// A failed start (bad data, no database) ends Run with its error.
func (s *server) Run(ctx context.Context) error {
	serveErr := make(chan error, 1)
	go func() { serveErr <- s.http.Serve(api.ProtocolErrors(s.ln)) }()
	s.log.Info("serving", "addr", "http://"+s.Addr())

	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	startErr := make(chan error, 1)
	trainDone := make(chan struct{})
	go func() {
		defer close(trainDone)
		eng, err := s.start(bg)
		if err != nil {
			startErr <- err
			return
		}
		sh, shared := sharedStore(s.db)
		if shared {
			// Replicas follow every write and model; with the trainer
			// lock (Run) one eligible process trains at a time.
			var follow sync.WaitGroup
			follow.Go(func() { _ = eng.Follow(bg, sh, sh) })
			defer follow.Wait()
		} else if !eng.Ready() && eng.Trainer() {
			if _, err := eng.Retrain(bg); err != nil {
				s.log.Error("first training failed; the service stays unready until a retrain succeeds", "err", err)
			}
		}
		_ = eng.Run(bg)
		<-bg.Done() // Run returns at once on an engine that never trains
	}()

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
	case err = <-startErr:
	}
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if serr := s.http.Shutdown(sctx); serr != nil && err == nil {
		err = fmt.Errorf("shutdown: %w", serr)
	}
	stopBG()
	<-trainDone
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Close releases the trainer and the database. Call it after Run returns.
func (s *server) Close() error {
	s.ln.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	if s.solver != nil {
		errs = append(errs, s.solver.Close())
	}
	if s.db != nil {
		errs = append(errs, s.db.Close())
	}
	if s.unlock != nil {
		errs = append(errs, s.unlock()) // after the database is closed
		s.unlock = nil
	}
	return errors.Join(errs...)
}

// storedModel is what storedModels returns.
type storedModel struct {
	snap    *engine.Snapshot
	changed []int32
	err     error
}

// maxFoldUsers is the most users a start folds in to serve a stored model
// older than the data (storedModels): each costs a solve against both
// models, one after another (about 0.54 ms a user with some 165 ratings at
// the default ranks, BenchmarkPublishFolding), and past about this many
// training the rating model first is sooner ready (3.3 s at 25M ratings
// on 2 cores).
var maxFoldUsers = 5_000

// storedModels returns the newest stored models if they were trained with
// p (and, when ranking.Rank > 0, the ranking model with ranking), for the
// engine to publish so that a restart serves at once without training;
// nil (the reason logged) when there are none such. Models of the current
// data version come alone; older ones only when the store lists the users
// whose ratings changed since (changed, at most maxFoldUsers, for the
// engine to fold in; the caller retrains). It reads only st.db and st.version.
func storedModels(ctx context.Context, st *state, p, ranking als.Params, log *slog.Logger) (_ *engine.Snapshot, changed []int32, _ error) {
	snap, err := st.db.LatestModel(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case snap == nil:
		log.Info("no stored model with these parameters; training", "params", p.String())
		return nil, nil, nil
	case snap.DataVersion > st.version:
		log.Info("stored model is newer than the data read; training", "model_data_version", snap.DataVersion, "data_version", st.version)
		return nil, nil, nil
	case snap.DataVersion < st.version:
		if changed, err = st.db.ChangedUsers(ctx, snap.DataVersion); err != nil {
			log.Info("stored model is older than the data and the changes since are not listed; training",
				"model_data_version", snap.DataVersion, "data_version", st.version, "reason", err.Error())
			return nil, nil, nil
		}
		if len(changed) > maxFoldUsers {
			log.Info("stored model is older than the data and too many users rated since; training",
				"model_data_version", snap.DataVersion, "data_version", st.version, "users", len(changed), "most", maxFoldUsers)
			return nil, nil, nil
		}
	}
	if ranking.Rank != 0 {
		rs, err := st.db.LatestModel(ctx, ranking)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case rs == nil:
			log.Info("no stored ranking model with these parameters; training", "params", ranking.String())
			return nil, nil, nil
		case rs.DataVersion != snap.DataVersion || !slices.Equal(rs.UserIDs, snap.UserIDs) || !slices.Equal(rs.MovieIDs, snap.MovieIDs):
			log.Info("stored ranking model does not match the rating model; training", "model_data_version", rs.DataVersion,
				"rating_model_data_version", snap.DataVersion)
			return nil, nil, nil
		}
		snap.Ranker, snap.RankerParams, snap.RankerSeconds, snap.RankerError = rs.Model, ranking, rs.TrainSeconds, rs.TrainRMSE
	}
	return snap, changed, nil
}
