package store_test

import (
	"math"
	"testing"

	"movierec/store"
)

func TestIDSet(t *testing.T) {
	var s store.IDSet
	in := []int32{0, 1, 63, 64, 1<<24 - 1, 1 << 24, math.MaxInt32, -5}
	for _, id := range in {
		s.Add(id)
	}
	for _, id := range in {
		if !s.Has(id) {
			t.Errorf("Has(%d) = false after Add", id)
		}
	}
	for _, id := range []int32{2, 62, 65, 1<<24 + 1, math.MaxInt32 - 1, -4, math.MinInt32} {
		if s.Has(id) {
			t.Errorf("Has(%d) = true, never added", id)
		}
	}
}
