package als

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
)

// Model is a trained factorisation. Factors are float32, row-major: user u's
// vector is UserFactors[u*Rank:(u+1)*Rank], item i's is
// ItemFactors[i*Rank:(i+1)*Rank].
//
// With Bias, a prediction is Mean + UserBias[u] + ItemBias[i] + x_u·y_i;
// without, it is x_u·y_i (Mean and the bias slices are zero/nil).
//
// A Model is written only by the solver that fits it; once published it is
// immutable and safe for concurrent reads.
type Model struct {
	Rank               int
	NumUsers, NumItems int

	UserFactors []float32
	ItemFactors []float32

	Bias     bool
	Mean     float32
	UserBias []float32 // len NumUsers when Bias
	ItemBias []float32 // len NumItems when Bias
}

// Prepare sizes dst for r and p (reusing its slices when large enough) and
// initialises it the way every backend must start: each user and item factor
// a Gaussian vector scaled to unit length, drawn from a PCG stream keyed by
// (Seed, side, row) so the result does not depend on the number of workers;
// biases zero; Mean the ratings' mean when p.Bias.
func Prepare(dst *Model, r *Ratings, p Params) {
	shape(dst, r, p)
	InitFactors(dst.UserFactors, p.Rank, p.Seed, 0)
	InitFactors(dst.ItemFactors, p.Rank, p.Seed, 1)
}

// Shape is Prepare without the factors' initialisation: it sizes dst for
// r and p (reusing its slices when large enough), zeroes its biases and
// sets its mean, and leaves the factors as they were. It is for a solver
// that draws the starting factors itself, row by row, when it first reads
// them (InitFactorRows gives each row Prepare's values), and overwrites
// the rows it never reads.
func Shape(dst *Model, r *Ratings, p Params) { shape(dst, r, p) }

// shape sizes dst for r and p (reusing its slices when large enough),
// zeroes its biases and sets its mean, as Prepare does; the factors are
// left as they were.
func shape(dst *Model, r *Ratings, p Params) {
	k := p.Rank
	dst.Rank = k
	dst.NumUsers, dst.NumItems = r.NumUsers, r.NumItems
	dst.UserFactors = resize(dst.UserFactors, r.NumUsers*k)
	dst.ItemFactors = resize(dst.ItemFactors, r.NumItems*k)
	dst.Bias = p.Bias
	if p.Bias {
		dst.Mean = float32(r.Mean())
		dst.UserBias = resize(dst.UserBias, r.NumUsers)
		dst.ItemBias = resize(dst.ItemBias, r.NumItems)
		clear(dst.UserBias)
		clear(dst.ItemBias)
	} else {
		dst.Mean = 0
		dst.UserBias, dst.ItemBias = nil, nil
	}
}

// PrepareFrom is Prepare with a warm start from another model: the
// factors (and biases) of from's users and items are copied into dst's
// rows of the same index, for the rows both have; only the rows beyond
// from's get Prepare's random initialisation. from must have p's rank and
// bias setting (WarmCompatible), and its rows must mean the same users
// and items as r's first rows (a caller whose ids moved builds from in r's
// index space, with InitFactorRows for the rows it lacks). dst and from
// must not share slices.
func PrepareFrom(dst *Model, r *Ratings, p Params, from *Model) {
	shape(dst, r, p)
	k := p.Rank
	nu, ni := min(from.NumUsers, r.NumUsers), min(from.NumItems, r.NumItems)
	copy(dst.UserFactors[:nu*k], from.UserFactors[:nu*k])
	copy(dst.ItemFactors[:ni*k], from.ItemFactors[:ni*k])
	InitFactorRows(dst.UserFactors, k, p.Seed, 0, nu, r.NumUsers)
	InitFactorRows(dst.ItemFactors, k, p.Seed, 1, ni, r.NumItems)
	if p.Bias {
		copy(dst.UserBias[:nu], from.UserBias[:nu])
		copy(dst.ItemBias[:ni], from.ItemBias[:ni])
	}
}

