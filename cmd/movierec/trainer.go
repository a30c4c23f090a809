package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"
)

// runTrainer runs the trainer role (`movierec trainer`): a process that
// shares a PostgreSQL database with API replicas, follows their writes,
// trains whenever it holds the trainer lock (one process at a time across
// all of them) and publishes models through the database. It serves no
// API: only /healthz, /readyz and /metrics on --addr.
func runTrainer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg serveConfig
	fs := flag.NewFlagSet("trainer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8081", "listen address of /healthz, /readyz and /metrics")
	fs.StringVar(&cfg.dbPath, "db", "", "PostgreSQL URL (postgres://user:password@host:5432/db) shared with the API replicas")
	fs.DurationVar(&cfg.retrainInt, "retrain-interval", 10*time.Second, "least time between two retrains (writes coalesce meanwhile)")
	fs.IntVar(&cfg.minRatings, "min-ratings", 25, "a movie needs this many ratings to be recommended (the replicas' setting; the trainer serves no lists)")
	cfg.model.register(fs)
	cfg.ranking.register(fs)
	registerWarm(fs, &cfg.warmIters)
	cfg.log.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if !isPostgres(cfg.dbPath) {
		return fmt.Errorf("trainer: --db (or $MOVIEREC_DB) must be a postgres:// or postgresql:// URL, got %q; with SQLite `movierec serve` trains itself", dbName(cfg.dbPath))
	}
	cfg.probesOnly, cfg.maxCount = true, 1000
	log, err := cfg.log.logger(stderr)
	if err != nil {
		return err
	}
	m, err := newServer(ctx, cfg, log.With("role", "trainer"))
	if err != nil {
		return err
	}
	defer m.Close()
	return m.Run(ctx)
}
