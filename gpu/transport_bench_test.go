package gpu_test

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"time"

	"movierec/als"
	"movierec/als/alstest"
	"movierec/gpu"
)

// transportShapes are the full-size shapes of BenchmarkIteration.
var transportShapes = []struct {
	name         string
	users, items int
	nnz          int
}{
	{"ML25M", 162_541, 59_047, 25_000_095},
	{"Netflix", 480_189, 17_770, 100_480_507},
}

// changed returns r with n ratings given new values and one new user with
// a rating of each of the first n/10 items (a retrain after a few thousand
// POSTs), built as the engine builds its Ratings.
func changed(r *als.Ratings, n int) *als.Ratings {
	rng := rand.New(rand.NewPCG(1, 2))
	add := n / 10
	ptr := make([]int64, r.NumUsers+2)
	copy(ptr, r.UserPtr)
	ptr[r.NumUsers+1] = ptr[r.NumUsers] + int64(add)
	idx := append(append(make([]int32, 0, r.NNZ()+add), r.UserIdx...), make([]int32, add)...)
	val := append(append(make([]float32, 0, r.NNZ()+add), r.UserVal...), make([]float32, add)...)
	for k := range n - add {
		p := rng.IntN(r.NNZ())
		val[p] = float32(1+(k%9)) / 2
	}
	for k := range add {
		idx[r.NNZ()+k] = int32(k)
		val[r.NNZ()+k] = 4
	}
	return als.NewRatingsCSR(r.NumUsers+1, r.NumItems, ptr, idx, val)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRetrainTransport measures what a retrain costs before training
// starts: the client's diff and encoding, an OS pipe, and the worker's
// decoding and rebuilding of its ratings (both ends in this process, as the
// worker built without the cuda tag would run them), for a full upload
// (protocol 3's only way, with the preallocating decoder) and for a Delta
// of a few thousand changed ratings. It reports bytes and CPU seconds (both
// ends, from getrusage) per retrain; the delta's merge reuses the previous
// retrain's buffers, as the worker does, and records the gpu.Patch a cuda
// worker's Device replays. pcie-bytes/retrain is what the Device then sends
// to the GPU (gpu.PatchUploadBytes for a delta, all of both orientations for
// a full upload), computed from the same plan the Device uses; the kernel
// time of the replay (two als_copy_runs launches per orientation, a device
// memory copy of the ratings) is not measured here (no GPU).
func BenchmarkRetrainTransport(b *testing.B) {
	for _, s := range transportShapes {
		var base, next *als.Ratings
		for _, mode := range []string{"full", "delta"} {
			b.Run(fmt.Sprintf("%s/%s", s.name, mode), func(b *testing.B) {
				if base == nil {
					base, _ = alstest.Synthetic(s.users, s.items, s.nnz, 10, 0.5, 1)
					next = changed(base, 5000)
				}
				var bytes, pcie uint64
				var cpu time.Duration
				var n int
				var spare *als.Ratings // the worker's previous version
				var pt gpu.Patch
				for b.Loop() {
					start := cpuTime()
					sent, dev, err := transport(base, next, mode == "delta", &spare, &pt)
					if err != nil {
						b.Fatal(err)
					}
					cpu += cpuTime() - start
					bytes += sent
					pcie += uint64(dev)
					n++
				}
				b.ReportMetric(float64(bytes)/float64(n), "bytes/retrain")
				b.ReportMetric(float64(pcie)/float64(n), "pcie-bytes/retrain")
				b.ReportMetric(cpu.Seconds()/float64(n), "cpu-s/retrain")
			})
		}
	}
}

// transport sends next to a decoder over an OS pipe, as a Delta from base
// when delta is set, and rebuilds it on the far side (merging into *spare,
// as the worker merges into its previous version, and leaving the result
// there for the next call, and recording in pt the Patch the worker hands a
// Device); it returns the bytes sent and those a Device would send to the GPU.
func transport(base, next *als.Ratings, delta bool, spare **als.Ratings, pt *gpu.Patch) (uint64, int64, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return 0, 0, err
	}
	defer pr.Close()
	job := &gpu.Job{ID: 1, Params: als.DefaultParams(), Ratings: next, Dataset: 1, Version: 2}
	if delta {
		var d gpu.Delta
		if !d.Diff(base, next, next.NNZ()/4) {
			return 0, 0, errors.New("Diff() = false")
		}
		job.Ratings, job.Delta, job.Base = nil, &d, 1
	}
	cw := &counter{w: pw}
	sent := make(chan error, 1)
	go func() {
		err := gpu.NewEncoder(cw).Write(job)
		_ = pw.Close()
		sent <- err
	}()
	dec := gpu.NewDecoder(pr)
	dec.SetPrealloc(gpu.MaxFrameBytes)
	m, err := dec.Next()
	if err != nil {
		return 0, 0, err
	}
	if err := <-sent; err != nil {
		return 0, 0, err
	}
	j := m.(*gpu.Job)
	r := j.Ratings
	var pcie int64
	if j.Delta != nil {
		if r, err = j.Delta.ApplyPatch(*spare, base, pt); err != nil {
			return 0, 0, err
		}
		*spare = r
		pcie = gpu.PatchUploadBytes(pt)
	} else {
		pcie = 16*int64(r.NNZ()) + 8*int64(len(r.UserPtr)+len(r.ItemPtr))
	}
	if r.NNZ() != next.NNZ() {
		return 0, 0, fmt.Errorf("rebuilt %d ratings, want %d", r.NNZ(), next.NNZ())
	}
	return cw.n, pcie, nil
}

type counter struct {
	w io.Writer
	n uint64
}

func (c *counter) Write(b []byte) (int, error) {
	k, err := c.w.Write(b)
	c.n += uint64(k)
	return k, err
}
