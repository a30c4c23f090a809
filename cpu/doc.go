// Package cpu implements als.Solver on the host CPU with gonum.
//
// Each half-iteration solves one k'×k' system per row (user or item), where
// k' is Params.AugmentedRank. A worker gathers the row's fixed-side factor
// vectors (with the constant 1 coordinate when biases are learned) into a
// transposed, contiguous float64 block, forms the lower triangle of
// A = Σ y yᵀ row by row with gonum's assembly-backed Dgemv (a SYRK built
// from GEMV, which measured 1.5–3× faster than gonum's Dsyrk in either
// layout), forms b = Σ r y with one more Dgemv, adds the ALS-WR ridge λ·n
// to the diagonal and solves by Cholesky (lapack Dpotf2, then triangular
// solves on Daxpy and Ddot). Very short rows and small ranks use plain-Go
// rank-1 updates and a plain-Go Cholesky, which beat the call overhead of
// the BLAS routines there. Normal equations and Cholesky are float64;
// factors are stored float32.
//
// Rows are shared among worker goroutines in chunks taken from an atomic
// counter. Each row's solve depends only on the row and the fixed side, so
// the trained model is bit-for-bit the same for any number of workers.
package cpu
