//go:build cuda

// These tests need a GPU host: the test binary links gorgonia.org/cu, whose
// package init exits the process when libcuda.so.1 or a device is missing,
// so it cannot even start elsewhere. CI only compiles them
// (go test -c -tags cuda); run them with `go test -tags cuda ./gpu` on a
// machine with an NVIDIA driver and a GPU of compute capability 8.0+. They
// skip when NewDevice reports ErrNoDevice (e.g. an older GPU).

package gpu_test

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"movierec/als"
	"movierec/als/alstest"
	"movierec/cpu"
	"movierec/gpu"
)

func newDevice(t testing.TB) *gpu.Device {
	t.Helper()
	d, err := gpu.NewDevice(nil, 0)
	if errors.Is(err, gpu.ErrNoDevice) {
		t.Skipf("no usable CUDA device: %v", err)
	}
	if err != nil {
		t.Fatalf("NewDevice() = %v", err)
	}
	return d
}

func TestDeviceConformance(t *testing.T) {
	alstest.Run(t, func(t *testing.T) als.Solver { return newDevice(t) })
}

// crossRanks are the ranks the GPU is compared with the CPU at: tiny, odd,
// the benchmark ranks, around the 4-wide tiles, and the global-Gram kernel.
var crossRanks = []int{1, 8, 10, 32, 64, 100, 128, 200, 256}

// TestHalfStep compares one half-iteration (every item solved against the
// initial user factors) with alstest.ReferenceHalf in float64, on a problem
// whose item rows range from 0 to thousands of ratings.
func TestHalfStep(t *testing.T) {
	d := newDevice(t)
	defer d.Close()
	r, _ := alstest.Synthetic(4000, 800, 120_000, 10, 0.3, 21)
	longest := int64(0)
	for i := 0; i < r.NumItems; i++ {
		longest = max(longest, r.ItemPtr[i+1]-r.ItemPtr[i])
	}
	if longest < 1000 {
		t.Fatalf("longest item row has %d ratings, want thousands", longest)
	}
	for _, k := range crossRanks {
		for _, bias := range []bool{false, true} {
			t.Run(fmt.Sprintf("rank%d/bias=%t", k, bias), func(t *testing.T) {
				if testing.Short() && k > 128 {
					t.Skip("-short")
				}
				p := als.Params{Rank: k, Iterations: 1, Lambda: 0.1, Seed: 7, Bias: bias}
				var got als.Model
				if err := d.HalfStep(t.Context(), &got, r, p); err != nil {
					t.Fatalf("HalfStep(%v) = %v", p, err)
				}
				var want als.Model
				als.Prepare(&want, r, p)
				alstest.ReferenceHalf(&want, r, p.Lambda, alstest.Items)
				if diff := alstest.MaxRelDiff(&got, &want); diff > 1e-3 {
					t.Errorf("HalfStep(%v) differs from ReferenceHalf by %.3g relative, want ≤ 1e-3", p, diff)
				}
			})
		}
	}
}

// TestTenIterations compares the training RMSE after 10 iterations with the
// CPU solver's.
func TestTenIterations(t *testing.T) {
	d := newDevice(t)
	defer d.Close()
	c := cpu.New(0)
	defer c.Close()
	r, _ := alstest.Synthetic(5000, 2000, 300_000, 10, 0.3, 22)
	for _, k := range crossRanks {
		for _, bias := range []bool{false, true} {
			t.Run(fmt.Sprintf("rank%d/bias=%t", k, bias), func(t *testing.T) {
				if testing.Short() && k > 64 {
					t.Skip("-short")
				}
				p := als.Params{Rank: k, Iterations: 10, Lambda: 0.1, Seed: 8, Bias: bias}
				var gm, cm als.Model
				var its []als.Iteration
				if err := d.Fit(t.Context(), &gm, r, p, func(it als.Iteration) { its = append(its, it) }); err != nil {
					t.Fatalf("device Fit(%v) = %v", p, err)
				}
				if err := c.Fit(t.Context(), &cm, r, p, nil); err != nil {
					t.Fatalf("cpu Fit(%v) = %v", p, err)
				}
				g, want := als.RMSE(&gm, r), als.RMSE(&cm, r)
				if math.Abs(g-want) > 0.005*want {
					t.Errorf("RMSE after 10 iterations: device %.5f, cpu %.5f, want within 0.5%%", g, want)
				}
				if last := its[len(its)-1].TrainRMSE; math.Abs(last-g) > 1e-4*g {
					t.Errorf("device TrainRMSE %.6f, als.RMSE of its model %.6f", last, g)
				}
			})
		}
	}
}
