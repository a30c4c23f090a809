package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func TestTune(t *testing.T) {
	var out, errOut bytes.Buffer
	err := runTune(t.Context(), []string{"--ranks", "2,4", "--lambdas", "0.1", "--iterations", "2"}, &out, &errOut)
	if err != nil {
		t.Fatalf("tune error: %v\nstderr: %s", err, errOut.String())
	}
	s := out.String()
	if !regexp.MustCompile(`(?m)^chosen +rank=[24] `).MatchString(s) {
		t.Errorf("tune output names no chosen rank 2 or 4:\n%s", s)
	}
	for _, want := range []string{"validation RMSE", "test RMSE", "precision@10", "NDCG@10"} {
		if !strings.Contains(s, want) {
			t.Errorf("tune output lacks %q:\n%s", want, s)
		}
	}
	if n := regexp.MustCompile(`(?m)^[24] +0\.1 +\d\.\d{4} `).FindAllString(s, -1); len(n) != 2 {
		t.Errorf("tune table has %d runs, want 2:\n%s", len(n), s)
	}
}

func TestTuneJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	err := runTune(t.Context(), []string{"--ranks", "3", "--lambdas", "0.1,0.2", "--iterations", "1", "--bias", "--json"}, &out, &errOut)
	if err != nil {
		t.Fatalf("tune --json error: %v\nstderr: %s", err, errOut.String())
	}
	var rep tuneReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("tune --json output %q: %v", out.String(), err)
	}
	if len(rep.Runs) != 2 || !strings.HasPrefix(rep.Chosen, "rank=3 ") || rep.Test.RMSE <= 0 || rep.Ranking.K != 10 || rep.Ranking.Users == 0 {
		t.Errorf("tune --json report = %+v", rep)
	}
	if n := rep.TrainRatings + rep.ValidationRatings + rep.TestRatings; n != 100836 {
		t.Errorf("split sizes sum to %d, want the bundled 100836", n)
	}
}

func TestTuneBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--ranks", "4,x"},
		{"--lambdas", ""},
		{"--ranks", "0"},
		{"--lambdas", "-1"},
		{"extra"},
	} {
		var out, errOut bytes.Buffer
		if err := runTune(t.Context(), args, &out, &errOut); err == nil {
			t.Errorf("tune %q: error nil, want one", args)
		}
	}
}
