package als

import (
	"errors"
	"fmt"
	"math"
)

// MaxRank is the largest factor rank any backend accepts.
const MaxRank = 256

// Objective selects what a fit minimises. The zero value is Explicit.
type Objective uint8

const (
	// Explicit fits the rating values (Spark's ALS-WR, see the package
	// doc): the model predicts ratings.
	Explicit Objective = iota
	// Implicit fits preferences (implicit-feedback ALS, see implicit.go):
	// the model's scores rank movies and are no ratings.
	Implicit
)

// String returns "explicit" or "implicit".
func (o Objective) String() string {
	switch o {
	case Explicit:
		return "explicit"
	case Implicit:
		return "implicit"
	}
	return fmt.Sprintf("Objective(%d)", uint8(o))
}

// ParseObjective parses "explicit" or "implicit".
func ParseObjective(s string) (Objective, error) {
	switch s {
	case "explicit":
		return Explicit, nil
	case "implicit":
		return Implicit, nil
	}
	return 0, fmt.Errorf("%w: objective %q: want explicit or implicit", ErrInvalidParams, s)
}

// Params are the training parameters. The zero value is not valid; start
// from DefaultParams or DefaultImplicitParams.
//
// The implicit-only fields are zero for Explicit and omitted from JSON
// then, so an explicit Params encodes as it did before they existed (the
// store keys models by that encoding).
type Params struct {
	Rank       int     // factor dimension k, 1..MaxRank
	Iterations int     // full iterations (item half then user half), ≥ 0
	Lambda     float64 // ridge weight; Explicit: each row's diagonal gets Lambda·(n + RegOffset) (ALS-WR when RegOffset is 0); Implicit: see RegExponent
	Seed       int64   // seed of the unit-vector random initialisation
	Bias       bool    // learn user and item biases beside the factors (Explicit only)

	Objective Objective `json:",omitempty"`
	// Alpha is the confidence slope of Implicit: a rated pair has
	// confidence c = max(1 + Alpha·r, 0), r the rating. ≥ 0.
	Alpha float64 `json:",omitempty"`
	// Unobserved is the weight w₀ of every pair (rated or not) in
	// Implicit's term w₀·Σ (x·y)², which pulls unrated pairs' scores
	// towards 0. > 0.
	Unobserved float64 `json:",omitempty"`
	// RegExponent is ν of Implicit's frequency-scaled ridge (Rendle et
	// al. 2022): a row with n ratings, solved against N fixed rows, gets
	// Lambda·(n + Unobserved·N)^ν on its diagonal. 0 is a plain ridge λ;
	// 1 scales it with the row's total weight. 0..2.
	RegExponent float64 `json:",omitempty"`

	// RegOffset is c of Explicit's smoothed ridge: a row with n ratings
	// gets Lambda·(n + c) on its diagonal (Ridge). 0 is ALS-WR's λ·n,
	// Spark's. A positive c regularises rows with few ratings relatively
	// more: the weighted trace norm with the rows' rating shares smoothed
	// towards uniform (Srebro & Salakhutdinov 2010), which at high rank
	// overfits less than λ·n (bench/RESULTS.md: rank 64 on the ml-25m
	// preset, test RMSE 0.5432 with c = 40, λ 0.025, against 0.5450 at
	// best with c = 0). The CPU backend only: the CUDA backend refuses it
	// (ErrInvalidParams). ≥ 0.
	RegOffset float64 `json:",omitempty"`

	// Solver is how each row's normal equations are solved: Cholesky
	// (the zero value, exact) or CG (a few conjugate-gradient steps,
	// warm-started from the previous iteration). Backends that have no
	// CG solver solve exactly.
	Solver Method `json:",omitempty"`
	// CGSteps is the number of conjugate-gradient steps per row and
	// half-iteration with Solver CG; 0 means DefaultCGSteps. 0..MaxCGSteps.
	CGSteps int `json:",omitempty"`

	// Tolerance, when positive, stops a fit early: after the first
	// iteration whose training error changed by less than Tolerance
	// relative to the previous iteration's (see Converged), or with
	// Validation its held-out error (see HeldOutConverged). Iterations
	// stays the cap. 0 always runs every iteration. 0..1.
	Tolerance float64 `json:",omitempty"`

	// Validation, when positive, is the share of the ratings a fit holds
	// out (Ratings.HoldOut, chosen by Seed) to decide when to stop: it
	// trains on the rest, and stops after the first iteration whose error
	// on the held-out ratings improved by less than Tolerance relative to
	// the previous iteration's, or rose (see HeldOutConverged); when it
	// rose, the CPU backend returns the iterate before, the best. The served
	// model then lacks that share of the ratings; one still wants it at
	// high rank or low λ, where the training error keeps falling after
	// the held-out error has flattened or turned up (overfitting), so that
	// the training error's tolerance stops late or never. When the share
	// holds no rating (tiny data), the training error decides as without
	// it. Explicit objective only; needs Tolerance > 0. Backends without
	// early stopping (the CUDA worker) ignore it and train on every
	// rating. 0..0.5.
	Validation float64 `json:",omitempty"`

	// Patience, with Validation, is how many iterations in a row may fail
	// to improve the best held-out error so far by Tolerance (relative)
	// before the fit stops; the CPU backend then returns the iterate with
	// the lowest held-out error (a fit that reaches Iterations returns its
	// last). 0 and 1 both stop at the first such
	// iteration (HeldOutConverged). More rides over a held-out error that
	// rises for a few iterations before it falls again (a hump seen with
	// CG at low λ). Needs Validation.
	Patience int `json:",omitempty"`
}

