package gpu

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"movierec/als"
	"movierec/dataset"
)

// Registers per thread of the solve kernels (ptxas sm_90, kernels/README.md):
// als_solve_*, als_cg_*, als_implicit_* and als_implicit_cg_* (the larger
// of shared and global).
const (
	solveRegs      = 64
	cgRegs         = 64
	implicitRegs   = 64
	implicitCGRegs = 64

	splitGramRegs      = 64 // als_split_gram, als_split_gram_implicit
	splitSolveRegs     = 56 // als_split_solve
	splitSolveImplRegs = 64 // als_split_solve_implicit

	// The kernels before the pipelined staging (scalar gather), for
	// TestCostModelGather's "before": the same, except als_implicit_*.
	scalarImplicitRegs = 72
)

// costShapes are the data shapes of the estimates in bench/RESULTS.md
// ("GPU trainer (issue 13): cost-model estimates").
var costShapes = []struct {
	preset        string
	ranks         []int
	implicitRanks []int // the ranking model (its default rank is 128)
}{
	{"ml-25m", []int{64, 128}, []int{128}},
	{"netflix", []int{100}, nil},
}

// TestCostModel prints the cost model's estimates (ms per iteration on an
// H100, both halves) for the ml-25m and netflix shapes, with each solver,
// beside the floor; and for the implicit objective's row kernels at the
// ranking model's rank (the model does not know their few extra
// instructions per staged rating, its weight, nor the Gram launches,
// k(k+1)/2 float64 FMAs per fixed row: about 0.04 ms per half at ml-25m
// rank 128 at the H100's FP64 peak). Run it with -v; -short skips it (it
// draws the shapes' row lengths, a few seconds).
func TestCostModel(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("draws the ml-25m and netflix row lengths: skipped with -short and -race")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n| shape | rank | solver | items half, split | users half, split | est. ms/iter, one block per row | est. ms/iter, heavy rows split | floor ms | × floor (split) |\n")
	fmt.Fprintf(&b, "| --- | ---: | --- | --- | --- | ---: | ---: | ---: | ---: |\n")
	for _, s := range costShapes {
		perUser, perMovie, err := dataset.GenRowLengths(t.Context(), dataset.Presets()[s.preset])
		if err != nil {
			t.Fatalf("GenRowLengths(%s) = %v", s.preset, err)
		}
		type solver struct {
			name                 string
			steps, regs, sviRegs int
		}
		ptrs := [2][]int64{ptrOf(perUser), ptrOf(perMovie)}
		perms := [2][]int32{sortByLength(ptrs[0]), sortByLength(ptrs[1])}
		row := func(k int, plan solvePlan, sv solver) {
			sp := planSplit(plan, maxSolveThreads, maxSolveThreads, SplitThreshold, SplitSlice)
			_, sp.Slice = splitSides(sp, ptrs, perms) // as device.go: within splitPartBudget
			floor := floorMs(h100, perUser, perMovie, k)
			before := estimateHalf(h100, plan, sv.regs, perMovie, sv.steps).Ms() + estimateHalf(h100, plan, sv.regs, perUser, sv.steps).Ms()
			items := estimateSplit(h100, plan, sp, sv.regs, splitGramRegs, sv.sviRegs, perMovie, sv.steps)
			users := estimateSplit(h100, plan, sp, sv.regs, splitGramRegs, sv.sviRegs, perUser, sv.steps)
			total := items.Ms() + users.Ms()
			fmt.Fprintf(&b, "| %s | %d | %s | %.1f (%d heavy, slices of ≤ %d) | %.1f (%d heavy) | %.1f | %.1f | %.1f | %.1f× |\n", s.preset, k, sv.name,
				items.Ms(), items.Heavy, sp.Slice, users.Ms(), users.Heavy, before, total, floor, total/floor)
			t.Logf("%s rank %d %s: before %.1f ms; items %v; users %v", s.preset, k, sv.name, before, items, users)
		}
		for _, k := range s.ranks {
			plan := planSolve(k, maxSolveThreads)
			row(k, plan, solver{"cholesky", 0, solveRegs, splitSolveRegs})
			row(k, plan, solver{fmt.Sprintf("cg (%d steps)", CGSteps), CGSteps, cgRegs, splitSolveRegs})
		}
		for _, k := range s.implicitRanks {
			plan := planImplicit(k, maxSolveThreads)
			row(k, plan, solver{"implicit cholesky", 0, implicitRegs, splitSolveImplRegs})
			row(k, plan, solver{fmt.Sprintf("implicit cg (%d steps)", CGSteps), CGSteps, implicitCGRegs, splitSolveImplRegs})
		}
	}
	t.Log(b.String())
}

