package gpu

// A plain-Go emulation of kernels/als.cu's solve_rows (explicit and
// implicit), als_gram_partial, als_gram_reduce and the SSE kernels,
// statement by statement, for hosts without a GPU. Threads of a block run one after
// another between barriers (__syncthreads, and __syncwarp in the warp-0
// solves); every shared-memory (and Gram workspace) access is recorded, and
// two threads touching the same address between two barriers, at least one
// of them writing, fail the test as a race. A cp.async copy lands at its
// thread's wait (cp.async.wait_group 0); until then any access to its
// destination, by its own thread too, is a race, and so is a copy still in
// flight at a barrier. The emulated results are
// compared with alstest.ReferenceHalf, alstest.ReferenceImplicitHalf, als.RMSE
// and als.PreferenceRMSE. This checks the indexing, the tile
// mapping, the deferred-scaling Cholesky and the barrier placement; it
// cannot check what only hardware shows (the PTX itself, the driver, timing).

import (
	"fmt"
	"math"
	"testing"

	"movierec/als"
	"movierec/als/alstest"
	"movierec/kernels"
)

const multi = -2

// block emulates one thread block's shared memory (and, for the global
// kernel, its Gram workspace slot, placed after it in mem).
type block struct {
	t        *testing.T
	mem      []float32
	phase    int
	wPhase   []int
	wTid     []int
	rPhase   []int
	rTid     []int
	inflight []int               // at the destination of a cp.async not yet waited for: its thread + 1, else 0
	pending  map[int][]asyncCopy // by thread: its cp.async copies not yet waited for
	races    int
}

// asyncCopy is one cp.async: its value (read at issue; the sources are
// not written during a kernel) lands at address a at the issuing thread's
// cp_async_wait_all.
type asyncCopy struct {
	a int
	v float32
}

func newBlock(t *testing.T, n int) *block {
	b := &block{t: t, mem: make([]float32, n), wPhase: make([]int, n), wTid: make([]int, n),
		rPhase: make([]int, n), rTid: make([]int, n), inflight: make([]int, n), pending: map[int][]asyncCopy{}}
	for i := range b.wPhase {
		b.wPhase[i], b.rPhase[i] = -1, -1
	}
	return b
}

func (b *block) race(kind string, tid, other, a int) {
	b.races++
	if b.races <= 5 {
		b.t.Errorf("race (%s) at address %d in phase %d: thread %d and thread %d", kind, a, b.phase, tid, other)
	}
}

func (b *block) ld(tid, a int) float32 {
	if b.inflight[a] > 0 {
		b.race("read of a copy in flight", tid, b.inflight[a]-1, a)
	}
	if b.wPhase[a] == b.phase && b.wTid[a] != tid {
		b.race("write-read", tid, b.wTid[a], a)
	}
	if b.rPhase[a] != b.phase {
		b.rPhase[a], b.rTid[a] = b.phase, tid
	} else if b.rTid[a] != tid {
		b.rTid[a] = multi
	}
	return b.mem[a]
}

func (b *block) st(tid, a int, v float32) {
	if b.inflight[a] > 0 {
		b.race("write to a copy in flight", tid, b.inflight[a]-1, a)
	}
	if b.wPhase[a] == b.phase && b.wTid[a] != tid {
		b.race("write-write", tid, b.wTid[a], a)
	}
	if b.rPhase[a] == b.phase && b.rTid[a] != tid {
		b.race("read-write", tid, b.rTid[a], a)
	}
	b.wPhase[a], b.wTid[a] = b.phase, tid
	b.mem[a] = v
}

// cpAsync is cp.async of v to address a by thread tid: the destination
// may not be touched by any thread, the issuing one included, until the
// copy lands (waitAll), nor have been accessed by another thread earlier in
// this phase.
func (b *block) cpAsync(tid, a int, v float32) {
	if b.inflight[a] > 0 {
		b.race("two copies in flight", tid, b.inflight[a]-1, a)
	}
	if b.wPhase[a] == b.phase && b.wTid[a] != tid {
		b.race("write-copy", tid, b.wTid[a], a)
	}
	if b.rPhase[a] == b.phase && b.rTid[a] != tid {
		b.race("read-copy", tid, b.rTid[a], a)
	}
	b.inflight[a] = tid + 1
	b.pending[tid] = append(b.pending[tid], asyncCopy{a, v})
}

