package engine

import (
	"math"

	"movierec/als"
	"movierec/internal/f32"
)

// Top-N lists from 8-bit rows, exactly.
//
// A list with the engine's own rating floor reads, per call, the factors
// of every movie at or above the floor: 26,717 rows at rank 64 on the
// ml-25m preset, 6.8 MB of float32, which memory bandwidth makes the
// call's main cost. So each published model's rows of the eligible movies
// are kept as int8 (quantRows: a quarter of the bytes, plus a scale per
// row), the user vector is quantised to int16, and f32.DotsInt8 gives an
// approximate score a_i for every candidate. With a rigorous bound B_i on
// |a_i − e_i|, where e_i is the float32 score the full pass (f32.Dots on
// the model's rows) computes, every candidate has an interval
// [lo_i, hi_i] ∋ e_i (biases added alike). T, the N-th largest lo over the
// candidates, is a lower bound on the N-th best exact score, so a
// candidate with hi_i < T cannot be in the list; the others (a few dozen
// for N = 10) are scored again exactly, gathered from the model's own
// item table with f32.DotsIdx, which gives each row the same float32
// value as the full pass wherever the row sits. The list is therefore the
// one the full pass gives: the same movies, order and scores.
//
// The bound. Take a row v (k values) with m = max|v_c| in [2⁻³⁰, 2³⁰]
// (or 0), s = float32(m/127) and q_c = round(v_c/s) (in float64, so
// |q_c| ≤ 127 and |s·q_c − v_c| ≤ s·(1/2 + 2⁻⁴⁰), checked when the row is
// quantised), and the user vector u with max|u_c| in [2⁻³⁰, 2³⁰] (or 0),
// τ = a power of two with max|u_c|/τ ≤ P = f32.Int16Limit(k), w_c =
// round(u_c/τ) (exact scaling), L = Σ|u_c| and ε = Σ|u_c − τ·w_c|. Write
// d = Σ v_c·u_c for the real dot product and S = Σ q_c·w_c (exact in
// int32). Then, with γ(n) = n·2⁻²⁴/(1 − n·2⁻²⁴):
//
//   - DotsInt8 gives t = fl(fl(S)·s), so a = t·τ (exact) is within
//     γ(2)·s·Σ|q_c||τw_c| ≤ γ(2)·128·s·(L + ε) of s·τ·S;
//   - |s·τ·S − d| ≤ Σ|s·q_c|·|τw_c − u_c| + Σ|s·q_c − v_c|·|u_c|
//     ≤ 128·s·ε + s·(1/2 + 2⁻⁴⁰)·L (|s·q_c| ≤ 127.00001·s);
//   - the full pass's e is within γ(k)·Σ|v_c||u_c| ≤ γ(k)·128·s·L of d
//     (any order of summation, fused or not; f32's documented bound).
//
// So |a − e| ≤ s·[(1/2 + 128·γ(k) + 256·γ(2) + 2⁻⁴⁰)·L + 128·(1 + γ(2))·ε].
// lo = fl(a − B) and hi = fl(a + B) round once more, by at most
// 2⁻²⁴·(|a| + B) ≤ 2⁻²⁴·s·(129·L + 258·ε); adding the bias term b (itself
// rounded once, the same float32 as in the full pass) rounds
// monotonically, so fl(lo + b) ≤ fl(e + b) ≤ fl(hi + b) follows from
// lo ≤ e ≤ hi. Hence B = s·W with
//
//	W = [(1/2 + 128·γ(k) + 2⁻¹²)·L + 129·ε] · (1 + 2⁻²⁰)
//
// covers everything: 2⁻¹² exceeds 256·γ(2) + 2⁻⁴⁰ + 129·2⁻²⁴ six times
// over, 129 exceeds 128·(1 + γ(2)) + 258·2⁻²⁴, and the factor 1 + 2⁻²⁰
// the float64 sums of L and ε and the float32 roundings of W and of s·W.
// The ranges keep every product and sum normal and finite (s·W ≥ 2⁻⁶⁸;
// the absolute errors of subnormal terms, below k·2⁻¹⁴⁹, vanish in the
// 2⁻¹² slack); a row or user vector outside them, or a non-finite value
// anywhere, makes the list score every candidate exactly instead. At rank
// 64, B ≈ s·(0.5003·L + 129·ε), and for a user vector of Gaussian-like
// values ε is about L/20,000, so B is about half a quantisation step of
// the row times L (TestQuantBound finds rows within 2% of it).

