package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"movierec/als"
	"movierec/dataset"
	"movierec/engine"
	"movierec/eval"
)

// defaultEASEMinRatings is the least number of training ratings of a movie
// in EASE's item set. 10 keeps the inverse small (about 2,000 movies of
// ml-latest-small's 80% training part: a few seconds on two cores) while
// still letting movies too rare to be recommended (< --min-ratings) inform
// the scores of the others.
const defaultEASEMinRatings = 10

// evalRow is one ranker's line of eval's table.
type evalRow struct {
	Name   string `json:"name"`
	Params string `json:"params,omitempty"`
	eval.RankingResult
	RMSE         *float64 `json:"rmse"` // nil where the ranker predicts no ratings
	MAE          *float64 `json:"mae"`
	TrainSeconds float64  `json:"train_seconds"`
}

// evalReport is eval's --json output.
type evalReport struct {
	Split          string    `json:"split"` // "random", "time" or "files"
	SplitSeed      *uint64   `json:"split_seed,omitempty"`
	TestFraction   float64   `json:"test_fraction,omitempty"`
	TrainRatings   int       `json:"train_ratings"`
	TestRatings    int       `json:"test_ratings"`
	TestPairs      int       `json:"test_pairs"` // test ratings RMSE and MAE cover
	Skipped        int       `json:"skipped"`    // test ratings of a user or movie not in training
	K              int       `json:"k"`
	Relevant       float64   `json:"relevant"`
	MinRatings     int       `json:"min_ratings"`
	EligibleMovies int       `json:"eligible_movies"`
	Users          int       `json:"users"` // users the ranking metrics average over
	Backend        string    `json:"backend"`
	Rows           []evalRow `json:"rows"`
	// Curve is the rating model's test error after each iteration
	// (--curve).
	Curve []eval.CurvePoint `json:"curve,omitempty"`
}

// splitFlags choose how eval and tune split the ratings.
type splitFlags struct {
	kind     string
	fraction float64
	seed     uint64
}

func (s *splitFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.kind, "split", "random", "split protocol: random (each rating held out with probability --test-fraction, by --split-seed) or time (each user's latest --test-fraction of ratings held out)")
	fs.Float64Var(&s.fraction, "test-fraction", 0.2, "share of ratings held out")
	fs.Uint64Var(&s.seed, "split-seed", 42, "seed of the random split")
}

func (s *splitFlags) validate() error {
	if s.kind != "random" && s.kind != "time" {
		return fmt.Errorf("--split %q: want random or time", s.kind)
	}
	if !(s.fraction > 0 && s.fraction < 1) {
		return fmt.Errorf("--test-fraction %v: want a value between 0 and 1", s.fraction)
	}
	return nil
}

// split divides rs by the chosen protocol, with seed for the random one.
// rs must not be used afterwards.
func (s *splitFlags) split(rs []engine.Rating, seed uint64) (train, test []engine.Rating) {
	if s.kind == "time" {
		return eval.SplitByTime(rs, s.fraction)
	}
	return eval.SplitInPlace(rs, s.fraction, seed)
}

