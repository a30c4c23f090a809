package engine

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"

	"movierec/als"
	"movierec/internal/f32"
)

// quantCase quantises the rows of m (all of them eligible) and the user
// vector x, and returns the table, the approximate products t (DotsInt8)
// and the float32 scores the full pass gives (f32.Dots).
func quantCase(t *testing.T, m *als.Model, x []float32) (p *quantRows, uq userQuant, approx, exact []float32) {
	t.Helper()
	el := &eligibleMovies{ix: make([]int32, m.NumItems)}
	for i := range el.ix {
		el.ix[i] = int32(i)
	}
	p = pack(m, quantize(m), el)
	if !p.exact {
		t.Fatal("quantize: rows out of the bound's range")
	}
	if !quantizeUser(&uq, x, m.Rank, p.stride) {
		t.Fatal("quantizeUser: vector out of the bound's range")
	}
	approx = make([]float32, m.NumItems)
	f32.DotsInt8(approx, p.q, p.scale, m.Rank, uq.w)
	exact = make([]float32, m.NumItems)
	f32.Dots(exact, m.ItemFactors, m.Rank, x)
	return p, uq, approx, exact
}

// TestQuantBound checks the error bound quant.go derives, row by row:
// downBound ≤ the full pass's score ≤ upBound, with a bias term added
// alike, over random rows and users at magnitudes across the range the
// bound covers and ranks 1 to 260. Then on adversarial rows, whose every
// element sits just short of a rounding midpoint, with a user whose signs
// line the errors up, it checks the bound is nearly reached (over 95%):
// the bound is not slack to drop or shrink, and the list test
// TestQuantBoundNeeded shows what dropping it does.
func TestQuantBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for trial := range 300 {
		k := 1 + rng.IntN(260)
		rowMag := math.Ldexp(1, rng.IntN(56)-28)
		userMag := math.Ldexp(1, rng.IntN(56)-28)
		m := &als.Model{Rank: k, NumItems: 37, ItemFactors: make([]float32, 37*k)}
		for j := range m.ItemFactors {
			m.ItemFactors[j] = float32(rng.NormFloat64() * rowMag)
			if j%k == 0 { // no row so small that it leaves the range
				m.ItemFactors[j] = float32(rowMag * (1 + math.Abs(rng.NormFloat64())))
			}
		}
		x := make([]float32, k)
		for c := range x {
			x[c] = float32(rng.NormFloat64() * userMag)
		}
		x[0] = float32(userMag)
		p, uq, approx, exact := quantCase(t, m, x)
		bias := float32(rng.NormFloat64() * rowMag * userMag * float64(k))
		for j := range m.NumItems {
			lo, hi := downBound(approx[j], p.scale[j], uq.tau, uq.W), upBound(approx[j], p.scale[j], uq.tau, uq.W)
			if !(lo <= exact[j] && exact[j] <= hi) {
				t.Fatalf("trial %d, k=%d, row %d: full pass %v outside [%v, %v]", trial, k, j, exact[j], lo, hi)
			}
			if e := exact[j] + bias; !(lo+bias <= e && e <= hi+bias) {
				t.Fatalf("trial %d, k=%d, row %d, bias %v: full pass %v outside [%v, %v]", trial, k, j, bias, e, lo+bias, hi+bias)
			}
		}
	}

	const k = 64
	m := &als.Model{Rank: k, NumItems: 50, ItemFactors: make([]float32, 50*k)}
	x := make([]float32, k)
	for c := range x {
		x[c] = 1
	}
	for i := range m.NumItems {
		row := m.ItemFactors[i*k : (i+1)*k]
		row[0] = 1 // the largest: the scale is 1/127
		s := float64(float32(1.0 / 127))
		for c := 1; c < k; c++ {
			// n + 0.499 steps rounds down to n: an error of −0.499·s,
			// the same sign in every column.
			row[c] = float32((float64(rng.IntN(100)) + 0.499) * s)
		}
	}
	p, uq, approx, exact := quantCase(t, m, x)
	worst := 0.0
	for j := range m.NumItems {
		a := float64(approx[j] * uq.tau)
		b := float64(p.scale[j] * uq.W)
		if d := math.Abs(a - float64(exact[j])); d > b {
			t.Fatalf("adversarial row %d: error %v beyond the bound %v", j, d, b)
		} else {
			worst = max(worst, d/b)
		}
	}
	if worst < 0.95 {
		t.Errorf("adversarial rows reach %.3f of the bound, want > 0.95", worst)
	}
}