// TestCostModelSplit prints the estimates (ms per iteration, both halves)
// for thresholds around SplitThreshold, each with slices of half the
// threshold, as SplitSlice is of SplitThreshold: the figures behind the
// choice of the constants (plan.go). -short and -race skip it.
func TestCostModelSplit(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("draws the ml-25m and netflix row lengths: skipped with -short and -race")
	}
	thresholds := []int{0, 1024, 2048, 4096, 8192, 16384}
	var b strings.Builder
	fmt.Fprintf(&b, "\n| shape | rank | solver |")
	for _, th := range thresholds {
		if th == 0 {
			fmt.Fprintf(&b, " no split |")
		} else {
			fmt.Fprintf(&b, " n > %d |", th)
		}
	}
	fmt.Fprintf(&b, "\n|---|---:|---|%s\n", strings.Repeat("---:|", len(thresholds)))
	// The generated ML-25M shape's most rated movie has 41,558 ratings;
	// the published data set's (Forrest Gump) 81,491. The second ml-25m
	// shape puts that head back: the longest-row bound the split removes.
	type shape struct {
		name           string
		ranks          []int
		perUser, items []int32
	}
	var shapes []shape
	for _, s := range costShapes {
		perUser, perMovie, err := dataset.GenRowLengths(t.Context(), dataset.Presets()[s.preset])
		if err != nil {
			t.Fatalf("GenRowLengths(%s) = %v", s.preset, err)
		}
		shapes = append(shapes, shape{s.preset, s.ranks, perUser, perMovie})
		if s.preset == "ml-25m" {
			head := slices.Clone(perMovie)
			head[slices.Index(head, slices.Max(head))] = 81_491
			shapes = append(shapes, shape{"ml-25m, longest item 81,491", s.ranks, perUser, head})
		}
	}
	for _, s := range shapes {
		perUser, perMovie := s.perUser, s.items
		for _, k := range s.ranks {
			plan := planSolve(k, maxSolveThreads)
			for _, steps := range []int{0, CGSteps} {
				name := "cholesky"
				if steps > 0 {
					name = fmt.Sprintf("cg (%d steps)", steps)
				}
				fmt.Fprintf(&b, "| %s | %d | %s |", s.name, k, name)
				for _, th := range thresholds {
					sp := planSplit(plan, maxSolveThreads, maxSolveThreads, th, max(1, th/2))
					ms := estimateSplit(h100, plan, sp, solveRegs, splitGramRegs, splitSolveRegs, perMovie, steps).Ms() +
						estimateSplit(h100, plan, sp, solveRegs, splitGramRegs, splitSolveRegs, perUser, steps).Ms()
					fmt.Fprintf(&b, " %.1f |", ms)
				}
				fmt.Fprintf(&b, "\n")
			}
		}
	}
	t.Log(b.String())
}

