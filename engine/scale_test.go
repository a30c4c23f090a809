package engine_test

import (
	"errors"
	"math"
	"testing"

	"movierec/engine"
)

func TestParseScale(t *testing.T) {
	tests := []struct {
		spec string
		want engine.Scale
		kind string
		ok   bool
	}{
		{"0.5:5:0.5", engine.MovieLensScale, engine.ScaleStepped, true},
		{"1:5:1", engine.WholeStarScale, engine.ScaleStepped, true},
		{"1:10:1", engine.Scale{Min: 1, Max: 10, Step: 1}, engine.ScaleStepped, true},
		{"-2:2:0.5", engine.Scale{Min: -2, Max: 2, Step: 0.5}, engine.ScaleStepped, true},
		{"1e0:1e1:1", engine.Scale{Min: 1, Max: 10, Step: 1}, engine.ScaleStepped, true},
		{"0:1", engine.Scale{Min: 0, Max: 1}, engine.ScaleContinuous, true},
		{"-1:1", engine.Scale{Min: -1, Max: 1}, engine.ScaleContinuous, true},
		{"unbounded", engine.Unbounded, engine.ScaleUnbounded, true},
		{"", engine.Scale{}, "", false},
		{"5", engine.Scale{}, "", false},
		{"1:2:3:4", engine.Scale{}, "", false},
		{"5:1", engine.Scale{}, "", false},
		{"1:1", engine.Scale{}, "", false},
		{"1:5:0", engine.Scale{}, "", false},
		{"1:5:-1", engine.Scale{}, "", false},
		{"1:5:2", engine.Scale{Min: 1, Max: 5, Step: 2}, engine.ScaleStepped, true},
		{"1:6:2", engine.Scale{}, "", false},
		{"0:1e9:1e-3", engine.Scale{}, "", false}, // too many steps
		{"nan:1", engine.Scale{}, "", false},
		{"inf:1", engine.Scale{}, "", false},
		{"0:1e39", engine.Scale{}, "", false},
		{"a:b", engine.Scale{}, "", false},
	}
	for _, tc := range tests {
		got, err := engine.ParseScale(tc.spec)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseScale(%q) = %v, %v, want %v, ok %v", tc.spec, got, err, tc.want, tc.ok)
			continue
		}
		if !tc.ok {
			continue
		}
		if k := got.Kind(); k != tc.kind {
			t.Errorf("ParseScale(%q).Kind() = %q, want %q", tc.spec, k, tc.kind)
		}
		back, err := engine.ParseScale(got.Spec())
		if err != nil || back != got {
			t.Errorf("ParseScale(%q.Spec() = %q) = %v, %v, want %v", tc.spec, got.Spec(), back, err, got)
		}
		min, max, step := float64(got.Min), float64(got.Max), float64(got.Step)
		if got.Kind() == engine.ScaleUnbounded {
			min, max, step = 0, 0, 0
		}
		stored, err := engine.ScaleOf(got.Kind(), min, max, step)
		if err != nil || stored != got {
			t.Errorf("ScaleOf(%q, %v, %v, %v) = %v, %v, want %v", got.Kind(), min, max, step, stored, err, got)
		}
	}
	if _, err := engine.ScaleOf("odd", 1, 5, 1); err == nil {
		t.Errorf("ScaleOf(odd) = nil error")
	}
}

