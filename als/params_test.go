package als_test

import (
	"errors"
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