// TestQuantizeUser checks the user vector's quantisation: w within
// f32.Int16Limit(k) and zero past k, u ≈ tau·w to half a step, and the
// vectors the bound does not cover refused.
func TestQuantizeUser(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, k := range []int{1, 7, 64, 513, 1000} {
		st := f32.Int8Stride(k)
		x := make([]float32, k)
		for c := range x {
			x[c] = float32(rng.NormFloat64())
		}
		var uq userQuant
		if !quantizeUser(&uq, x, k, st) {
			t.Fatalf("k=%d: refused", k)
		}
		lim := f32.Int16Limit(k)
		for c, w := range uq.w {
			if c >= k && w != 0 || int(w) > lim || int(w) < -lim {
				t.Fatalf("k=%d: w[%d] = %d, limit %d", k, c, w, lim)
			}
			if c < k && math.Abs(float64(x[c])-float64(uq.tau)*float64(w)) > float64(uq.tau)/2 {
				t.Fatalf("k=%d: u[%d] = %v, tau·w = %v", k, c, x[c], float64(uq.tau)*float64(w))
			}
		}
		if frac, _ := math.Frexp(float64(uq.tau)); frac != 0.5 {
			t.Errorf("k=%d: tau %v is not a power of two", k, uq.tau)
		}
	}
	var uq userQuant
	if !quantizeUser(&uq, make([]float32, 5), 5, 8) || uq.W != 0 {
		t.Errorf("zero vector: W = %v, want accepted with W = 0", uq.W)
	}
	for _, bad := range [][]float32{
		{0.5, float32(math.NaN())}, {float32(math.Inf(-1)), 0.5}, {1e10, 0.5}, {1e-10, -2e-10},
	} {
		if quantizeUser(&uq, bad, 2, 8) {
			t.Errorf("vector %v accepted", bad)
		}
	}
}

// TestQuantBoundNeeded: on near-ties that 8 bits cannot tell apart (rows
// (c, δ) with δ below half a quantisation step, so the approximate scores
// order the rows by c alone and the exact ones by c + δ), a list chosen
// from the approximate scores without the error bound differs from the
// full pass's, and with the bound it is the same.
func TestQuantBoundNeeded(t *testing.T) {
	const n, k, size = 400, 2, 10
	rng := rand.New(rand.NewPCG(25, 26))
	m := &als.Model{Rank: k, NumItems: n, ItemFactors: make([]float32, n*k)}
	e := &Engine{movies: make([]Movie, n), counts: make([]atomic.Int32, n)}
	for i := range n {
		m.ItemFactors[i*k] = 1 + 0.004*float32(rng.Float64())
		m.ItemFactors[i*k+1] = 0.0039 * float32(rng.Float64())
		e.movies[i] = Movie{ID: int32(n - i)}
		e.counts[i].Store(1)
	}
	x := []float32{1, 1}

	// The full pass.
	exact := make([]float32, n)
	f32.Dots(exact, m.ItemFactors, k, x)
	want := topN{n: size}
	for i, s := range exact {
		want.push(cand{score: s, id: e.movies[i].ID, ix: int32(i)})
	}
	wantList := slices.Clone(want.sorted())

	p, uq, _, _ := quantCase(t, m, x)
	list := func(w float32) []cand {
		sc := &scratch{uq: uq}
		sc.uq.W = w
		top := topN{n: size}
		e.siftQuant(&top, sc, p, x, 0, nil, 0, "")
		return slices.Clone(top.sorted())
	}
	if got := list(uq.W); !slices.Equal(got, wantList) {
		t.Errorf("list with the bound = %v, want (full pass) %v", got, wantList)
	}
	if got := list(0); slices.Equal(got, wantList) {
		t.Errorf("list without the bound = the full pass's %v: the rows do not test the bound", got)
	}
}
