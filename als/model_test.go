package als

import (
	"math"
	"testing"
)

// TestInitFactorsParallel checks that a table large enough to be filled
// by several goroutines gets, bit for bit, the values of one serial pass
// (row j's stream depends only on seed, side and j), each row of unit
// length.
func TestInitFactorsParallel(t *testing.T) {
	const k = 33
	rows := 3*initParallel/k + 7
	got := make([]float32, rows*k)
	InitFactors(got, k, 5, 1)
	want := make([]float32, rows*k)
	initRows(want, k, 5, 1, 0, rows)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("value %d: %v, serial %v", i, got[i], want[i])
		}
	}
	for j := 0; j < rows; j += 997 {
		var s float64
		for _, v := range got[j*k : j*k+k] {
			s += float64(v) * float64(v)
		}
		if math.Abs(s-1) > 1e-5 {
			t.Fatalf("row %d: squared norm %v", j, s)
		}
	}
}
