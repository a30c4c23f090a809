package dataset

import (
	"context"
	"runtime"
	"sync"
)

// GenRowLengths returns how many ratings [Generate] writes for cfg per user
// (perUser[u-1]) and per movie (perMovie[id-1]), without generating the
// ratings themselves: it makes the same random draws per user as Generate,
// so the counts are exact, in a fraction of Generate's time (no scores, no
// text). Tools that model cost by row length (gpu's cost model) use it to
// get the ml-25m and netflix shapes without writing gigabytes.
//
// Errors: one wrapping engine.ErrInvalidInput for an impossible cfg, or
// ctx's error. It runs on GOMAXPROCS goroutines.
func GenRowLengths(ctx context.Context, cfg GenConfig) (perUser, perMovie []int32, err error) {
	g, err := newGenerator(cfg)
	if err != nil {
		return nil, nil, err
	}
	users := g.cfg.Users
	perUser = append([]int32(nil), g.counts...)
	nw := max(1, min(runtime.GOMAXPROCS(0), (users+blockUsers-1)/blockUsers))
	parts := make([][]int32, nw)
	var wg sync.WaitGroup
	for p := range nw {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := g.newWorker()
			counts := make([]int32, g.cfg.Movies)
			for u := 1 + p*blockUsers; u <= users; u += nw * blockUsers {
				if ctx.Err() != nil {
					return
				}
				for v := u; v < min(u+blockUsers, users+1); v++ {
					g.drawRanks(w, v)
					for _, r := range w.ranks {
						counts[g.perm[r]-1]++
					}
				}
			}
			parts[p] = counts
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	perMovie = parts[0]
	for _, c := range parts[1:] {
		for i, n := range c {
			perMovie[i] += n
		}
	}
	return perUser, perMovie, nil
}

// drawRanks sets w.ranks to the popularity ranks user u rates, making the
// draws of (*generator).user up to and including choose.
func (g *generator) drawRanks(w *worker, u int) {
	w.src.Seed(g.cfg.Seed, streamUser|uint64(u))
	rng := w.rng
	_ = rng.NormFloat64() // bias
	for range w.uvec {
		_ = rng.NormFloat64()
	}
	_ = rng.Int64N(19 * 365 * 86400) // first timestamp
	_ = rng.NormFloat64()            // timestamp span
	g.choose(w, int(g.counts[u-1]))
}
