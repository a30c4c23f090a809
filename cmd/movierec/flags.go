package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"movierec/als"
)

// errUsage reports bad flags; the flag package has printed the problem.
var errUsage = errors.New("usage")

// modelFlags are the training flags every command that trains shares.
type modelFlags struct {
	p          als.Params
	backend    string
	cudaWorker string
	workers    int
}

func (m *modelFlags) register(fs *flag.FlagSet) {
	d := als.DefaultParams()
	fs.IntVar(&m.p.Rank, "rank", d.Rank, "factor rank")
	fs.IntVar(&m.p.Iterations, "iterations", d.Iterations, "ALS iterations")
	fs.Float64Var(&m.p.Lambda, "lambda", d.Lambda, "regularisation λ (ALS-WR: scaled by each row's rating count)")
	fs.Float64Var(&m.p.RegOffset, "reg-offset", 0, "smoothed ridge: each row's diagonal gets λ·(n + this) instead of λ·n, n its rating count (0: ALS-WR, Spark's; at high rank 20–60 overfits less; CPU backend: auto trains such a model on the CPU, cuda refuses it)")
	fs.Int64Var(&m.p.Seed, "seed", d.Seed, "random seed of the factor initialisation")
	fs.BoolVar(&m.p.Bias, "bias", false, "learn user and movie biases (lowers the error)")
	m.p.Solver = d.Solver
	fs.Var(methodValue{&m.p.Solver}, "solver", "how the rating model solves each row: cholesky (exact) or cg (conjugate gradient, warm-started; both backends)")
	fs.IntVar(&m.p.CGSteps, "cg-steps", 0, "CG steps per row and half-iteration with --solver cg (0: 3)")
	fs.Float64Var(&m.p.Tolerance, "tolerance", 0, "stop the rating model's training once its train error changes by less than this fraction in an iteration (0: run every --iterations; CPU backend)")
	fs.Float64Var(&m.p.Validation, "validation", 0, "hold out this share (0..0.5) of the rating model's ratings and stop its training by --tolerance on their error, not the train error "+
		"(which keeps falling when a high rank overfits): once it rises or improves by less, keeping the best iterate; the model then trains without them (0: none; needs --tolerance; CPU backend)")
	fs.IntVar(&m.p.Patience, "patience", 0, "with --validation: stop only after this many iterations in a row without a held-out error better than the best by --tolerance, keeping the best iterate (0 or 1: the first)")
	fs.StringVar(&m.backend, "backend", "auto", "training backend: auto (CUDA worker if it works, else CPU), cpu, cuda")
	fs.StringVar(&m.cudaWorker, "cuda-worker", "", "path of the movierec-cuda worker (default: next to this binary)")
	fs.IntVar(&m.workers, "train-workers", 0, "CPU training goroutines (0: automatic: serve leaves one core to requests, other commands use every core)")
	fs.IntVar(&m.workers, "workers", 0, "the same as --train-workers (its former name)")
}

func (m *modelFlags) validate() error {
	if m.p.Patience > 1 && !(m.p.Validation > 0) {
		return fmt.Errorf("--patience %d needs --validation: it counts iterations without a better held-out error", m.p.Patience)
	}
	if m.p.Validation > 0 && !(m.p.Tolerance > 0) {
		return fmt.Errorf("--validation %g needs --tolerance: the held-out ratings only serve to stop training early, "+
			"and without --tolerance every iteration runs, on fewer ratings", m.p.Validation)
	}
	if err := m.p.Validate(); err != nil {
		return err
	}
	if m.workers < 0 {
		return fmt.Errorf("--train-workers %d must not be negative (0: automatic)", m.workers)
	}
	switch m.backend {
	case "auto", "cpu", "cuda":
		return nil
	}
	return fmt.Errorf("--backend %q: want auto, cpu or cuda", m.backend)
}

// logFlags choose the slog handler; only main does.
type logFlags struct {
	format string
	level  string
}

func (l *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.format, "log-format", "text", "log format: text or json")
	fs.StringVar(&l.level, "log-level", "info", "log level: debug, info, warn, error")
}

func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(l.level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", l.level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(l.format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", l.format)
}

// envPrefix starts the environment variable of every flag: --retrain-interval
// is also $MOVIEREC_RETRAIN_INTERVAL.
const envPrefix = "MOVIEREC_"