// quantBlock is the number of candidates scored by f32.DotsInt8 at a time;
// their approximate scores (8 KB) stay in L1 until they are sifted.
const quantBlock = 2048

// minQuantMag and maxQuantMag bound the largest magnitude in a row or
// user vector for which quantRows' error bound is derived (see above);
// outside them (but for 0) a list scores every candidate exactly.
const (
	minQuantMag = 0x1p-30
	maxQuantMag = 0x1p30
)

// quantItems is an 8-bit copy of every item row of one model, made once
// when the model is published (Snapshot.prepare), so that a list's rows
// (quantRows) are a copy away. It is immutable. Row i is
// q[i·stride:][:Rank], padded with zeros to stride = f32.Int8Stride(Rank),
// with scale[i] = max|v|/127 (v the model's row i) and q = round(v/scale[i]);
// rows of zeros have scale 0. exact is false when some row or item bias is
// out of the range the error bound covers (or not finite): lists then
// score every candidate exactly from the model's rows.
type quantItems struct {
	stride int
	q      []int8
	scale  []float32
	exact  bool
}

// quantize returns m's item rows in 8 bits: about Rank + 4 bytes per item.
func quantize(m *als.Model) *quantItems {
	k := m.Rank
	st := f32.Int8Stride(k)
	qi := &quantItems{stride: st, exact: true, q: make([]int8, m.NumItems*st), scale: make([]float32, m.NumItems)}
	if m.Bias {
		for _, b := range m.ItemBias[:m.NumItems] {
			if nonFinite(b) {
				qi.exact = false
			}
		}
	}
	for i := range m.NumItems {
		row := m.ItemFactors[i*k : i*k+k]
		var mx float32
		for _, v := range row {
			if nonFinite(v) {
				qi.exact = false
			}
			mx = max(mx, abs32(v))
		}
		if !qi.exact {
			return qi // never read
		}
		if mx == 0 {
			continue
		}
		if mx < minQuantMag || mx > maxQuantMag {
			qi.exact = false
			return qi
		}
		s := float32(float64(mx) / 127)
		qi.scale[i] = s
		inv, tol := 1/float64(s), float64(s)*(0.5+0x1p-40)
		q := qi.q[i*st : i*st+k]
		for c, v := range row {
			r := math.RoundToEven(float64(v) * inv)
			if r > 127 {
				r = 127
			} else if r < -127 {
				r = -127
			}
			q[c] = int8(r)
			// The bound's premise, checked rather than assumed.
			if math.Abs(float64(s)*r-float64(v)) > tol {
				qi.exact = false
			}
		}
	}
	return qi
}

// quantRows is a copy of one model's 8-bit item rows (quantItems) of the
// eligible movies, contiguous in the eligible list's order, so that a
// top-N list reads them sequentially. It is immutable once published.
// Row j, of movie ix[j], is q[j·stride:][:Rank] with scale[j]; bias[j] is
// the model's ItemBias[ix[j]] when it has biases.
type quantRows struct {
	model  *als.Model
	list   *eligibleMovies
	ix     []int32 // list.ix below model.NumItems
	stride int
	q      []int8
	scale  []float32
	bias   []float32 // nil without model.Bias
	exact  bool      // the bound holds for every row (quantItems.exact)
}

// quantFor returns m's 8-bit rows of the eligible list el, from the cache
// when it was built for the same model and list, else copied now from qi,
// m's 8-bit rows (from m itself when qi is nil): once per published model
// and list, len(el.ix)·(stride + 8) bytes. Safe for concurrent use; the
// result must not be modified.
func (e *Engine) quantFor(m *als.Model, qi *quantItems, el *eligibleMovies) *quantRows {
	if p := e.quant.Load(); p != nil && p.model == m && p.list == el {
		return p
	}
	e.quantMu.Lock()
	defer e.quantMu.Unlock()
	if p := e.quant.Load(); p != nil && p.model == m && p.list == el {
		return p
	}
	if qi == nil {
		qi = quantize(m)
	}
	p := pack(m, qi, el)
	e.quant.Store(p)
	return p
}

