package engine_test

import (
	"math"
	"testing"

	"movierec/engine"
)

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"4", 4, true}, {"4.5", 4.5, true}, {"-1.0", -1, true}, {"+3", 3, true}, {"5.1e-05", 5.1e-05, true},
		{"45E-1", 4.5, true}, {"4.50e+0", 4.5, true}, {"007", 7, true}, {"1e-400", 0, true},
		{"", 0, false}, {"0_5", 0, false}, {"0x1p2", 0, false}, {"inf", 0, false}, {"Inf", 0, false}, {"+Inf", 0, false},
		{"nan", 0, false}, {"NaN", 0, false}, {"Infinity", 0, false}, {"4 .5", 0, false}, {" 4", 0, false}, {"4 ", 0, false},
		{".5", 0, false}, {"5.", 0, false}, {"1e", 0, false}, {"1e+", 0, false}, {"e5", 0, false}, {"-", 0, false},
		{"1e400", 0, false}, {"4,5", 0, false}, {"٤", 0, false}, {"1.2.3", 0, false}, {"--1", 0, false}, {"1e5.5", 0, false},
	}
	for _, tc := range tests {
		got, ok := engine.ParseDecimal([]byte(tc.in))
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseDecimal(%q) = %v, %v, want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = engine.ParseDecimal([]byte("4.5000004e-00")) }); n != 0 {
		t.Errorf("ParseDecimal allocates %v times, want 0", n)
	}
}

func TestScaleSnap(t *testing.T) {
	tenths := engine.Scale{Min: 0.1, Max: 1, Step: 0.1}
	tests := []struct {
		s    engine.Scale
		v    float64
		want float32
		ok   bool
	}{
		{engine.MovieLensScale, 4.5, 4.5, true},
		{engine.MovieLensScale, 0.5, 0.5, true},
		{engine.MovieLensScale, 5, 5, true},
		{engine.MovieLensScale, 4.5000004, 0, false},
		{engine.MovieLensScale, 4.5000001, 0, false},
		{engine.MovieLensScale, 4.4999999, 0, false},
		{engine.MovieLensScale, 3.2, 0, false},
		{engine.MovieLensScale, 0, 0, false},
		{engine.MovieLensScale, 5.5, 0, false},
		{engine.MovieLensScale, math.NaN(), 0, false},
		{engine.MovieLensScale, math.Inf(1), 0, false},
		{engine.WholeStarScale, 3, 3, true},
		{engine.WholeStarScale, 3.5, 0, false},
		{tenths, 0.3, 0.3, true},
		{tenths, 0.7, 0.7, true},
		{tenths, 1, 1, true},
		{tenths, 0.30000001, 0, false},
		{tenths, float64(float32(0.3)), 0, false},
		{engine.Scale{Min: 1, Max: 10}, 2.25, 2.25, true},
		{engine.Scale{Min: 1, Max: 10}, 10.5, 0, false},
	}
	for _, tc := range tests {
		got, ok := tc.s.Snap(tc.v)
		if ok != tc.ok || got != tc.want {
			t.Errorf("%v.Snap(%v) = %v, %v, want %v, %v", tc.s, tc.v, got, ok, tc.want, tc.ok)
		}
		if ok && !tc.s.Contains(got) {
			t.Errorf("%v.Contains(%v) = false, want true", tc.s, got)
		}
	}
	if engine.MovieLensScale.Contains(4.5000005) {
		t.Errorf("MovieLensScale.Contains(4.5000005) = true, want false")
	}
	if got, want := engine.MovieLensScale.Allowed(), "0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5"; got != want {
		t.Errorf("MovieLensScale.Allowed() = %q, want %q", got, want)
	}
	if got, want := tenths.Allowed(), "0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1"; got != want {
		t.Errorf("tenths.Allowed() = %q, want %q", got, want)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = engine.MovieLensScale.Snap(4.5) }); n != 0 {
		t.Errorf("Snap allocates %v times, want 0", n)
	}
}