func TestScaleKinds(t *testing.T) {
	neg := engine.Scale{Min: -2, Max: 2, Step: 0.5}
	tenScale := engine.Scale{Min: 1, Max: 10, Step: 1}
	tests := []struct {
		s    engine.Scale
		v    float64
		want float32
		ok   bool
	}{
		{neg, -2, -2, true}, {neg, -0.5, -0.5, true}, {neg, 0, 0, true}, {neg, 1.5, 1.5, true}, {neg, 2, 2, true},
		{neg, -0.3, 0, false}, {neg, -2.5, 0, false}, {neg, 2.5, 0, false},
		{tenScale, 10, 10, true}, {tenScale, 1, 1, true}, {tenScale, 11, 0, false}, {tenScale, 0.5, 0, false}, {tenScale, 0, 0, false},
		{engine.Unbounded, -9.4e-05, -9.4e-05, true}, {engine.Unbounded, 1e30, 1e30, true}, {engine.Unbounded, -1e30, -1e30, true},
		{engine.Unbounded, 1e39, 0, false}, {engine.Unbounded, math.NaN(), 0, false}, {engine.Unbounded, math.Inf(1), 0, false},
		{engine.Unbounded, math.Inf(-1), 0, false},
		{engine.Scale{Min: -1, Max: 1}, 0.45, 0.45, true}, {engine.Scale{Min: -1, Max: 1}, -0.3, -0.3, true},
		{engine.Scale{Min: -1, Max: 1}, 1.01, 0, false},
	}
	for _, tc := range tests {
		got, ok := tc.s.Snap(tc.v)
		if ok != tc.ok || got != tc.want {
			t.Errorf("%v.Snap(%v) = %v, %v, want %v, %v", tc.s, tc.v, got, ok, tc.want, tc.ok)
		}
		if ok && !tc.s.Contains(got) {
			t.Errorf("%v.Contains(%v) = false after Snap", tc.s, got)
		}
	}
	if got := neg.Allowed(); got != "-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2" {
		t.Errorf("Allowed() = %q", got)
	}
	if got := tenScale.Allowed(); got != "1, 2, 3, 4, 5, 6, 7, 8, 9, 10" {
		t.Errorf("Allowed() = %q", got)
	}
	if got := engine.Unbounded.String(); got != "any finite number" {
		t.Errorf("Unbounded.String() = %q", got)
	}
	for _, tc := range []struct {
		s       engine.Scale
		v, want float64
	}{
		{engine.MovieLensScale, 4.1, 4}, {engine.MovieLensScale, 4.3, 4.5}, {engine.MovieLensScale, 9, 5},
		{engine.Scale{Min: 0.1, Max: 1, Step: 0.1}, 0.82, 0.8}, {neg, -1.3, -1.5}, {engine.Scale{Min: -1, Max: 1}, 0.37, 0.37},
		{engine.Unbounded, -1e20, -1e20},
	} {
		if got := tc.s.Nearest(tc.v); got != tc.want {
			t.Errorf("%v.Nearest(%v) = %v, want %v", tc.s, tc.v, got, tc.want)
		}
	}
	if engine.Unbounded.Contains(float32(math.Inf(1))) || engine.Unbounded.Contains(float32(math.NaN())) {
		t.Errorf("Unbounded contains a non-finite value")
	}
	for _, tc := range []struct {
		s         engine.Scale
		v, want   float64
		mid       float64
		isBounded bool
	}{
		{tenScale, 12, 10, 5.5, true},
		{tenScale, -3, 1, 5.5, true},
		{engine.Unbounded, 1e20, 1e20, 0, false},
		{engine.Unbounded, -1e20, -1e20, 0, false},
	} {
		if got := tc.s.Clamp(tc.v); got != tc.want {
			t.Errorf("%v.Clamp(%v) = %v, want %v", tc.s, tc.v, got, tc.want)
		}
		if got := tc.s.Mid(); got != tc.mid {
			t.Errorf("%v.Mid() = %v, want %v", tc.s, got, tc.mid)
		}
		if got := tc.s.Bounded(); got != tc.isBounded {
			t.Errorf("%v.Bounded() = %v, want %v", tc.s, got, tc.isBounded)
		}
	}
}

func TestScaleDetector(t *testing.T) {
	many := make([]float32, 500)
	for i := range many {
		many[i] = float32(i)*0.0137 - 3
	}
	tests := []struct {
		name string
		vals []float32
		want engine.Scale
	}{
		{"half stars", []float32{4, 0.5, 5, 3.5, 2, 1, 1.5, 2.5, 3, 4.5}, engine.MovieLensScale},
		{"whole stars", []float32{1, 5, 3, 3, 2, 4}, engine.WholeStarScale},
		{"one to ten", []float32{1, 10, 7, 3}, engine.Scale{Min: 1, Max: 10, Step: 1}},
		{"negative grid", []float32{-1, 1, 0.5}, engine.Scale{Min: -1, Max: 1, Step: 0.5}},
		{"real scores", many, engine.Scale{Min: -3, Max: many[len(many)-1]}},
		{"tiny", []float32{-9.4e-05, 0.45, -0.3}, engine.Scale{Min: -0.3, Max: 0.45}},
		{"constant", []float32{1, 1, 1}, engine.Scale{Min: 1, Max: 1, Step: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d engine.ScaleDetector
			for _, v := range tc.vals {
				d.Add(v)
			}
			got, err := d.Scale()
			if err != nil || got != tc.want {
				t.Errorf("Scale() = %v (%s), %v, want %v (%s)", got, got.Spec(), err, tc.want, tc.want.Spec())
			}
			// Merging halves gives the same.
			var a, b engine.ScaleDetector
			for i, v := range tc.vals {
				if i%2 == 0 {
					a.Add(v)
				} else {
					b.Add(v)
				}
			}
			a.Merge(&b)
			if got, err := a.Scale(); err != nil || got != tc.want {
				t.Errorf("merged Scale() = %v, %v, want %v", got, err, tc.want)
			}
		})
	}
	var d engine.ScaleDetector
	if _, err := d.Scale(); !errors.Is(err, engine.ErrNoRatings) {
		t.Errorf("empty Scale() error = %v, want ErrNoRatings", err)
	}
	if n := testing.AllocsPerRun(100, func() { d.Add(4.5) }); n != 0 {
		t.Errorf("Add of a seen value allocates %v times", n)
	}
}
