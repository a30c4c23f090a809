package kernels

import _ "embed" // for the PTX

//go:generate ../scripts/cuda/gen-ptx.sh

//go:embed als.ptx
var alsPTX string

// PTX returns the PTX of als.cu (compute_80, PTX ISA 7.8), for
// cu.LoadData. The driver JIT-compiles it for the device it runs on, so any
// GPU of compute capability 8.0 or newer (A100, H100, …) with a driver of
// R520 or newer can load it.
func PTX() string { return alsPTX }

// Kernel names, as declared extern "C" in als.cu.
const (
	SolveShared      = "als_solve_shared"
	SolveGlobal      = "als_solve_global"
	CGShared         = "als_cg_shared"
	CGGlobal         = "als_cg_global"
	SSE              = "als_sse"
	ImplicitShared   = "als_implicit_shared"
	ImplicitGlobal   = "als_implicit_global"
	ImplicitCGShared = "als_implicit_cg_shared"
	ImplicitCGGlobal = "als_implicit_cg_global"
	GramPartial      = "als_gram_partial"
	GramReduce       = "als_gram_reduce"
	PreferenceSSE    = "als_preference_sse"

	// Heavy rows split across blocks (gpu/plan.go: planSplit).
	SplitGram          = "als_split_gram"
	SplitGramImplicit  = "als_split_gram_implicit"
	SplitSolve         = "als_split_solve"
	SplitSolveImplicit = "als_split_solve_implicit"

	// Resident ratings: a held version patched into the next (gpu/patch.go).
	CopyRuns = "als_copy_runs"
)
