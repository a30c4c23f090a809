// Package cpu implements als.Solver on the host CPU with gonum.
//
// Each half-iteration solves one k'×k' system per row (user or item), where
// k' is Params.AugmentedRank. A worker gathers the row's fixed-side factor
// vectors (with the constant 1 coordinate when biases are learned), each
// followed by its target r, as float64 rows of a row-major block, and
// forms the lower triangle of the Gram matrix of those augmented vectors
// with a register-tiled SYRK kernel (gramLower): its first k' rows are
// A = Σ y yᵀ and row k' is b = Σ r y. It then adds the ALS-WR ridge λ·n to
// the diagonal and solves by a blocked Crout Cholesky of the augmented
// matrix (choleskyAug), whose last row is the forward solve, then the back
// substitution. Very short rows and small ranks use plain-Go rank-1
// updates and a plain-Go Cholesky, which beat the call overheads there.
// Normal equations and Cholesky are float64; factors are stored float32.
//
// On amd64 the gather, the SYRK kernel and the Cholesky's dot-product
// kernels are AVX2 and FMA assembly (gram_amd64.s, chol_amd64.s), chosen
// once at start-up from the CPU's feature bits; on other CPUs, other
// architectures or with the purego build tag they are plain Go (gram.go,
// chol.go). The two agree to rounding (the gather bitwise); on a given
// machine and build the choice never changes, so results are
// reproducible run to run. Where the CPU also has AVX-512, the float32
// SYRK kernel (gramLower32) runs on 512-bit registers from width 96
// (gram32_avx512_amd64.s), bit for bit its AVX2 results.
//
// The implicit objective (als.Implicit) solves each row against the fixed
// side's shared Gram matrix plus the row's weighted corrections, on the
// same gather, SYRK and Cholesky kernels (implicit.go). A half whose
// short rows gain from it runs in the eigenbasis of that Gram matrix,
// where w₀G + reg·I is diagonal and rows with fewer ratings than k/2 are
// solved exactly by the Woodbury identity; Fit rotates the model back.
//
// With als.CG (Params.Solver) each row instead takes a few
// conjugate-gradient steps from its previous factors, without forming the
// k×k system (cg.go): each product with the system matrix is two float32
// passes over the row's factor rows, the dot-product and weighted-sum
// kernels of internal/f32 (AVX2/FMA assembly, plain Go elsewhere). For
// the implicit objective the shared term w₀G is a k×k float32 product,
// taken for three rows at once (their CG steps in lockstep), or a
// diagonal in a rotated half, whose short rows Woodbury still solves
// exactly.
//
// Rows are shared among worker goroutines in chunks taken from an atomic
// counter. Each row's solve depends only on the row and the fixed side, so
// the trained model is bit-for-bit the same for any number of workers.
// The workers are started once per Fit (team.go); Options let a server
// train beside its requests with fewer workers than cores, at a lowered
// OS thread priority (Linux) and yielding between chunks, none of which
// changes the model either.
package cpu
