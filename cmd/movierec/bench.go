package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"movierec/als"
	"movierec/cpu"
	"movierec/dataset"
	"movierec/engine"
	"movierec/eval"
)

// benchRow is one training measurement.
type benchRow struct {
	Backend    string  `json:"backend"`
	Device     string  `json:"device"`
	Objective  string  `json:"objective"`
	Rank       int     `json:"rank"`
	SecPerIter float64 `json:"seconds_per_iteration"`
	GFLOPS     float64 `json:"gflops"`
	TestRMSE   float64 `json:"test_rmse,omitempty"` // explicit only
	Error      string  `json:"error,omitempty"`
}

// benchReport is what `movierec bench` prints and appends.
type benchReport struct {
	Machine                string     `json:"machine"`
	Data                   string     `json:"data"`
	Ratings                int        `json:"ratings"`
	Users                  int        `json:"users"`
	Movies                 int        `json:"movies"`
	GenSeconds             float64    `json:"generate_seconds,omitempty"`
	LoadSeconds            float64    `json:"load_seconds"`
	LoadRate               float64    `json:"load_rows_per_second"`
	NoiseFloor             float64    `json:"noise_floor_rmse,omitempty"`
	Iterations             int        `json:"iterations"`
	Lambda                 float64    `json:"lambda"`
	Bias                   bool       `json:"bias"`
	Implicit               string     `json:"implicit_params,omitempty"` // the implicit rows' parameters, rank aside
	Solver                 string     `json:"solver,omitempty"`          // --solver when given: every row's solver
	Training               []benchRow `json:"training"`
	PeakRSSBytes           int64      `json:"peak_rss_bytes"`
	TopP50, TopP90, TopP99 time.Duration
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "--http" {
		return runLoadTest(ctx, args[1:], stdout, stderr)
	}
	var (
		lf                      logFlags
		dataDir, preset, genDir string
		ranksFlag, backendsFlag string
		objectivesFlag          string
		cudaWorker, appendTo    string
		iterations, topQueries  int
		lambda, testFraction    float64
		asJSON, bias            bool
		solverFlag              string
	)
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&dataDir, "data", "", "data set directory to benchmark on, MovieLens or Netflix Prize layout (instead of --preset)")
	fs.StringVar(&preset, "preset", "small", "synthetic data set to generate if --gen-dir lacks it: small, ml-25m, netflix")
	fs.StringVar(&genDir, "gen-dir", "", "where the preset is generated and reused (default: $TMPDIR/movierec-<preset>)")
	fs.StringVar(&ranksFlag, "ranks", "8,64", "comma-separated ranks to train")
	fs.StringVar(&backendsFlag, "backends", "cpu,cuda", "comma-separated backends to try; unavailable ones are reported and skipped")
	fs.StringVar(&objectivesFlag, "objectives", "explicit,implicit", "comma-separated objectives to train: explicit (--lambda, --bias) and implicit (the ranking model's defaults at each rank)")
	fs.StringVar(&cudaWorker, "cuda-worker", "", "path of the movierec-cuda worker (default: next to this binary)")
	fs.IntVar(&iterations, "iterations", 3, "iterations per training (seconds per iteration is their mean)")
	fs.Float64Var(&lambda, "lambda", 0.05, "regularisation λ")
	fs.Float64Var(&testFraction, "test-fraction", 0.1, "share of ratings held out for the test RMSE")
	fs.IntVar(&topQueries, "top-queries", 2000, "Top(user, 10) calls for the latency percentiles")
	fs.StringVar(&appendTo, "append", "", "append the results as a Markdown section to this file (e.g. bench/RESULTS.md)")
	fs.BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	fs.BoolVar(&bias, "bias", false, "learn user and movie biases")
	fs.StringVar(&solverFlag, "solver", "", "solver for every training: cholesky or cg (default: each objective's own, cholesky for explicit, cg for implicit)")
	lf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}
	var method als.Method
	if solverFlag != "" {
		if method, err = als.ParseMethod(solverFlag); err != nil {
			return fmt.Errorf("--solver: %w", err)
		}
	}
	var ranks []int
	for _, s := range strings.Split(ranksFlag, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || k < 1 || k > als.MaxRank {
			return fmt.Errorf("--ranks: %q is not a rank in 1..%d", s, als.MaxRank)
		}
		ranks = append(ranks, k)
	}
	var objectives []als.Objective
	for _, s := range strings.Split(objectivesFlag, ",") {
		o, err := als.ParseObjective(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("--objectives: %w", err)
		}
		objectives = append(objectives, o)
	}

	rep := benchReport{Machine: machine(), Iterations: iterations, Lambda: lambda, Bias: bias, Solver: solverFlag}
	if slices.Contains(objectives, als.Implicit) {
		rep.Implicit = benchParams(als.Implicit, 0, iterations, lambda, bias).String()
	}
	if dataDir == "" {
		cfg, ok := dataset.Presets()[preset]
		if !ok {
			return fmt.Errorf("--preset %q: want small, ml-25m or netflix", preset)
		}
		if genDir == "" {
			genDir = filepath.Join(os.TempDir(), "movierec-"+preset)
		}
		dataDir = genDir
		if _, err := os.Stat(filepath.Join(genDir, "ratings.csv")); errors.Is(err, os.ErrNotExist) {
			start := time.Now()
			if err := generateTo(ctx, cfg, genDir, log); err != nil {
				return err
			}
			rep.GenSeconds = time.Since(start).Seconds()
		}
		rep.Data = fmt.Sprintf("synthetic preset %s (seed %d)", preset, cfg.Seed)
	} else {
		rep.Data = dataDir
	}
	rep.NoiseFloor = noiseFloor(dataDir) // 0 unless the data set was generated

	start := time.Now()
	ds, err := dataset.LoadDir(dataDir)
	if err != nil {
		return err
	}
	rep.LoadSeconds = time.Since(start).Seconds()
	rep.Ratings, rep.Movies = len(ds.Ratings), len(ds.Movies)
	rep.LoadRate = float64(len(ds.Ratings)) / rep.LoadSeconds
	log.Info("loaded", "ratings", len(ds.Ratings), "seconds", rep.LoadSeconds)

	train, test := eval.SplitInPlace(ds.Ratings, testFraction, 42)
	ds.Ratings = nil
	r, ix := eval.Matrix(train)
	train = nil
	rep.Users = r.NumUsers
	debug.FreeOSMemory()

	var last *als.Model
	var lastK int
	for _, backend := range strings.Split(backendsFlag, ",") {
		backend = strings.TrimSpace(backend)
		solver, device, err := benchSolver(ctx, backend, cudaWorker, log)
		if err != nil {
			log.Warn("backend unavailable", "backend", backend, "err", err)
			msg := err.Error()
			if len(msg) > 160 {
				msg = msg[:160] + "…"
			}
			rep.Training = append(rep.Training, benchRow{Backend: backend, Error: msg})
			continue
		}
		for _, obj := range objectives {
			for _, k := range ranks {
				p := benchParams(obj, k, iterations, lambda, bias)
				if solverFlag != "" {
					p.Solver = method
				}
				var m als.Model
				var total time.Duration
				err := solver.Fit(ctx, &m, r, p, func(it als.Iteration) {
					total += it.Duration
					log.Info("bench training", "backend", backend, "objective", obj, "rank", k, "iteration", it.N, "seconds", it.Duration.Seconds(), "train_error", it.TrainRMSE)
				})
				row := benchRow{Backend: backend, Device: device, Objective: obj.String(), Rank: k}
				if err != nil {
					row.Error = err.Error()
				} else {
					row.SecPerIter = total.Seconds() / float64(iterations)
					row.GFLOPS = als.FlopsPerIteration(r, p.AugmentedRank()) / row.SecPerIter / 1e9
					if obj == als.Explicit {
						row.TestRMSE = eval.Score(&m, ix, ds.Scale, test).RMSE
						last, lastK = &m, k
					}
				}
				rep.Training = append(rep.Training, row)
				if rss := peakRSS(); rss > rep.PeakRSSBytes {
					rep.PeakRSSBytes = rss
				}
			}
		}
		solver.Close()
	}

	if last != nil && topQueries > 0 {
		rep.TopP50, rep.TopP90, rep.TopP99, err = topLatency(ctx, ds.Movies, ds.Scale, r, ix, last, lastK, lambda, topQueries)
		if err != nil {
			return err
		}
	}

	if asJSON {
		if err := json.NewEncoder(stdout).Encode(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprint(stdout, rep.markdown("movierec bench "+strings.Join(args, " ")))
	}
	if appendTo != "" {
		f, err := os.OpenFile(appendTo, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := io.WriteString(f, "\n"+rep.markdown("movierec bench "+strings.Join(args, " "))); err != nil {
			return err
		}
	}
	return nil
}

// benchParams returns the parameters bench trains objective at rank k
// with: explicit with λ and biases from the flags, implicit with the
// ranking model's defaults (als.DefaultImplicitParams); both with the
// given iterations and seed 5.
func benchParams(objective als.Objective, k, iterations int, lambda float64, bias bool) als.Params {
	if objective == als.Implicit {
		p := als.DefaultImplicitParams()
		p.Rank, p.Iterations, p.Seed = k, iterations, 5
		return p
	}
	return als.Params{Rank: k, Iterations: iterations, Lambda: lambda, Seed: 5, Bias: bias}
}

// benchSolver builds one backend for bench, failing instead of falling back.
func benchSolver(ctx context.Context, backend, worker string, log *slog.Logger) (als.Solver, string, error) {
	switch backend {
	case "cpu":
		return mustCPU(), fmt.Sprintf("%d cores", runtime.GOMAXPROCS(0)), nil
	case "cuda":
		s, _, err := newSolver(ctx, modelFlags{backend: "cuda", cudaWorker: worker}, log)
		if err != nil {
			return nil, "", err
		}
		dev := "cuda"
		if d, ok := s.(interface{ Device() string }); ok {
			dev = d.Device()
		}
		return s, dev, nil
	}
	return nil, "", fmt.Errorf("unknown backend %q", backend)
}

// topLatency builds an engine over the training ratings with the model
// published, and times Top(user, 10) for random users.
func topLatency(ctx context.Context, movies []engine.Movie, scale engine.Scale, r *als.Ratings, ix eval.Index, m *als.Model, k int, lambda float64, n int) (p50, p90, p99 time.Duration, err error) {
	userIDs := make([]int32, len(ix.Users))
	for id, u := range ix.Users {
		userIDs[u] = id
	}
	movieIDs := make([]int32, len(ix.Movies))
	for id, i := range ix.Movies {
		movieIDs[i] = id
	}
	rs := make([]engine.Rating, 0, r.NNZ())
	for u := 0; u < r.NumUsers; u++ {
		for q := r.UserPtr[u]; q < r.UserPtr[u+1]; q++ {
			rs = append(rs, engine.Rating{User: userIDs[u], Movie: movieIDs[r.UserIdx[q]], Value: r.UserVal[q]})
		}
	}
	p := als.Params{Rank: k, Iterations: 1, Lambda: lambda, Seed: 5}
	e, err := engine.New(engine.Config{Params: p, MinRatings: 25, Scale: scale}, mustCPU(), movies, rs)
	if err != nil {
		return 0, 0, 0, err
	}
	rs = nil
	if err := e.Publish(&engine.Snapshot{Model: m, Params: p, UserIDs: userIDs, MovieIDs: movieIDs}); err != nil {
		return 0, 0, 0, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	lat := make([]time.Duration, n)
	for j := range lat {
		u := userIDs[rng.IntN(len(userIDs))]
		start := time.Now()
		if _, err := e.Top(ctx, u, 10); err != nil {
			return 0, 0, 0, err
		}
		lat[j] = time.Since(start)
	}
	slices.Sort(lat)
	q := func(f float64) time.Duration { return lat[min(len(lat)-1, int(f*float64(len(lat))))] }
	return q(0.5), q(0.9), q(0.99), nil
}

// markdown renders the report as a section for bench/RESULTS.md.
func (rep benchReport) markdown(cmd string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### movierec bench, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- machine: %s\n- command: `%s`\n- data: %s: %d movies, %d ratings (%d users in the training split)\n", rep.Machine, cmd, rep.Data, rep.Movies, rep.Ratings, rep.Users)
	if rep.GenSeconds > 0 {
		fmt.Fprintf(&b, "- generated in %.1f s\n", rep.GenSeconds)
	}
	fmt.Fprintf(&b, "- load: %.2f s, %.1f M rows/s\n", rep.LoadSeconds, rep.LoadRate/1e6)
	fmt.Fprintf(&b, "- peak RSS, load through the last training: %.2f GB\n", float64(rep.PeakRSSBytes)/1e9)
	if rep.TopP50 > 0 {
		fmt.Fprintf(&b, "- Top(user, 10) latency over random users: p50 %v, p90 %v, p99 %v\n", rep.TopP50.Round(time.Microsecond), rep.TopP90.Round(time.Microsecond), rep.TopP99.Round(time.Microsecond))
	}
	floor := ""
	if rep.NoiseFloor > 0 {
		floor = fmt.Sprintf(" (noise floor %.4f)", rep.NoiseFloor)
	}
	fmt.Fprintf(&b, "\n| backend | device | objective | rank | s / iteration | GFLOP/s | test RMSE%s |\n| --- | --- | --- | ---: | ---: | ---: | ---: |\n", floor)
	for _, t := range rep.Training {
		if t.Error != "" {
			fmt.Fprintf(&b, "| %s | unavailable: %s | %s | %d | | | |\n", t.Backend, strings.ReplaceAll(t.Error, "|", "/"), t.Objective, t.Rank)
			continue
		}
		rmse := "—"
		if t.TestRMSE > 0 {
			rmse = fmt.Sprintf("%.4f", t.TestRMSE)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %.3f | %.1f | %s |\n", t.Backend, t.Device, t.Objective, t.Rank, t.SecPerIter, t.GFLOPS, rmse)
	}
	fmt.Fprintf(&b, "\n%d iterations per training; explicit: λ %g, biases %t, test RMSE on a %s hold-out", rep.Iterations, rep.Lambda, rep.Bias, "10%")
	if rep.Implicit != "" {
		fmt.Fprintf(&b, "; implicit: %s (no RMSE: its scores are no ratings)", strings.TrimPrefix(rep.Implicit, "objective=implicit rank=0 "))
	}
	if rep.Solver != "" {
		fmt.Fprintf(&b, "; solver %s for both", rep.Solver)
	}
	fmt.Fprintf(&b, ". GFLOP/s counts als.FlopsPerIteration, the explicit normal equations' work, for both objectives.\n")
	return b.String()
}

// machine describes this host: CPU model, cores, memory.
func machine() string {
	model, mem := "unknown CPU", ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				model = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "MemTotal:") {
				f := strings.Fields(l)
				if kb, err := strconv.ParseFloat(f[1], 64); err == nil {
					mem = fmt.Sprintf(", %.0f GiB RAM", kb/(1<<20))
				}
			}
		}
	}
	return fmt.Sprintf("%s, %d cores%s, %s/%s", model, runtime.NumCPU(), mem, runtime.GOOS, runtime.GOARCH)
}

// peakRSS returns VmHWM (peak resident set) of this process, or 0.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			f := strings.Fields(l)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// noiseFloor reads the noise floor RMSE from a generated data set's README.
func noiseFloor(dir string) float64 {
	b, err := os.ReadFile(filepath.Join(dir, "README.txt"))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "noise floor RMSE") {
			f := strings.Fields(l)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			return v
		}
	}
	return 0
}

// generateTo writes a preset into dir with progress in the log.
func generateTo(ctx context.Context, cfg dataset.GenConfig, dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	log.Info("generating the data set", "dir", dir, "users", cfg.Users, "movies", cfg.Movies, "ratings", cfg.Ratings)
	st, err := genFiles(ctx, cfg, dataset.LayoutLatest, dir, func(done, total int64) {
		log.Info("generation progress", "percent", fmt.Sprintf("%.1f", 100*float64(done)/float64(total)))
	})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "README.txt"), genReadme(cfg, st, []string{"(by movierec bench)"}), 0o644)
}

// mustCPU returns the CPU solver on all cores.
func mustCPU() als.Solver { return cpu.New(0) }
