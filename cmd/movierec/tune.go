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
	"movierec/eval"
)

// Ranking metrics of tune: the top tuneK movies, relevant when rated at
// least tuneRelevant.
const (
	tuneK        = 10
	tuneRelevant = 4
)

// tuneRun is one grid point of tune.
type tuneRun struct {
	Rank           int     `json:"rank"`
	Lambda         float64 `json:"lambda"`
	ValidationRMSE float64 `json:"validation_rmse"`
	Seconds        float64 `json:"seconds"`
}

// tuneReport is tune's --json output.
type tuneReport struct {
	TrainRatings      int                `json:"train_ratings"`
	ValidationRatings int                `json:"validation_ratings"`
	TestRatings       int                `json:"test_ratings"`
	Runs              []tuneRun          `json:"runs"`
	Chosen            string             `json:"chosen"` // als.Params.String of the best run
	Test              eval.Result        `json:"test"`
	Ranking           eval.RankingResult `json:"ranking"`
}

// runTune grid-searches rank and λ: it splits the ratings 60/20/20 into
// train, validation and test, trains every (rank, λ) on train with the CPU
// solver, picks the lowest validation RMSE and reports that model's (trained
// on train only) test RMSE, MAE and precision, recall and NDCG at 10.
func runTune(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		lf                 logFlags
		ranksArg, lambdasA string
		p                  = als.DefaultParams()
		dataDir            string
		splitSeed          uint64
		asJSON             bool
	)
	fs := flag.NewFlagSet("tune", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&ranksArg, "ranks", "4,8,12", "comma-separated factor ranks to try")
	fs.StringVar(&lambdasA, "lambdas", "0.05,0.1,0.15", "comma-separated regularisation λ values to try")
	fs.BoolVar(&p.Bias, "bias", false, "learn user and movie biases")
	fs.IntVar(&p.Iterations, "iterations", p.Iterations, "ALS iterations")
	fs.Int64Var(&p.Seed, "seed", p.Seed, "random seed of the factor initialisation")
	fs.StringVar(&dataDir, "data", "", "MovieLens directory (default: bundled ml-latest-small)")
	fs.Uint64Var(&splitSeed, "split-seed", 42, "seed of the random train/validation/test split")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object")
	lf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	ranks, err := parseList(ranksArg, "--ranks", strconv.Atoi)
	if err != nil {
		return err
	}
	lambdas, err := parseList(lambdasA, "--lambdas", func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
	if err != nil {
		return err
	}
	for _, r := range ranks {
		for _, l := range lambdas {
			q := p
			q.Rank, q.Lambda = r, l
			if err := q.Validate(); err != nil {
				return err
			}
		}
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}

	ds, err := loadData(dataDir, log)
	if err != nil {
		return err
	}
	rest, test := eval.Split(ds.Ratings, 0.2, splitSeed)
	train, validation := eval.Split(rest, 0.25, splitSeed+1)
	rep := tuneReport{TrainRatings: len(train), ValidationRatings: len(validation), TestRatings: len(test)}
	log.Info("split", "train", len(train), "validation", len(validation), "test", len(test))

	solver := cpu.New(0)
	defer solver.Close()
	var (
		best      *als.Model
		bestIndex eval.Index
		bestRMSE  float64
	)
	for _, r := range ranks {
		for _, l := range lambdas {
			q := p
			q.Rank, q.Lambda = r, l
			res, m, ix, err := eval.Run(ctx, solver, q, ds.Scale, train, validation, nil)
			if err != nil {
				return err
			}
			log.Info("tune run", "params", q, "validation_rmse", res.RMSE, "seconds", res.TrainSeconds)
			rep.Runs = append(rep.Runs, tuneRun{Rank: r, Lambda: l, ValidationRMSE: res.RMSE, Seconds: res.TrainSeconds})
			if best == nil || res.RMSE < bestRMSE {
				best, bestIndex, bestRMSE = m, ix, res.RMSE
				rep.Chosen = q.String()
			}
		}
	}
	rep.Test = eval.Score(best, bestIndex, ds.Scale, test)
	rep.Ranking = eval.Ranking(best, bestIndex, train, test, tuneK, tuneRelevant)

	if asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	fmt.Fprintf(stdout, "split %d train / %d validation / %d test ratings\n\n", rep.TrainRatings, rep.ValidationRatings, rep.TestRatings)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "rank\tlambda\tvalidation RMSE\tseconds")
	for _, r := range rep.Runs {
		fmt.Fprintf(tw, "%d\t%g\t%.4f\t%.2f\n", r.Rank, r.Lambda, r.ValidationRMSE, r.Seconds)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nchosen        %s\ntest RMSE     %.4f\ntest MAE      %.4f\ntest pairs    %d (skipped %d)\nprecision@%d  %.4f\nrecall@%d     %.4f\nNDCG@%d       %.4f\nranked users  %d (with a test rating ≥ %g)\n",
		rep.Chosen, rep.Test.RMSE, rep.Test.MAE, rep.Test.TestPairs, rep.Test.Skipped,
		tuneK, rep.Ranking.PrecisionAt, tuneK, rep.Ranking.RecallAt, tuneK, rep.Ranking.NDCGAt,
		rep.Ranking.Users, float32(tuneRelevant))
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
