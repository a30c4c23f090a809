package gpu

import (
	"cmp"
	"fmt"
	"slices"

	"movierec/als"
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
	maxGramThreads  = 256       // block size cap of als_gram_partial
	maxGramStripes  = 256       // most stripes (partial Gram slots) of als_gram_partial
	minGramRows     = 256       // fewest rows per stripe
	reduceThreads   = 256       // block size of als_gram_reduce
)

// solvePlan is the launch shape of als_solve_shared or als_solve_global for
// one augmented rank ka (rank, +1 with biases), or of als_implicit_shared
// or als_implicit_global for rank ka (Implicit); with CGSteps > 0, of their
// conjugate-gradient variants (als_cg_*, als_implicit_cg_*).
type solvePlan struct {
	Kernel      string // kernels.SolveShared or kernels.SolveGlobal (Implicit: kernels.ImplicitShared or ImplicitGlobal; CG: the *CG* kernels)
	Implicit    bool   // the implicit kernels: one more staged float per rating (its weight)
	KA          int    // augmented rank
	Padded      int    // ka rounded up to a multiple of tileSide
	Tiles       int    // register tiles of the lower triangle
	Threads     int    // block size, a multiple of 32
	Passes      int    // ⌈Tiles/Threads⌉
	Chunk       int    // ratings staged per step, at most Threads (a thread stages rating c of a chunk)
	Buffers     int    // staged factor-row buffers: 2 (double buffering: chunk c+1 copied while c is multiplied) or 1
	SharedBytes int    // dynamic shared memory per block
	GramFloats  int    // packed Gram per block: ka(ka+1)/2
	CGSteps     int    // als_cg_*: conjugate-gradient steps per row (0: the Cholesky kernels)
}

func (p solvePlan) String() string {
	s := fmt.Sprintf("%s ka=%d threads=%d passes=%d chunk=%d buffers=%d smem=%dB", p.Kernel, p.KA, p.Threads, p.Passes, p.Chunk, p.Buffers, p.SharedBytes)
	if p.CGSteps > 0 {
		s += fmt.Sprintf(" cg_steps=%d", p.CGSteps)
	}
	return s
}

// CGSteps is als.DefaultCGSteps, the number of conjugate-gradient steps per
// row and half of the CG kernels (als.CG) unless Params.CGSteps says
// otherwise. Warm-started from the previous
// iteration's factors, 3 steps per half keep the train RMSE after 10
// iterations within 0.5% of the exact solve's (gpu/emulate_cg_test.go),
// and cost ~ 4·ka² per row instead of the Cholesky's ka³/6 with a barrier
// per column (gpu/costmodel.go).
const CGSteps = als.DefaultCGSteps

// planSolveCG is planSolve for the conjugate-gradient kernels
// (als_cg_shared, als_cg_global) with steps steps: the same assembly and
// shared memory, whose staging area (chunk·kp floats) holds the CG vectors
// (4·kp floats and two 32-float reduction buffers) once A is assembled.
func planSolveCG(ka, maxThreads, steps int) solvePlan {
	return asCG(planRows(ka, maxThreads, false, smemNoOptIn), steps)
}

// planImplicitCG is planSolveCG for the implicit objective's CG kernels
// (als_implicit_cg_shared, als_implicit_cg_global): planImplicit's shape,
// whose staging area holds the same CG vectors.
func planImplicitCG(k, maxThreads, steps int) solvePlan {
	return asCG(planRows(k, maxThreads, true, smemNoOptIn), steps)
}

// asCG turns a Cholesky plan (explicit or implicit) into the matching CG
// kernels' plan with steps steps: the same assembly, launch shape and
// shared memory.
func asCG(p solvePlan, steps int) solvePlan {
	switch {
	case p.Implicit && p.sharedKernel():
		p.Kernel = kernels.ImplicitCGShared
	case p.Implicit:
		p.Kernel = kernels.ImplicitCGGlobal
	case p.sharedKernel():
		p.Kernel = kernels.CGShared
	default:
		p.Kernel = kernels.CGGlobal
	}
	p.CGSteps = steps
	if p.Buffers*p.Chunk*p.Padded < 4*p.Padded+64 {
		panic(fmt.Sprintf("gpu: planSolveCG(%d): staging of %d floats cannot hold the CG vectors", p.KA, p.Buffers*p.Chunk*p.Padded))
	}
	return p
}

