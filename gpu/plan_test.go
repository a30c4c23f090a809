package gpu

import (
	"testing"

	"movierec/als"
	"movierec/kernels"
)

func TestPlanSolve(t *testing.T) {
	for ka := 1; ka <= 257; ka++ {
		for _, maxT := range []int{512, 1024, 256} {
			p := planSolve(ka, maxT)
			if p.Threads%32 != 0 || p.Threads < 32 || p.Threads > min(maxT, maxSolveThreads) {
				t.Fatalf("planSolve(%d, %d).Threads = %d", ka, maxT, p.Threads)
			}
			if p.Passes*p.Threads < p.Tiles || (p.Passes-1)*p.Threads >= p.Tiles {
				t.Fatalf("planSolve(%d, %d): %d passes of %d threads for %d tiles", ka, maxT, p.Passes, p.Threads, p.Tiles)
			}
			if p.SharedBytes > smemNoOptIn {
				t.Fatalf("planSolve(%d, %d).SharedBytes = %d > %d", ka, maxT, p.SharedBytes, smemNoOptIn)
			}
			if p.Chunk < 1 || p.Chunk > maxChunk {
				t.Fatalf("planSolve(%d, %d).Chunk = %d", ka, maxT, p.Chunk)
			}
			if p.Padded%tileSide != 0 || p.Padded < ka || p.Padded >= ka+tileSide {
				t.Fatalf("planSolve(%d, %d).Padded = %d", ka, maxT, p.Padded)
			}
			// The kernel's b loop and output loops stride by Threads; the
			// warp-0 solve needs at least one warp.
			if p.Kernel != kernels.SolveShared && p.Kernel != kernels.SolveGlobal {
				t.Fatalf("planSolve(%d, %d).Kernel = %q", ka, maxT, p.Kernel)
			}
		}
	}
	// Ranks the benchmarks use keep the Gram in shared memory.
	for _, ka := range []int{1, 8, 10, 11, 32, 64, 65, 100, 101, 128, 129} {
		if p := planSolve(ka, 1024); p.Kernel != kernels.SolveShared {
			t.Errorf("planSolve(%d) = %v, want the shared kernel", ka, p)
		}
	}
	for _, ka := range []int{200, 201, 256, 257} {
		if p := planSolve(ka, 1024); p.Kernel != kernels.SolveGlobal {
			t.Errorf("planSolve(%d) = %v, want the global kernel", ka, p)
		}
	}
}

func TestSortByLength(t *testing.T) {
	ptr := []int64{0, 2, 2, 7, 8, 10}
	got := sortByLength(ptr)
	want := []int32{2, 0, 4, 3, 1}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("sortByLength(%v) = %v, want %v", ptr, got, want)
		}
	}
}

func TestSolveGrid(t *testing.T) {
	ps := planSolve(64, 1024)
	if g := solveGrid(ps, 1000, 10); g != 1000 {
		t.Errorf("solveGrid(shared, 1000, 10) = %d, want 1000", g)
	}
	pg := planSolve(257, 1024)
	if g := solveGrid(pg, 1000, 10); g != 10 {
		t.Errorf("solveGrid(global, 1000, 10) = %d, want 10", g)
	}
	if g := solveGrid(pg, 3, 10); g != 3 {
		t.Errorf("solveGrid(global, 3, 10) = %d, want 3", g)
	}
}

