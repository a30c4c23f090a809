package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"movierec/als"
	"movierec/cpu"
	"movierec/engine"
	"movierec/eval"
)

// Ranking metrics of tune: the top tuneK movies, relevant when rated in
// the top fifth of the scale (eval.Relevant), as in eval.
const tuneK = 10

// tune's default grids, per model.
const (
	tuneImplicitRanks   = "32,64,128"
	tuneImplicitLambdas = "0.03,0.1,0.3"
	tuneImplicitAlphas  = "0.5,1,2"
	tuneExplicitRanks   = "4,8,12"
	tuneExplicitLambdas = "0.05,0.1,0.15"
)

// tuneRun is one grid point of tune.
type tuneRun struct {
	Rank           int     `json:"rank"`
	Lambda         float64 `json:"lambda"`
	Alpha          float64 `json:"alpha,omitempty"`      // implicit only
	RegOffset      float64 `json:"reg_offset,omitempty"` // explicit only
	Iterations     int     `json:"iterations"`
	ValidationRMSE float64 `json:"validation_rmse,omitempty"` // explicit only
	ValidationNDCG float64 `json:"validation_ndcg"`
	Seconds        float64 `json:"seconds"`
}

// tuneReport is tune's --json output.
type tuneReport struct {
	Model             string             `json:"model"`     // "implicit" or "explicit"
	Criterion         string             `json:"criterion"` // what chose the run
	Split             string             `json:"split"`
	TrainRatings      int                `json:"train_ratings"`
	ValidationRatings int                `json:"validation_ratings"`
	TestRatings       int                `json:"test_ratings"`
	Runs              []tuneRun          `json:"runs"`
	Chosen            string             `json:"chosen"`         // als.Params.String of the best run
	Test              *eval.Result       `json:"test,omitempty"` // explicit only: RMSE and MAE
	Ranking           eval.RankingResult `json:"ranking"`
	Relevant          float64            `json:"relevant"` // least relevant test rating: the top fifth of the scale
}

