package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func TestTuneExplicit(t *testing.T) {
	var out, errOut bytes.Buffer
	err := runTune(t.Context(), []string{"--model", "explicit", "--ranks", "2,4", "--lambdas", "0.1", "--iterations", "2"}, &out, &errOut)
	if err != nil {
		t.Fatalf("tune error: %v\nstderr: %s", err, errOut.String())
	}
	s := out.String()
	if !regexp.MustCompile(`(?m)^chosen +rank=[24] `).MatchString(s) {
		t.Errorf("tune output names no chosen rank 2 or 4:\n%s", s)
	}
	for _, want := range []string{"chosen by validation RMSE", "validation RMSE", "test RMSE", "precision@10", "NDCG@10", "MAP@10"} {
		if !strings.Contains(s, want) {
			t.Errorf("tune output lacks %q:\n%s", want, s)
		}
	}
	if n := regexp.MustCompile(`(?m)^[24] +0\.1 +0 +2 +\d\.\d{4} +\d\.\d{4} `).FindAllString(s, -1); len(n) != 2 {
		t.Errorf("tune table has %d runs, want 2:\n%s", len(n), s)
	}
}

// TestTuneRegOffsets searches the explicit model's ridge offset: each
// offset is a run, the report names the chosen one, and a large offset
// changes the validation error.
func TestTuneRegOffsets(t *testing.T) {
	var out, errOut bytes.Buffer
	err := runTune(t.Context(), []string{"--model", "explicit", "--ranks", "4", "--lambdas", "0.1", "--reg-offsets", "0,20,200", "--iterations", "2", "--json"}, &out, &errOut)
	if err != nil {
		t.Fatalf("tune error: %v\nstderr: %s", err, errOut.String())
	}
	var rep tuneReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("tune --json output %q: %v", out.String(), err)
	}
	if len(rep.Runs) != 3 {
		t.Fatalf("tune ran %d points, want 3: %+v", len(rep.Runs), rep.Runs)
	}
	best := rep.Runs[0]
	for i, r := range rep.Runs {
		if want := []float64{0, 20, 200}[i]; r.RegOffset != want {
			t.Errorf("run %d offset %g, want %g", i, r.RegOffset, want)
		}
		if r.ValidationRMSE < best.ValidationRMSE {
			best = r
		}
	}
	if rep.Runs[0].ValidationRMSE == rep.Runs[2].ValidationRMSE {
		t.Errorf("offsets 0 and 200 give the same validation RMSE %v: the offset is not applied", rep.Runs[0].ValidationRMSE)
	}
	if want := fmt.Sprintf("reg_offset=%g", best.RegOffset); best.RegOffset != 0 && !strings.Contains(rep.Chosen, want) ||
		best.RegOffset == 0 && strings.Contains(rep.Chosen, "reg_offset") {
		t.Errorf("chosen %q, want the best run's offset %g", rep.Chosen, best.RegOffset)
	}
}

func TestTuneExplicitJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	err := runTune(t.Context(), []string{"--ranking", "explicit", "--ranks", "3", "--lambdas", "0.1,0.2", "--iterations", "1", "--bias", "--json"}, &out, &errOut)
	if err != nil {
		t.Fatalf("tune --json error: %v\nstderr: %s", err, errOut.String())
	}
	var rep tuneReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("tune --json output %q: %v", out.String(), err)
	}
	if rep.Model != "explicit" || len(rep.Runs) != 2 || !strings.HasPrefix(rep.Chosen, "rank=3 ") || rep.Test == nil || rep.Test.RMSE <= 0 || rep.Ranking.K != 10 || rep.Ranking.Users == 0 {
		t.Errorf("tune --json report = %+v", rep)
	}
	if n := rep.TrainRatings + rep.ValidationRatings + rep.TestRatings; n != 100836 {
		t.Errorf("split sizes sum to %d, want the bundled 100836", n)
	}
}

