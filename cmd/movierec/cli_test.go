package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"movierec/als"
	"movierec/data"
	"movierec/dataset"
	"movierec/store"
)

// runCLI runs a movierec command in-process and returns its exit code and
// output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestEvalTrainTestFilesJSON(t *testing.T) {
	dir := t.TempDir()
	f, err := data.MLLatestSmall().Open("ratings.csv")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := dataset.ReadRatingsCSV(f, "ratings.csv")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, from, step int) string {
		var b strings.Builder
		b.WriteString("userId,movieId,rating,timestamp\n")
		for i := from; i < len(rs); i += step {
			r := rs[i]
			b.WriteString(strings.Join([]string{itoa(int64(r.User)), itoa(int64(r.Movie)), ftoa(r.Value), itoa(r.Time)}, ",") + "\n")
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Every fifth rating is a test rating.
	var trainLines strings.Builder
	trainLines.WriteString("userId,movieId,rating,timestamp\n")
	for i, r := range rs {
		if i%5 != 0 {
			trainLines.WriteString(strings.Join([]string{itoa(int64(r.User)), itoa(int64(r.Movie)), ftoa(r.Value), itoa(r.Time)}, ",") + "\n")
		}
	}
	train := filepath.Join(dir, "train.csv")
	if err := os.WriteFile(train, []byte(trainLines.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	test := write("test.csv", 0, 5)

	code, out, errs := runCLI(t, "eval", "--train", train, "--test", test, "--json", "--backend", "cpu", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("eval exit %d: %s", code, errs)
	}
	var res map[string]float64
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("eval --json printed %q: %v", out, err)
	}
	for _, k := range []string{"rmse", "mae", "test_pairs", "skipped", "train_seconds"} {
		if _, ok := res[k]; !ok {
			t.Errorf("eval --json lacks %q: %s", k, out)
		}
	}
	if res["rmse"] < 0.7 || res["rmse"] > 0.95 || res["test_pairs"]+res["skipped"] != float64((len(rs)+4)/5) {
		t.Errorf("eval --json = %s, want an RMSE near 0.88 over all %d test ratings", out, (len(rs)+4)/5)
	}
	if code, _, _ := runCLI(t, "eval", "--train", train); code != 1 {
		t.Errorf("eval --train without --test exit %d, want 1", code)
	}
}

func TestImportIdempotentAndTrainStoresModel(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	for i := range 2 {
		if code, _, errs := runCLI(t, "import", "--db", db, "--log-level", "warn"); code != 0 {
			t.Fatalf("import #%d exit %d: %s", i+1, code, errs)
		}
	}
	s, err := store.Open(t.Context(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := s.DataVersion(t.Context())
	rs, _, _ := s.Ratings(t.Context())
	s.Close()
	if v != 1 || len(rs) != 100836 {
		t.Fatalf("after two imports: data version %d, %d ratings; want 1 and 100836", v, len(rs))
	}
	code, out, errs := runCLI(t, "train", "--db", db, "--rank", "4", "--iterations", "2", "--backend", "cpu", "--log-level", "warn")
	if code != 0 || !strings.Contains(out, "stored in") {
		t.Fatalf("train exit %d: %s %s", code, out, errs)
	}
	s, err = store.Open(t.Context(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	snap, err := s.LatestModel(t.Context(), als.Params{Rank: 4, Iterations: 2, Lambda: 0.1, Seed: 5})
	if err != nil || snap == nil || snap.DataVersion != 1 {
		t.Fatalf("LatestModel after train = %+v, %v; want a model at data version 1", snap, err)
	}
}

func TestUnknownCommandAndFlags(t *testing.T) {
	if code, _, _ := runCLI(t, "nope"); code != 2 {
		t.Errorf("unknown command exit %d, want 2", code)
	}
	if code, _, _ := runCLI(t, "serve", "--no-such-flag"); code != 2 {
		t.Errorf("unknown flag exit %d, want 2", code)
	}
	if code, _, errs := runCLI(t, "serve", "--rank", "0", "--db", filepath.Join(t.TempDir(), "x.db")); code != 1 || !strings.Contains(errs, "rank") {
		t.Errorf("serve --rank 0 exit %d (%s), want 1 naming the rank", code, errs)
	}
}

func itoa(v int64) string   { return strconv.FormatInt(v, 10) }
func ftoa(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }
