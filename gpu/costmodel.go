package gpu

import (
	"fmt"
	"math"
)

// An analytical cost model of one ALS half-iteration on the device, from
// the launch plan (planSolve) and the row lengths of the side being solved.
// It estimates; it measures nothing. Its per-operation instruction counts
// and latencies come from the sm_90 SASS of the kernels and the review in
// ../shared/GPU-REVIEW.md §2 (no GPU was used); expect ±50%. Time per half
// is the largest of three bounds:
//
//   - issue: every warp-instruction of every row, over the SMs' issue rate
//     (4 warp-instructions per cycle per SM);
//   - latency: each row's critical path (dependent gather round trips, the
//     register-tile Gram per staged rating, barriers, the solve), with the
//     resident blocks of an SM overlapping one another but not themselves;
//   - longest row: the critical path of the longest row alone, since one
//     block owns a row.
//
// With the heavy rows split (estimateSplit) a half is three launches in
// stream order, each bounded as above, whose times add: the heavy rows'
// slices (one block per slice), the light rows, the heavy rows' reduction
// and solve.
//
// It is pure Go and safe for concurrent use (no state).

// deviceSpec is what the model needs of a GPU.
type deviceSpec struct {
	Name           string
	SMs            int
	ClockHz        float64
	IssuePerSM     float64 // warp-instructions per cycle per SM
	RegsPerSM      int
	SmemPerSM      int // bytes usable by blocks
	ThreadsPerSM   int
	BlocksPerSM    int
	MemLatency     float64 // cycles of a dependent global load (L2 hit / HBM mix)
	BarrierCycles  float64 // one __syncthreads
	SmemLatency    float64 // cycles of a dependent shared-memory load
	FP32FlopsPerSM float64 // per cycle (FMA = 2)
	HBMBytesPerSec float64
}

// h100 is an H100 SXM5 at its boost clock.
var h100 = deviceSpec{Name: "H100 SXM (model)", SMs: 132, ClockHz: 1.98e9, IssuePerSM: 4, RegsPerSM: 65536,
	SmemPerSM: 228 << 10, ThreadsPerSM: 2048, BlocksPerSM: 32, MemLatency: 550, BarrierCycles: 30,
	SmemLatency: 30, FP32FlopsPerSM: 256, HBMBytesPerSec: 3.35e12}

// Per-operation costs of the kernels (sm_90 SASS, GPU-REVIEW.md §2).
const (
	gatherInstrPerElem = 50.0 / 32 // scalar gather (Buffers 0): warp-instructions per staged float (index load, address, divide by kp, store)
	gramInstrPerRating = 99.0 / 4  // per warp per staged rating: 16 FMA + two float4 loads + loop, 4 ratings per 99
	rhsInstrPerRating  = 4.0       // per warp of the right-hand side per rating
	gramCyclesPerRat   = 2 * gramInstrPerRating
	cholRowInstr       = 17.0  // per trailing row per column of the Cholesky
	cholInnerInstr     = 12.0  // per 32-lane inner iteration
	cholColInstr       = 10.0  // per warp per column: pivot, scaling, barrier
	triStepInstr       = 35.0  // one step of a warp-0 triangular solve
	triStepCycles      = 250.0 // its latency: shuffles, a division, shared memory
	cgMatvecInstr      = 3.0   // per element of A per CG matrix-vector product, /32 per warp
	cgReduceInstr      = 20.0  // per warp per block reduction
	cgIterCycles       = 8.0   // per element of a thread's matrix-vector row (unrolled smem loads + FMA)
	cgReduceCycles     = 150.0 // one block reduction: shuffles, a barrier, a broadcast
)

// Costs of the pipelined staging (als.cu: assemble_pass; plan.Buffers 1
// or 2), from the sm_90 SASS of the PTX since the pipelined gather.
const (
	// gather_rows' loop per copied unit (a float4 with 16-byte copies,
	// else a float): index from shared memory, 64-bit address, the
	// padding branch, LDGSTS, the unit/row step. 37 instructions per
	// thread (36-40 by call site), so per warp-instruction 32 units.
	gatherInstrPerUnit = 37.0
	// Per chunk and warp: gather_chunk's setup (two integer divisions).
	gatherSetupInstr = 40.0
	// Per chunk, by the first warp: the index and rating copies two chunks
	// ahead, the bias load and the target one chunk ahead, commit and wait.
	stageInstrPerChunk = 60.0
	// The register-tile loop of assemble_pass: 89 instructions per 4
	// ratings in the SASS against the scalar-gather kernel's 84 (one more
	// address per chunk buffer), so the model's figure scaled by 89/84.
	gramInstrPipelined  = gramInstrPerRating * 89 / 84
	gramCyclesPipelined = 2 * gramInstrPipelined
)