// waitAll is thread tid's cp_async_wait_all (cp.async.wait_group 0): its
// copies land, as its writes in this phase.
func (b *block) waitAll(tid int) {
	for _, c := range b.pending[tid] {
		b.inflight[c.a] = 0
		b.st(tid, c.a, c.v)
	}
	delete(b.pending, tid)
}

// sync is __syncthreads. The kernels issue every copy after the last
// barrier before its wait, so none is in flight at a barrier.
func (b *block) sync() {
	for tid, cs := range b.pending {
		if len(cs) > 0 {
			b.race("copy in flight at a barrier", tid, tid, cs[0].a)
		}
	}
	b.phase++
}

// i32bits and bitsI32 store an int32 in a float32 word of shared memory
// (the kernels' int arrays beside the float ones).
func i32bits(i int32) float32 { return math.Float32frombits(uint32(i)) }
func bitsI32(f float32) int32 { return int32(math.Float32bits(f)) }

func fmaf(a, b, c float32) float32 { return float32(math.FMA(float64(a), float64(b), float64(c))) }

func tri(i int) int { return i * (i + 1) / 2 }

func tileCoords(t int) (pi, qi int) {
	p := int((float32(math.Sqrt(float64(8*float32(t)+1))) - 1) * 0.5)
	for tri(p) > t {
		p--
	}
	for tri(p+1) <= t {
		p++
	}
	return p, t - tri(p)
}

// warpSum is the xor butterfly of warp_sum.
func warpSum(v *[32]float32) float32 {
	for o := 16; o > 0; o >>= 1 {
		var n [32]float32
		for l := range 32 {
			n[l] = v[l] + v[l^o]
		}
		*v = n
	}
	return v[0]
}

// implicitArgs are the implicit kernels' extra arguments (ImplicitArgs in
// als.cu).
type implicitArgs struct {
	wgram                 []float32 // emulateGram's w₀·G of Y, packed lower
	lambda, alpha, w0, nu float64
	nfixed                int
}

func newImplicitArgs(wgram []float32, p als.Params, nfixed int) *implicitArgs {
	return &implicitArgs{wgram: wgram, lambda: p.Lambda, alpha: p.Alpha, w0: p.Unobserved, nu: p.RegExponent, nfixed: nfixed}
}

// tileThread is one thread's register tile of an assembly pass.
type tileThread struct {
	own    bool
	pi, qi int
	acc    [tileSide][tileSide]float32
}

// tileThreads returns the T threads' tiles of pass pass (ntiles tiles).
func tileThreads(T, pass, ntiles int) []tileThread {
	th := make([]tileThread, T)
	for tid := range T {
		tt := pass*T + tid
		th[tid].own = tt < ntiles
		if th[tid].own {
			th[tid].pi, th[tid].qi = tileCoords(tt)
		}
	}
	return th
}

// stager is the staging of als.cu (stage_floats, gather_chunk, put_target,
// issue_chunk, assemble_pass) for one kernel launch: the layout of its
// staging area at the start of a block's memory, and the data it reads.
type stager struct {
	T, chunk, buffers int
	k, ka, kp         int
	bias, vec         bool
	mu                float32
	imp               *implicitArgs
	idx               []int32
	val, Y, Yb        []float32

	ys, ix, vr, tgt, wt, end int // offsets (floats); end = stage_floats
}

func newStager(T, chunk, buffers, k, ka int, mu float32, imp *implicitArgs, idx []int32, val, Y, Yb []float32) *stager {
	s := &stager{T: T, chunk: chunk, buffers: buffers, k: k, ka: ka, kp: (ka + tileSide - 1) / tileSide * tileSide,
		bias: imp == nil && ka > k, vec: k%4 == 0, mu: mu, imp: imp, idx: idx, val: val, Y: Y, Yb: Yb}
	s.ix = s.ys + buffers*chunk*s.kp
	s.vr = s.ix + 2*chunk
	s.tgt = s.vr + 2*chunk
	s.wt = s.tgt + 2*chunk
	s.end = s.wt
	if imp != nil {
		s.end += 2 * chunk
	}
	if s.end != stageFloats(buffers, chunk, s.kp, imp != nil) {
		panic(fmt.Sprintf("staging layout %d floats, stageFloats %d", s.end, stageFloats(buffers, chunk, s.kp, imp != nil)))
	}
	return s
}