// Converged reports whether a fit with p stops after an iteration whose
// training error is cur, the previous one's prev (NaN before the second
// iteration), and why: the relative change |prev − cur| / prev fell below
// p.Tolerance. It is false when p.Tolerance is 0.
func (p Params) Converged(prev, cur float64) (stop bool, why string) {
	if !(p.Tolerance > 0) || math.IsNaN(prev) {
		return false, ""
	}
	change := math.Abs(prev-cur) / prev
	if prev == 0 || change < p.Tolerance {
		return true, fmt.Sprintf("training error changed by %.3g%% < tolerance %g%%", 100*change, 100*p.Tolerance)
	}
	return false, ""
}

// HeldOutConverged reports whether a fit with p.Validation stops after an
// iteration whose held-out error is cur, the previous one's prev (NaN
// before the second iteration), and why: the error rose, or fell by less
// than p.Tolerance relative to prev. It is false when p.Tolerance is 0.
func (p Params) HeldOutConverged(prev, cur float64) (stop bool, why string) {
	if !(p.Tolerance > 0) || math.IsNaN(prev) {
		return false, ""
	}
	if cur > prev {
		return true, fmt.Sprintf("held-out error rose from %.5g to %.5g", prev, cur)
	}
	gain := 0.0
	if prev > 0 {
		gain = (prev - cur) / prev
	}
	if gain < p.Tolerance {
		return true, fmt.Sprintf("held-out error improved by %.3g%% < tolerance %g%%", 100*gain, 100*p.Tolerance)
	}
	return false, ""
}

// MaxValidation is the largest Params.Validation.
const MaxValidation = 0.5

// MaxPatience is the largest Params.Patience.
const MaxPatience = 1000

// Method selects how a backend solves each row's k×k normal equations.
// The zero value is Cholesky.
type Method uint8

const (
	// Cholesky forms each row's k×k system and solves it exactly.
	Cholesky Method = iota
	// CG runs Params.CGSteps conjugate-gradient steps per row from the
	// row's previous factors, without forming the k×k system: an
	// approximate solve whose error the later iterations keep shrinking.
	CG
)

