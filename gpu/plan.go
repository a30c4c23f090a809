package gpu

import (
	"cmp"
	"fmt"
	"slices"

	"movierec/kernels"
)

// Launch planning for the kernels of package kernels. It is pure Go so that
// it is tested everywhere; device.go (tag cuda) only adds the device's
// limits.

const (
	tileSide        = 4         // TB in als.cu
	maxSolveThreads = 512       // block size cap of the solve kernels
	smemNoOptIn     = 48 << 10  // dynamic shared memory a launch may use without cuFuncSetAttribute
	maxChunk        = 32        // ratings staged per step
	minSharedChunk  = 8         // below this, the global-Gram kernel is preferred
	sseThreads      = 256       // block size of als_sse
	sseBlocksPerSM  = 8         // grid of als_sse, per multiprocessor
	maxGridX        = 1<<31 - 1 // CUDA's grid x limit
)

// solvePlan is the launch shape of als_solve_shared or als_solve_global for
// one augmented rank ka (rank, +1 with biases).
type solvePlan struct {
	Kernel      string // kernels.SolveShared or kernels.SolveGlobal
	KA          int    // augmented rank
	Padded      int    // ka rounded up to a multiple of tileSide
	Tiles       int    // register tiles of the lower triangle
	Threads     int    // block size, a multiple of 32
	Passes      int    // ⌈Tiles/Threads⌉
	Chunk       int    // ratings staged per step
	SharedBytes int    // dynamic shared memory per block
	GramFloats  int    // packed Gram per block: ka(ka+1)/2
}

func (p solvePlan) String() string {
	return fmt.Sprintf("%s ka=%d threads=%d passes=%d chunk=%d smem=%dB", p.Kernel, p.KA, p.Threads, p.Passes, p.Chunk, p.SharedBytes)
}

// planSolve computes the launch shape for augmented rank ka (1..MaxRank+1)
// with blocks of at most maxThreads threads (the kernel's limit on the
// device; at least 32).
func planSolve(ka, maxThreads int) solvePlan {
	if ka < 1 {
		panic(fmt.Sprintf("gpu: planSolve(%d)", ka))
	}
	maxThreads = min(maxThreads, maxSolveThreads) / 32 * 32
	if maxThreads < 32 {
		panic(fmt.Sprintf("gpu: planSolve: maxThreads %d < 32", maxThreads))
	}
	p := solvePlan{KA: ka, Padded: (ka + tileSide - 1) / tileSide * tileSide, GramFloats: ka * (ka + 1) / 2}
	nt := p.Padded / tileSide
	p.Tiles = nt * (nt + 1) / 2
	// Fewest passes, then the smallest block that does them: the fewest
	// idle threads in the last pass.
	for p.Passes = 1; ; p.Passes++ {
		t := ((p.Tiles+p.Passes-1)/p.Passes + 31) / 32 * 32
		if t <= maxThreads {
			p.Threads = t
			break
		}
	}
	// Shared memory in floats: ys chunk×kp, tgt chunk, bs kp, dg kp, flag 1.
	fixed := 2*p.Padded + 1
	budget := smemNoOptIn / 4
	if c := (budget - fixed - p.GramFloats) / (p.Padded + 1); c >= minSharedChunk {
		p.Kernel = kernels.SolveShared
		p.Chunk = min(c, maxChunk)
		p.SharedBytes = 4 * (p.Chunk*(p.Padded+1) + fixed + p.GramFloats)
		return p
	}
	p.Kernel = kernels.SolveGlobal
	p.Chunk = min(maxChunk, (budget-fixed)/(p.Padded+1))
	p.SharedBytes = 4 * (p.Chunk*(p.Padded+1) + fixed)
	return p
}

// solveGrid returns the grid for nrows rows: one block per row for the
// shared kernel; for the global one, at most slots blocks (the workspace
// slots), which stride over the rows.
func solveGrid(p solvePlan, nrows, slots int) int {
	g := min(nrows, maxGridX)
	if p.Kernel == kernels.SolveGlobal {
		g = min(g, slots)
	}
	return g
}

// sortByLength returns the rows 0..len(ptr)-2 ordered by rating count,
// longest first (ties by index), so that blocks scheduled together do
// similar work and the longest rows start first.
func sortByLength(ptr []int64) []int32 {
	n := len(ptr) - 1
	perm := make([]int32, n)
	for i := range perm {
		perm[i] = int32(i)
	}
	slices.SortStableFunc(perm, func(a, b int32) int {
		return cmp.Compare(ptr[b+1]-ptr[b], ptr[a+1]-ptr[a])
	})
	return perm
}
