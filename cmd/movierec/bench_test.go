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

// TestBenchParamsAndMarkdown checks the parameters bench trains each
// objective with and that the table shows the objective of each row,
// with no RMSE for implicit ones.
func TestBenchParamsAndMarkdown(t *testing.T) {
	if p := benchParams(als.Explicit, 16, 3, 0.05, true); p != (als.Params{Rank: 16, Iterations: 3, Lambda: 0.05, Seed: 5, Bias: true}) {
		t.Errorf("benchParams(explicit) = %+v", p)
	}
	want := als.DefaultImplicitParams()
	want.Rank, want.Iterations = 128, 3
	if p := benchParams(als.Implicit, 128, 3, 0.05, true); p != want {
		t.Errorf("benchParams(implicit) = %+v, want %+v", p, want)
	}
	rep := benchReport{Iterations: 3, Lambda: 0.05, Implicit: benchParams(als.Implicit, 0, 3, 0.05, false).String(), Training: []benchRow{
		{Backend: "cpu", Device: "2 cores", Objective: "explicit", Rank: 8, SecPerIter: 0.5, GFLOPS: 10, TestRMSE: 0.8},
		{Backend: "cpu", Device: "2 cores", Objective: "implicit", Rank: 8, SecPerIter: 0.25, GFLOPS: 20},
	}}
	md := rep.markdown("movierec bench")
	for _, s := range []string{
		"| cpu | 2 cores | explicit | 8 | 0.500 | 10.0 | 0.8000 |",
		"| cpu | 2 cores | implicit | 8 | 0.250 | 20.0 | — |",
		"implicit: iterations=3 lambda=",
	} {
		if !strings.Contains(md, s) {
			t.Errorf("markdown lacks %q:\n%s", s, md)
		}
	}
}