// DefaultCGSteps is the number of CG steps per row when Params.CGSteps is 0
// (benfred/implicit's default).
const DefaultCGSteps = 3

// MaxCGSteps is the largest Params.CGSteps.
const MaxCGSteps = 64

// String returns "cholesky" or "cg".
func (m Method) String() string {
	switch m {
	case Cholesky:
		return "cholesky"
	case CG:
		return "cg"
	}
	return fmt.Sprintf("Method(%d)", uint8(m))
}

// ParseMethod parses "cholesky" or "cg".
func ParseMethod(s string) (Method, error) {
	switch s {
	case "cholesky":
		return Cholesky, nil
	case "cg":
		return CG, nil
	}
	return 0, fmt.Errorf("%w: solver %q: want cholesky or cg", ErrInvalidParams, s)
}

// Steps returns the CG steps per row: p.CGSteps, or DefaultCGSteps when 0.
func (p Params) Steps() int {
	if p.CGSteps == 0 {
		return DefaultCGSteps
	}
	return p.CGSteps
}

// Ridge returns the explicit objective's ridge on the diagonal of a row
// with n ratings: Lambda·(n + RegOffset).
func (p Params) Ridge(n int) float64 {
	return p.Lambda * (float64(n) + p.RegOffset)
}

// DefaultParams returns the tutorial's parameters: rank 8, 10 iterations,
// λ 0.1, seed 5, no biases, explicit.
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
	case p.Solver > CG:
		return fmt.Errorf("%w: %v", ErrInvalidParams, p.Solver)
	case p.CGSteps < 0 || p.CGSteps > MaxCGSteps:
		return fmt.Errorf("%w: CG steps %d not in 0..%d", ErrInvalidParams, p.CGSteps, MaxCGSteps)
	case !(p.Tolerance >= 0 && p.Tolerance <= 1):
		return fmt.Errorf("%w: tolerance %v not in 0..1", ErrInvalidParams, p.Tolerance)
	case !(p.Validation >= 0 && p.Validation <= MaxValidation):
		return fmt.Errorf("%w: validation share %v not in 0..%g", ErrInvalidParams, p.Validation, MaxValidation)
	case p.Validation > 0 && p.Objective == Implicit:
		return fmt.Errorf("%w: a validation share is for the explicit objective (the implicit one predicts no ratings to hold out)", ErrInvalidParams)
	case !(p.RegOffset >= 0) || math.IsInf(p.RegOffset, 0):
		return fmt.Errorf("%w: ridge offset %v must be non-negative and finite", ErrInvalidParams, p.RegOffset)
	case p.RegOffset != 0 && p.Objective == Implicit:
		return fmt.Errorf("%w: a ridge offset is for the explicit objective (the implicit one scales its ridge with its regularisation exponent)", ErrInvalidParams)
	case p.Patience < 0 || p.Patience > MaxPatience:
		return fmt.Errorf("%w: patience %d not in 0..%d", ErrInvalidParams, p.Patience, MaxPatience)
	case p.Patience > 1 && !(p.Validation > 0):
		return fmt.Errorf("%w: patience %d without a validation share: it counts iterations without a better held-out error", ErrInvalidParams, p.Patience)
	case p.Validation > 0 && !(p.Tolerance > 0):
		return fmt.Errorf("%w: validation share %g without a tolerance: the held-out ratings only serve to stop early, "+
			"and without a tolerance every iteration runs on fewer ratings for nothing; set a tolerance or no validation share", ErrInvalidParams, p.Validation)
	}
	switch p.Objective {
	case Explicit:
		if p.Alpha != 0 || p.Unobserved != 0 || p.RegExponent != 0 {
			return fmt.Errorf("%w: alpha, unobserved weight and regularisation exponent are for the implicit objective", ErrInvalidParams)
		}
	case Implicit:
		switch {
		case p.Bias:
			return fmt.Errorf("%w: the implicit objective learns no biases", ErrInvalidParams)
		case !(p.Alpha >= 0) || math.IsInf(p.Alpha, 0):
			return fmt.Errorf("%w: alpha %v must be non-negative and finite", ErrInvalidParams, p.Alpha)
		case !(p.Unobserved > 0) || math.IsInf(p.Unobserved, 0):
			return fmt.Errorf("%w: unobserved weight %v must be positive and finite", ErrInvalidParams, p.Unobserved)
		case !(p.RegExponent >= 0 && p.RegExponent <= 2):
			return fmt.Errorf("%w: regularisation exponent %v not in 0..2", ErrInvalidParams, p.RegExponent)
		}
	default:
		return fmt.Errorf("%w: %v", ErrInvalidParams, p.Objective)
	}
	return nil
}