// TestCostModelSanity checks the model's direction on small inputs: more
// ratings cost more, a CG solve of a few steps costs less than a Cholesky
// at rank 64, and the longest row bounds a half with one huge row unless
// the row is split.
func TestCostModelSanity(t *testing.T) {
	plan := planSolve(64, maxSolveThreads)
	short := make([]int32, 10000)
	long := make([]int32, 10000)
	for i := range short {
		short[i], long[i] = 20, 200
	}
	a := estimateHalf(h100, plan, solveRegs, short, 0)
	b := estimateHalf(h100, plan, solveRegs, long, 0)
	if !(b.Ms() > a.Ms()) {
		t.Errorf("10k rows of 200 ratings: %v, of 20: %v; want more", b, a)
	}
	if cg := estimateHalf(h100, plan, solveRegs, short, 3); !(cg.Ms() < a.Ms()) {
		t.Errorf("CG (3 steps) %v, Cholesky %v at rank 64: want CG cheaper", cg, a)
	}
	// The implicit kernels at the ranking model's rank: CG cheaper.
	imp := planImplicit(128, maxSolveThreads)
	ic, icg := estimateHalf(h100, imp, implicitRegs, short, 0), estimateHalf(h100, imp, implicitCGRegs, short, 3)
	if !(icg.Ms() < ic.Ms()) {
		t.Errorf("implicit CG (3 steps) %v, implicit Cholesky %v at rank 128: want CG cheaper", icg, ic)
	}
	one := append([]int32{1_000_000}, short...)
	if c := estimateHalf(h100, plan, solveRegs, one, 0); c.Bound() != "longest row" {
		t.Errorf("one row of 1M ratings: %v, want it bound by the longest row", c)
	}
	// Split, the huge row no longer bounds the half: its 489 slices run
	// side by side (each 2,048 ratings long).
	sp := planSplit(plan, maxSolveThreads, maxSolveThreads, SplitThreshold, SplitSlice)
	whole, split := estimateHalf(h100, plan, solveRegs, one, 0), estimateSplit(h100, plan, sp, solveRegs, splitGramRegs, splitSolveRegs, one, 0)
	if split.Heavy != 1 || split.Slices != (1_000_000+SplitSlice-1)/SplitSlice {
		t.Errorf("split of one 1M-rating row: %v", split)
	}
	if !(split.Ms() < whole.Ms()/10) {
		t.Errorf("one row of 1M ratings split: %v, whole: %v; want under a tenth", split, whole)
	}
	if off := planSplit(plan, maxSolveThreads, maxSolveThreads, 0, 0); estimateSplit(h100, plan, off, solveRegs, splitGramRegs, splitSolveRegs, one, 0).Ms() != whole.Ms() {
		t.Errorf("estimateSplit with the split off differs from estimateHalf")
	}
	if got := residentBlocks(h100, plan, 64); got < 1 || got > h100.BlocksPerSM {
		t.Errorf("residentBlocks(%v) = %d", plan, got)
	}
}

// ptrOf returns CSR row pointers for rows of the given lengths.
func ptrOf(lengths []int32) []int64 {
	ptr := make([]int64, len(lengths)+1)
	for i, n := range lengths {
		ptr[i+1] = ptr[i] + int64(n)
	}
	return ptr
}

// scalarGatherPlan is p (a row kernel's plan within smem bytes) as the
// kernels before the pipelined staging had it: one staging buffer of chunk
// rows with its targets (and weights), the chunk the largest up to
// maxChunk that fits, and Buffers 0, which rowCost prices as the scalar
// gather. The kernel (shared or global Gram) is p's.
func scalarGatherPlan(p solvePlan, smem int) solvePlan {
	per := p.Padded + 1
	if p.Implicit {
		per++
	}
	fixed := 2*p.Padded + 1
	if p.sharedKernel() {
		fixed += p.GramFloats
	}
	p.Chunk = min(maxChunk, (max(smem, smemNoOptIn)/4-fixed)/per)
	p.Buffers = 0
	p.SharedBytes = 4 * (p.Chunk*per + fixed)
	return p
}