// halfCost is the estimate of one half-iteration.
type halfCost struct {
	IssueMs, LatencyMs, LongestMs float64
	Blocks                        int // resident blocks per SM
}

// Ms is the estimate: the largest bound.
func (c halfCost) Ms() float64 { return max(c.IssueMs, c.LatencyMs, c.LongestMs) }

// Bound names the largest bound.
func (c halfCost) Bound() string {
	switch c.Ms() {
	case c.LongestMs:
		return "longest row"
	case c.IssueMs:
		return "issue"
	}
	return "latency"
}

func (c halfCost) String() string {
	return fmt.Sprintf("%.1f ms (issue %.1f, latency %.1f, longest row %.1f; %d blocks/SM)",
		c.Ms(), c.IssueMs, c.LatencyMs, c.LongestMs, c.Blocks)
}

// residentBlocks is how many blocks of plan fit on one SM with regs
// registers per thread (allocated per warp in units of 256).
func residentBlocks(dev deviceSpec, plan solvePlan, regs int) int {
	warps := plan.Threads / 32
	regsPerWarp := (regs*32 + 255) / 256 * 256
	b := min(dev.BlocksPerSM, dev.ThreadsPerSM/plan.Threads, dev.RegsPerSM/(regsPerWarp*warps))
	if plan.SharedBytes > 0 {
		b = min(b, dev.SmemPerSM/(plan.SharedBytes+1024))
	}
	return max(b, 1)
}

// solveCost is the per-row cost of the solve after assembly: warp
// instructions issued and critical-path cycles. cgSteps 0 is the
// Cholesky kernel; cgSteps > 0 the conjugate-gradient kernel with that
// many steps (plus the initial residual).
func solveCost(plan solvePlan, cgSteps int) (instr, cycles float64) {
	ka := plan.KA
	nwarps := plan.Threads / 32
	if cgSteps > 0 {
		// Each step: one symmetric matrix-vector product on the packed
		// triangle (thread i forms row i), two dot products, three axpys.
		products := float64(cgSteps + 1)
		rowsPerThread := math.Ceil(float64(ka) / float64(plan.Threads))
		instr = products*(cgMatvecInstr*float64(ka*ka)/32+6*math.Ceil(float64(ka)/32)) +
			float64(2*cgSteps+1)*cgReduceInstr*float64(nwarps)
		cycles = products*(rowsPerThread*float64(ka)*cgIterCycles+3*30) + float64(2*cgSteps+1)*cgReduceCycles
		return instr, cycles
	}
	for j := range ka {
		rows := ka - j - 1
		inner := math.Ceil(float64(ka-j) / 32)
		instr += float64(rows)*(cholRowInstr+cholInnerInstr*inner) + cholColInstr*float64(nwarps)
		cycles += 60 + math.Ceil(float64(rows)/float64(nwarps))*(40+30*inner)
	}
	instr += 2 * float64(ka) * triStepInstr
	cycles += 2 * float64(ka) * triStepCycles
	return instr, cycles
}

// rowCost is one row's assembly cost with n ratings (instructions,
// cycles), without the solve: the pipelined staging of plan.Buffers
// buffers (rowCostPipelined), or with Buffers 0 the scalar gather of the
// kernels before it (rowCostScalar, kept to compare).
func rowCost(dev deviceSpec, plan solvePlan, n int) (instr, cycles float64) {
	if n == 0 {
		return 0, 0
	}
	if plan.Buffers == 0 {
		return rowCostScalar(dev, plan, n)
	}
	return rowCostPipelined(dev, plan, n)
}

// rowCostScalar prices the gather of the kernels before the pipelined
// staging: one scalar __ldg per staged float, each behind its column
// index (⌈cn·kp/T⌉ dependent round trips per chunk and pass), and two
// barriers per chunk around the staging, which never overlaps the FMAs.
func rowCostScalar(dev deviceSpec, plan solvePlan, n int) (instr, cycles float64) {
	warps := float64(plan.Threads / 32)
	kp := float64(plan.Padded)
	chunks := (n + plan.Chunk - 1) / plan.Chunk
	full, last := n/plan.Chunk, n%plan.Chunk
	// Gather per pass: ⌈cn·kp/T⌉ dependent round trips per chunk.
	trips := float64(full) * math.Ceil(float64(plan.Chunk)*kp/float64(plan.Threads))
	if last > 0 {
		trips += math.Ceil(float64(last) * kp / float64(plan.Threads))
	}
	passes := float64(plan.Passes)
	fn := float64(n)
	instr = passes*(gatherInstrPerElem*fn*kp+gramInstrPerRating*fn*warps) + rhsInstrPerRating*fn*math.Ceil(float64(plan.KA)/32)
	cycles = passes*(trips*dev.MemLatency+fn*gramCyclesPerRat+float64(chunks)*2*dev.BarrierCycles) + fn*rhsInstrPerRating*2
	return instr, cycles
}