// envName is the environment variable that sets the flag name.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// parse parses args, turning flag errors into errUsage. Every flag can also
// come from the environment (envName): the command line wins over the
// environment, which wins over the default. An empty variable counts as
// unset. Values from the environment are never printed: not in --help
// (which shows the defaults) and not in errors (an API key must not leak).
func parse(fs *flag.FlagSet, args []string) error {
	return parseEnv(fs, args, os.LookupEnv)
}

// parseEnv is parse with the environment read through lookup.
func parseEnv(fs *flag.FlagSet, args []string, lookup func(string) (string, bool)) error {
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		env := envName(f.Name)
		if !strings.Contains(f.Usage, "$"+env) {
			f.Usage += " (env $" + env + ")"
		}
		v, ok := lookup(env)
		if !ok || v == "" || envErr != nil {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			envErr = fmt.Errorf("$%s: not a valid value for --%s", env, f.Name)
		}
	})
	if envErr != nil {
		fmt.Fprintln(fs.Output(), envErr)
		return errUsage
	}
	if err := fs.Parse(args); err != nil {
		return errUsage // the flag package has printed the problem (or the help)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %v\n", fs.Args())
		return errUsage
	}
	return nil
}

// rankingFlags choose the ranking model: the one that orders every top-N
// list. With --ranking implicit (the default) it is implicit-feedback ALS
// with its own parameters; with --ranking explicit the rating model ranks
// too, as before. The zero value is the default implicit model.
type rankingFlags struct {
	kind string     // "implicit" or "explicit"
	p    als.Params // the implicit model's parameters (Objective Implicit)
}

func (r *rankingFlags) register(fs *flag.FlagSet) {
	d := als.DefaultImplicitParams()
	r.p = d
	fs.StringVar(&r.kind, "ranking", "implicit", "model that orders top-N lists: implicit (implicit-feedback ALS) or explicit (the rating model)")
	fs.IntVar(&r.p.Rank, "ranking-rank", d.Rank, "factor rank of the implicit ranking model")
	fs.IntVar(&r.p.Iterations, "ranking-iterations", d.Iterations, "ALS iterations of the implicit ranking model")
	fs.Float64Var(&r.p.Lambda, "ranking-lambda", d.Lambda, "ridge λ of the implicit ranking model (scaled by (n + unobserved·N)^reg-exponent)")
	fs.Float64Var(&r.p.Alpha, "alpha", d.Alpha, "confidence slope of the implicit model: a rating r weighs 1 + alpha·r")
	fs.Float64Var(&r.p.Unobserved, "unobserved", d.Unobserved, "weight of every unrated pair in the implicit model")
	fs.Float64Var(&r.p.RegExponent, "reg-exponent", d.RegExponent, "frequency scaling ν of the implicit ridge (0: plain λ)")
	fs.Var(methodValue{&r.p.Solver}, "ranking-solver", "how the implicit ranking model solves each row: cholesky (exact) or cg (conjugate gradient, warm-started; both backends)")
	fs.IntVar(&r.p.CGSteps, "ranking-cg-steps", d.CGSteps, "CG steps per row and half-iteration with --ranking-solver cg (0: 3)")
	fs.Float64Var(&r.p.Tolerance, "ranking-tolerance", d.Tolerance, "stop the ranking model's training once its train error changes by less than this fraction in an iteration (0: run every --ranking-iterations; CPU backend)")
}

// methodValue is a flag.Value that parses an als.Method.
type methodValue struct{ m *als.Method }

func (v methodValue) String() string {
	if v.m == nil {
		return als.Cholesky.String()
	}
	return v.m.String()
}

func (v methodValue) Set(s string) error {
	m, err := als.ParseMethod(s)
	if err != nil {
		return err
	}
	*v.m = m
	return nil
}

// params returns the ranking model's parameters, or ok false when the
// rating model ranks (--ranking explicit). seed is the rating model's, so
// --seed sets both.
func (r *rankingFlags) params(seed int64) (als.Params, bool) {
	if r.kind != "implicit" && r.kind != "" {
		return als.Params{}, false
	}
	p := r.p
	if p.Rank == 0 {
		p = als.DefaultImplicitParams() // the zero rankingFlags: the defaults
	}
	p.Objective = als.Implicit
	p.Seed = seed
	return p, true
}

func (r *rankingFlags) validate() error {
	switch r.kind {
	case "implicit", "":
		p, _ := r.params(1)
		if err := p.Validate(); err != nil {
			return fmt.Errorf("ranking model: %w", err)
		}
		return nil
	case "explicit":
		return nil
	}
	return fmt.Errorf("--ranking %q: want implicit or explicit", r.kind)
}
