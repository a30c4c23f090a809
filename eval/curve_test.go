package eval_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"testing"

	"movierec/als"
	"movierec/cpu"
	"movierec/engine"
	"movierec/eval"
)

// TestFitCurve checks that the curve has a point per iteration, that its
// last test error is the returned model's, that its training errors are
// the fit's progress, and that its times grow and leave scoring out.
func TestFitCurve(t *testing.T) {
	rs := ratings(6000)
	train, test := eval.Split(rs, 0.2, 3)
	r, ix := eval.Matrix(train)
	p := als.Params{Rank: 4, Iterations: 5, Lambda: 0.1, Seed: 1, Bias: true}
	var calls int
	m, pts, secs, err := eval.FitCurve(t.Context(), cpu.New(1), r, p, ix, engine.MovieLensScale, test, func(eval.CurvePoint) { calls++ })
	if err != nil {
		t.Fatalf("FitCurve: %v", err)
	}
	if len(pts) != p.Iterations || calls != p.Iterations {
		t.Fatalf("%d points, %d calls, want %d each", len(pts), calls, p.Iterations)
	}
	var ref []float64
	if _, _, err := eval.Fit(t.Context(), cpu.New(1), r, p, func(it als.Iteration) { ref = append(ref, it.TrainRMSE) }); err != nil {
		t.Fatal(err)
	}
	for i, pt := range pts {
		if pt.Iteration != i+1 {
			t.Errorf("point %d: iteration %d", i, pt.Iteration)
		}
		if pt.TrainRMSE != ref[i] {
			t.Errorf("point %d: train error %v, want the fit's %v", i, pt.TrainRMSE, ref[i])
		}
		if i > 0 && !(pt.Seconds >= pts[i-1].Seconds) {
			t.Errorf("point %d: %v s after %v s", i, pt.Seconds, pts[i-1].Seconds)
		}
	}
	if got, want := pts[len(pts)-1].TestRMSE, eval.Score(m, ix, engine.MovieLensScale, test).RMSE; got != want {
		t.Errorf("last point's test error %v, want the model's %v", got, want)
	}
	if !(secs >= pts[len(pts)-1].Seconds) {
		t.Errorf("total %v s < last point's %v s", secs, pts[len(pts)-1].Seconds)
	}
	// Each point scores the model as it stood then, not the final one.
	if pts[0].TestRMSE == pts[len(pts)-1].TestRMSE {
		t.Errorf("first and last test errors are both %v", pts[0].TestRMSE)
	}

	ip := als.DefaultImplicitParams()
	if _, _, _, err := eval.FitCurve(t.Context(), cpu.New(1), r, ip, ix, engine.MovieLensScale, test, nil); !errors.Is(err, als.ErrInvalidParams) {
		t.Errorf("implicit objective: err = %v, want ErrInvalidParams", err)
	}
}

// TestWriteLIBMF checks that the LIBMF files hold exactly the training
// matrix and the test pairs Score counts, in dense indices.
func TestWriteLIBMF(t *testing.T) {
	train := []engine.Rating{
		{User: 70, Movie: 5, Value: 4.5},
		{User: 70, Movie: 9, Value: 1},
		{User: 3, Movie: 9, Value: 2.5},
	}
	test := []engine.Rating{
		{User: 3, Movie: 5, Value: 3},
		{User: 3, Movie: 77, Value: 5}, // movie not in training
		{User: 8, Movie: 5, Value: 5},  // user not in training
		{User: 70, Movie: 9, Value: 0.5},
	}
	r, ix := eval.Matrix(train)
	var tr, te bytes.Buffer
	if err := eval.WriteLIBMF(&tr, &te, r, ix, test); err != nil {
		t.Fatal(err)
	}
	line := func(rt engine.Rating) string {
		return fmt.Sprintf("%d %d %g", ix.Users[rt.User], ix.Movies[rt.Movie], rt.Value)
	}
	wantTrain := map[string]bool{line(train[0]): true, line(train[1]): true, line(train[2]): true}
	wantTest := []string{line(test[0]), line(test[3])}
	sc := bufio.NewScanner(&tr)
	n := 0
	for sc.Scan() {
		if !wantTrain[sc.Text()] {
			t.Errorf("training line %q not in the matrix", sc.Text())
		}
		n++
	}
	if n != r.NNZ() {
		t.Errorf("%d training lines, want %d", n, r.NNZ())
	}
	sc = bufio.NewScanner(&te)
	var got []string
	for sc.Scan() {
		got = append(got, sc.Text())
	}
	if fmt.Sprint(got) != fmt.Sprint(wantTest) {
		t.Errorf("test lines %q, want %q", got, wantTest)
	}
}