// rowCostPipelined prices assemble_pass: per pass, a barrier and chunk 0's
// copies behind its indices (one round trip, the pass's only exposed one
// with two buffers); then per chunk a barrier, the issue of the next
// chunk's copies (16-byte units when the rank is a multiple of 4: the
// model takes ka ≡ 0 or 1 mod 4, with or without the bias column, as such)
// and, with two buffers, the larger of the chunk's FMAs and the copies'
// latency (they overlap); with one buffer a second barrier, the FMAs and
// the latency one after another.
func rowCostPipelined(dev deviceSpec, plan solvePlan, n int) (instr, cycles float64) {
	warps := float64(plan.Threads / 32)
	T := float64(plan.Threads)
	upr := float64(plan.Padded)
	if plan.KA%4 <= 1 {
		upr /= 4
	}
	fn := float64(n)
	chunks := (n + plan.Chunk - 1) / plan.Chunk
	passes := float64(plan.Passes)
	perPass := gatherInstrPerUnit*fn*upr/32 + float64(chunks)*(stageInstrPerChunk+gatherSetupInstr*warps) +
		gramInstrPipelined*fn*warps
	instr = passes*perPass + rhsInstrPerRating*fn*math.Ceil(float64(plan.KA)/32)

	issue := func(cn int) float64 { // one thread's issue of a chunk's copies, on its path
		return 2 * gatherInstrPerUnit * math.Ceil(float64(cn)*upr/T)
	}
	var pass float64
	pass += dev.BarrierCycles + issue(min(plan.Chunk, n)) + dev.MemLatency // prologue; chunk 0 waited below
	for c0 := 0; c0 < n; c0 += plan.Chunk {
		cn := min(plan.Chunk, n-c0)
		compute := float64(cn) * gramCyclesPipelined
		next := n - c0 - cn // ratings after this chunk
		switch {
		case next == 0:
			pass += dev.BarrierCycles + compute
		case plan.Buffers == 2:
			pass += dev.BarrierCycles + issue(min(plan.Chunk, next)) + max(compute, dev.MemLatency)
		default:
			pass += 2*dev.BarrierCycles + compute + issue(min(plan.Chunk, next)) + dev.MemLatency
		}
	}
	cycles = passes*pass + fn*rhsInstrPerRating*2
	return instr, cycles
}

// estimateHalf estimates the half-iteration that solves rows of the given
// lengths with plan (regs registers per thread, cgSteps as in solveCost),
// one block per row (no split).
func estimateHalf(dev deviceSpec, plan solvePlan, regs int, lengths []int32, cgSteps int) halfCost {
	sInstr, sCycles := solveCost(plan, cgSteps)
	return estimateLaunch(dev, plan, regs, lengths, sInstr, sCycles)
}

// estimateLaunch is one launch of a row kernel (or of als_split_gram*)
// with plan over rows (or slices) of the given lengths, each costing its
// assembly (rowCost) plus sInstr instructions and sCycles cycles.
func estimateLaunch(dev deviceSpec, plan solvePlan, regs int, lengths []int32, sInstr, sCycles float64) halfCost {
	c := halfCost{Blocks: residentBlocks(dev, plan, regs)}
	var instr, cycles, longest float64
	for _, n := range lengths {
		if n == 0 {
			continue
		}
		i, cy := rowCost(dev, plan, int(n))
		instr += i + sInstr
		cycles += cy + sCycles
		longest = max(longest, cy+sCycles)
	}
	return c.finish(dev, instr, cycles, longest)
}

// finish turns a launch's totals (warp-instructions, the sum and the
// largest of the blocks' critical paths in cycles) into the three bounds.
func (c halfCost) finish(dev deviceSpec, instr, cycles, longest float64) halfCost {
	hz := dev.ClockHz
	c.IssueMs = 1e3 * instr / (float64(dev.SMs) * dev.IssuePerSM * hz)
	c.LatencyMs = 1e3 * cycles / (float64(dev.SMs*c.Blocks) * hz)
	c.LongestMs = 1e3 * longest / hz
	return c
}

