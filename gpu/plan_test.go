package gpu

import (
	"slices"
	"testing"

	"movierec/als"
	"movierec/als/alstest"
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
			// Buffers×kp staged floats, then indices, ratings, targets and
			// weights for two chunks; bs, dg, flag; the Gram when shared.
			want := 4 * (p.Buffers*p.Chunk*p.Padded + 8*p.Chunk + 2*p.Padded + 1)
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
			if c.Buffers*c.Chunk*c.Padded < 4*c.Padded+64 {
				t.Fatalf("planSolveCG(%d, %d): staging %d floats < CG vectors %d", ka, maxT, c.Buffers*c.Chunk*c.Padded, 4*c.Padded+64)
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
			if c.Buffers*c.Chunk*c.Padded < 4*c.Padded+64 {
				t.Fatalf("planImplicitCG(%d, %d): staging %d floats < CG vectors %d", k, maxT, c.Buffers*c.Chunk*c.Padded, 4*c.Padded+64)
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

// TestSplitSide checks the heavy rows and their slices: exactly the rows
// above the threshold, in the permutation's order; slices contiguous,
// covering each row, at most slice ratings, never empty; boundaries that
// depend on the row's length only; threshold 0 turns the split off.
func TestSplitSide(t *testing.T) {
	lengths := []int64{5, 9000, 4096, 4097, 0, 20000, 12}
	ptr := make([]int64, len(lengths)+1)
	for i, n := range lengths {
		ptr[i+1] = ptr[i] + n
	}
	perm := sortByLength(ptr)
	s := splitSide(ptr, perm, SplitThreshold, SplitSlice)
	if want := []int32{5, 1, 3}; !slices.Equal(perm[:s.Heavy], want) {
		t.Fatalf("heavy rows %v, want %v (more than %d ratings, longest first)", perm[:s.Heavy], want, SplitThreshold)
	}
	if len(s.First) != s.Heavy+1 || s.First[0] != 0 || int(s.First[s.Heavy]) != s.NumSlices() {
		t.Fatalf("First = %v for %d slices", s.First, s.NumSlices())
	}
	for h, row := range perm[:s.Heavy] {
		n := ptr[row+1] - ptr[row]
		lo, hi := s.First[h], s.First[h+1]
		if want := (n + SplitSlice - 1) / SplitSlice; int64(hi-lo) != want {
			t.Errorf("row %d (%d ratings): %d slices, want %d", row, n, hi-lo, want)
		}
		end := int32(0)
		for i := lo; i < hi; i++ {
			r, a, b := s.Slices[3*i], s.Slices[3*i+1], s.Slices[3*i+2]
			if r != row || a != end || b <= a || b-a > SplitSlice {
				t.Fatalf("row %d slice %d = (%d, %d, %d), want row %d from %d, 1..%d ratings", row, i-lo, r, a, b, row, end, SplitSlice)
			}
			end = b
		}
		if int64(end) != n {
			t.Errorf("row %d: slices end at %d of %d ratings", row, end, n)
		}
	}
	// A row of the same length elsewhere gets the same boundaries.
	other := splitSide([]int64{0, 3, 9003}, []int32{1, 0}, SplitThreshold, SplitSlice)
	var a, b [][2]int32
	for i := range other.NumSlices() {
		a = append(a, [2]int32{other.Slices[3*i+1], other.Slices[3*i+2]})
	}
	for i := s.First[1]; i < s.First[2]; i++ { // row 1: 9000 ratings
		b = append(b, [2]int32{s.Slices[3*i+1], s.Slices[3*i+2]})
	}
	if !slices.Equal(a, b) || len(a) != 5 {
		t.Errorf("slices of a 9000-rating row: %v and %v, want the same 5", a, b)
	}
	if off := splitSide(ptr, perm, 0, SplitSlice); off.Heavy != 0 || off.NumSlices() != 0 || len(off.First) != 1 {
		t.Errorf("threshold 0: %+v, want no heavy rows", off)
	}
}

// TestPlanSplit checks the heavy-row kernels' plan at the ranks that
// matter, for both objectives and solvers: the assembly's tiles cover the
// triangle with at most the thread limit, its staging and b fit 48 KiB
// without a Gram in shared memory, a slot holds the packed Gram and b,
// and the solve keeps the row plan's shared memory and a block size it can
// run.
func TestPlanSplit(t *testing.T) {
	for _, k := range []int{1, 8, 64, 100, 128, 146, 200, 256} {
		for _, p := range []als.Params{
			{Rank: k, Bias: true},
			{Rank: k, Solver: als.CG},
			alstest.ImplicitParams(k, 1, 0.1, 1, 1, 0.75),
		} {
			rows := planFor(p, 512, smemNoOptIn)
			for _, maxT := range []int{512, 256} {
				sp := planSplit(rows, maxT, maxT, SplitThreshold, SplitSlice)
				g := sp.Gram
				if g.Threads%32 != 0 || g.Threads > maxT || g.Threads*g.Passes < g.Tiles {
					t.Errorf("%v: split gram %d threads × %d passes for %d tiles (max %d)", rows, g.Threads, g.Passes, g.Tiles, maxT)
				}
				if g.SharedBytes > smemNoOptIn || g.Chunk < 1 || g.Chunk > g.Threads || g.Buffers < 1 || g.Buffers > 2 ||
					g.SharedBytes != 4*(stageFloats(g.Buffers, g.Chunk, g.Padded, rows.Implicit)+g.Padded) {
					t.Errorf("%v: split gram chunk %d × %d buffers, %d B of shared memory", rows, g.Chunk, g.Buffers, g.SharedBytes)
				}
				if sp.SlotFloats != rows.GramFloats+rows.Padded {
					t.Errorf("%v: slot of %d floats", rows, sp.SlotFloats)
				}
				if sp.SolveThreads%32 != 0 || sp.SolveThreads > min(maxT, rows.Threads) || sp.SolveThreads < 32 {
					t.Errorf("%v: split solve %d threads (max %d)", rows, sp.SolveThreads, maxT)
				}
				wantGram, wantSolve := kernels.SplitGram, kernels.SplitSolve
				if rows.Implicit {
					wantGram, wantSolve = kernels.SplitGramImplicit, kernels.SplitSolveImplicit
				}
				if sp.GramKernel != wantGram || sp.SolveKernel != wantSolve || g.Kernel != wantGram {
					t.Errorf("%v: kernels %s, %s", rows, sp.GramKernel, sp.SolveKernel)
				}
			}
		}
	}
}

// TestSplitSides checks the bound on the partial systems: slices double
// until the larger side's fit splitPartBudget, the same for the same data.
func TestSplitSides(t *testing.T) {
	long := []int64{0, 1 << 26, 1<<26 + 10}        // one row of 64 Mi ratings, one of 10
	short := []int64{0, 5000, 10000, 15000, 20000} // four rows just above the threshold
	ptrs := [2][]int64{long, short}
	perms := [2][]int32{sortByLength(long), sortByLength(short)}
	plan := planSolve(128, maxSolveThreads)
	sp := planSplit(plan, maxSolveThreads, maxSolveThreads, SplitThreshold, SplitSlice)
	rows, slice := splitSides(sp, ptrs, perms)
	slotBytes := 4 * sp.SlotFloats
	if n := rows[0].NumSlices(); n*slotBytes > splitPartBudget {
		t.Errorf("%d slices of %d B: over the budget of %d B", n, slotBytes, splitPartBudget)
	}
	if want := SplitSlice; slice == want || slice%want != 0 {
		t.Errorf("slice %d, want a multiple of %d above it (32 Ki slices of 33 KB overflow 512 MiB)", slice, want)
	}
	if rows[1].Heavy != 4 || rows[0].Heavy != 1 {
		t.Errorf("heavy rows %d and %d, want 1 and 4", rows[0].Heavy, rows[1].Heavy)
	}
	if _, again := splitSides(sp, ptrs, perms); again != slice {
		t.Errorf("splitSides gave slice %d, then %d", slice, again)
	}
	small := [2][]int64{short, short}
	if _, s := splitSides(sp, small, [2][]int32{perms[1], perms[1]}); s != SplitSlice {
		t.Errorf("small problem: slice %d, want %d", s, SplitSlice)
	}
}

// TestPlanStaging checks the staging area of every row plan (both
// objectives, every rank, block limits from 32 to 1024, with and without
// the opt-in): the chunk fits one thread per rating, the shared memory is
// the layout of als.cu (stage_floats, bs, dg, flag, the Gram when shared)
// within the limit, and stageChunk's choice: two buffers whenever they
// hold the chunk one buffer would, or at least half of maxChunk; with the
// opt-in (what device.go uses on an sm_90) every rank stages 32 ratings in
// two buffers, the chunk of the kernels before the pipelined staging, so
// its sums are the same bit for bit.
func TestPlanStaging(t *testing.T) {
	const optIn = 227 << 10
	for ka := 1; ka <= als.MaxRank+1; ka++ {
		for _, implicit := range []bool{false, true} {
			if implicit && ka > als.MaxRank {
				continue
			}
			for _, maxT := range []int{32, 96, 512, 1024} {
				for _, smem := range []int{smemNoOptIn, optIn} {
					p := planRows(ka, maxT, implicit, smem)
					if p.Chunk < 1 || p.Chunk > maxChunk || p.Chunk > p.Threads || p.Buffers < 1 || p.Buffers > 2 {
						t.Fatalf("planRows(%d, %d, %t, %d) = %v", ka, maxT, implicit, smem, p)
					}
					want := stageFloats(p.Buffers, p.Chunk, p.Padded, implicit) + 2*p.Padded + 1
					if p.sharedKernel() {
						want += p.GramFloats
					}
					if p.SharedBytes != 4*want || p.SharedBytes > smem {
						t.Fatalf("planRows(%d, %d, %t, %d) = %v: want %d B within %d", ka, maxT, implicit, smem, p, 4*want, smem)
					}
					room := smem/4 - 2*p.Padded - 1
					if p.sharedKernel() {
						room -= p.GramFloats
					}
					if c, b := stageChunk(room, p.Padded, implicit); c != p.Chunk || b != p.Buffers {
						t.Fatalf("planRows(%d, %d, %t, %d) = %v, stageChunk = %d × %d", ka, maxT, implicit, smem, p, c, b)
					}
					if smem == optIn && (p.Chunk != maxChunk || p.Buffers != 2 || !p.sharedKernel()) {
						t.Errorf("planRows(%d, %d, %t, opt-in) = %v, want the shared kernel, chunk %d, two buffers", ka, maxT, implicit, p, maxChunk)
					}
				}
			}
		}
	}
	// stageChunk: the larger chunk of one buffer, unless two buffers hold
	// it or at least half of maxChunk.
	for _, tc := range []struct {
		room, kp       int
		implicit       bool
		chunk, buffers int
	}{
		{100_000, 64, false, 32, 2},        // room for anything
		{2*32*64 + 6*32, 64, false, 32, 2}, // exactly two buffers of 32
		{2*16*64 + 6*16, 64, false, 16, 2}, // two buffers of 16 rather than one of 30
		{2*15*64 + 6*15, 64, false, 28, 1}, // 15 ratings double buffered: one buffer of 28
		{8*(128+8) + 5, 128, true, 8, 1},   // the last shared-Gram rank without the opt-in
	} {
		if c, b := stageChunk(tc.room, tc.kp, tc.implicit); c != tc.chunk || b != tc.buffers {
			t.Errorf("stageChunk(%d, %d, %t) = %d × %d, want %d × %d", tc.room, tc.kp, tc.implicit, c, b, tc.chunk, tc.buffers)
		}
	}
	// Without the opt-in, ranks up to 100 keep the chunk of 32 (and so the
	// sums of the kernels before) in two buffers; rank 128's Gram leaves
	// one buffer of 28.
	for _, ka := range []int{1, 8, 11, 32, 64, 65, 100, 101} {
		if p := planSolve(ka, 1024); p.Chunk != maxChunk || p.Buffers != 2 {
			t.Errorf("planSolve(%d) = %v, want chunk %d in two buffers", ka, p, maxChunk)
		}
	}
	if p := planSolve(128, 1024); p.Chunk != 28 || p.Buffers != 1 {
		t.Errorf("planSolve(128) = %v, want chunk 28 in one buffer", p)
	}
}