// pack copies the rows of the eligible list el from qi, m's 8-bit rows.
func pack(m *als.Model, qi *quantItems, el *eligibleMovies) *quantRows {
	ix := el.ix
	for len(ix) > 0 && int(ix[len(ix)-1]) >= m.NumItems {
		ix = ix[:len(ix)-1]
	}
	st := qi.stride
	p := &quantRows{model: m, list: el, ix: ix, stride: st, exact: qi.exact,
		q: make([]int8, len(ix)*st), scale: make([]float32, len(ix))}
	if m.Bias {
		p.bias = make([]float32, len(ix))
	}
	for j, i := range ix {
		copy(p.q[j*st:(j+1)*st], qi.q[int(i)*st:])
		p.scale[j] = qi.scale[i]
		if m.Bias {
			p.bias[j] = m.ItemBias[i]
		}
	}
	return p
}

// nonFinite reports whether v is ±Inf or NaN.
func nonFinite(v float32) bool { return v-v != 0 }

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// userQuant is a user vector quantised for f32.DotsInt8: w (stride
// entries, zero beyond Rank) with u ≈ tau·w, and the bound's per-call
// factor W (see the derivation above): |approx − exact| ≤ scale_j·W.
type userQuant struct {
	w   []int16
	tau float32
	W   float32
}

// quantizeUser fills uq for the user vector x (len k, stride st) and
// reports whether the error bound covers it (finite, and its largest
// magnitude 0 or within [minQuantMag, maxQuantMag]). uq.w is reused.
func quantizeUser(uq *userQuant, x []float32, k, st int) bool {
	var mx float32
	var l float64
	for _, v := range x[:k] {
		if nonFinite(v) {
			return false
		}
		mx = max(mx, abs32(v))
		l += math.Abs(float64(v))
	}
	if cap(uq.w) < st {
		uq.w = make([]int16, st)
	}
	uq.w = uq.w[:st]
	clear(uq.w)
	if mx == 0 {
		uq.tau, uq.W = 1, 0
		return true
	}
	if mx < minQuantMag || mx > maxQuantMag {
		return false
	}
	lim := float64(f32.Int16Limit(k))
	_, exp := math.Frexp(float64(mx) / lim) // mx/lim < 2^exp
	tau := math.Ldexp(1, exp)
	var eps float64
	for c, v := range x[:k] {
		r := max(-lim, min(lim, math.RoundToEven(float64(v)/tau)))
		uq.w[c] = int16(r)
		eps += math.Abs(float64(v) - tau*r)
	}
	nu := float64(k) * 0x1p-24
	gk := nu / (1 - nu)
	uq.tau = float32(tau)
	uq.W = float32(((0.5+128*gk+0x1p-12)*l + 129*eps) * (1 + 0x1p-20))
	return true
}

// topQuant offers top, from p's candidates, every movie that the full pass
// over them would keep, and a few more (see the derivation above): the
// list comes out the same. x is the user's vector in p.model, base the
// user's part of the bias term (Mean + user bias; 0 without biases);
// c, rated, minR and genre are as for topScored. It reports false, having
// offered nothing, when the error bound does not cover x or base; the
// caller then scores every candidate exactly. It allocates nothing once
// sc has grown.
func (e *Engine) topQuant(top *topN, sc *scratch, c *catalog, p *quantRows, x []float32, base float32, rated []int32, minR int, genre string) bool {
	m := p.model
	k, st := m.Rank, p.stride
	if !p.exact || nonFinite(base) || !quantizeUser(&sc.uq, x, k, st) {
		return false
	}
	e.siftQuant(top, sc, c, p, x, base, rated, minR, genre)
	return true
}

