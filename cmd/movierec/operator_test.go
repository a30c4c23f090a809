package main

import (
	"bytes"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"movierec/als"
	"movierec/store/sqlite"
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

// testServeConfig is a small serve configuration on db.
func testServeConfig(db string) serveConfig {
	cfg := serveConfig{addr: "127.0.0.1:0", minRatings: 25, maxCount: 10, dbPath: db}
	cfg.model.p = als.Params{Rank: 2, Iterations: 1, Lambda: 0.1, Seed: 1}
	cfg.model.backend = "cpu"
	return cfg
}

// TestMetricsWhileStarting: /metrics answers from the moment the server
// listens, with movierec_model_ready 0 and the build info.
func TestMetricsWhileStarting(t *testing.T) {
	s, err := newServer(t.Context(), testServeConfig(filepath.Join(t.TempDir(), "m.db")), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w := httptest.NewRecorder()
	s.http.Handler.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{"movierec_model_ready 0", "movierec_build_info{", "go_goroutines"} {
		if w.Code != 200 || !strings.Contains(w.Body.String(), want) {
			t.Errorf("GET /metrics while starting = %d, lacks %q:\n%.300s", w.Code, want, w.Body)
		}
	}
}

// TestSecondServeRefused: SQLite is single-writer here; a second serve on
// the same file must not start.
func TestSecondServeRefused(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	log := slog.New(slog.DiscardHandler)
	first, err := newServer(t.Context(), testServeConfig(db), log)
	if err != nil {
		t.Fatal(err)
	}
	second, err := newServer(t.Context(), testServeConfig(db), log)
	if err == nil {
		second.Close()
		t.Fatal("a second serve on the same database started")
	}
	if !errors.Is(err, sqlite.ErrLocked) || !strings.Contains(err.Error(), db) {
		t.Errorf("second serve = %v, want sqlite.ErrLocked naming the file", err)
	}
	first.Close()
	third, err := newServer(t.Context(), testServeConfig(db), log)
	if err != nil {
		t.Fatalf("serve after the first stopped = %v", err)
	}
	third.Close()
}

// TestServeRefusesEmptyDB: an existing 0-byte file is refused by name and
// left alone, never imported over.
func TestServeRefusesEmptyDB(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	if err := os.WriteFile(db, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := failedStart(t, testServeConfig(db)); !errors.Is(err, sqlite.ErrNotMovierec) || !strings.Contains(err.Error(), db) {
		t.Errorf("Run() on an empty file = %v, want sqlite.ErrNotMovierec naming it", err)
	}
	if fi, err := os.Stat(db); err != nil || fi.Size() != 0 {
		t.Errorf("the empty file was changed: %v, %v", fi, err)
	}
}

func TestHealthcheck(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer ok.Close()
	if code, out, errs := runCLI(t, "healthcheck", "--url", ok.URL+"/healthz"); code != 0 || out != "ok\n" {
		t.Errorf("healthcheck of a healthy server = %d %q %q, want 0 ok", code, out, errs)
	}
	if code, _, errs := runCLI(t, "healthcheck", "--url", ok.URL+"/other"); code != 1 || !strings.Contains(errs, "503") {
		t.Errorf("healthcheck of a 503 = %d %q, want 1 naming the status", code, errs)
	}
}

// TestDockerfilePinned: every stage of Dockerfile.cuda starts from a base
// image pinned by digest, the images run as a numeric non-root user with a
// HEALTHCHECK, and the build context leaves out the history and databases.
func TestDockerfilePinned(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile.cuda")
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]string{}
	var froms, users int
	pinned := regexp.MustCompile(`^[a-z0-9./-]+:[A-Za-z0-9._-]+@sha256:[0-9a-f]{64}$`)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "ARG":
			if k, v, ok := strings.Cut(f[1], "="); ok {
				args[k] = v
			}
		case "FROM":
			froms++
			img := f[1]
			if strings.HasPrefix(img, "${") {
				img = args[strings.Trim(img, "${}")]
			}
			if !pinned.MatchString(img) {
				t.Errorf("%q: base image %q is not pinned by digest", line, img)
			}
		case "USER":
			users++
			if uid, _, _ := strings.Cut(f[1], ":"); uid == "0" || strings.Trim(uid, "0123456789") != "" {
				t.Errorf("%q: want a numeric non-root user", line)
			}
		}
	}
	if froms < 3 || users < 2 {
		t.Errorf("Dockerfile.cuda: %d FROM and %d USER lines, want the build, test and service stages", froms, users)
	}
	if !strings.Contains(string(b), "\nHEALTHCHECK ") {
		t.Error("Dockerfile.cuda has no HEALTHCHECK")
	}
	ignore, err := os.ReadFile("../../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{".git", "**/*.db"} {
		if !slices.Contains(strings.Fields(string(ignore)), want) {
			t.Errorf(".dockerignore lacks %s", want)
		}
	}
}