func TestPlanImplicit(t *testing.T) {
	for k := 1; k <= 256; k++ {
		for _, maxT := range []int{512, 1024, 256, 32} {
			p := planImplicit(k, maxT)
			if !p.Implicit || p.KA != k {
				t.Fatalf("planImplicit(%d, %d) = %+v", k, maxT, p)
			}
			if p.Threads%32 != 0 || p.Threads < 32 || p.Threads > min(maxT, maxSolveThreads) {
				t.Fatalf("planImplicit(%d, %d).Threads = %d", k, maxT, p.Threads)
			}
			if p.Passes*p.Threads < p.Tiles || (p.Passes-1)*p.Threads >= p.Tiles {
				t.Fatalf("planImplicit(%d, %d): %d passes of %d threads for %d tiles", k, maxT, p.Passes, p.Threads, p.Tiles)
			}
			// ys, tgt and wt per staged rating; bs, dg, flag; the Gram when shared.
			want := 4 * (p.Chunk*(p.Padded+2) + 2*p.Padded + 1)
			switch p.Kernel {
			case kernels.ImplicitShared:
				want += 4 * p.GramFloats
			case kernels.ImplicitGlobal:
			default:
				t.Fatalf("planImplicit(%d, %d).Kernel = %q", k, maxT, p.Kernel)
			}
			if p.SharedBytes != want || p.SharedBytes > smemNoOptIn {
				t.Fatalf("planImplicit(%d, %d).SharedBytes = %d, want %d ≤ %d", k, maxT, p.SharedBytes, want, smemNoOptIn)
			}
			if p.Chunk < 1 || p.Chunk > maxChunk {
				t.Fatalf("planImplicit(%d, %d).Chunk = %d", k, maxT, p.Chunk)
			}
			if (p.Kernel == kernels.ImplicitShared) != (k <= 146) {
				t.Errorf("planImplicit(%d, %d) = %v: want the shared kernel exactly up to k = 146", k, maxT, p)
			}
		}
	}
}

func TestPlanGram(t *testing.T) {
	for k := 1; k <= 256; k++ {
		for _, maxT := range []int{32, 96, 256, 1024} {
			p := planGram(k, maxT)
			if p.Threads%32 != 0 || p.Threads < 32 || p.Threads > min(maxT, maxGramThreads) {
				t.Fatalf("planGram(%d, %d).Threads = %d", k, maxT, p.Threads)
			}
			if p.Groups*p.Threads < p.Tiles || (p.Groups-1)*p.Threads >= p.Tiles || p.Groups > 65535 {
				t.Fatalf("planGram(%d, %d): %d groups of %d threads for %d tiles", k, maxT, p.Groups, p.Threads, p.Tiles)
			}
			if p.Len != k*(k+1)/2 || p.Chunk < 1 || p.Chunk > maxChunk || p.SharedBytes != 4*p.Chunk*p.Padded || p.SharedBytes > smemNoOptIn {
				t.Fatalf("planGram(%d, %d) = %+v", k, maxT, p)
			}
		}
	}
}

func TestGramStripes(t *testing.T) {
	for _, n := range []int{0, 1, 255, 256, 257, 10_000, 65_536, 65_537, 162_541, 480_189, 1<<31 - 1} {
		s, per := gramStripes(n)
		if s > maxGramStripes || per < minGramRows || s*per < n || (s > 0 && (s-1)*per >= n) || (n == 0) != (s == 0) {
			t.Errorf("gramStripes(%d) = %d stripes of %d rows", n, s, per)
		}
	}
}

// TestPlanSolveCG checks the CG kernels' plans: the Cholesky plan's shape
// with the CG kernel names, and staging room for the CG vectors, for every
// augmented rank and block limit.
func TestPlanSolveCG(t *testing.T) {
	for ka := 1; ka <= 257; ka++ {
		for _, maxT := range []int{32, 96, 1024} {
			c, p := planSolveCG(ka, maxT, CGSteps), planSolve(ka, maxT)
			wantKernel := kernels.CGGlobal
			if p.Kernel == kernels.SolveShared {
				wantKernel = kernels.CGShared
			}
			if c.Kernel != wantKernel || c.CGSteps != CGSteps || c.SharedBytes != p.SharedBytes || c.Threads != p.Threads {
				t.Fatalf("planSolveCG(%d, %d) = %v; planSolve = %v", ka, maxT, c, p)
			}
			if c.Chunk*c.Padded < 4*c.Padded+64 {
				t.Fatalf("planSolveCG(%d, %d): staging %d floats < CG vectors %d", ka, maxT, c.Chunk*c.Padded, 4*c.Padded+64)
			}
		}
	}
}