// runTune grid-searches a model's parameters without looking at the test
// part: it splits the ratings into test and the rest (--split, as eval
// does), splits the rest the same way into train and validation of the
// test part's size (60/20/20 by default), trains every grid point on train
// with the CPU solver and picks, for the implicit ranking model (--model
// implicit, the default), the highest validation NDCG@10 over rank, λ and
// α, or, for the explicit rating model, the lowest validation RMSE over
// rank and λ. It then refits the chosen parameters on train + validation
// and reports that model's test metrics: ranking at 10 (and, explicit,
// RMSE and MAE).
func runTune(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		lf                          logFlags
		rf                          rankingFlags
		sf                          splitFlags
		model                       string
		ranksArg, lambdasA, alphasA string
		itersArg, offsetsA          string
		p                           = als.DefaultParams()
		src                         dataSource
		asJSON                      bool
		minRatings                  int
	)
	fs := flag.NewFlagSet("tune", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&model, "model", "", "model to tune: implicit (the ranking model, by validation NDCG@10) or explicit (the rating model, by validation RMSE); default: the --ranking one")
	fs.StringVar(&ranksArg, "ranks", "", "comma-separated factor ranks to try (default "+tuneImplicitRanks+" implicit, "+tuneExplicitRanks+" explicit)")
	fs.StringVar(&lambdasA, "lambdas", "", "comma-separated regularisation λ values to try (default "+tuneImplicitLambdas+" implicit, "+tuneExplicitLambdas+" explicit)")
	fs.StringVar(&alphasA, "alphas", tuneImplicitAlphas, "comma-separated confidence slopes α to try (implicit only)")
	fs.StringVar(&offsetsA, "reg-offsets", "0", "comma-separated ridge offsets c to try: λ·(n + c) on each row's diagonal (explicit only; 0: ALS-WR's λ·n)")
	fs.StringVar(&itersArg, "iteration-counts", "", "comma-separated iteration counts to try (default: the model's --ranking-iterations or --iterations alone)")
	fs.BoolVar(&p.Bias, "bias", false, "learn user and movie biases (explicit only)")
	fs.IntVar(&p.Iterations, "iterations", p.Iterations, "ALS iterations of the explicit model")
	fs.Int64Var(&p.Seed, "seed", p.Seed, "random seed of the factor initialisation")
	src.register(fs, "data set directory (default: bundled ml-latest-small)")
	fs.IntVar(&minRatings, "min-ratings", 25, "rank only movies with at least this many training ratings, as eval does (0: all)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object")
	rf.register(fs)
	sf.register(fs)
	lf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case model == "":
		model = rf.kind
	case set["ranking"] && model != rf.kind:
		return fmt.Errorf("--model %s and --ranking %s disagree", model, rf.kind)
	}
	if model != "implicit" && model != "explicit" {
		return fmt.Errorf("--model %q: want implicit or explicit", model)
	}
	for _, f := range []string{"ranking-rank", "ranking-lambda", "alpha"} {
		if set[f] {
			return fmt.Errorf("--%s: tune searches --ranks, --lambdas and --alphas instead", f)
		}
	}
	if set["reg-offsets"] && model != "explicit" {
		return fmt.Errorf("--reg-offsets: the ridge offset is the explicit model's (--model explicit)")
	}
	if set["iteration-counts"] && (set["ranking-iterations"] || set["iterations"]) {
		return fmt.Errorf("--iteration-counts: give it, or --iterations/--ranking-iterations, not both")
	}
	if err := sf.validate(); err != nil {
		return err
	}
	if !set["ranks"] {
		ranksArg = map[string]string{"implicit": tuneImplicitRanks, "explicit": tuneExplicitRanks}[model]
	}
	if !set["lambdas"] {
		lambdasA = map[string]string{"implicit": tuneImplicitLambdas, "explicit": tuneExplicitLambdas}[model]
	}
	if model == "explicit" {
		alphasA = "0"
	}
	ranks, err := parseList(ranksArg, "--ranks", strconv.Atoi)
	if err != nil {
		return err
	}
	parseFloat := func(s string) (float64, error) { return strconv.ParseFloat(s, 64) }
	lambdas, err := parseList(lambdasA, "--lambdas", parseFloat)
	if err != nil {
		return err
	}
	alphas, err := parseList(alphasA, "--alphas", parseFloat)
	if err != nil {
		return err
	}
	offsets, err := parseList(offsetsA, "--reg-offsets", parseFloat)
	if err != nil {
		return err
	}
	base := p
	if model == "implicit" {
		base, _ = rf.params(p.Seed)
	}
	iters := []int{base.Iterations}
	if set["iteration-counts"] {
		if iters, err = parseList(itersArg, "--iteration-counts", strconv.Atoi); err != nil {
			return err
		}
		for _, n := range iters {
			if n < 1 {
				return fmt.Errorf("--iteration-counts %q: each count must be at least 1", itersArg)
			}
		}
	}
	var grid []als.Params
	for _, r := range ranks {
		for _, l := range lambdas {
			for _, c := range offsets {
				for _, a := range alphas {
					for _, it := range iters {
						q := base
						q.Rank, q.Lambda, q.Iterations = r, l, it
						if model == "implicit" {
							q.Alpha = a
						} else {
							q.RegOffset = c
						}
						if err := q.Validate(); err != nil {
							return err
						}
						grid = append(grid, q)
					}
				}
			}
		}
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}

	if err := src.validate(); err != nil {
		return err
	}
	ds, err := src.load(log)
	if err != nil {
		return err
	}
	rest, test := sf.split(ds.Ratings, sf.seed)
	// The validation part is as large as the test part.
	inner := sf
	inner.fraction = sf.fraction / (1 - sf.fraction)
	train, validation := inner.split(append([]engine.Rating(nil), rest...), sf.seed+1)
	rep := tuneReport{Model: model, Split: sf.kind, TrainRatings: len(train), ValidationRatings: len(validation), TestRatings: len(test)}
	rep.Criterion = map[string]string{"implicit": "validation NDCG@10", "explicit": "validation RMSE"}[model]
	log.Info("split", "protocol", sf.kind, "train", len(train), "validation", len(validation), "test", len(test))

	solver := cpu.New(0)
	defer solver.Close()
	r, ix := eval.Matrix(train)
	tuneRelevant := float32(eval.Relevant(ds.Scale, train))
	valTask := eval.NewTask(ix, train, validation, tuneK, tuneRelevant, minRatings)
	var (
		chosen  als.Params
		bestRun *tuneRun
	)
	for _, q := range grid {
		m, secs, err := eval.Fit(ctx, solver, r, q, nil)
		if err != nil {
			return err
		}
		run := tuneRun{Rank: q.Rank, Lambda: q.Lambda, Alpha: q.Alpha, RegOffset: q.RegOffset, Iterations: q.Iterations, Seconds: secs,
			ValidationNDCG: valTask.RankModel(m).NDCGAt}
		if model == "explicit" {
			run.ValidationRMSE = eval.Score(m, ix, ds.Scale, validation).RMSE
		}
		log.Info("tune run", "params", q, "validation_ndcg", run.ValidationNDCG, "validation_rmse", run.ValidationRMSE, "seconds", secs)
		rep.Runs = append(rep.Runs, run)
		better := bestRun == nil
		if !better && model == "explicit" {
			better = run.ValidationRMSE < bestRun.ValidationRMSE
		} else if !better {
			better = run.ValidationNDCG > bestRun.ValidationNDCG
		}
		if better {
			chosen, bestRun = q, &run
		}
	}
	rep.Chosen = chosen.String()

	// Refit on train + validation, then look at the test part once.
	rr, rix := eval.Matrix(rest)
	m, _, err := eval.Fit(ctx, solver, rr, chosen, nil)
	if err != nil {
		return err
	}
	rep.Relevant = eval.Relevant(ds.Scale, train)
	rep.Ranking = eval.NewTask(rix, rest, test, tuneK, tuneRelevant, minRatings).RankModel(m)
	if model == "explicit" {
		res := eval.Score(m, rix, ds.Scale, test)
		rep.Test = &res
	}

	if asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	fmt.Fprintf(stdout, "model %s, chosen by %s\nsplit %s: %d train / %d validation / %d test ratings\n\n",
		rep.Model, rep.Criterion, rep.Split, rep.TrainRatings, rep.ValidationRatings, rep.TestRatings)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	if model == "explicit" {
		fmt.Fprintf(tw, "rank\tlambda\treg offset\titerations\tvalidation RMSE\tvalidation NDCG@%d\tseconds\n", tuneK)
	} else {
		fmt.Fprintf(tw, "rank\tlambda\talpha\titerations\tvalidation NDCG@%d\tseconds\n", tuneK)
	}
	for _, r := range rep.Runs {
		if model == "explicit" {
			fmt.Fprintf(tw, "%d\t%g\t%g\t%d\t%.4f\t%.4f\t%.2f\n", r.Rank, r.Lambda, r.RegOffset, r.Iterations, r.ValidationRMSE, r.ValidationNDCG, r.Seconds)
		} else {
			fmt.Fprintf(tw, "%d\t%g\t%g\t%d\t%.4f\t%.2f\n", r.Rank, r.Lambda, r.Alpha, r.Iterations, r.ValidationNDCG, r.Seconds)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nchosen        %s\nrefit on train + validation; on test:\n", rep.Chosen)
	if rep.Test != nil {
		fmt.Fprintf(stdout, "test RMSE     %.4f\ntest MAE      %.4f\ntest pairs    %d (skipped %d)\n",
			rep.Test.RMSE, rep.Test.MAE, rep.Test.TestPairs, rep.Test.Skipped)
	}
	k := tuneK
	fmt.Fprintf(stdout, "precision@%d  %.4f\nrecall@%d     %.4f\nNDCG@%d       %.4f\nMAP@%d        %.4f\ncoverage      %.3f\nranked users  %d (with a test rating ≥ %g; movies with ≥ %d training ratings)\n",
		k, rep.Ranking.PrecisionAt, k, rep.Ranking.RecallAt, k, rep.Ranking.NDCGAt, k, rep.Ranking.MAPAt,
		rep.Ranking.Coverage, rep.Ranking.Users, rep.Relevant, minRatings)
	return nil
}

// parseList parses a comma-separated, non-empty list.
func parseList[T any](s, name string, conv func(string) (T, error)) ([]T, error) {
	var out []T
	for f := range strings.SplitSeq(s, ",") {
		v, err := conv(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", name, s, err)
		}
		out = append(out, v)
	}
	return out, nil
}
