//go:build cuda

package gpu_test

import (
	"fmt"
	"testing"
	"time"

	"movierec/als"
	"movierec/als/alstest"
)

// benchShapes are full-size problem shapes; their ratings are synthetic
// (alstest.Synthetic: long-tailed row lengths), built once per shape.
var benchShapes = []struct {
	name         string
	users, items int
	nnz          int
	ranks        []int
}{
	{"ML25M", 162_541, 59_047, 25_000_095, []int{64, 128}},
	{"Netflix", 480_189, 17_770, 100_480_507, []int{100}},
}

// BenchmarkIteration reports the device time of one full ALS iteration
// (item half + user half, excluding upload and RMSE) as ms/iter, with each
// solver (als.Cholesky, als.CG). Name the GPU when quoting it.
func BenchmarkIteration(b *testing.B) {
	for _, s := range benchShapes {
		var r *als.Ratings
		for _, k := range s.ranks {
			for _, solver := range []als.Method{als.Cholesky, als.CG} {
				b.Run(fmt.Sprintf("%s/rank%d/%s", s.name, k, solver), func(b *testing.B) {
					if r == nil {
						r, _ = alstest.Synthetic(s.users, s.items, s.nnz, 10, 0.5, 1)
					}
					d := newDevice(b)
					defer d.Close()
					p := als.Params{Rank: k, Iterations: 3, Lambda: 0.05, Seed: 1, Solver: solver}
					var m als.Model
					var total time.Duration
					var n int
					b.ReportAllocs()
					b.ResetTimer()
					for b.Loop() {
						if err := d.Fit(b.Context(), &m, r, p, func(it als.Iteration) {
							total += it.Duration
							n++
						}); err != nil {
							b.Fatalf("Fit(%v) = %v", p, err)
						}
					}
					b.ReportMetric(float64(total.Microseconds())/1e3/float64(n), "ms/iter")
				})
			}
		}
	}
}