// gather is gather_chunk for thread tid: cn factor rows, column j(c) of
// rating c, into ys (cp.async; the bias column and padding plain stores).
// Y is device memory from cuMemAlloc (16-byte aligned), so the 16-byte
// copies are taken whenever k is a multiple of 4.
func (s *stager) gather(b *block, tid, ys int, j func(c int) int, cn int) {
	upr := s.kp
	if s.vec {
		upr = s.kp / 4
	}
	c, u := tid/upr, tid%upr
	dr, du := s.T/upr, s.T%upr
	for c < cn {
		if s.vec {
			col := 4 * u
			d := ys + c*s.kp + col
			if col < s.k {
				row := j(c) * s.k
				for e := range 4 { // one 16-byte copy
					b.cpAsync(tid, d+e, s.Y[row+col+e])
				}
			} else {
				var v float32
				if s.bias && col == s.k {
					v = 1
				}
				b.st(tid, d, v)
				b.st(tid, d+1, 0)
				b.st(tid, d+2, 0)
				b.st(tid, d+3, 0)
			}
		} else {
			d := ys + c*s.kp + u
			if u < s.k {
				b.cpAsync(tid, d, s.Y[j(c)*s.k+u])
			} else {
				var v float32
				if s.bias && u == s.k {
					v = 1
				}
				b.st(tid, d, v)
			}
		}
		u += du
		c += dr
		if u >= upr {
			u -= upr
			c++
		}
	}
}

// putTarget is put_target: rating c's target (and implicit weight) from
// its value v and, with biases, the fixed side's bias yb.
func (s *stager) putTarget(b *block, tid, tgt, wt, c int, v, yb float32) {
	if s.imp != nil {
		conf := math.Max(math.FMA(s.imp.alpha, float64(v), 1), 0)
		b.st(tid, tgt+c, float32(conf))
		b.st(tid, wt+c, float32(conf-s.imp.w0))
		return
	}
	tv := v
	if s.bias {
		tv -= s.mu + yb
	}
	b.st(tid, tgt+c, tv)
}

// issue is issue_chunk for thread tid while chunk ch (c0 = ch·chunk) of
// the n ratings at start is current: chunk ch+1's factor rows into ys
// buffer yb from its staged indices, chunk ch+2's indices and (stageT)
// ratings.
func (s *stager) issue(b *block, tid, yb, ch, c0, n int, start int64, stageT bool) {
	cur := ch & 1
	nxt := cur ^ 1
	s.gather(b, tid, yb, func(c int) int { return int(bitsI32(b.ld(tid, s.ix+nxt*s.chunk+c))) }, min(s.chunk, n-c0-s.chunk))
	if tid < min(s.chunk, n-c0-2*s.chunk) {
		q := start + int64(c0+2*s.chunk+tid)
		b.cpAsync(tid, s.ix+cur*s.chunk+tid, i32bits(s.idx[q]))
		if stageT {
			b.cpAsync(tid, s.vr+cur*s.chunk+tid, s.val[q])
		}
	}
}

