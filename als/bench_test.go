package als_test

import (
	"testing"

	"movierec/als"
)

// BenchmarkGram measures the item Gram matrix the engine forms for the
// ranking model's fold-ins (on every publication, and before a start
// folds in the users who rated since): the ml-25m preset's 59,047 movies
// at rank 128.
func BenchmarkGram(b *testing.B) {
	const rows, k = 59047, 128
	f := make([]float32, rows*k)
	for i := range f {
		f[i] = float32(i%97) / 97
	}
	for b.Loop() {
		als.Gram(f, k)
	}
}
