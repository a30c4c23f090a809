package als_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"movierec/als"
)

func TestValidateMinLambda(t *testing.T) {
	tests := []struct {
		name   string
		p      als.Params
		wantOK bool
	}{
		{"rank 8, lambda 0.1", als.Params{Rank: 8, Lambda: 0.1}, true},
		{"rank 64 at the bound", als.Params{Rank: 64, Lambda: als.MinLambda(64)}, true},
		{"rank 64 below the bound", als.Params{Rank: 64, Lambda: als.MinLambda(64) * 0.99}, false},
		{"rank 128, lambda 1e-5", als.Params{Rank: 128, Lambda: 1e-5}, false},
		{"rank 256, lambda 1e-3", als.Params{Rank: 256, Lambda: 1e-3}, true},
		{"implicit, tiny lambda", als.Params{Rank: 256, Lambda: 1e-7, Objective: als.Implicit, Unobserved: 0.1}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.p.Validate(); err != nil {
				t.Errorf("Validate(%v) = %v, want nil: the CPU solves in float64", tc.p, err)
			}
			err := tc.p.ValidateFloat32()
			if tc.wantOK {
				if err != nil {
					t.Errorf("ValidateFloat32(%v) = %v, want nil", tc.p, err)
				}
				return
			}
			if !errors.Is(err, als.ErrInvalidParams) || !strings.Contains(err.Error(), "float32") {
				t.Errorf("ValidateFloat32(%v) = %v, want ErrInvalidParams naming float32", tc.p, err)
			}
		})
	}
	if got, want := als.MinLambda(64), 6.103515625e-05; got != want {
		t.Errorf("MinLambda(64) = %v, want %v", got, want)
	}
}

func TestValidateValidation(t *testing.T) {
	explicit := als.Params{Rank: 8, Iterations: 10, Lambda: 0.1, Tolerance: 0.001}
	with := func(p als.Params, f func(*als.Params)) als.Params { f(&p); return p }
	implicit := als.DefaultImplicitParams()
	implicit.Tolerance = 0.001
	tests := []validateCase{
		{"none", explicit, ""},
		{"2%", with(explicit, func(p *als.Params) { p.Validation = 0.02 }), ""},
		{"half", with(explicit, func(p *als.Params) { p.Validation = 0.5 }), ""},
		{"negative", with(explicit, func(p *als.Params) { p.Validation = -0.01 }), "validation share -0.01 not in 0..0.5"},
		{"above half", with(explicit, func(p *als.Params) { p.Validation = 0.6 }), "validation share 0.6 not in 0..0.5"},
		{"NaN", with(explicit, func(p *als.Params) { p.Validation = math.NaN() }), "validation share NaN"},
		{"implicit", with(implicit, func(p *als.Params) { p.Validation = 0.02 }), "explicit objective"},
		{"no tolerance", with(explicit, func(p *als.Params) { p.Validation, p.Tolerance = 0.02, 0 }), "without a tolerance"},
	}
	checkValidate(t, tests)
	if got := with(explicit, func(p *als.Params) { p.Validation = 0.02 }).String(); !strings.HasSuffix(got, " tolerance=0.001 validation=0.02") {
		t.Errorf("String() = %q, want it to end in tolerance=0.001 validation=0.02", got)
	}
}

func TestHeldOutConverged(t *testing.T) {
	p := als.Params{Tolerance: 0.01}
	tests := []struct {
		name      string
		p         als.Params
		prev, cur float64
		stop      bool
		why       string
	}{
		{"first iteration", p, math.NaN(), 0.9, false, ""},
		{"improved enough", p, 1, 0.98, false, ""},
		{"improved too little", p, 1, 0.995, true, "held-out error improved by 0.5% < tolerance 1%"},
		{"unchanged", p, 1, 1, true, "held-out error improved by 0% < tolerance 1%"},
		{"rose", p, 0.9, 0.95, true, "held-out error rose from 0.9 to 0.95"},
		{"no tolerance", als.Params{}, 0.9, 0.95, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stop, why := tc.p.HeldOutConverged(tc.prev, tc.cur)
			if stop != tc.stop || why != tc.why {
				t.Errorf("HeldOutConverged(%v, %v) = %t, %q, want %t, %q", tc.prev, tc.cur, stop, why, tc.stop, tc.why)
			}
		})
	}
}

func TestValidateRegOffset(t *testing.T) {
	explicit := als.Params{Rank: 8, Iterations: 10, Lambda: 0.1}
	with := func(p als.Params, f func(*als.Params)) als.Params { f(&p); return p }
	tests := []validateCase{
		{"none", explicit, ""},
		{"40", with(explicit, func(p *als.Params) { p.RegOffset = 40 }), ""},
		{"negative", with(explicit, func(p *als.Params) { p.RegOffset = -1 }), "ridge offset -1 must be non-negative"},
		{"NaN", with(explicit, func(p *als.Params) { p.RegOffset = math.NaN() }), "ridge offset NaN"},
		{"infinite", with(explicit, func(p *als.Params) { p.RegOffset = math.Inf(1) }), "ridge offset +Inf"},
		{"implicit", with(als.DefaultImplicitParams(), func(p *als.Params) { p.RegOffset = 5 }), "for the explicit objective"},
	}
	checkValidate(t, tests)
	p := with(explicit, func(p *als.Params) { p.RegOffset = 40 })
	if got := p.String(); !strings.HasSuffix(got, " bias=false reg_offset=40") {
		t.Errorf("String() = %q, want it to end in reg_offset=40", got)
	}
	if got, want := p.Ridge(10), 0.1*50; math.Abs(got-want) > 1e-12 {
		t.Errorf("Ridge(10) = %v, want %v", got, want)
	}
	if got := explicit.String(); strings.Contains(got, "reg_offset") {
		t.Errorf("String() without an offset = %q, want no reg_offset", got)
	}
}

// validateCase is a Params and what its Validate error says.
type validateCase struct {
	name string
	p    als.Params
	want string // in the error; "" for none
}

// checkValidate runs each case's Validate.
func checkValidate(t *testing.T, tests []validateCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if tc.want == "" {
				if err != nil {
					t.Errorf("Validate(%v) = %v, want nil", tc.p, err)
				}
				return
			}
			if !errors.Is(err, als.ErrInvalidParams) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate(%v) = %v, want ErrInvalidParams containing %q", tc.p, err, tc.want)
			}
		})
	}
}