// pass is assemble_pass: one pass of the assembly of the n ≥ 1 ratings at
// start into the threads' tiles th (own) and, with rhs, b at bs (bs[p] by
// thread p); stageT stages the targets. It starts with a barrier.
func (s *stager) pass(b *block, th []tileThread, start int64, n int, stageT, rhs bool, bs int) {
	T, chunk, kp := s.T, s.chunk, s.kp
	implicit := s.imp != nil
	nch := (n + chunk - 1) / chunk
	cs := chunk * kp
	b.sync()
	for tid := range T {
		s.gather(b, tid, s.ys, func(c int) int { return int(s.idx[start+int64(c)]) }, min(chunk, n))
		if tid < min(chunk, n-chunk) {
			q := start + int64(chunk+tid)
			b.cpAsync(tid, s.ix+chunk+tid, i32bits(s.idx[q]))
			if stageT {
				b.cpAsync(tid, s.vr+chunk+tid, s.val[q])
			}
		}
		if stageT && tid < min(chunk, n) {
			q := start + int64(tid)
			var yb float32
			if s.bias {
				yb = s.Yb[s.idx[q]]
			}
			s.putTarget(b, tid, s.tgt, s.wt, tid, s.val[q], yb)
		}
	}
	for ch := range nch {
		c0 := ch * chunk
		cn := min(chunk, n-c0)
		cur := ch & 1
		nxt := cur ^ 1
		yc := s.ys
		if s.buffers == 2 {
			yc += cur * cs
		}
		tc := s.tgt + cur*chunk
		wc := s.wt + cur*chunk
		for tid := range T {
			b.waitAll(tid)
		}
		b.sync()
		for tid := range T {
			if s.buffers == 2 && ch+1 < nch {
				s.issue(b, tid, s.ys+nxt*cs, ch, c0, n, start, stageT)
			}
			ldt := stageT && tid < min(chunk, n-c0-chunk)
			var ybn float32
			if ldt && s.bias {
				ybn = s.Yb[bitsI32(b.ld(tid, s.ix+nxt*chunk+tid))]
			}
			h := &th[tid]
			if h.own {
				var part [tileSide][tileSide]float32
				yp := yc + h.pi*tileSide
				yq := yc + h.qi*tileSide
				for c := range cn {
					var a, bb [tileSide]float32
					for i := range tileSide {
						a[i] = b.ld(tid, yp+c*kp+i)
						bb[i] = b.ld(tid, yq+c*kp+i)
					}
					if implicit {
						w := b.ld(tid, wc+c)
						for i := range tileSide {
							a[i] *= w
						}
					}
					for i := range tileSide {
						for j := range tileSide {
							part[i][j] = fmaf(a[i], bb[j], part[i][j])
						}
					}
				}
				for i := range tileSide {
					for j := range tileSide {
						h.acc[i][j] += part[i][j]
					}
				}
			}
			if rhs {
				for p := tid; p < s.ka; p += T {
					var sum float32
					for c := range cn {
						sum = fmaf(b.ld(tid, tc+c), b.ld(tid, yc+c*kp+p), sum)
					}
					b.st(tid, bs+p, b.ld(tid, bs+p)+sum)
				}
			}
			if ldt {
				s.putTarget(b, tid, s.tgt+nxt*chunk, s.wt+nxt*chunk, tid, b.ld(tid, s.vr+nxt*chunk+tid), ybn)
			}
		}
		if s.buffers == 1 && ch+1 < nch {
			b.sync()
			for tid := range T {
				s.issue(b, tid, s.ys, ch, c0, n, start, stageT)
			}
		}
	}
	if len(b.pending) > 0 {
		b.t.Errorf("assemble_pass left copies in flight")
	}
}

// emulateSolve runs solve_rows for every row of one side (rows of ptr/idx/
// val) against the fixed factors Y (and biases Yb), writing X (and Xb);
// with imp non-nil, solve_rows<·, true> of the implicit kernels (ka = k,
// no biases). As
// on the device (device.go: solve), rows are visited through the
// permutation sortByLength(ptr) by solveGrid(plan, rows, slots) blocks that
// stride over it; each block has its own shared memory (and, for the global
// kernel, its own workspace slot). Blocks run one after another: rows are
// independent, so the order between blocks does not matter. It returns the
// kernel's failed list (failed[1:1+failed[0]]): the rows whose pivot was
// not positive, in the order this emulation appended them.
func emulateSolve(t *testing.T, plan solvePlan, slots int, ptr []int64, idx []int32, val []float32,
	Y, Yb, X, Xb []float32, k, ka int, lambda, mu float32, imp *implicitArgs) (failed []int32) {
	return emulateRows(t, plan, slots, sortByLength(ptr), ptr, idx, val, Y, Yb, X, Xb, k, ka, lambda, mu, imp)
}