// planSolve computes the launch shape for augmented rank ka (1..MaxRank+1)
// with blocks of at most maxThreads threads (the kernel's limit on the
// device; at least 32).
func planSolve(ka, maxThreads int) solvePlan {
	return planRows(ka, maxThreads, false, smemNoOptIn)
}

// planImplicit computes the launch shape of the implicit solve kernels for
// rank k (1..MaxRank) with blocks of at most maxThreads threads: as
// planSolve, with each staged rating taking one more float (its weight
// c − w₀); the shared kernel still holds up to k = 146.
func planImplicit(k, maxThreads int) solvePlan {
	return planRows(k, maxThreads, true, smemNoOptIn)
}

// planFor is the plan of the row kernels for p on a device whose solve
// kernels may use smem bytes of dynamic shared memory per block (48 KiB
// without the opt-in; up to 227 KiB on sm_90 with it, which keeps the
// Gram of every rank up to als.MaxRank in shared memory) and maxThreads
// threads per block: the implicit kernels for the implicit objective, and
// their conjugate-gradient variants when p.Solver is als.CG (either
// objective, p.Steps() steps).
func planFor(p als.Params, maxThreads, smem int) solvePlan {
	implicit := p.Objective == als.Implicit
	plan := planRows(p.AugmentedRank(), maxThreads, implicit, smem)
	if p.Solver == als.CG {
		return asCG(plan, p.Steps())
	}
	return plan
}

// rowKernels returns the names of the shared-memory and global-Gram row
// kernels that fit p (its objective and solver); planFor's plan names one
// of them, and device.go caps its block size at the smaller of their
// post-JIT thread limits.
func rowKernels(p als.Params) (shared, global string) {
	switch {
	case p.Objective == als.Implicit && p.Solver == als.CG:
		return kernels.ImplicitCGShared, kernels.ImplicitCGGlobal
	case p.Objective == als.Implicit:
		return kernels.ImplicitShared, kernels.ImplicitGlobal
	case p.Solver == als.CG:
		return kernels.CGShared, kernels.CGGlobal
	}
	return kernels.SolveShared, kernels.SolveGlobal
}

// planRows plans the row kernels for augmented rank ka within smem bytes
// of dynamic shared memory per block.
func planRows(ka, maxThreads int, implicit bool, smem int) solvePlan {
	if ka < 1 {
		panic(fmt.Sprintf("gpu: planSolve(%d)", ka))
	}
	maxThreads = min(maxThreads, maxSolveThreads) / 32 * 32
	if maxThreads < 32 {
		panic(fmt.Sprintf("gpu: planSolve: maxThreads %d < 32", maxThreads))
	}
	p := solvePlan{KA: ka, Implicit: implicit, Padded: (ka + tileSide - 1) / tileSide * tileSide, GramFloats: ka * (ka + 1) / 2}
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
	// Shared memory in floats: the staging area (stageFloats), bs kp,
	// dg kp, flag 1, and the Gram for the shared kernel.
	fixed := 2*p.Padded + 1
	shared, global := kernels.SolveShared, kernels.SolveGlobal
	if implicit {
		shared, global = kernels.ImplicitShared, kernels.ImplicitGlobal
	}
	budget := max(smem, smemNoOptIn) / 4
	if c, b := stageChunk(budget-fixed-p.GramFloats, p.Padded, implicit); c >= minSharedChunk {
		p.Kernel = shared
		return p.withChunk(c, b)
	}
	p.Kernel = global
	return p.withChunk(stageChunk(budget-fixed, p.Padded, implicit))
}

// stageFloats is the staging area of the row kernels and als_split_gram*
// in floats (als.cu: stage_floats): buffers×chunk×kp staged factor rows,
// then two chunks each of column indices, ratings, targets and (implicit)
// weights.
func stageFloats(buffers, chunk, kp int, implicit bool) int {
	per := 6
	if implicit {
		per = 8
	}
	return buffers*chunk*kp + per*chunk
}

