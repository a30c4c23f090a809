package cpu

import (
	"fmt"
	"math"
	"testing"
	"time"

	"movierec/als"
	"movierec/als/alstest"
)

// BenchmarkFit times a whole Fit (with the per-iteration RMSE, as the
// engine's progress callback gets it) on the alstest size classes:
// 10 iterations for "small", 3 for "medium".
func BenchmarkFit(b *testing.B) {
	for _, size := range alstest.Sizes {
		r := size.Ratings(1)
		iters := 10
		if size.NNZ > 1_000_000 {
			iters = 3
		}
		for _, rank := range []int{8, 64, 128} {
			implicit := als.DefaultImplicitParams()
			implicit.Rank, implicit.Iterations = rank, iters
			implicitCG := implicit
			implicitCG.Solver = als.CG
			for _, tc := range []struct {
				name string
				p    als.Params
			}{
				{"bias=false", als.Params{Rank: rank, Iterations: iters, Lambda: 0.1, Seed: 5}},
				{"bias=false+cg", als.Params{Rank: rank, Iterations: iters, Lambda: 0.1, Seed: 5, Solver: als.CG}},
				{"bias=true", als.Params{Rank: rank, Iterations: iters, Lambda: 0.1, Seed: 5, Bias: true}},
				{"bias=true+cg", als.Params{Rank: rank, Iterations: iters, Lambda: 0.1, Seed: 5, Bias: true, Solver: als.CG}},
				{"implicit", implicit},
				{"implicit+cg", implicitCG},
			} {
				p := tc.p
				b.Run(fmt.Sprintf("%s/rank=%d/%s", size.Name, rank, tc.name), func(b *testing.B) {
					b.ReportAllocs()
					s := New(0)
					var m als.Model
					var train time.Duration
					for b.Loop() {
						if err := s.Fit(b.Context(), &m, r, p, func(it als.Iteration) { train += it.Duration }); err != nil {
							b.Fatal(err)
						}
					}
					perIter := train.Seconds() / float64(b.N*iters)
					b.ReportMetric(perIter*1e3, "ms/iter")
					b.ReportMetric(als.FlopsPerIteration(r, p.AugmentedRank())/perIter/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// BenchmarkSolveRow times one row's solve for several row lengths n and
// augmented ranks kp, with the default thresholds (auto) and with each
// path forced, to set kernel.shortRow and kernel.smallK.
func BenchmarkSolveRow(b *testing.B) {
	paths := []struct {
		name string
		kern kernel
	}{
		{"auto", defaultKernel},
		{"go", kernel{shortRow: math.MaxInt, smallK: math.MaxInt, block: defaultKernel.block}},
		{"blas", kernel{shortRow: 0, smallK: 0, block: defaultKernel.block}},
	}
	for _, k := range []int{8, 16, 32, 64} {
		for _, n := range []int{1, 3, 10, 30, 100, 1000} {
			h := testHalf([]int{n}, k, true, 1)
			for _, path := range paths {
				b.Run(fmt.Sprintf("kp=%d/n=%d/%s", h.kp, n, path.name), func(b *testing.B) {
					b.ReportAllocs()
					ws := path.kern.newWorkspace(h.kp, n)
					for b.Loop() {
						path.kern.solveRow(ws, h, 0)
					}
					kp := float64(h.kp)
					flops := float64(n)*(kp*(kp+1)+2*kp) + kp*kp*kp/3 + 2*kp*kp
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// BenchmarkSolveRowCG times one explicit row's CG solve (3 steps, with
// biases) for several row lengths, the fixed rows in cache: the gather
// kernels and the per-rating work around them (targets, bias sums).
func BenchmarkSolveRowCG(b *testing.B) {
	for _, k := range []int{16, 64} {
		for _, n := range []int{30, 150, 1000} {
			h := testHalf([]int{n}, k, true, 1)
			h.cg = 3
			b.Run(fmt.Sprintf("k=%d/n=%d", k, n), func(b *testing.B) {
				b.ReportAllocs()
				ws := defaultKernel.newWorkspace(h.kp, n)
				defaultKernel.growCG(ws, k, h.kp, n, false)
				x := append([]float32(nil), h.dst...)
				for b.Loop() {
					copy(h.dst, x) // the same start each time
					defaultKernel.solveRow(ws, h, 0)
				}
				b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/float64(n), "ns/rating")
			})
		}
	}
}

// BenchmarkSolveImplicitRow times one implicit row's solve for several
// row lengths n and ranks k: in a rotated half by Woodbury (wood), in a
// rotated half as a k×k system (diag), and in a half that is not rotated
// (copy: w₀G copied into the system, as every row did before rotation),
// to set kernel.woodbury.
func BenchmarkSolveImplicitRow(b *testing.B) {
	wood := defaultKernel
	wood.woodbury = 1
	dense := defaultKernel
	dense.woodbury = 0
	for _, k := range []int{8, 16, 32, 64, 128} {
		p := als.DefaultImplicitParams()
		p.Rank = k
		for _, n := range []int{1, 3, 10, 30, 60, 100} {
			lens := []int{n}
			for _, path := range []struct {
				name    string
				kern    kernel
				rotated bool
			}{
				{"wood", wood, true},
				{"diag", dense, true},
				{"copy", dense, false},
			} {
				if path.name == "wood" && n >= k {
					continue
				}
				h, ws, _ := testImplicitHalf(lens, p, path.kern, path.rotated, 1)
				b.Run(fmt.Sprintf("k=%d/n=%d/%s", k, n, path.name), func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						path.kern.solveRow(ws[0], h, 0)
					}
				})
			}
		}
	}
}