// emulateRows is emulateSolve over the rows perm lists (in that order),
// as device.go launches the row kernel on the light rows: the suffix of
// sortByLength(ptr) after the heavy rows (planSplit). Every listed row is
// solved exactly once.
func emulateRows(t *testing.T, plan solvePlan, slots int, perm []int32, ptr []int64, idx []int32, val []float32,
	Y, Yb, X, Xb []float32, k, ka int, lambda, mu float32, imp *implicitArgs) (failed []int32) {
	T, chunk := plan.Threads, plan.Chunk
	implicit := imp != nil
	if implicit != plan.Implicit {
		t.Fatalf("plan %v for implicit = %t", plan, implicit)
	}
	bias := !implicit && ka > k
	kp := (ka + tileSide - 1) / tileSide * tileSide
	nt := kp / tileSide
	ntiles := nt * (nt + 1) / 2
	npass := (ntiles + T - 1) / T

	st := newStager(T, chunk, plan.Buffers, k, ka, mu, imp, idx, val, Y, Yb)
	ys := st.ys
	bs := st.end
	dg := bs + kp
	flag := dg + kp
	G := flag + 1 // shared variant: right after the flag; global: a separate slot, also after it
	smemFloats := G
	if plan.sharedKernel() {
		smemFloats += tri(ka)
	}
	if want := plan.SharedBytes / 4; smemFloats != want {
		t.Fatalf("kernel uses %d floats of shared memory, plan gives %d", smemFloats, want)
	}
	if chunk > T {
		t.Fatalf("%v: chunk %d > %d threads", plan, chunk, T)
	}
	nrows := len(perm)
	grid := solveGrid(plan, nrows, slots)
	if nrows > 0 && grid < 1 {
		t.Fatalf("solveGrid(%v, %d, %d) = %d", plan, nrows, slots, grid)
	}
	blocks := make([]*block, grid)
	for i := range blocks {
		blocks[i] = newBlock(t, G+tri(ka))
	}
	seen := make([]bool, len(ptr)-1)

	for r := 0; r < nrows; r++ { // block blockIdx.x takes r = blockIdx.x, +gridDim.x, …
		b := blocks[r%grid]
		row := int(perm[r])
		if seen[row] {
			t.Fatalf("row %d solved twice", row)
		}
		seen[row] = true
		start := ptr[row]
		n := int(ptr[row+1] - start)
		xo := X[row*k : (row+1)*k]
		if n == 0 {
			for tid := range T {
				for p := tid; p < k; p += T {
					xo[p] = 0
				}
				if bias && tid == 0 {
					Xb[row] = 0
				}
			}
			continue
		}
		reg := lambda * float32(n)
		if implicit {
			reg = float32(imp.lambda * math.Pow(float64(n)+imp.w0*float64(imp.nfixed), imp.nu))
		}
		for tid := range T {
			for p := tid; p < kp; p += T {
				b.st(tid, bs+p, 0)
			}
			if tid == 0 {
				b.st(tid, flag, 0)
			}
		}

		for pass := 0; pass < npass; pass++ {
			th := tileThreads(T, pass, ntiles)
			st.pass(b, th, start, n, implicit || pass == 0, pass == 0, bs)
			for tid := range T {
				h := &th[tid]
				if !h.own {
					continue
				}
				for i := range tileSide {
					P := h.pi*tileSide + i
					for j := range tileSide {
						Q := h.qi*tileSide + j
						if P < ka && Q <= P {
							v := h.acc[i][j]
							if implicit {
								v = imp.wgram[tri(P)+Q] + v
							}
							if P == Q {
								v += reg
							}
							b.st(tid, G+tri(P)+Q, v)
						}
					}
				}
			}
		}
		b.sync()

		rowOK := emulateFinish(b, plan, T, ys, bs, dg, flag, G, X, Xb, row, k, ka)
		if !rowOK { // if (!ok && tid == 0) failed[1 + atomicAdd(failed, 1)] = row;
			failed = append(failed, int32(row))
		}
		b.sync()
		if b.races > 0 {
			t.Fatalf("row %d: %d races", row, b.races)
		}
	}
	for _, row := range perm {
		if !seen[row] {
			t.Fatalf("row %d not solved", row)
		}
	}
	return failed
}

