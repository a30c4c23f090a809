package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"movierec/engine"
)

// runImport imports a data set into the database; a second run adds nothing.
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		lf     logFlags
		dbPath string
		src    dataSource
	)
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&dbPath, "db", "movierec.db", dbUsage)
	src.register(fs, "data set directory: MovieLens or Netflix Prize files (default: the bundled ml-latest-small)")
	lf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := src.validate(); err != nil {
		return err
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, dbPath, log)
	if err != nil {
		return err
	}
	defer st.Close()
	// A database that holds data has a scale: what is added must be on it
	// (a rating off it is an error naming the file and line).
	if empty, err := st.Empty(ctx); err == nil && !empty {
		stored, err := st.Scale(ctx)
		if err == nil {
			err = src.checkStored(stored, dbPath)
		}
		if err != nil {
			return err
		}
		src.scale = scaleFlag{s: stored, set: true}
	}
	added, total, err := importData(ctx, st, &src, log)
	if err != nil {
		return err
	}
	if added == 0 && total > 0 {
		fmt.Fprintf(stdout, "nothing imported: all %d ratings of the data set are already in %s\n", total, dbName(dbPath))
		return nil
	}
	fmt.Fprintf(stdout, "imported %d of the data set's %d ratings into %s\n", added, total, dbName(dbPath))
	return nil
}

// runTrain trains offline on the database and stores the model, so servers
// started on it later load it instead of training.
func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		mf        modelFlags
		rf        rankingFlags
		lf        logFlags
		dbPath    string
		src       dataSource
		skipCheck bool
	)
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&dbPath, "db", "movierec.db", dbUsage+"; must hold data: run `movierec import` or `serve` first")
	src.register(fs, "data set directory imported into an empty database (default: the bundled ml-latest-small)")
	fs.BoolVar(&skipCheck, "skip-check", false, "skip PRAGMA quick_check of the database at start (seconds per GiB)")
	mf.register(fs)
	rf.register(fs)
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
	if err := src.validate(); err != nil {
		return err
	}
	ranking, _ := rf.params(mf.p.Seed)
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}
	// A mistyped --db would otherwise create a new database, import the
	// bundled data into it and train on that.
	if _, err := os.Stat(dbPath); err != nil && !isPostgres(dbPath) {
		return fmt.Errorf("train: database %s: %w (create it with `movierec import --db %s`)", dbPath, err, dbPath)
	}
	st, err := openState(ctx, dbPath, &src, skipCheck, log)
	if err != nil {
		return err
	}
	defer st.db.Close()
	if err := st.checked(); err != nil {
		return err
	}
	solver, backend, err := newSolver(ctx, mf, log)
	if err != nil {
		return err
	}
	defer solver.Close()
	ecfg := engine.Config{Params: mf.p, Ranking: ranking, Scale: st.scale, Backend: backend, Store: st.db, Models: st.db,
		Version: st.version, Logger: log}
	if sh, ok := sharedStore(st.db); ok {
		ecfg.Lock = sh
	}
	eng, err := engine.New(ecfg, solver, st.movies, st.ratings)
	if err != nil {
		return err
	}
	var snap *engine.Snapshot
	if sh, ok := sharedStore(st.db); ok {
		// One trainer at a time across every process sharing the
		// database: take the lock, or leave the training to its holder.
		lease, err := sh.TryAcquire(ctx)
		if err != nil {
			return fmt.Errorf("train: %w", err)
		}
		if lease == nil {
			return fmt.Errorf("train: another process holds the trainer lock (a `movierec trainer` or a `serve --train` replica trains); it publishes models itself")
		}
		defer lease.Release()
		snap, err = eng.RetrainHolding(ctx, lease)
		if err != nil {
			return err
		}
	} else if snap, err = eng.Retrain(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "trained %s on %d ratings (data version %d) with %s in %.2f s; train RMSE %.4f; stored in %s\n",
		mf.p, snap.Ratings, snap.DataVersion, snap.Backend, snap.TrainSeconds, snap.TrainRMSE, dbName(dbPath))
	if snap.Ranker != nil {
		fmt.Fprintf(stdout, "trained the ranking model %s in %.2f s; preference RMSE %.4f\n",
			snap.RankerParams, snap.RankerSeconds, snap.RankerError)
	}
	return nil
}