// Costs of the heavy-row split (als_split_gram*, als_split_solve*).
const (
	slotStoreInstr   = 2.0  // per warp per 32 floats of a slice's slot written (address, store)
	reduceInstrPerEl = 4.0  // per warp per 32 elements per slice of the solve's reduction (load, convert, add, loop)
	reduceCyclesPer  = 10.0 // per element per slice on a thread's path: a float64 add chain fed by pipelined L2 loads
)

// splitCost is the estimate of one half with the heavy rows split: three
// launches in stream order, so their times add.
type splitCost struct {
	Gram, Light, Solve halfCost
	Heavy, Slices      int
}

// Ms is the estimate: the three launches' estimates added.
func (c splitCost) Ms() float64 { return c.Gram.Ms() + c.Light.Ms() + c.Solve.Ms() }

func (c splitCost) String() string {
	return fmt.Sprintf("%.1f ms = slices %.1f + light rows %.1f (%s) + heavy solve %.1f; %d heavy rows in %d slices",
		c.Ms(), c.Gram.Ms(), c.Light.Ms(), c.Light.Bound(), c.Solve.Ms(), c.Heavy, c.Slices)
}

// Bound names what bounds the light rows' launch, the largest part.
func (c splitCost) Bound() string { return c.Light.Bound() }

// estimateSplit estimates the half that solves rows of the given lengths
// as device.go launches them with sp: the slices of the rows above
// sp.Threshold (als_split_gram*, gramRegs registers), the other rows with
// plan (regs), the heavy rows' reduction and solve (als_split_solve*,
// solveRegs). With sp.Threshold 0 it is estimateHalf.
func estimateSplit(dev deviceSpec, plan solvePlan, sp splitPlan, regs, gramRegs, solveRegs int, lengths []int32, cgSteps int) splitCost {
	var light, slices, perHeavy []int32
	for _, n := range lengths {
		if sp.Threshold == 0 || int(n) <= sp.Threshold {
			light = append(light, n)
			continue
		}
		m := (int64(n) + int64(sp.Slice) - 1) / int64(sp.Slice)
		for i := range m {
			slices = append(slices, int32((i+1)*int64(n)/m-i*int64(n)/m))
		}
		perHeavy = append(perHeavy, int32(m))
	}
	c := splitCost{Light: estimateHalf(dev, plan, regs, light, cgSteps), Heavy: len(perHeavy), Slices: len(slices)}
	if len(perHeavy) == 0 {
		return c
	}
	slot := float64(sp.SlotFloats)
	c.Gram = estimateLaunch(dev, sp.Gram, gramRegs, slices, slotStoreInstr*math.Ceil(slot/32), 0)

	sp2 := plan
	sp2.Threads = sp.SolveThreads
	sInstr, sCycles := solveCost(sp2, cgSteps)
	tri := float64(plan.GramFloats)
	c.Solve = halfCost{Blocks: residentBlocks(dev, sp2, solveRegs)}
	var instr, cycles, longest float64
	for _, m := range perHeavy {
		s := float64(m)
		i := sInstr + reduceInstrPerEl*s*math.Ceil(slot/32)
		cy := sCycles + math.Ceil(tri/float64(sp2.Threads))*(dev.MemLatency+reduceCyclesPer*s)
		instr += i
		cycles += cy
		longest = max(longest, cy)
	}
	c.Solve = c.Solve.finish(dev, instr, cycles, longest)
	return c
}

// floorMs is the lower bound of one iteration (both halves) on dev: the
// larger of the useful FP32 work (als.FlopsPerIteration's count) at peak
// and the factor rows gathered (ka floats per rating per half) from HBM.
func floorMs(dev deviceSpec, perUser, perItem []int32, ka int) float64 {
	var nnz, rows float64
	for _, n := range perUser {
		nnz += float64(n)
		if n > 0 {
			rows++
		}
	}
	for _, n := range perItem {
		if n > 0 {
			rows++
		}
	}
	k := float64(ka)
	flops := 2*nnz*k*(k+1) + 4*nnz*k + rows*(k*k*k/3+2*k*k)
	compute := flops / (float64(dev.SMs) * dev.FP32FlopsPerSM * dev.ClockHz)
	memory := 2 * nnz * 4 * k / dev.HBMBytesPerSec
	return 1e3 * max(compute, memory)
}