// emulateFinish is the end of solve_rows (and of split_solve) for one
// row whose A and b are assembled at G and bs of b: the Cholesky and the
// warp-0 solves, or emulateCG when plan.CGSteps > 0, then the row's
// output (zeros when it failed). It reports whether the row was solved.
func emulateFinish(b *block, plan solvePlan, T, ys, bs, dg, flag, G int, X, Xb []float32, row, k, ka int) (rowOK bool) {
	nwarps := T >> 5
	bias := !plan.Implicit && ka > k
	xo := X[row*k : (row+1)*k]
	var cgOK bool
	if plan.CGSteps > 0 {
		cgOK = emulateCG(b, plan, ys, bs, G, X[row*k:(row+1)*k], Xb, row, k, ka)
	}
	for j := 0; plan.CGSteps == 0 && j < ka; j++ {
		for tid := range T {
			warp, lane := tid>>5, tid&31
			d := b.ld(tid, G+tri(j)+j)
			if tid == 0 {
				if !(d > 0) {
					b.st(tid, flag, 1)
				}
				b.st(tid, dg+j, float32(math.Sqrt(float64(d))))
			}
			if j > 0 {
				s := 1 / b.ld(tid, dg+j-1)
				for i := j + tid; i < ka; i += T {
					a := G + tri(i) + j - 1
					b.st(tid, a, b.ld(tid, a)*s)
				}
			}
			invd := 1 / d
			for i := j + 1 + warp; i < ka; i += nwarps {
				gi := G + tri(i)
				f := b.ld(tid, gi+j) * invd
				for l := j + 1 + lane; l <= i; l += 32 {
					b.st(tid, gi+l, fmaf(-f, b.ld(tid, G+tri(l)+j), b.ld(tid, gi+l)))
				}
			}
		}
		b.sync()
	}

	// Warp 0: forward and backward solves; __syncwarp is a barrier.
	for i := 0; plan.CGSteps == 0 && i < ka; i++ {
		var part [32]float32
		var z [32]float32
		li := G + tri(i)
		for lane := range 32 {
			var s float32
			for c := lane; c < i; c += 32 {
				s = fmaf(b.ld(lane, li+c), b.ld(lane, bs+c), s)
			}
			part[lane] = s
		}
		s := warpSum(&part)
		for lane := range 32 {
			z[lane] = (b.ld(lane, bs+i) - s) / b.ld(lane, dg+i)
		}
		b.sync()
		b.st(0, bs+i, z[0])
		b.sync()
	}
	for i := ka - 1; plan.CGSteps == 0 && i >= 0; i-- {
		var part [32]float32
		var x [32]float32
		for lane := range 32 {
			var s float32
			for q := i + 1 + lane; q < ka; q += 32 {
				s = fmaf(b.ld(lane, G+tri(q)+i), b.ld(lane, bs+q), s)
			}
			part[lane] = s
		}
		s := warpSum(&part)
		for lane := range 32 {
			x[lane] = (b.ld(lane, bs+i) - s) / b.ld(lane, dg+i)
		}
		b.sync()
		b.st(0, bs+i, x[0])
		b.sync()
	}
	if plan.CGSteps == 0 {
		b.sync() // x' complete (cg_solve ends with its own)
	}

	rowOK = cgOK
	for tid := range T {
		ok := cgOK
		if plan.CGSteps == 0 {
			ok = b.ld(tid, flag) == 0
			rowOK = ok
		}
		for p := tid; p < k; p += T {
			xo[p] = 0 // ok ? bs[p] : 0.0f (not bs·ok: bs may be NaN when !ok)
			if ok {
				xo[p] = b.ld(tid, bs+p)
			}
		}
		if bias && tid == 0 {
			if ok {
				Xb[row] = b.ld(tid, bs+k)
			} else {
				Xb[row] = 0
			}
		}
	}
	return rowOK
}

