package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"movierec/als"
)

// benchReady starts serve on db and returns the time until /readyz is 200.
func benchReady(b *testing.B, db string) time.Duration {
	b.Helper()
	start := time.Now()
	cfg := serveConfig{addr: "127.0.0.1:0", dbPath: db, minRatings: 25, maxCount: 1000}
	cfg.model.p = als.DefaultParams()
	cfg.model.backend = "cpu"
	ctx, cancel := context.WithCancel(context.Background())
	s, err := newServer(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	url := "http://" + s.Addr() + "/readyz"
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		time.Sleep(time.Millisecond)
	}
	d := time.Since(start)
	cancel()
	<-done
	s.Close()
	return d
}

// BenchmarkServeReadyFirstStart: empty database → import the bundled data →
// train → ready.
func BenchmarkServeReadyFirstStart(b *testing.B) {
	for b.Loop() {
		benchReady(b, filepath.Join(b.TempDir(), "m.db"))
	}
}

// BenchmarkServeReadyRestart: database with the data and a stored model →
// load → ready (no training).
func BenchmarkServeReadyRestart(b *testing.B) {
	db := filepath.Join(b.TempDir(), "m.db")
	benchReady(b, db)
	for b.Loop() {
		benchReady(b, db)
	}
}

// BenchmarkPOSTDurable measures single-rating POSTs per second against the
// real server over loopback with durable (synchronous=FULL) commits, from
// 32 concurrent clients, each its own user. Group commit is what makes
// this scale.
func BenchmarkPOSTDurable(b *testing.B) {
	cfg := serveConfig{addr: "127.0.0.1:0", dbPath: filepath.Join(b.TempDir(), "m.db"), minRatings: 25, maxCount: 1000}
	cfg.model.p = als.DefaultParams()
	cfg.model.backend = "cpu"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := newServer(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done; s.Close() }()
	base := "http://" + s.Addr()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	client := &http.Client{Transport: tr}
	movies := []int{1, 2, 3, 5, 6, 7, 10, 11, 16, 25, 32, 34, 36, 47, 50, 52, 58, 62, 70, 110}
	var next atomic.Int64
	b.SetParallelism(16) // 32 clients on 2 cores
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		user := 700000 + next.Add(1)
		i := 0
		for pb.Next() {
			body := fmt.Sprintf("%d,%d\n", movies[i%len(movies)], 1+i%5)
			i++
			resp, err := client.Post(fmt.Sprintf("%s/%d/ratings", base, user), "text/plain", strings.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("POST = %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "posts/s")
}
