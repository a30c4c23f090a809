package main

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFlagsFromEnvironment: every flag can come from MOVIEREC_<NAME>; the
// command line wins; --help names the variable and never prints its value.
func TestFlagsFromEnvironment(t *testing.T) {
	newFS := func(out *bytes.Buffer) (*flag.FlagSet, *serveConfig) {
		var cfg serveConfig
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(out)
		fs.StringVar(&cfg.apiKey, "api-key", "", "API key")
		fs.DurationVar(&cfg.retrainInt, "retrain-interval", 10*time.Second, "retrain interval")
		fs.IntVar(&cfg.minRatings, "min-ratings", 25, "min ratings")
		return fs, &cfg
	}
	env := map[string]string{
		"MOVIEREC_API_KEY":          "s3cret-key",
		"MOVIEREC_RETRAIN_INTERVAL": "1m",
		"MOVIEREC_MIN_RATINGS":      "7",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	var out bytes.Buffer
	fs, cfg := newFS(&out)
	if err := parseEnv(fs, []string{"--min-ratings", "3"}, lookup); err != nil {
		t.Fatalf("parseEnv = %v (%s)", err, out.String())
	}
	if cfg.apiKey != "s3cret-key" || cfg.retrainInt != time.Minute || cfg.minRatings != 3 {
		t.Errorf("parsed %q, %v, %d; want the key and 1m from the environment, 3 from the command line", cfg.apiKey, cfg.retrainInt, cfg.minRatings)
	}

	out.Reset()
	fs, _ = newFS(&out)
	if err := parseEnv(fs, []string{"-h"}, lookup); err != errUsage {
		t.Errorf("parseEnv(-h) = %v, want errUsage", err)
	}
	help := out.String()
	for _, v := range []string{"$MOVIEREC_API_KEY", "$MOVIEREC_RETRAIN_INTERVAL", "$MOVIEREC_MIN_RATINGS"} {
		if !strings.Contains(help, v) {
			t.Errorf("--help does not name %s:\n%s", v, help)
		}
	}
	if strings.Contains(help, "s3cret") {
		t.Errorf("--help prints the API key from the environment:\n%s", help)
	}

	out.Reset()
	fs, _ = newFS(&out)
	env["MOVIEREC_MIN_RATINGS"] = "seven"
	if err := parseEnv(fs, nil, lookup); err != errUsage || !strings.Contains(out.String(), "$MOVIEREC_MIN_RATINGS") {
		t.Errorf("parseEnv(bad env) = %v (%q), want errUsage naming $MOVIEREC_MIN_RATINGS", err, out.String())
	}
}

// TestServeHelpHidesAPIKey: the real serve flags, with the key in the
// environment.
func TestServeHelpHidesAPIKey(t *testing.T) {
	t.Setenv("MOVIEREC_API_KEY", "s3cret-key")
	code, _, errs := runCLI(t, "serve", "-h")
	if code != 2 || !strings.Contains(errs, "$MOVIEREC_API_KEY") || !strings.Contains(errs, "$MOVIEREC_RETRAIN_INTERVAL") {
		t.Errorf("serve -h exit %d, want 2 and the variables named:\n%s", code, errs)
	}
	if strings.Contains(errs, "s3cret") {
		t.Errorf("serve -h prints the API key:\n%s", errs)
	}
}

// TestVersion: `movierec version` and `--version` print the module version
// and the VCS revision of a binary built from the checkout.
func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		code, out, _ := runCLI(t, arg)
		if code != 0 || !strings.HasPrefix(out, "movierec ") || !strings.Contains(out, "revision ") {
			t.Errorf("movierec %s = %d %q, want a version line with a revision", arg, code, out)
		}
	}
	if testing.Short() {
		t.Skip("builds the binary")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("no git checkout: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "movierec")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "revision "+strings.TrimSpace(string(head))) {
		t.Errorf("movierec --version = %q, want revision %s", out, head)
	}
}

// TestTrainMissingDB: a mistyped --db is an error, not a fresh database.
func TestTrainMissingDB(t *testing.T) {
	db := filepath.Join(t.TempDir(), "typo.db")
	code, _, errs := runCLI(t, "train", "--db", db, "--rank", "2", "--iterations", "1", "--backend", "cpu", "--log-level", "warn")
	if code != 1 || !strings.Contains(errs, db) {
		t.Errorf("train --db missing exit %d (%s), want 1 naming the file", code, errs)
	}
	if _, err := os.Stat(db); err == nil {
		t.Errorf("train --db missing created %s", db)
	}
}
