package eval

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"movierec/als"
)

// DefaultEASELambda is EASE's ridge λ in eval, Steck's value for
// MovieLens-sized data.
const DefaultEASELambda = 300

// EASE is Steck's (2019) "Embarrassingly Shallow Autoencoder", a
// closed-form item-item linear model: with X the binary user×movie matrix
// of training ratings (1 where rated, whatever the value), P = (XᵀX + λI)⁻¹
// and B = I − P·diag(1/diag(P)) (so diag(B) = 0), user u's score of movie j
// is Σ_i X_ui B_ij. It costs a dense n×n inverse, so it is built over a
// subset of n movies: those with at least minRatings training ratings.
// Movies outside it neither score (they rank last, at −∞) nor add to other
// movies' scores.
type EASE struct {
	r     *als.Ratings
	items []int32   // EASE's movies (dense indices), ascending
	pos   []int32   // by dense movie: index in items, or -1
	b     []float32 // len(items)² row-major: b[p·n+q] = B between items[p] and items[q]
}

// NewEASE fits EASE to r over the movies with at least minRatings ratings
// in r. λ must be positive. r is retained and only read.
func NewEASE(r *als.Ratings, lambda float64, minRatings int) (*EASE, error) {
	if !(lambda > 0) || math.IsInf(lambda, 0) {
		return nil, fmt.Errorf("EASE: λ %v must be positive and finite", lambda)
	}
	e := &EASE{r: r, pos: make([]int32, r.NumItems)}
	for i := range r.NumItems {
		e.pos[i] = -1
		if r.ItemPtr[i+1]-r.ItemPtr[i] >= int64(max(minRatings, 0)) {
			e.pos[i] = int32(len(e.items))
			e.items = append(e.items, int32(i))
		}
	}
	n := len(e.items)
	if n == 0 {
		return e, nil
	}
	// G = XᵀX + λI, upper triangle, from each user's rated EASE movies.
	g := make([]float64, n*n)
	var rated []int32
	for u := range r.NumUsers {
		rated = rated[:0]
		for _, i := range r.UserIdx[r.UserPtr[u]:r.UserPtr[u+1]] {
			if p := e.pos[i]; p >= 0 {
				rated = append(rated, p)
			}
		}
		for a, p := range rated {
			row := g[int(p)*n:]
			for _, q := range rated[a:] {
				if q >= p {
					row[q]++
				} else {
					g[int(q)*n+int(p)]++
				}
			}
		}
	}
	for p := range n {
		g[p*n+p] += lambda
	}
	var chol mat.Cholesky
	if !chol.Factorize(mat.NewSymDense(n, g)) {
		return nil, fmt.Errorf("EASE: XᵀX + λI over %d movies is not positive definite", n)
	}
	var inv mat.SymDense
	if err := chol.InverseTo(&inv); err != nil {
		return nil, fmt.Errorf("EASE: invert XᵀX + λI over %d movies: %w", n, err)
	}
	e.b = make([]float32, n*n)
	for p := range n {
		for q := range n {
			if p != q {
				e.b[p*n+q] = float32(-inv.At(p, q) / inv.At(q, q))
			}
		}
	}
	return e, nil
}

// Movies returns the number of movies EASE was fitted over.
func (e *EASE) Movies() int { return len(e.items) }

// Weight returns B between dense movies i and j: 0 when either is outside
// EASE's movies or i = j.
func (e *EASE) Weight(i, j int) float64 {
	p, q := e.pos[i], e.pos[j]
	if p < 0 || q < 0 {
		return 0
	}
	return float64(e.b[int(p)*len(e.items)+int(q)])
}

// Score is EASE's Scorer: user u's score of movie j is the sum of B's rows
// of the EASE movies u rated, at j; −∞ for movies outside EASE's.
func (e *EASE) Score(dst []float64, u int, items []int32) {
	for _, j := range e.items {
		dst[j] = 0
	}
	for _, j := range items {
		if e.pos[j] < 0 {
			dst[j] = math.Inf(-1)
		}
	}
	n := len(e.items)
	for _, i := range e.r.UserIdx[e.r.UserPtr[u]:e.r.UserPtr[u+1]] {
		p := e.pos[i]
		if p < 0 {
			continue
		}
		row := e.b[int(p)*n : int(p+1)*n]
		for q, w := range row {
			dst[e.items[q]] += float64(w)
		}
	}
}