// WarmCompatible reports whether a fit with p can start from m
// (PrepareFrom): the same rank and bias setting, and factors of the
// sizes m says.
func WarmCompatible(m *Model, p Params) bool {
	return m != nil && m.Rank == p.Rank && m.Bias == p.Bias &&
		len(m.UserFactors) == m.NumUsers*m.Rank && len(m.ItemFactors) == m.NumItems*m.Rank &&
		(!m.Bias || len(m.UserBias) == m.NumUsers && len(m.ItemBias) == m.NumItems)
}

func resize(s []float32, n int) []float32 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float32, n)
}

// InitFactors fills dst (rows of length k) with unit-length Gaussian vectors.
// Row j uses its own PCG stream seeded by (seed, side<<62 | j), so any
// partition of the rows among workers yields the same values. side is 0 for
// users and 1 for items.
//
// Tables of more than initParallel values are filled by up to GOMAXPROCS
// goroutines, each taking a contiguous range of rows: the draws cost about
// 10 ns a value, 14 ms for ml-latest-small at rank 128, serial time
// before any training starts.
func InitFactors(dst []float32, k int, seed int64, side uint64) {
	if k <= 0 || len(dst)%k != 0 {
		panic(fmt.Sprintf("als: InitFactors len %d not a multiple of rank %d", len(dst), k))
	}
	InitFactorRows(dst, k, seed, side, 0, len(dst)/k)
}

// InitFactorRows is InitFactors on rows lo..hi-1 of dst only: each gets
// the values InitFactors gives it.
func InitFactorRows(dst []float32, k int, seed int64, side uint64, lo, hi int) {
	parts := min(runtime.GOMAXPROCS(0), (hi-lo)*k/initParallel)
	if parts <= 1 {
		initRows(dst, k, seed, side, lo, hi)
		return
	}
	var wg sync.WaitGroup
	for p := range parts {
		a, b := lo+(hi-lo)*p/parts, lo+(hi-lo)*(p+1)/parts
		wg.Go(func() { initRows(dst, k, seed, side, a, b) })
	}
	wg.Wait()
}

// initParallel is the least number of values InitFactors splits among
// goroutines per part.
const initParallel = 1 << 16

// initRows is InitFactors on rows lo..hi-1.
func initRows(dst []float32, k int, seed int64, side uint64, lo, hi int) {
	var src rand.PCG
	rng := rand.New(&src)
	for j := lo; j < hi; j++ {
		src.Seed(uint64(seed), side<<62|uint64(j))
		row := dst[j*k : (j+1)*k]
		var nrm float64
		for c := range row {
			g := rng.NormFloat64()
			row[c] = float32(g)
			nrm += g * g
		}
		s := float32(1 / math.Sqrt(nrm))
		for c := range row {
			row[c] *= s
		}
	}
}

// User returns user u's factor vector, aliasing m's storage.
func (m *Model) User(u int) []float32 { return m.UserFactors[u*m.Rank : (u+1)*m.Rank] }

// Item returns item i's factor vector, aliasing m's storage.
func (m *Model) Item(i int) []float32 { return m.ItemFactors[i*m.Rank : (i+1)*m.Rank] }

// Predict returns the model's raw (unclamped) prediction for user u, item i.
func (m *Model) Predict(u, i int) float64 {
	p := float64(Dot(m.User(u), m.Item(i)))
	if m.Bias {
		p += float64(m.Mean) + float64(m.UserBias[u]) + float64(m.ItemBias[i])
	}
	return p
}

// Dot returns x·y accumulated in float32, the precision serving uses.
// len(y) must be at least len(x).
func Dot(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
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

// Clone returns a deep copy of m.
func (m *Model) Clone() *Model {
	c := *m
	c.UserFactors = append([]float32(nil), m.UserFactors...)
	c.ItemFactors = append([]float32(nil), m.ItemFactors...)
	if m.Bias {
		c.UserBias = append([]float32(nil), m.UserBias...)
		c.ItemBias = append([]float32(nil), m.ItemBias...)
	}
	return &c
}