// emulateCG is cg_solve of als.cu (the als_cg_* kernels) for one row, from
// its assembled A (packed at G) and b (at bs) in b's memory: plan.CGSteps
// steps from the current factors xo (and Xb[row] when ka > k), leaving x'
// at bs. It reports false when the row failed (a non-positive curvature,
// or a non-finite residual). It ends with cg_solve's barrier.
func emulateCG(b *block, plan solvePlan, ys, bs, G int, xo, Xb []float32, row, k, ka int) (ok bool) {
	T := plan.Threads
	nwarps := T >> 5
	kp := plan.Padded
	xs, rv, pv, qv, red := ys, ys+kp, ys+2*kp, ys+3*kp, ys+4*kp
	matvec := func(tid, v, i int) float32 { // sym_matvec
		var s float32
		for l := 0; l <= i; l++ {
			s = fmaf(b.ld(tid, G+tri(i)+l), b.ld(tid, v+l), s)
		}
		for l := i + 1; l < ka; l++ {
			s = fmaf(b.ld(tid, G+tri(l)+i), b.ld(tid, v+l), s)
		}
		return s
	}
	part := make([]float32, T)
	nsum := 0
	blockSum := func() float32 { // block_sum: warp sums to red, barrier, every thread adds them in order
		buf := red + 32*(nsum&1)
		nsum++
		for w := range nwarps {
			var v [32]float32
			copy(v[:], part[w*32:(w+1)*32])
			b.st(w*32, buf+w, warpSum(&v))
		}
		b.sync()
		var s float32
		for tid := range T {
			var acc float32
			for w := range nwarps {
				acc += b.ld(tid, buf+w)
			}
			s = acc
		}
		return s
	}
	for tid := range T {
		for i := tid; i < ka; i += T {
			if i < k {
				b.st(tid, xs+i, xo[i])
			} else {
				b.st(tid, xs+i, Xb[row])
			}
		}
	}
	b.sync()
	for tid := range T {
		part[tid] = 0
		for i := tid; i < ka; i += T {
			ri := b.ld(tid, bs+i) - matvec(tid, xs, i)
			b.st(tid, rv+i, ri)
			b.st(tid, pv+i, ri)
			b.st(tid, bs+i, b.ld(tid, xs+i))
			part[tid] = fmaf(ri, ri, part[tid])
		}
	}
	rr := blockSum()
	ok = true
	for step := 0; step < plan.CGSteps && rr > 0; step++ {
		b.sync()
		for tid := range T {
			part[tid] = 0
			for i := tid; i < ka; i += T {
				qi := matvec(tid, pv, i)
				b.st(tid, qv+i, qi)
				part[tid] = fmaf(b.ld(tid, pv+i), qi, part[tid])
			}
		}
		pq := blockSum()
		if !(pq > 0) || math.IsInf(float64(pq), 0) {
			ok = false
			break
		}
		alpha := rr / pq
		for tid := range T {
			part[tid] = 0
			for i := tid; i < ka; i += T {
				b.st(tid, bs+i, fmaf(alpha, b.ld(tid, pv+i), b.ld(tid, bs+i)))
				ri := fmaf(-alpha, b.ld(tid, qv+i), b.ld(tid, rv+i))
				b.st(tid, rv+i, ri)
				part[tid] = fmaf(ri, ri, part[tid])
			}
		}
		rn := blockSum()
		beta := rn / rr
		for tid := range T {
			for i := tid; i < ka; i += T {
				b.st(tid, pv+i, fmaf(beta, b.ld(tid, pv+i), b.ld(tid, rv+i)))
			}
		}
		rr = rn
	}
	if math.IsNaN(float64(rr)) || math.IsInf(float64(rr), 0) {
		ok = false
	}
	b.sync()
	return ok
}

