package engine

import (
	"math"
	"testing"
)

// TestContainsFunc: the table lookup that load uses agrees with Contains
// on every value of each scale, their float32 neighbours, the midpoints,
// values out of range and NaN/±Inf.
func TestContainsFunc(t *testing.T) {
	for _, s := range []Scale{
		MovieLensScale,
		{Min: 1, Max: 10, Step: 1},
		{Min: -2, Max: 2, Step: 0.5},
		{Min: 0.1, Max: 0.3, Step: 0.1},
		{Min: -1, Max: 1, Step: 0.01},
		{Min: -1, Max: 1},
		Unbounded,
	} {
		contains := s.containsFunc()
		probes := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, -0.5, 1e9, -1e9}
		if s.Step > 0 {
			n := int(s.steps())
			for k := -2; k <= n+2; k++ {
				v := s.Min + float32(k)*s.Step
				probes = append(probes, v, math.Nextafter32(v, float32(math.Inf(1))), math.Nextafter32(v, float32(math.Inf(-1))), v+s.Step/2)
				if _, f, ok := s.step(float64(k)); ok {
					probes = append(probes, f)
				}
			}
		}
		in := 0
		for _, v := range probes {
			got, want := contains(v), s.Contains(v)
			if got != want {
				t.Errorf("scale %v: containsFunc()(%v) = %t, Contains = %t", s, v, got, want)
			}
			if want {
				in++
			}
		}
		if s.Step > 0 && in < int(s.steps())+1 {
			t.Errorf("scale %v: only %d probes on the scale, want every one of its %d values", s, in, int(s.steps())+1)
		}
	}
}
