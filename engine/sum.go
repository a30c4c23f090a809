package engine

import (
	"math"
	"sync/atomic"
)

// floatSum is a float64 that goroutines add to atomically: a movie's sum
// of ratings. Any finite rating fits (issue 11: ratings of any scale, such
// as -9.4e-05 or 1e12, which the former fixed-point sum in thousandths
// rounded or overflowed). Sums of half stars stay exact: every partial sum
// is a multiple of 0.5 far below 2^52, so adding and removing ratings
// leaves no drift.
type floatSum struct{ bits atomic.Uint64 }

// Add adds d.
func (s *floatSum) Add(d float64) {
	for {
		old := s.bits.Load()
		if s.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+d)) {
			return
		}
	}
}

// Store sets the sum to v.
func (s *floatSum) Store(v float64) { s.bits.Store(math.Float64bits(v)) }

// Load returns the sum.
func (s *floatSum) Load() float64 { return math.Float64frombits(s.bits.Load()) }
