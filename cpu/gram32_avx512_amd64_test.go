//go:build amd64 && !purego

package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestGramLower32AVX512 checks the AVX-512 kernel bit for bit against the
// AVX2 one (which TestGramLower32 checks against plain Go) for widths m
// from 8 to 136 (every mix of its 48-, 32-, 16- and 8-column tiles), row
// counts including 0, with and without acc, and that it writes exactly
// the elements the AVX2 kernel writes; on a CPU without AVX-512 it is
// skipped.
func TestGramLower32AVX512(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512 here")
	}
	rng := rand.New(rand.NewPCG(31, 32))
	for m := 8; m <= 136; m += 8 {
		for _, n := range []int{0, 1, 5, 37} {
			for _, acc := range []bool{false, true} {
				t.Run(fmt.Sprintf("m=%d/n=%d/acc=%v", m, n, acc), func(t *testing.T) {
					ldy, ldg := m+8, m+3
					y := make([]float32, max(n, 1)*ldy)
					for i := range y {
						y[i] = float32(rng.NormFloat64())
					}
					g := make([]float64, m*ldg)
					for i := range g {
						g[i] = math.NaN() // untouched elements stay NaN in both
						if acc {
							g[i] = rng.NormFloat64()
						}
					}
					want := append([]float64(nil), g...)
					gramLower32AVX2(want, ldg, y, ldy, n, m, acc)
					gramLower32AVX512(g, ldg, y, ldy, n, m, acc)
					for i := range want {
						if math.Float64bits(g[i]) != math.Float64bits(want[i]) {
							t.Fatalf("G[%d][%d] = %v, AVX2 %v", i/ldg, i%ldg, g[i], want[i])
						}
					}
				})
			}
		}
	}
}
