package gpu

import (
	"fmt"
	"strings"
	"testing"

	"movierec/dataset"
)

// Registers per thread of the solve kernels (ptxas sm_90, kernels/README.md):
// als_solve_*, als_cg_*, als_implicit_* and als_implicit_cg_* (the larger
// of shared and global).
const (
	solveRegs      = 64
	cgRegs         = 64
	implicitRegs   = 72
	implicitCGRegs = 64
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
	fmt.Fprintf(&b, "\n| shape | rank | solver | items half | users half | est. ms/iter | floor ms | × floor |\n")
	fmt.Fprintf(&b, "| --- | ---: | --- | --- | --- | ---: | ---: | ---: |\n")
	for _, s := range costShapes {
		perUser, perMovie, err := dataset.GenRowLengths(t.Context(), dataset.Presets()[s.preset])
		if err != nil {
			t.Fatalf("GenRowLengths(%s) = %v", s.preset, err)
		}
		for _, k := range s.ranks {
			plan := planSolve(k, maxSolveThreads)
			floor := floorMs(h100, perUser, perMovie, k)
			for _, sv := range []struct {
				name        string
				steps, regs int
			}{{"cholesky", 0, solveRegs}, {fmt.Sprintf("cg (%d steps)", CGSteps), CGSteps, cgRegs}} {
				items := estimateHalf(h100, plan, sv.regs, perMovie, sv.steps)
				users := estimateHalf(h100, plan, sv.regs, perUser, sv.steps)
				total := items.Ms() + users.Ms()
				fmt.Fprintf(&b, "| %s | %d | %s | %.1f (%s) | %.1f (%s) | %.1f | %.1f | %.1f× |\n", s.preset, k, sv.name,
					items.Ms(), items.Bound(), users.Ms(), users.Bound(), total, floor, total/floor)
				t.Logf("%s rank %d %s: items %v; users %v", s.preset, k, sv.name, items, users)
			}
		}
		for _, k := range s.implicitRanks {
			plan := planImplicit(k, maxSolveThreads)
			floor := floorMs(h100, perUser, perMovie, k)
			for _, sv := range []struct {
				name        string
				steps, regs int
			}{{"implicit cholesky", 0, implicitRegs}, {fmt.Sprintf("implicit cg (%d steps)", CGSteps), CGSteps, implicitCGRegs}} {
				items := estimateHalf(h100, plan, sv.regs, perMovie, sv.steps)
				users := estimateHalf(h100, plan, sv.regs, perUser, sv.steps)
				total := items.Ms() + users.Ms()
				fmt.Fprintf(&b, "| %s | %d | %s | %.1f (%s) | %.1f (%s) | %.1f | %.1f | %.1f× |\n", s.preset, k, sv.name,
					items.Ms(), items.Bound(), users.Ms(), users.Bound(), total, floor, total/floor)
				t.Logf("%s rank %d %s: items %v; users %v", s.preset, k, sv.name, items, users)
			}
		}
	}
	t.Log(b.String())
}

// TestCostModelSanity checks the model's direction on small inputs: more
// ratings cost more, a CG solve of a few steps costs less than a Cholesky
// at rank 64, and the longest row bounds a half with one huge row.
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
	if got := residentBlocks(h100, plan, 64); got < 1 || got > h100.BlocksPerSM {
		t.Errorf("residentBlocks(%v) = %d", plan, got)
	}
}
