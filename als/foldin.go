package als

import "math"

// FoldIn solves one user's ALS step against fixed item factors: exactly the
// user half of an iteration, restricted to one row. The engine uses it to
// give a user who just posted ratings a personal vector without a retrain.
//
// A FoldIn owns its scratch space and is not safe for concurrent use; Solve
// allocates nothing once the workspace has grown to the model's rank.
type FoldIn struct {
	a, b []float64
	y    []float64
}

// Solve writes user factors for the ratings (items[j], vals[j]) into x
// (len m.Rank) and returns the user's bias (0 without m.Bias). The ridge term
// is p.Ridge(len(items)), as in training (p is the parameters m was trained
// with: the explicit objective's). ok is false when items is empty or the
// system is not positive definite; x is then zeroed.
func (f *FoldIn) Solve(x []float32, m *Model, items []int32, vals []float32, p Params) (bias float32, ok bool) {
	k := m.Rank
	n := k
	if m.Bias {
		n++
	}
	x = x[:k]
	clear(x)
	if len(items) == 0 {
		return 0, false
	}
	f.a = grow(f.a, n*n)
	f.b = grow(f.b, n)
	f.y = grow(f.y, n)
	a, b, y := f.a, f.b, f.y
	clear(a)
	clear(b)
	for j, it := range items {
		yi := m.Item(int(it))
		for c := 0; c < k; c++ {
			y[c] = float64(yi[c])
		}
		r := float64(vals[j])
		if m.Bias {
			y[k] = 1
			r -= float64(m.Mean) + float64(m.ItemBias[it])
		}
		for p := 0; p < n; p++ {
			yp := y[p]
			row := a[p*n : p*n+p+1]
			for q := range row {
				row[q] += yp * y[q]
			}
			b[p] += r * yp
		}
	}
	reg := p.Ridge(len(items))
	for p := 0; p < n; p++ {
		a[p*n+p] += reg
	}
	if !CholeskySolve(a, b, n) {
		return 0, false
	}
	for c := 0; c < k; c++ {
		x[c] = float32(b[c])
	}
	if m.Bias {
		bias = float32(b[k])
	}
	return bias, true
}

func grow(s []float64, n int) []float64 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float64, n)
}

// CholeskySolve solves A·x = b in place for a symmetric positive definite
// n×n row-major A of which only the lower triangle (including the diagonal)
// is read. On return a's lower triangle holds L (A = L·Lᵀ) and b holds x.
// It returns false, leaving a and b partly overwritten, when A is not
// positive definite. It allocates nothing. This is the portable reference;
// the cpu package has a faster blocked variant.
func CholeskySolve(a, b []float64, n int) bool {
	for j := 0; j < n; j++ {
		rj := a[j*n : j*n+j+1]
		d := rj[j] - dot(rj[:j], rj[:j])
		if !(d > 0) {
			return false
		}
		d = math.Sqrt(d)
		rj[j] = d
		inv := 1 / d
		for i := j + 1; i < n; i++ {
			ri := a[i*n : i*n+j+1]
			ri[j] = (ri[j] - dot(ri[:j], rj[:j])) * inv
		}
	}
	// Forward: L·z = b.
	for i := 0; i < n; i++ {
		ri := a[i*n : i*n+i]
		s := b[i]
		for c, l := range ri {
			s -= l * b[c]
		}
		b[i] = s / a[i*n+i]
	}
	// Backward: Lᵀ·x = z.
	for i := n - 1; i >= 0; i-- {
		s := b[i]
		for r := i + 1; r < n; r++ {
			s -= a[r*n+i] * b[r]
		}
		b[i] = s / a[i*n+i]
	}
	return true
}

// dot returns Σ x[i]·y[i] (len(y) ≥ len(x)) with four partial sums: in
// plain Go one running sum waits on every addition. (Dot is its float32
// twin for serving; a generic one made Dot 20% slower, not inlined.)
func dot(x, y []float64) float64 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}
