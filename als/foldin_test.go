package als_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"movierec/als"
)

// TestSolveImplicitResidual checks the implicit fold-in against its normal
// equations, formed plainly in float64: (w₀G + Σ (c − w₀) y yᵀ + reg·I) x
// = Σ c y, for every count of ratings modulo the four it takes at a time,
// and with weights c − w₀ below zero.
func TestSolveImplicitResidual(t *testing.T) {
	const k, items = 24, 40
	rng := rand.New(rand.NewPCG(3, 4))
	m := &als.Model{Rank: k, NumItems: items, ItemFactors: make([]float32, items*k)}
	for i := range m.ItemFactors {
		m.ItemFactors[i] = float32(rng.NormFloat64() * 0.3)
	}
	gram := als.Gram(m.ItemFactors, k)
	for _, tc := range []struct {
		name              string
		alpha, unobserved float64
	}{
		{"positive weights", 1, 1},
		{"negative weights", 0.2, 3}, // c = 1 + 0.2r < 3 for every rating
	} {
		p := als.DefaultImplicitParams()
		p.Rank, p.Alpha, p.Unobserved = k, tc.alpha, tc.unobserved
		for n := 1; n <= 13; n++ {
			ids := rng.Perm(items)[:n]
			its := make([]int32, n)
			vals := make([]float32, n)
			for j, id := range ids {
				its[j], vals[j] = int32(id), float32(1+rng.IntN(10))/2
			}
			var f als.FoldIn
			x := make([]float32, k)
			if !f.SolveImplicit(x, m, gram, its, vals, p) {
				t.Fatalf("%s, %d ratings: SolveImplicit = false", tc.name, n)
			}
			// r = A·x − b, formed row by row.
			reg := p.RowReg(n, items)
			var rn, bn float64
			for q := range k {
				var ax, b float64
				for s := range k {
					a := p.Unobserved * gram[q*k+s]
					if s == q {
						a += reg
					}
					for j, it := range its {
						y := m.Item(int(it))
						a += (p.Confidence(vals[j]) - p.Unobserved) * float64(y[q]) * float64(y[s])
					}
					ax += a * float64(x[s])
				}
				for j, it := range its {
					b += p.Confidence(vals[j]) * float64(m.Item(int(it))[q])
				}
				rn += (ax - b) * (ax - b)
				bn += b * b
			}
			if rel := math.Sqrt(rn / bn); !(rel < 1e-5) {
				t.Errorf("%s, %d ratings: relative residual %.3g", tc.name, n, rel)
			}
		}
	}
}