// ValidateFloat32 is Validate for a backend that solves each row's normal
// equations in float32 (the GPU): it also rejects an explicit-objective
// Lambda below MinLambda(Rank), with a message saying why. The CPU solves
// in float64 (Cholesky) and accepts any positive Lambda, as Spark does.
func (p Params) ValidateFloat32() error {
	if err := p.Validate(); err != nil {
		return err
	}
	if m := MinLambda(p.Rank); p.Objective == Explicit && p.Lambda < m {
		return fmt.Errorf("%w: lambda %g is below %.3g, the least that float32 can solve at rank %d "+
			"(the GPU solves each row's normal equations in float32; use lambda ≥ %.3g, typically 0.01..0.1, or --backend cpu)",
			ErrInvalidParams, p.Lambda, m, p.Rank, m)
	}
	return nil
}

// MinLambda is the least Lambda ValidateFloat32 accepts for the explicit
// objective at rank k: k·8·2⁻²³ (6.1e-5 at rank 64, 2.4e-4 at rank 256).
//
// A row with n ratings solves A = YᵀY + λ·n·I, whose smallest eigenvalue is
// at least λ·n and whose largest is at most n·max‖y‖² + λ·n. A float32
// Cholesky is backward stable with an error of about k·ε·‖A‖ (ε = 2⁻²³), so
// it succeeds when λ·n exceeds k·ε·n·max‖y‖², that is λ > k·ε·max‖y‖²;
// trained factors of ratings on a 0.5..5 scale have ‖y‖² of a few units,
// and the margin of 8 covers them. Below it, rows with fewer ratings than k
// (whose YᵀY is singular) lose their digits or their positive pivots: at
// rank 128, λ = 1e-5 gave O(1) factor errors and λ = 1e-7 zeroed 59 of 60
// such rows in float32 (gpu/emulate_test.go). The implicit objective adds
// w₀·G, the whole fixed side's Gram matrix, to every row, and has no such
// bound.
func MinLambda(k int) float64 { return float64(k) * 8 / (1 << 23) }

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
	var s string
	if p.Objective == Implicit {
		s = fmt.Sprintf("objective=implicit rank=%d iterations=%d lambda=%g alpha=%g unobserved=%g reg_exponent=%g seed=%d",
			p.Rank, p.Iterations, p.Lambda, p.Alpha, p.Unobserved, p.RegExponent, p.Seed)
	} else {
		s = fmt.Sprintf("rank=%d iterations=%d lambda=%g seed=%d bias=%t", p.Rank, p.Iterations, p.Lambda, p.Seed, p.Bias)
		if p.RegOffset != 0 {
			s += fmt.Sprintf(" reg_offset=%g", p.RegOffset)
		}
	}
	if p.Solver == CG {
		s += fmt.Sprintf(" solver=cg cg_steps=%d", p.Steps())
	}
	if p.Tolerance > 0 {
		s += fmt.Sprintf(" tolerance=%g", p.Tolerance)
	}
	if p.Validation > 0 {
		s += fmt.Sprintf(" validation=%g", p.Validation)
	}
	if p.Patience > 1 {
		s += fmt.Sprintf(" patience=%d", p.Patience)
	}
	return s
}
