package als

import "fmt"

// SolverKind selects how a backend solves each row's k×k normal equations
// (Params.Solver). The zero value is SolverCholesky.
type SolverKind string

const (
	// SolverCholesky solves each row exactly by Cholesky factorisation (in
	// float64 on the CPU, float32 on the GPU). It is the default.
	SolverCholesky SolverKind = "cholesky"
	// SolverCG takes a few conjugate-gradient steps on each row's normal
	// equations, starting from the row's current factors (the previous
	// iteration's solution), as cuMF and implicit's GPU ALS do: inexact per
	// half, converging across iterations, and much cheaper at large ranks.
	// The GPU backend implements it for the explicit objective (the
	// implicit objective solves by Cholesky); a backend without it solves
	// by Cholesky.
	SolverCG SolverKind = "cg"
)

// ParseSolverKind parses "cholesky" or "cg".
func ParseSolverKind(s string) (SolverKind, error) {
	switch SolverKind(s) {
	case SolverCholesky, SolverCG:
		return SolverKind(s), nil
	}
	return "", fmt.Errorf("%w: solver %q: want cholesky or cg", ErrInvalidParams, s)
}

// validSolver reports whether s is a known kind or empty (Cholesky).
func validSolver(s SolverKind) bool { return s == "" || s == SolverCholesky || s == SolverCG }