// siftQuant is topQuant once sc.uq holds the user vector quantised.
func (e *Engine) siftQuant(top *topN, sc *scratch, c *catalog, p *quantRows, x []float32, base float32, rated []int32, minR int, genre string) {
	m := p.model
	k, st := m.Rank, p.stride
	if cap(sc.part) < quantBlock {
		sc.part = make([]float32, quantBlock)
	}
	f := sifter{c: c, p: p, rated: rated, minR: minR, genre: genre, n: top.n,
		lows: sc.lows[:0], kept: sc.kept[:0], thr: float32(math.Inf(-1)),
		tau: sc.uq.tau, w: sc.uq.W}
	tau, w := f.tau, f.w
	for lo := 0; lo < len(p.ix); lo += quantBlock {
		hi := min(lo+quantBlock, len(p.ix))
		t := sc.part[:hi-lo]
		f32.DotsInt8(t, p.q[lo*st:hi*st], p.scale[lo:hi], k, sc.uq.w)
		// The upper bound of every candidate's score against the
		// threshold T so far; the few that reach it go to f.offer.
		scale := p.scale[lo:hi]
		if p.bias == nil {
			for j, tj := range t {
				if up := upBound(tj, scale[j], tau, w); up >= f.thr {
					f.offer(lo+j, tj, up, 0)
				}
			}
		} else {
			bias := p.bias[lo:hi]
			for j, tj := range t {
				bp := float32(base + bias[j]) // as the full pass rounds it
				if up := float32(upBound(tj, scale[j], tau, w) + bp); up >= f.thr {
					f.offer(lo+j, tj, up, bp)
				}
			}
		}
	}
	// Score again, exactly, those whose upper bound reaches the final T.
	gix := sc.gix[:0]
	for _, k := range f.kept {
		if k.up >= f.thr {
			gix = append(gix, p.ix[k.pos])
		}
	}
	if cap(sc.gsc) < len(gix) {
		sc.gsc = make([]float32, len(gix), 2*len(gix))
	}
	gsc := sc.gsc[:len(gix)]
	f32.DotsIdx(gsc, m.ItemFactors, k, gix, x)
	for j, i := range gix {
		s := gsc[j]
		if m.Bias {
			s += base + m.ItemBias[i]
		}
		if !top.below(s) {
			top.push(cand{score: s, id: c.movies[i].ID, ix: i})
		}
	}
	sc.lows, sc.kept, sc.gix = f.lows, f.kept, gix
}

// upBound and downBound are the upper and lower bounds of the float32
// score f32.Dots gives a row whose DotsInt8 result is t (scale s) for a
// user quantised with tau and w (see the derivation above). The explicit
// conversions make each operation round once, as the bound assumes (Go
// may otherwise fuse a multiply and an add).
func upBound(t, s, tau, w float32) float32 { return float32(float32(t*tau) + float32(s*w)) }

func downBound(t, s, tau, w float32) float32 { return float32(float32(t*tau) - float32(s*w)) }

// sifter holds topQuant's selection: the lower bounds' heap (the N
// largest so far, a min-heap whose root is the threshold T once it holds
// N) and the candidates kept for an exact score.
type sifter struct {
	c     *catalog
	p     *quantRows
	rated []int32 // the user's rated movies not yet passed
	minR  int
	genre string
	n     int
	lows  []float32
	kept  []keptCand
	thr   float32 // T: lows' root once it holds n, −Inf before
	tau   float32
	w     float32
}

// offer takes the candidate at position pos of the quantised table, with
// approximate dot product t·tau, upper bound up ≥ f.thr and bias term bp
// (0 without biases): unless the user rated it or it fails the floor or
// genre, its lower bound enters the heap, which may raise T, and it is
// kept. Candidates come in ascending position.
func (f *sifter) offer(pos int, t, up, bp float32) {
	i := f.p.ix[pos]
	for len(f.rated) > 0 && f.rated[0] < i {
		f.rated = f.rated[1:]
	}
	if len(f.rated) > 0 && f.rated[0] == i {
		return
	}
	c := f.c
	if int(c.counts[i].Load()) < f.minR || f.genre != "" && !hasGenre(c.movies[i].Genres, f.genre) {
		return
	}
	down := downBound(t, f.p.scale[pos], f.tau, f.w)
	if f.p.bias != nil {
		down = float32(down + bp)
	}
	if len(f.lows) < f.n {
		f.lows = pushLow(f.lows, down)
		if len(f.lows) == f.n {
			f.thr = f.lows[0]
		}
	} else if down > f.lows[0] {
		f.lows[0] = down
		siftLow(f.lows)
		f.thr = f.lows[0]
	}
	f.kept = append(f.kept, keptCand{pos: int32(pos), up: up})
}

// keptCand is a candidate topQuant may score again: its position in the
// quantised table and the upper bound of its score.
type keptCand struct {
	pos int32
	up  float32
}

// pushLow adds v to the min-heap h.
func pushLow(h []float32, v float32) []float32 {
	h = append(h, v)
	for j := len(h) - 1; j > 0; {
		p := (j - 1) / 2
		if h[p] <= h[j] {
			break
		}
		h[j], h[p] = h[p], h[j]
		j = p
	}
	return h
}

// siftLow restores the min-heap h after its root grew.
func siftLow(h []float32) {
	for j := 0; ; {
		l := 2*j + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h[r] < h[l] {
			m = r
		}
		if h[j] <= h[m] {
			return
		}
		h[j], h[m] = h[m], h[j]
		j = m
	}
}