// TestEmulatedKernel runs the emulation of one item half-step and compares
// it with alstest.ReferenceHalf, for ranks that exercise one tile, partial
// tiles, several passes and both kernels.
func TestEmulatedKernel(t *testing.T) {
	small, _ := alstest.Synthetic(400, 60, 6000, 5, 0.3, 31)
	tiny, _ := alstest.Synthetic(100, 10, 600, 5, 0.3, 33) // the emulation is slow at large ranks
	for _, k := range []int{1, 3, 4, 8, 10, 31, 64, 100, 127, 128, 147, 200, 256} {
		for _, bias := range []bool{false, true} {
			t.Run(fmt.Sprintf("rank%d/bias=%t", k, bias), func(t *testing.T) {
				if (testing.Short() || raceEnabled) && k > 64 {
					t.Skip("slow emulation: skipped with -short and -race")
				}
				r := small
				if k > 64 {
					r = tiny
				}
				p := als.Params{Rank: k, Iterations: 1, Lambda: 0.1, Seed: 3, Bias: bias}
				var want als.Model
				als.Prepare(&want, r, p)
				got := want.Clone()
				alstest.ReferenceHalf(&want, r, p.Lambda, alstest.Items)

				plan := planSolve(p.AugmentedRank(), 1024)
				emulateSolve(t, plan, 3, r.ItemPtr, r.ItemIdx, r.ItemVal, got.UserFactors, got.UserBias,
					got.ItemFactors, got.ItemBias, k, p.AugmentedRank(), float32(p.Lambda), got.Mean, nil)
				if d := alstest.MaxRelDiff(got, &want); d > 1e-4 {
					t.Errorf("emulated %v differs from ReferenceHalf by %.3g relative", plan, d)
				}
			})
		}
	}
}

// TestEmulatedKernelSmallChunks forces tiny chunks and blocks (many chunks
// per row, several passes) at a small rank.
func TestEmulatedKernelSmallChunks(t *testing.T) {
	r, _ := alstest.Synthetic(300, 40, 3000, 4, 0.3, 32)
	for _, bias := range []bool{false, true} {
		p := als.Params{Rank: 20, Iterations: 1, Lambda: 0.05, Seed: 4, Bias: bias}
		var init als.Model
		als.Prepare(&init, r, p)
		want := init.Clone()
		alstest.ReferenceHalf(want, r, p.Lambda, alstest.Items)
		for _, buffers := range []int{1, 2} {
			plan := planSolve(p.AugmentedRank(), 32)
			plan.Kernel = kernels.SolveGlobal
			plan = plan.withChunk(3, buffers)
			got := init.Clone()
			emulateSolve(t, plan, 5, r.ItemPtr, r.ItemIdx, r.ItemVal, got.UserFactors, got.UserBias,
				got.ItemFactors, got.ItemBias, p.Rank, p.AugmentedRank(), float32(p.Lambda), got.Mean, nil)
			if d := alstest.MaxRelDiff(got, want); d > 1e-4 {
				t.Errorf("bias=%t: emulated %v differs from ReferenceHalf by %.3g relative", bias, plan, d)
			}
		}
	}
}

// TestEmulatedKernelFewThreads plans with a low per-block thread limit, as
// the driver reports when its JIT gives the solve kernels more registers
// than ptxas 11.8 does: smaller blocks, more passes, the same results.
func TestEmulatedKernelFewThreads(t *testing.T) {
	r, _ := alstest.Synthetic(300, 40, 3000, 4, 0.3, 34)
	for _, k := range []int{7, 33} {
		for _, maxT := range []int{32, 96} {
			p := als.Params{Rank: k, Iterations: 1, Lambda: 0.05, Seed: 5, Bias: k%2 == 1}
			var want als.Model
			als.Prepare(&want, r, p)
			got := want.Clone()
			alstest.ReferenceHalf(&want, r, p.Lambda, alstest.Items)
			plan := planSolve(p.AugmentedRank(), maxT)
			emulateSolve(t, plan, 4, r.ItemPtr, r.ItemIdx, r.ItemVal, got.UserFactors, got.UserBias,
				got.ItemFactors, got.ItemBias, p.Rank, p.AugmentedRank(), float32(p.Lambda), got.Mean, nil)
			if d := alstest.MaxRelDiff(got, &want); d > 1e-4 {
				t.Errorf("rank %d, maxThreads %d: emulated %v differs from ReferenceHalf by %.3g relative", k, maxT, plan, d)
			}
		}
	}
}