// TestPlanImplicitCG checks the implicit CG kernels' plans: planImplicit's
// shape with the implicit CG kernel names, staging room for the CG
// vectors, for every rank and block limit; and that planFor gives them for
// the implicit objective with Solver CG, with its step count.
func TestPlanImplicitCG(t *testing.T) {
	for k := 1; k <= als.MaxRank; k++ {
		for _, maxT := range []int{32, 96, 1024} {
			c, p := planImplicitCG(k, maxT, CGSteps), planImplicit(k, maxT)
			wantKernel := kernels.ImplicitCGGlobal
			if p.Kernel == kernels.ImplicitShared {
				wantKernel = kernels.ImplicitCGShared
			}
			if c.Kernel != wantKernel || !c.Implicit || c.CGSteps != CGSteps || c.SharedBytes != p.SharedBytes ||
				c.Threads != p.Threads || c.Chunk != p.Chunk || c.sharedKernel() != p.sharedKernel() {
				t.Fatalf("planImplicitCG(%d, %d) = %v; planImplicit = %v", k, maxT, c, p)
			}
			if c.Chunk*c.Padded < 4*c.Padded+64 {
				t.Fatalf("planImplicitCG(%d, %d): staging %d floats < CG vectors %d", k, maxT, c.Chunk*c.Padded, 4*c.Padded+64)
			}
		}
		p := als.Params{Rank: k, Lambda: 0.1, Objective: als.Implicit, Unobserved: 1, Solver: als.CG, CGSteps: 5}
		if got, want := planFor(p, 1024, smemNoOptIn), planImplicitCG(k, 1024, 5); got != want {
			t.Fatalf("planFor(%v, 48 KiB) = %v, want %v", p, got, want)
		}
		p.Solver = als.Cholesky
		if got, want := planFor(p, 1024, smemNoOptIn), planImplicit(k, 1024); got != want {
			t.Fatalf("planFor(%v, 48 KiB) = %v, want %v", p, got, want)
		}
	}
}

// TestRowKernels checks that planFor's kernel is the shared or the
// global one of rowKernels, whichever the plan says, for each objective
// and solver, with and without the opt-in: device.go launches the
// function of that name.
func TestRowKernels(t *testing.T) {
	for _, k := range []int{1, 64, 128, 146, 147, 200, 256} {
		for _, p := range []als.Params{
			{Rank: k, Lambda: 0.1},
			{Rank: k, Lambda: 0.1, Bias: true, Solver: als.CG},
			{Rank: k, Lambda: 0.1, Objective: als.Implicit, Unobserved: 1},
			{Rank: k, Lambda: 0.1, Objective: als.Implicit, Unobserved: 1, Solver: als.CG},
		} {
			shared, global := rowKernels(p)
			for _, smem := range []int{smemNoOptIn, 227 << 10} {
				plan := planFor(p, 1024, smem)
				want := global
				if plan.sharedKernel() {
					want = shared
				}
				if plan.Kernel != want || (plan.CGSteps > 0) != (p.Solver == als.CG) || plan.Implicit != (p.Objective == als.Implicit) {
					t.Errorf("planFor(%v, %d) = %v; rowKernels = %s, %s", p, smem, plan, shared, global)
				}
			}
		}
	}
}

// TestPlanForOptIn checks that with sm_90's opt-in shared memory (227 KiB)
// every rank keeps its Gram in shared memory, for both solvers and both
// objectives, and that without it planFor is planSolve.
func TestPlanForOptIn(t *testing.T) {
	const optin = 227 << 10
	for k := 1; k <= als.MaxRank; k++ {
		for _, p := range []als.Params{
			{Rank: k, Lambda: 0.1, Bias: true},
			{Rank: k, Lambda: 0.1, Solver: als.CG},
			{Rank: k, Lambda: 0.1, Objective: als.Implicit, Unobserved: 0.1},
			{Rank: k, Lambda: 0.1, Objective: als.Implicit, Unobserved: 0.1, Solver: als.CG},
		} {
			got := planFor(p, 1024, optin)
			if !got.sharedKernel() || got.SharedBytes > optin {
				t.Fatalf("planFor(%v, 1024, %d) = %v, want a shared-memory kernel within the limit", p, optin, got)
			}
		}
		if got, want := planFor(als.Params{Rank: k, Lambda: 0.1}, 1024, smemNoOptIn), planSolve(k, 1024); got != want {
			t.Fatalf("planFor(rank %d, 48 KiB) = %v, want planSolve's %v", k, got, want)
		}
	}
}