// TestTuneImplicit tunes the ranking model (the default) by validation
// NDCG on both protocols and checks that the chosen run is the best one.
func TestTuneImplicit(t *testing.T) {
	for _, split := range []string{"random", "time"} {
		t.Run(split, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := runTune(t.Context(), []string{"--split", split, "--ranks", "4", "--lambdas", "0.5", "--alphas", "0.5,2",
				"--ranking-iterations", "2", "--json"}, &out, &errOut)
			if err != nil {
				t.Fatalf("tune error: %v\nstderr: %s", err, errOut.String())
			}
			var rep tuneReport
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatalf("tune --json output %q: %v", out.String(), err)
			}
			if rep.Model != "implicit" || rep.Split != split || rep.Criterion != "validation NDCG@10" || len(rep.Runs) != 2 || rep.Test != nil {
				t.Fatalf("tune report = %+v", rep)
			}
			best := rep.Runs[0]
			if rep.Runs[1].ValidationNDCG > best.ValidationNDCG {
				best = rep.Runs[1]
			}
			if want := "alpha=" + strings.TrimSuffix(strings.TrimSuffix(jsonNum(best.Alpha), ".0"), " "); !strings.Contains(rep.Chosen, "objective=implicit rank=4 ") || !strings.Contains(rep.Chosen, want+" ") {
				t.Errorf("chosen %q, want the best validation run's %s (runs %+v)", rep.Chosen, want, rep.Runs)
			}
			if rep.Ranking.Users == 0 || rep.Ranking.NDCGAt <= 0 || rep.Ranking.Coverage <= 0 {
				t.Errorf("test ranking = %+v", rep.Ranking)
			}
			if d := rep.ValidationRatings - rep.TestRatings; d < -1000 || d > 1000 {
				t.Errorf("validation %d ratings, test %d: want about the same size", rep.ValidationRatings, rep.TestRatings)
			}
		})
	}
}

// TestTuneIterationCounts checks that --iteration-counts adds the
// iteration count to the grid: one run per count, each trained with it,
// and the chosen parameters carry the best run's count.
func TestTuneIterationCounts(t *testing.T) {
	var out, errOut bytes.Buffer
	err := runTune(t.Context(), []string{"--ranks", "4", "--lambdas", "0.5", "--alphas", "1",
		"--iteration-counts", "1,3", "--json"}, &out, &errOut)
	if err != nil {
		t.Fatalf("tune error: %v\nstderr: %s", err, errOut.String())
	}
	var rep tuneReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("tune --json output %q: %v", out.String(), err)
	}
	if len(rep.Runs) != 2 || rep.Runs[0].Iterations != 1 || rep.Runs[1].Iterations != 3 {
		t.Fatalf("runs %+v, want iterations 1 and 3", rep.Runs)
	}
	if rep.Runs[0].ValidationNDCG == rep.Runs[1].ValidationNDCG {
		t.Errorf("1 and 3 iterations scored the same validation NDCG %v: the count did not reach the fit", rep.Runs[0].ValidationNDCG)
	}
	best := rep.Runs[0]
	if rep.Runs[1].ValidationNDCG > best.ValidationNDCG {
		best = rep.Runs[1]
	}
	if want := fmt.Sprintf(" iterations=%d ", best.Iterations); !strings.Contains(rep.Chosen, want) {
		t.Errorf("chosen %q, want the best run's%s", rep.Chosen, want)
	}
}

func jsonNum(v float64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestTuneBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--ranks", "4,x"},
		{"--lambdas", ""},
		{"--ranks", "0"},
		{"--lambdas", "-1"},
		{"--alphas", "-1"},
		{"--model", "svd"},
		{"--model", "implicit", "--ranking", "explicit"},
		{"--ranking-rank", "8"},
		{"--iteration-counts", "2,x"},
		{"--reg-offsets", "10"}, // the implicit model's tune
		{"--model", "explicit", "--reg-offsets", "-1"},
		{"--model", "explicit", "--reg-offsets", "x"},
		{"--iteration-counts", "0"},
		{"--iteration-counts", "3", "--ranking-iterations", "3"},
		{"--split", "user"},
		{"--test-fraction", "1"},
		{"extra"},
	} {
		var out, errOut bytes.Buffer
		if err := runTune(t.Context(), args, &out, &errOut); err == nil {
			t.Errorf("tune %q: error nil, want one", args)
		}
	}
}