// runEval compares rankers on one train/test split: the ranking model
// (implicit ALS), the explicit rating model, the most-rated and
// best-average baselines and, with --baseline ease, EASE.
func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		mf                  modelFlags
		rf                  rankingFlags
		sf                  splitFlags
		lf                  logFlags
		trainPath, testPath string
		src                 dataSource
		asJSON              bool
		minRatings, k       int
		baseline            string
		easeLambda          float64
		easeMin             int
		curve, rmseOnly     bool
		exportDir           string
	)
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&trainPath, "train", "", "training ratings CSV (userId,movieId,rating,timestamp with header; with --scale any plain layout, as --ratings); with --test, no split")
	fs.StringVar(&testPath, "test", "", "test ratings CSV, same format")
	src.register(fs, "data set directory to split (default: bundled ml-latest-small)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object with a row per ranker")
	fs.IntVar(&minRatings, "min-ratings", 25, "rank only movies with at least this many training ratings, as serve recommends (0: all)")
	fs.IntVar(&k, "k", 10, "length of the top-k lists the ranking metrics score")
	fs.StringVar(&baseline, "baseline", "", "extra baseline: ease (Steck's closed-form item-item model), or empty")
	fs.Float64Var(&easeLambda, "ease-lambda", eval.DefaultEASELambda, "EASE's ridge λ")
	fs.IntVar(&easeMin, "ease-min-ratings", defaultEASEMinRatings, "EASE's movies: those with at least this many training ratings (bounds the n×n inverse)")
	fs.BoolVar(&curve, "curve", false, "after each iteration of the rating model, score the test set and print the test error against training time (scoring excluded): the time to reach an error (CPU backend)")
	fs.BoolVar(&rmseOnly, "rmse-only", false, "train only the rating model and report its test error; no ranking model, ranking metrics or baselines")
	fs.StringVar(&exportDir, "export-libmf", "", "write the split to DIR/train.txt and DIR/test.txt in LIBMF's text format (user item rating, dense 0-based ids; test pairs of unknown users or movies left out) and exit, for scripts/peers/libmf.sh")
	mf.register(fs)
	rf.register(fs)
	sf.register(fs)
	lf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := mf.validate(); err != nil {
		return err
	}
	if err := rf.validate(); err != nil {
		return err
	}
	if err := sf.validate(); err != nil {
		return err
	}
	if (trainPath == "") != (testPath == "") {
		return fmt.Errorf("--train and --test go together")
	}
	if err := src.validate(); err != nil {
		return err
	}
	if trainPath != "" && !src.bundled() {
		return fmt.Errorf("--train and --test exclude --data and --ratings")
	}
	if k < 1 {
		return fmt.Errorf("--k %d: want at least 1", k)
	}
	if baseline != "" && baseline != "ease" {
		return fmt.Errorf("--baseline %q: want ease or nothing", baseline)
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}

	rep := evalReport{K: k, MinRatings: minRatings}
	var train, test []engine.Rating
	scale := engine.MovieLensScale
	if trainPath != "" {
		if d := src.scale.declared(); d != nil {
			scale = *d
		}
		if train, err = readRatingsFile(trainPath, src.scale.declared()); err != nil {
			return err
		}
		if test, err = readRatingsFile(testPath, src.scale.declared()); err != nil {
			return err
		}
		rep.Split = "files"
	} else {
		ds, err := src.load(log)
		if err != nil {
			return err
		}
		scale = ds.Scale
		train, test = sf.split(ds.Ratings, sf.seed)
		rep.Split, rep.TestFraction = sf.kind, sf.fraction
		if sf.kind == "random" {
			rep.SplitSeed = &sf.seed
		}
	}
	rep.TrainRatings, rep.TestRatings = len(train), len(test)
	r, ix := eval.Matrix(train)
	if exportDir != "" {
		return exportLIBMF(exportDir, r, ix, test, log)
	}

	solver, backend, err := newSolver(ctx, mf, log)
	if err != nil {
		return err
	}
	defer solver.Close()
	rep.Backend = backend
	if curve && backend != "cpu" {
		return fmt.Errorf("--curve needs the CPU backend (--backend cpu): the %s backend returns the model only at the end", backend)
	}

	rep.Relevant = eval.Relevant(scale, train)
	task := eval.NewTask(ix, train, test, k, float32(rep.Relevant), minRatings)
	rep.EligibleMovies, rep.Users = len(task.Eligible()), task.Users()
	rank := func(name, params string, ranked func() eval.RankingResult, secs float64) *evalRow {
		start := time.Now()
		row := evalRow{Name: name, Params: params, RankingResult: ranked(), TrainSeconds: secs}
		log.Debug("ranked", "ranker", name, "seconds", time.Since(start).Seconds())
		rep.Rows = append(rep.Rows, row)
		return &rep.Rows[len(rep.Rows)-1]
	}
	// Progress is logged at info level: on large data a fit takes
	// minutes. (The training error it reports costs one pass over the
	// ratings per iteration, under a tenth of an iteration.)
	progress := func(model string) func(als.Iteration) {
		return func(it als.Iteration) {
			args := []any{"model", model, "iteration", fmt.Sprintf("%d/%d", it.N, it.Of), "train_error", it.TrainRMSE, "seconds", it.Duration.Seconds()}
			if it.ValidationRMSE > 0 {
				args = append(args, "validation_error", it.ValidationRMSE)
			}
			log.Info("training progress", args...)
			if it.Stopped != "" {
				log.Info("training stopped early", "model", model, "iteration", fmt.Sprintf("%d/%d", it.N, it.Of), "stopped", it.Stopped)
			}
		}
	}

	if rmseOnly {
		return evalRMSEOnly(ctx, stdout, &rep, solver, r, ix, mf.p, scale, test, curve, asJSON, progress("rating"), log)
	}
	if ip, ok := rf.params(mf.p.Seed); ok {
		m, secs, err := eval.Fit(ctx, solver, r, ip, progress("ranking"))
		if err != nil {
			return fmt.Errorf("ranking model: %w", err)
		}
		rank("implicit ALS (ranking model)", ip.String(), func() eval.RankingResult { return task.RankModel(m) }, secs)
	}
	em, secs, err := fitRating(ctx, &rep, solver, r, ix, mf.p, scale, test, curve, progress("rating"), log)
	if err != nil {
		return err
	}
	name := "explicit ALS (rating model)"
	if rf.kind == "explicit" {
		name = "explicit ALS (rating and ranking model: --ranking explicit)"
	}
	row := rank(name, mf.p.String(), func() eval.RankingResult { return task.RankModel(em) }, secs)
	res := eval.Score(em, ix, scale, test)
	row.RMSE, row.MAE = &res.RMSE, &res.MAE
	rep.TestPairs, rep.Skipped = res.TestPairs, res.Skipped

	start := time.Now()
	s := eval.MostRated(r)
	rank("most-rated", "", func() eval.RankingResult { return task.RankFixed(s) }, time.Since(start).Seconds())
	start = time.Now()
	s = eval.BestAverage(r, eval.DefaultDamping)
	rank("best-average", fmt.Sprintf("mean damped by %d ratings at the global mean", eval.DefaultDamping),
		func() eval.RankingResult { return task.RankFixed(s) }, time.Since(start).Seconds())
	if baseline == "ease" {
		start = time.Now()
		e, err := eval.NewEASE(r, easeLambda, easeMin)
		if err != nil {
			return err
		}
		rank("EASE", fmt.Sprintf("lambda=%g movies=%d (≥ %d training ratings)", easeLambda, e.Movies(), easeMin), func() eval.RankingResult { return task.Rank(e.Score) }, time.Since(start).Seconds())
	}

	if asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	if err := printEval(stdout, &rep, scale); err != nil {
		return err
	}
	return printCurve(stdout, rep.Curve)
}

// fitRating trains eval's rating model, with --curve recording the test
// error after each iteration in rep.Curve.
func fitRating(ctx context.Context, rep *evalReport, solver als.Solver, r *als.Ratings, ix eval.Index, p als.Params, scale engine.Scale, test []engine.Rating, curve bool, progress func(als.Iteration), log *slog.Logger) (*als.Model, float64, error) {
	if !curve {
		m, secs, err := eval.Fit(ctx, solver, r, p, progress)
		if err != nil {
			return nil, 0, fmt.Errorf("rating model: %w", err)
		}
		return m, secs, nil
	}
	m, pts, secs, err := eval.FitCurve(ctx, solver, r, p, ix, scale, test, func(pt eval.CurvePoint) {
		log.Info("test error", "model", "rating", "iteration", pt.Iteration, "seconds", pt.Seconds, "train_error", pt.TrainRMSE, "test_rmse", pt.TestRMSE)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("rating model: %w", err)
	}
	rep.Curve = pts
	return m, secs, nil
}

// evalRMSEOnly is eval --rmse-only: the rating model's test error (and
// with --curve its curve), nothing ranked.
func evalRMSEOnly(ctx context.Context, w io.Writer, rep *evalReport, solver als.Solver, r *als.Ratings, ix eval.Index, p als.Params, scale engine.Scale, test []engine.Rating, curve, asJSON bool, progress func(als.Iteration), log *slog.Logger) error {
	m, secs, err := fitRating(ctx, rep, solver, r, ix, p, scale, test, curve, progress, log)
	if err != nil {
		return err
	}
	res := eval.Score(m, ix, scale, test)
	rep.TestPairs, rep.Skipped = res.TestPairs, res.Skipped
	rep.Rows = append(rep.Rows, evalRow{Name: "explicit ALS (rating model)", Params: p.String(), RMSE: &res.RMSE, MAE: &res.MAE, TrainSeconds: secs})
	if asJSON {
		return json.NewEncoder(w).Encode(rep)
	}
	fmt.Fprintf(w, "ratings       %d train / %d test (%d test pairs scored, %d skipped: user or movie not in training)\nbackend       %s\n",
		rep.TrainRatings, rep.TestRatings, res.TestPairs, res.Skipped, rep.Backend)
	fmt.Fprintf(w, "rating model  %s\n", p.String())
	fmt.Fprintf(w, "test RMSE     %.4f  MAE %.4f  train s %.3f\n", res.RMSE, res.MAE, secs)
	return printCurve(w, rep.Curve)
}

// printCurve writes --curve's table, if there is one.
func printCurve(w io.Writer, pts []eval.CurvePoint) error {
	if len(pts) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "\ntest error after each iteration (seconds: training so far, scoring excluded)\n")
	fmt.Fprintf(tw, "iteration\tseconds\ttrain RMSE\ttest RMSE\t\n")
	for _, pt := range pts {
		fmt.Fprintf(tw, "%d\t%.3f\t%.4f\t%.4f\t\n", pt.Iteration, pt.Seconds, pt.TrainRMSE, pt.TestRMSE)
	}
	return tw.Flush()
}