// stageChunk chooses the chunk and the number of factor-row buffers of a
// staging area of at most room floats for padded rank kp: the largest
// chunk up to maxChunk that one buffer allows, double buffered when two
// buffers hold that chunk, or at least half of maxChunk (then ≥ 16 ratings
// of FMAs, ≈ 800 cycles, cover a chunk's ≈ 550-cycle copy); otherwise one
// buffer and the larger chunk (the 48 KiB plans of ranks ≈ 100–146 beside
// the Gram). The chunk bounds the per-chunk partial sums, so a plan that
// keeps its chunk keeps its results bit for bit whatever the buffers.
func stageChunk(room, kp int, implicit bool) (chunk, buffers int) {
	per := 6
	if implicit {
		per = 8
	}
	one := min(maxChunk, room/(kp+per))
	two := min(maxChunk, room/(2*kp+per))
	if two == one || two >= maxChunk/2 {
		return two, 2
	}
	return one, 1
}

// withChunk returns p staging chunk ratings in buffers buffers, its
// shared memory recomputed (the Gram included for a shared kernel).
func (p solvePlan) withChunk(chunk, buffers int) solvePlan {
	if chunk < 1 || chunk > maxChunk || chunk > p.Threads || buffers < 1 || buffers > 2 {
		panic(fmt.Sprintf("gpu: %v: chunk %d, %d buffers", p, chunk, buffers))
	}
	p.Chunk, p.Buffers = chunk, buffers
	floats := stageFloats(buffers, chunk, p.Padded, p.Implicit) + 2*p.Padded + 1
	if p.sharedKernel() {
		floats += p.GramFloats
	}
	p.SharedBytes = 4 * floats
	return p
}

// sharedKernel reports whether p keeps the Gram in shared memory (one
// block per row) rather than in a global workspace slot per block.
func (p solvePlan) sharedKernel() bool {
	switch p.Kernel {
	case kernels.SolveShared, kernels.ImplicitShared, kernels.CGShared, kernels.ImplicitCGShared:
		return true
	}
	return false
}

// gramPlan is the launch shape of als_gram_partial for rank k.
type gramPlan struct {
	K           int // rank
	Padded      int // k rounded up to a multiple of tileSide
	Tiles       int // register tiles of the lower triangle
	Threads     int // block size, a multiple of 32
	Groups      int // grid y: tile groups of Threads tiles
	Chunk       int // rows staged per step
	SharedBytes int // dynamic shared memory per block
	Len         int // packed Gram: k(k+1)/2 elements (per stripe slot, and of the output)
}

func (p gramPlan) String() string {
	return fmt.Sprintf("%s k=%d threads=%d groups=%d chunk=%d smem=%dB", kernels.GramPartial, p.K, p.Threads, p.Groups, p.Chunk, p.SharedBytes)
}

// planGram computes the launch shape of als_gram_partial for rank k
// (1..MaxRank) with blocks of at most maxThreads threads (at least 32):
// the fewest tile groups (grid y) that give every tile its own thread,
// then the smallest block that holds a group.
func planGram(k, maxThreads int) gramPlan {
	if k < 1 {
		panic(fmt.Sprintf("gpu: planGram(%d)", k))
	}
	maxThreads = min(maxThreads, maxGramThreads) / 32 * 32
	if maxThreads < 32 {
		panic(fmt.Sprintf("gpu: planGram: maxThreads %d < 32", maxThreads))
	}
	p := gramPlan{K: k, Padded: (k + tileSide - 1) / tileSide * tileSide, Len: k * (k + 1) / 2}
	nt := p.Padded / tileSide
	p.Tiles = nt * (nt + 1) / 2
	p.Groups = (p.Tiles + maxThreads - 1) / maxThreads
	p.Threads = ((p.Tiles+p.Groups-1)/p.Groups + 31) / 32 * 32
	p.Chunk = min(maxChunk, smemNoOptIn/4/p.Padded)
	p.SharedBytes = 4 * p.Chunk * p.Padded
	return p
}

