package als

import (
	"errors"
	"fmt"
	"math"
)

// MaxRank is the largest factor rank any backend accepts.
const MaxRank = 256

// Params are the training parameters. The zero value is not valid; start
// from DefaultParams.
type Params struct {
	Rank       int     // factor dimension k, 1..MaxRank
	Iterations int     // full iterations (item half then user half), ≥ 0
	Lambda     float64 // ridge weight; each row's diagonal gets Lambda·n (ALS-WR)
	Seed       int64   // seed of the unit-vector random initialisation
	Bias       bool    // learn user and item biases beside the factors
}

// DefaultParams returns the tutorial's parameters: rank 8, 10 iterations,
// λ 0.1, seed 5, no biases.
func DefaultParams() Params {
	return Params{Rank: 8, Iterations: 10, Lambda: 0.1, Seed: 5}
}

// ErrInvalidParams is wrapped by Params.Validate.
var ErrInvalidParams = errors.New("invalid training parameters")

// Validate reports whether p can be trained. The error wraps ErrInvalidParams.
func (p Params) Validate() error {
	switch {
	case p.Rank < 1 || p.Rank > MaxRank:
		return fmt.Errorf("%w: rank %d not in 1..%d", ErrInvalidParams, p.Rank, MaxRank)
	case p.Iterations < 0:
		return fmt.Errorf("%w: iterations %d < 0", ErrInvalidParams, p.Iterations)
	case !(p.Lambda > 0) || math.IsInf(p.Lambda, 0):
		return fmt.Errorf("%w: lambda %v must be positive and finite", ErrInvalidParams, p.Lambda)
	}
	return nil
}

// AugmentedRank is the size of each row's normal equations: Rank, plus one
// when biases are learned. With biases, the user half solves [x_u, b_u]
// against [y_i, 1] with targets r_ui − μ − b_i, and the item half solves
// [y_i, b_i] against [x_u, 1] with targets r_ui − μ − b_u.
func (p Params) AugmentedRank() int {
	if p.Bias {
		return p.Rank + 1
	}
	return p.Rank
}

// String formats p the way logs and the model table show it.
func (p Params) String() string {
	return fmt.Sprintf("rank=%d iterations=%d lambda=%g seed=%d bias=%t", p.Rank, p.Iterations, p.Lambda, p.Seed, p.Bias)
}
