package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"movierec/als"
	"movierec/dataset"
	"movierec/engine"
	"movierec/eval"
)

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		mf                  modelFlags
		lf                  logFlags
		trainPath, testPath string
		dataDir             string
		fraction            float64
		splitSeed           uint64
		asJSON              bool
		minRatings          int
	)
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&trainPath, "train", "", "training ratings CSV (userId,movieId,rating,timestamp with header)")
	fs.StringVar(&testPath, "test", "", "test ratings CSV, same format")
	fs.StringVar(&dataDir, "data", "", "MovieLens directory to split instead (default: bundled ml-latest-small)")
	fs.Float64Var(&fraction, "test-fraction", 0.2, "share of ratings held out when splitting --data")
	fs.Uint64Var(&splitSeed, "split-seed", 42, "seed of the random split")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object")
	fs.IntVar(&minRatings, "min-ratings", 25, "rank only movies with at least this many training ratings, as serve recommends (0: all)")
	mf.register(fs)
	lf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := mf.validate(); err != nil {
		return err
	}
	if (trainPath == "") != (testPath == "") {
		return fmt.Errorf("--train and --test go together")
	}
	if !(fraction > 0 && fraction < 1) {
		return fmt.Errorf("--test-fraction %v: want a value between 0 and 1", fraction)
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}

	var train, test []engine.Rating
	scale := engine.MovieLensScale
	if trainPath != "" {
		if train, err = readRatingsFile(trainPath); err != nil {
			return err
		}
		if test, err = readRatingsFile(testPath); err != nil {
			return err
		}
	} else {
		ds, err := loadData(dataDir, log)
		if err != nil {
			return err
		}
		scale = ds.Scale
		train, test = eval.SplitInPlace(ds.Ratings, fraction, splitSeed)
	}

	solver, backend, err := newSolver(ctx, mf, log)
	if err != nil {
		return err
	}
	defer solver.Close()
	res, m, ix, err := eval.Run(ctx, solver, mf.p, scale, train, test, func(it als.Iteration) {
		log.Info("training progress", "iteration", fmt.Sprintf("%d/%d", it.N, it.Of), "train_rmse", it.TrainRMSE,
			"seconds", it.Duration.Seconds())
	})
	if err != nil {
		return err
	}
	rank := eval.RankingMin(m, ix, train, test, 10, 4, minRatings)
	if asJSON {
		return json.NewEncoder(stdout).Encode(struct {
			eval.Result
			PrecisionAt10 float64 `json:"precision_at_10"`
			RecallAt10    float64 `json:"recall_at_10"`
			NDCGAt10      float64 `json:"ndcg_at_10"`
		}{res, rank.PrecisionAt, rank.RecallAt, rank.NDCGAt})
	}
	fmt.Fprintf(stdout, "backend       %s\nparams        %s\ntrain ratings %d\nRMSE          %.4f\nMAE           %.4f\ntest pairs    %d\nskipped       %d\ntrain seconds %.3f\n",
		backend, mf.p, len(train), res.RMSE, res.MAE, res.TestPairs, res.Skipped, res.TrainSeconds)
	fmt.Fprintf(stdout, "precision@10  %.4f\nrecall@10     %.4f\nNDCG@10       %.4f\n(ranking over %d test users with a rating ≥ 4; rated training movies and movies with < %d training ratings excluded)\n",
		rank.PrecisionAt, rank.RecallAt, rank.NDCGAt, rank.Users, minRatings)
	return nil
}

func readRatingsFile(path string) ([]engine.Rating, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rs, err := dataset.ReadRatingsCSV(f, path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return rs, nil
}