// gramStripes splits nrows fixed rows into stripes of per rows each (the
// last may be shorter) for als_gram_partial: at most maxGramStripes stripes
// of at least minGramRows rows. It depends on nothing but nrows, so the
// summation order, and the model, are the same on every device. nrows = 0
// gives no stripes.
func gramStripes(nrows int) (stripes, per int) {
	if nrows <= 0 {
		return 0, minGramRows
	}
	per = max(minGramRows, (nrows+maxGramStripes-1)/maxGramStripes)
	return (nrows + per - 1) / per, per
}

// solveGrid returns the grid for nrows rows: one block per row for the
// shared kernel; for the global one, at most slots blocks (the workspace
// slots), which stride over the rows.
func solveGrid(p solvePlan, nrows, slots int) int {
	g := min(nrows, maxGridX)
	if !p.sharedKernel() {
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

// Heavy rows (als_split_gram*, als_split_solve*; kernels/doc.go). A row
// with more than SplitThreshold ratings is heavy: its assembly is cut into
// slices of at most SplitSlice ratings (more if splitPartBudget says so),
// one block each, and a second launch adds the slices' partial systems in
// slice order and solves the row. The values come from the cost model
// (gpu/costmodel.go; TestCostModelSplit, bench/RESULTS.md): with one block
// per row, a row's critical path is ≈0.14 µs per rating at rank 64, so the
// published ML-25M's most rated movie (81,491 ratings) alone is ≈12 ms,
// twice everything else of the item half with CG. Split at any threshold
// from 1,024 to 4,096 ratings (slices of half that) the estimates of
// every shape and rank agree within 0.2 ms; at 8,192 and above they grow
// (a slice's own path starts to show). 4,096/2,048 is the cheapest of the
// flat range in slices: fewer partial systems to write and read (33 KB
// each at rank 128, ≈3% of the 1 MB a 2,048-rating slice gathers), and
// rows up to 4,096 ratings (≤ 0.6 ms at rank 64) keep today's one-launch
// path. Slices never straddle rows.
const (
	SplitThreshold = 4096 // rows with more ratings are heavy (split)
	SplitSlice     = 2048 // most ratings per slice of a heavy row

	// splitPartBudget bounds the slices' partial systems of one Fit
	// (device memory, written and read once per half): splitSides
	// doubles the slice length until the larger side's slices fit. At
	// Netflix's shape and rank 100 2,048-rating slices would take 0.9 GB
	// (43 thousand slots of 20 KB), at rank 256 5.7 GB.
	splitPartBudget = 512 << 20
)

// splitPlan is the launch shape of the heavy-row kernels for one Fit: the
// assembly (als_split_gram*: Gram's Threads, Passes, Chunk and
// SharedBytes; the Gram is accumulated in registers and written to the
// slice's slot in global memory, so only the staging area and b are in
// shared memory) and the reduce-and-solve (als_split_solve*: the row
// plan's shared-memory layout, chunk and Gram placement, with
// SolveThreads threads).
type splitPlan struct {
	Threshold    int       // rows with more ratings than this are heavy; 0 turns the split off
	Slice        int       // most ratings per slice
	GramKernel   string    // kernels.SplitGram or SplitGramImplicit
	SolveKernel  string    // kernels.SplitSolve or SplitSolveImplicit
	Gram         solvePlan // als_split_gram*'s launch shape (its Kernel is GramKernel)
	SolveThreads int       // als_split_solve*'s block size: a multiple of 32, at most rows.Threads
	SlotFloats   int       // floats per slice in the partial buffer: ka(ka+1)/2 + kp
}

func (p splitPlan) String() string {
	if p.Threshold == 0 {
		return "split off"
	}
	return fmt.Sprintf("split n>%d slice=%d %s threads=%d passes=%d chunk=%d buffers=%d smem=%dB; %s threads=%d", p.Threshold,
		p.Slice, p.GramKernel, p.Gram.Threads, p.Gram.Passes, p.Gram.Chunk, p.Gram.Buffers, p.Gram.SharedBytes, p.SolveKernel, p.SolveThreads)
}

// planSplit plans the heavy-row kernels beside the row plan rows (which
// fixes ka, the objective, and als_split_solve*'s shared memory), with
// blocks of at most gramThreads threads for als_split_gram* and
// solveThreads for als_split_solve* (the post-JIT limits; at least 32),
// splitting rows above threshold ratings into slices of at most slice
// (threshold 0: no split). Every rank fits: the assembly keeps no Gram in
// shared memory.
func planSplit(rows solvePlan, gramThreads, solveThreads, threshold, slice int) splitPlan {
	if threshold < 0 || (threshold > 0 && slice < 1) {
		panic(fmt.Sprintf("gpu: planSplit: threshold %d, slice %d", threshold, slice))
	}
	p := splitPlan{Threshold: threshold, Slice: slice, GramKernel: kernels.SplitGram, SolveKernel: kernels.SplitSolve,
		SlotFloats: rows.GramFloats + rows.Padded}
	if rows.Implicit {
		p.GramKernel, p.SolveKernel = kernels.SplitGramImplicit, kernels.SplitSolveImplicit
	}
	// The tile plan of a global-Gram row kernel: no Gram in shared memory.
	g := planRows(rows.KA, gramThreads, rows.Implicit, smemNoOptIn)
	g.Kernel = p.GramKernel
	g.Chunk, g.Buffers = stageChunk(smemNoOptIn/4-g.Padded, g.Padded, rows.Implicit)
	g.SharedBytes = 4 * (stageFloats(g.Buffers, g.Chunk, g.Padded, rows.Implicit) + g.Padded)
	p.Gram = g
	p.SolveThreads = min(rows.Threads, max(32, solveThreads/32*32))
	return p
}

// splitRows is one side's heavy rows for a splitPlan: the first Heavy rows
// of the side's length-sorted permutation (sortByLength: longest first),
// First[h] … First[h+1]−1 the slices of heavy row h, and Slices three
// int32 per slice (row, first rating, end), offsets within the row.
type splitRows struct {
	Heavy  int
	First  []int32 // Heavy+1 entries
	Slices []int32 // 3 per slice
}

// NumSlices is the number of slices.
func (s splitRows) NumSlices() int { return len(s.Slices) / 3 }

// splitSide cuts the rows of ptr with more than threshold ratings into
// slices of at most slice ratings: a row of n ratings into ⌈n/slice⌉
// slices, slice i being ratings ⌊i·n/m⌋ … ⌊(i+1)·n/m⌋−1 (m slices), so the
// boundaries, and the order in which the solve adds them, depend on
// nothing but n. perm is sortByLength(ptr): the heavy rows are its prefix.
// threshold 0 gives no heavy rows.
func splitSide(ptr []int64, perm []int32, threshold, slice int) splitRows {
	s := splitRows{First: []int32{0}}
	if threshold <= 0 {
		return s
	}
	for _, row := range perm {
		n := ptr[row+1] - ptr[row]
		if n <= int64(threshold) {
			break
		}
		m := (n + int64(slice) - 1) / int64(slice)
		for i := range m {
			s.Slices = append(s.Slices, row, int32(i*n/m), int32((i+1)*n/m))
		}
		s.Heavy++
		s.First = append(s.First, int32(len(s.Slices)/3))
	}
	return s
}

// splitSides splits both sides of a Fit (ptrs[i] with perms[i] =
// sortByLength(ptrs[i])) for sp, doubling sp.Slice until the larger
// side's partial systems (sp.SlotFloats float32 per slice) fit in
// splitPartBudget bytes. It returns the splits and the slice length used.
// The result depends only on the data, the rank and the constants, never
// on the device, so the sums are the same everywhere.
func splitSides(sp splitPlan, ptrs [2][]int64, perms [2][]int32) (rows [2]splitRows, slice int) {
	slice = sp.Slice
	for {
		for i := range rows {
			rows[i] = splitSide(ptrs[i], perms[i], sp.Threshold, slice)
		}
		need := 4 * int64(max(rows[0].NumSlices(), rows[1].NumSlices())) * int64(sp.SlotFloats)
		if need <= splitPartBudget || slice >= 1<<30 {
			return rows, slice
		}
		slice *= 2
	}
}
