package eval_test

import (
	"fmt"
	"testing"

	"movierec/als"
	"movierec/cpu"
	"movierec/data"
	"movierec/dataset"
	"movierec/eval"
)

// BenchmarkRankingFit times the ranking model's training as `movierec
// eval` does it (the training part of its 80/20 split, seed 42, with the
// per-iteration progress): the default implicit parameters on
// ml-latest-small at ranks 128 (the default) and 64, with each solver,
// and with CG stopped early at a tolerance of 0.5%.
// Besides wall time it reports the process's CPU seconds per fit
// (cpu-s/op), which a busy shared machine inflates less.
func BenchmarkRankingFit(b *testing.B) {
	ds, err := dataset.Load(data.MLLatestSmall())
	if err != nil {
		b.Fatal(err)
	}
	train, _ := eval.Split(ds.Ratings, 0.2, 42)
	r, _ := eval.Matrix(train)
	for _, rank := range []int{128, 64} {
		for _, tc := range []struct {
			solver    als.Method
			tolerance float64
		}{{als.Cholesky, 0}, {als.CG, 0}, {als.CG, 0.005}} {
			p := als.DefaultImplicitParams()
			p.Rank, p.Solver, p.Tolerance = rank, tc.solver, tc.tolerance
			b.Run(fmt.Sprintf("rank=%d/solver=%v/tolerance=%g", rank, tc.solver, tc.tolerance), func(b *testing.B) {
				s := cpu.New(0)
				var m als.Model
				var last float64
				var iters int
				c0 := cpuTime()
				for b.Loop() {
					if err := s.Fit(b.Context(), &m, r, p, func(it als.Iteration) { last, iters = it.TrainRMSE, it.N }); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric((cpuTime()-c0).Seconds()/float64(b.N), "cpu-s/op")
				b.ReportMetric(last, "train-error")
				b.ReportMetric(float64(iters), "iterations")
			})
		}
	}
}
