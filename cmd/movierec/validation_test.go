package main

import (
	"flag"
	"io"
	"strings"
	"testing"
)

// TestValidationFlag checks --validation and $MOVIEREC_VALIDATION, and
// that --validation without --tolerance is refused naming both flags.
func TestValidationFlag(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    float64
		wantErr []string // all in the error; nil for none
	}{
		{"unset", nil, nil, 0, nil},
		{"flag", []string{"--validation", "0.02", "--tolerance", "0.001"}, nil, 0.02, nil},
		{"env", []string{"--tolerance", "0.001"}, map[string]string{"MOVIEREC_VALIDATION": "0.05"}, 0.05, nil},
		{"flag wins over env", []string{"--validation", "0.1", "--tolerance", "0.001"}, map[string]string{"MOVIEREC_VALIDATION": "0.05"}, 0.1, nil},
		{"no tolerance", []string{"--validation", "0.02"}, nil, 0, []string{"--validation 0.02", "--tolerance"}},
		{"no tolerance by env", nil, map[string]string{"MOVIEREC_VALIDATION": "0.02"}, 0, []string{"--validation 0.02", "--tolerance"}},
		{"too large", []string{"--validation", "0.7", "--tolerance", "0.001"}, nil, 0, []string{"validation share 0.7 not in 0..0.5"}},
		{"patience", []string{"--validation", "0.05", "--tolerance", "0.001", "--patience", "3"}, nil, 0.05, nil},
		{"patience by env", []string{"--validation", "0.05", "--tolerance", "0.001"}, map[string]string{"MOVIEREC_PATIENCE": "3"}, 0.05, nil},
		{"patience without validation", []string{"--patience", "3"}, nil, 0, []string{"--patience 3", "--validation"}},
		{"negative patience", []string{"--validation", "0.05", "--tolerance", "0.001", "--patience", "-1"}, nil, 0, []string{"patience -1 not in"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m modelFlags
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			m.register(fs)
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			if err := parseEnv(fs, tc.args, lookup); err != nil {
				t.Fatalf("parse %v: %v", tc.args, err)
			}
			err := m.validate()
			if tc.wantErr != nil {
				for _, w := range tc.wantErr {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Errorf("validate(%v) = %v, want an error containing %q", tc.args, err, w)
					}
				}
				return
			}
			if err != nil || m.p.Validation != tc.want {
				t.Errorf("%v: Validation %g, validate() = %v; want %g, nil", tc.args, m.p.Validation, err, tc.want)
			}
			if strings.HasPrefix(tc.name, "patience") && m.p.Patience != 3 {
				t.Errorf("%v: Patience %d, want 3", tc.args, m.p.Patience)
			}
		})
	}
}

// TestValidationWithoutTolerance runs the commands that train: each
// refuses --validation without --tolerance before loading anything, with
// a message naming both flags.
func TestValidationWithoutTolerance(t *testing.T) {
	for _, args := range [][]string{{"eval"}, {"train", "--db", "x.db"}, {"serve", "--db", "x.db"}} {
		cmd := args[0]
		t.Run(cmd, func(t *testing.T) {
			t.Chdir(t.TempDir())
			code, _, errs := runCLI(t, append(args, "--validation", "0.02")...)
			if code != 1 || !strings.Contains(errs, "--validation") || !strings.Contains(errs, "--tolerance") {
				t.Errorf("%s --validation 0.02: exit %d, stderr %q; want 1 and a message naming --validation and --tolerance", cmd, code, errs)
			}
		})
	}
}