// exportLIBMF writes eval's split in LIBMF's text format to dir.
func exportLIBMF(dir string, r *als.Ratings, ix eval.Index, test []engine.Rating, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--export-libmf: %w", err)
	}
	create := func(name string) (*os.File, error) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("--export-libmf: %w", err)
		}
		return f, nil
	}
	tf, err := create("train.txt")
	if err != nil {
		return err
	}
	defer tf.Close()
	ef, err := create("test.txt")
	if err != nil {
		return err
	}
	defer ef.Close()
	if err := eval.WriteLIBMF(tf, ef, r, ix, test); err != nil {
		return fmt.Errorf("--export-libmf: %w", err)
	}
	if err := tf.Close(); err != nil {
		return fmt.Errorf("--export-libmf: %w", err)
	}
	if err := ef.Close(); err != nil {
		return fmt.Errorf("--export-libmf: %w", err)
	}
	log.Info("split written for LIBMF", "dir", dir, "train_ratings", r.NNZ(), "users", r.NumUsers, "movies", r.NumItems)
	return nil
}

// printEval writes rep as eval's table.
func printEval(w io.Writer, rep *evalReport, scale engine.Scale) error {
	switch rep.Split {
	case "random":
		fmt.Fprintf(w, "split         random, %.0f%% held out (seed %d)\n", 100*rep.TestFraction, *rep.SplitSeed)
	case "time":
		fmt.Fprintf(w, "split         time, each user's latest %.0f%% held out\n", 100*rep.TestFraction)
	default:
		fmt.Fprintf(w, "split         --train and --test files\n")
	}
	fmt.Fprintf(w, "ratings       %d train / %d test\nbackend       %s\n", rep.TrainRatings, rep.TestRatings, rep.Backend)
	fmt.Fprintf(w, "ranking       top %d over %d test users with a rating ≥ %g; candidates: the %d movies with ≥ %d training ratings, less the user's training movies\n\n",
		rep.K, rep.Users, rep.Relevant, rep.EligibleMovies, rep.MinRatings)
	// Right-aligned columns; the names are padded to one width, so they
	// line up on the left.
	width := len("ranker")
	short := func(name string) string { return strings.SplitN(name, " (", 2)[0] }
	for _, r := range rep.Rows {
		width = max(width, len(short(r.Name)))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\tprecision@%d\trecall@%d\tNDCG@%d\tMAP@%d\tcoverage\tRMSE\tMAE\ttrain s\t\n", width, "ranker", rep.K, rep.K, rep.K, rep.K)
	opt := func(v *float64) string {
		if v == nil {
			return "—"
		}
		return fmt.Sprintf("%.4f", *v)
	}
	for _, r := range rep.Rows {
		fmt.Fprintf(tw, "%-*s\t%.4f\t%.4f\t%.4f\t%.4f\t%.3f\t%s\t%s\t%.3f\t\n", width, short(r.Name),
			r.PrecisionAt, r.RecallAt, r.NDCGAt, r.MAPAt, r.Coverage, opt(r.RMSE), opt(r.MAE), r.TrainSeconds)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, r := range rep.Rows {
		if r.Params != "" {
			fmt.Fprintf(w, "%s: %s\n", r.Name, r.Params)
		} else {
			fmt.Fprintf(w, "%s\n", r.Name)
		}
	}
	clamp := fmt.Sprintf("predictions clamped to %g–%g", scale.Min, scale.Max)
	if !scale.Bounded() {
		clamp = "predictions not clamped (unbounded scale)"
	}
	fmt.Fprintf(w, "RMSE and MAE over %d test ratings (%d skipped: user or movie not in training), %s\n",
		rep.TestPairs, rep.Skipped, clamp)
	fmt.Fprintf(w, "relevant: a test rating ≥ %g, the top fifth of the scale %s\n", rep.Relevant, scale.Spec())
	return nil
}

// readRatingsFile reads a ratings.csv of the ml-latest layout, or with a
// declared scale any plain delimited ratings file on that scale.
func readRatingsFile(path string, scale *engine.Scale) ([]engine.Rating, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rs []engine.Rating
	if scale != nil {
		rs, err = dataset.ReadRatingsPlain(f, path, dataset.PlainFormat{}, scale)
	} else {
		rs, err = dataset.ReadRatingsCSV(f, path)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return rs, nil
}