// TestCostModelGather prints the estimates (ms per iteration on an H100,
// both halves, heavy rows split as device.go launches them) of the
// kernels before the pipelined staging (scalar gather: one dependent
// index → factor load per staged float, two barriers per chunk) and after
// it (staged indices, 16-byte cp.async copies, double buffering where the
// plan has two buffers), with the 48 KiB plans and with the opt-in plans
// device.go uses on an H100 (227 KiB). bench/RESULTS.md ("pipelined
// gather") quotes it. -short and -race skip it.
func TestCostModelGather(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("draws the ml-25m and netflix row lengths: skipped with -short and -race")
	}
	const optIn = 227 << 10
	var b strings.Builder
	fmt.Fprintf(&b, "\n| shape | rank | solver | 48 KiB: before | 48 KiB: after (chunk×buffers) | opt-in: before | opt-in: after (chunk×buffers) | opt-in light rows' latency bound, before → after | floor ms |\n")
	fmt.Fprintf(&b, "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, s := range costShapes {
		perUser, perMovie, err := dataset.GenRowLengths(t.Context(), dataset.Presets()[s.preset])
		if err != nil {
			t.Fatalf("GenRowLengths(%s) = %v", s.preset, err)
		}
		ptrs := [2][]int64{ptrOf(perUser), ptrOf(perMovie)}
		perms := [2][]int32{sortByLength(ptrs[0]), sortByLength(ptrs[1])}
		// est returns the estimate and the light rows' latency bound (both
		// halves), the term the pipelining shortens.
		est := func(plan solvePlan, regs, sviRegs, steps int) (ms, latency float64) {
			sp := planSplit(plan, maxSolveThreads, maxSolveThreads, SplitThreshold, SplitSlice)
			_, sp.Slice = splitSides(sp, ptrs, perms)
			if plan.Buffers == 0 {
				sp.Gram.Chunk = min(maxChunk, (smemNoOptIn/4-sp.Gram.Padded)/(sp.Gram.Padded+1))
				sp.Gram.Buffers = 0
			}
			items := estimateSplit(h100, plan, sp, regs, splitGramRegs, sviRegs, perMovie, steps)
			users := estimateSplit(h100, plan, sp, regs, splitGramRegs, sviRegs, perUser, steps)
			return items.Ms() + users.Ms(), items.Light.LatencyMs + users.Light.LatencyMs
		}
		type solver struct {
			name                 string
			p                    als.Params
			regs, oldRegs, sRegs int
		}
		var solvers []solver
		for _, k := range s.ranks {
			p := als.Params{Rank: k, Lambda: 0.1}
			solvers = append(solvers, solver{"cholesky", p, solveRegs, solveRegs, splitSolveRegs})
			p.Solver = als.CG
			solvers = append(solvers, solver{fmt.Sprintf("cg (%d steps)", p.Steps()), p, cgRegs, cgRegs, splitSolveRegs})
		}
		for _, k := range s.implicitRanks {
			p := als.Params{Rank: k, Lambda: 0.1, Objective: als.Implicit, Unobserved: 1}
			solvers = append(solvers, solver{"implicit cholesky", p, implicitRegs, scalarImplicitRegs, splitSolveImplRegs})
			p.Solver = als.CG
			solvers = append(solvers, solver{fmt.Sprintf("implicit cg (%d steps)", p.Steps()), p, implicitCGRegs, implicitCGRegs, splitSolveImplRegs})
		}
		for _, sv := range solvers {
			steps := 0
			if sv.p.Solver == als.CG {
				steps = sv.p.Steps()
			}
			fmt.Fprintf(&b, "| %s | %d | %s |", s.preset, sv.p.Rank, sv.name)
			var latBefore, latAfter float64
			for _, smem := range []int{smemNoOptIn, optIn} {
				plan := planFor(sv.p, maxSolveThreads, smem)
				before, lb := est(scalarGatherPlan(plan, smem), sv.oldRegs, sv.sRegs, steps)
				after, la := est(plan, sv.regs, sv.sRegs, steps)
				if !(after < before) || !(la < lb) {
					t.Errorf("%s rank %d %s, %v: after %.1f ms (latency %.1f), before %.1f ms (%.1f); want less", s.preset, sv.p.Rank,
						sv.name, plan, after, la, before, lb)
				}
				fmt.Fprintf(&b, " %.1f | **%.1f** (%d×%d) |", before, after, plan.Chunk, plan.Buffers)
				latBefore, latAfter = lb, la
			}
			fmt.Fprintf(&b, " %.1f → %.1f | %.1f |\n", latBefore, latAfter, floorMs(h100, perUser, perMovie, sv.p.AugmentedRank()))
		}
	}
	t.Log(b.String())
}
