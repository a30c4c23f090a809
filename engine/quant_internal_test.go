package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"movierec/als"
)

// BenchmarkQuantize times quantize, the 8-bit copy of a published
// model's movie rows that every publish makes: ml-25m's 59,047 movies at
// rank 64 (and 128, the ranking model's default).
func BenchmarkQuantize(b *testing.B) {
	for _, k := range []int{64, 128} {
		const movies = 59_047
		rng := rand.New(rand.NewPCG(1, uint64(k)))
		m := &als.Model{Rank: k, NumItems: movies, ItemFactors: make([]float32, movies*k)}
		for i := range m.ItemFactors {
			m.ItemFactors[i] = float32(rng.NormFloat64() * 0.3)
		}
		b.Run(fmt.Sprintf("rank=%d", k), func(b *testing.B) {
			for b.Loop() {
				if quantize(m) == nil {
					b.Fatal("nil")
				}
			}
		})
	}
}
