// als.cu: the device half of ALS for package gpu: explicit (ALS-WR) and
// implicit feedback (see "Implicit objective" below).
//
// One half-iteration solves, for every row r of one side (all items against
// the fixed user factors, or all users against the fixed item factors),
//
//     A = Σ_j y'_j y'_jᵀ + λ·n·I      b = Σ_j t_j y'_j      A x' = b
//
// over the row's n ratings (column j, value v_j) in CSR form, where y'_j is
// the fixed side's factor row j and t_j = v_j; with biases (ka = k+1)
// y'_j = [y_j, 1] and t_j = v_j − μ − c_j (c = the fixed side's bias), and
// x' = [x, b] is written as factor row x and bias b. A row with no ratings
// gets zeros. A row whose system is not numerically positive definite in
// float32 (a pivot ≤ 0 or NaN) also gets zeros, and is counted: failed[0]
// is incremented atomically and the row's index stored at failed[1 + its
// old value], so the host can re-solve exactly those rows in float64
// (gpu/resolve.go) instead of keeping silent zeros. The host zeroes
// failed[0] before each launch; failed has room for 1 + rows entries.
//
// Assembly and solve are fused: one thread block owns one row at a time
// (grid-stride over a permutation of rows sorted by rating count, so blocks
// that run together do similar work); the packed lower triangle of A lives
// in dynamic shared memory (als_solve_shared) or, when it does not fit in
// the 48 KiB a launch may ask for without an opt-in, in a per-block global
// workspace (als_solve_global). Launch shapes are computed on the host (see
// gpu/plan.go and kernels/doc.go); nothing here depends on a fixed rank.
//
// Implicit objective (als/implicit.go): every row solves
//
//     A = w₀·G + Σ_j (c_j − w₀) y_j y_jᵀ + reg·I      b = Σ_j c_j y_j
//
// with c_j = max(1 + α·v_j, 0), reg = λ·(n + w₀·N)^ν (N rows on the fixed
// side) and G = Σ_all y yᵀ, the Gram matrix of the whole fixed side, which
// is the same for every row. It is formed once per half: als_gram_partial
// sums stripes of fixed rows into per-stripe partial Grams (float64
// accumulation; the float32 products are exact in float64), and
// als_gram_reduce adds the stripes in stripe order (deterministic: no
// atomics) and writes w₀·G rounded once to float32. The row kernels
// (als_implicit_shared/global) start each tile of A from that w₀·G, add the
// weighted corrections with the same register tiles, chunking, Cholesky and
// solves as the explicit kernels (solve_rows<·, true>), and write zeros for
// rows without ratings or with a non-positive pivot. No biases.
//
// Conjugate gradient (als_cg_shared, als_cg_global): the same assembly,
// then instead of the Cholesky and the two serial triangular solves, cgsteps
// steps of conjugate gradient on A x' = b started from the row's current
// factors (the previous iteration's solution: a warm start), as cuMF and
// implicit's GPU ALS do. Each step is one symmetric matrix-vector product
// on the packed triangle (thread i forms element i), two block reductions
// and three vector updates, all in shared memory: O(ka²) work spread over
// the block instead of the Cholesky's O(ka³/6) with a barrier per column. The
// result is inexact (a few steps of an iterative solve per half); the
// error shrinks across iterations because each half starts from the last.
// A step whose curvature pᵀAp is not positive (or not finite) means A is not
// numerically positive definite: the row is treated as a failed pivot
// (zeros, listed in failed) for the host to re-solve exactly.
//
// Implicit CG (als_implicit_cg_shared, als_implicit_cg_global): the
// implicit objective's assembly (w₀·G from als_gram_reduce plus the
// weighted corrections and the ridge, as als_implicit_*), then the same
// cgsteps warm-started CG steps (solve_rows<·, true, true>). Forming A
// costs what the Cholesky kernels already pay; the steps replace the
// Cholesky. The CPU's CG (cpu/cg.go) applies A without forming it, which
// suits a core's caches; here A is in shared memory (or the block's
// workspace slot) either way, so each step's product reads it from there.
// Failures are reported as for the explicit CG kernels.
//
// Layout conventions: factor tables are row-major float32 with row stride k;
// CSR row pointers are int64; column indices int32. Only the driver API is
// used to launch these kernels, so every argument is at most 8 bytes.

#define TB 4           // side of a register tile of the Gram matrix
#define FULL 0xffffffffu

// Dynamic shared memory, 16-byte aligned for the float4 tile loads.
extern __shared__ float4 als_smem4[];

// tri(i) is the offset of packed row i: element (i, l), l ≤ i, is at tri(i)+l.
__device__ __forceinline__ int tri(int i) { return i * (i + 1) / 2; }

// tile_coords maps a linear index t over the lower-triangular tiles of an
// nt×nt tile grid, row by row, to its tile row pi and tile column qi ≤ pi.
__device__ __forceinline__ void tile_coords(int t, int* pi, int* qi) {
    int p = (int)((sqrtf(8.0f * (float)t + 1.0f) - 1.0f) * 0.5f);
    while (tri(p) > t) --p;
    while (tri(p + 1) <= t) ++p;
    *pi = p;
    *qi = t - tri(p);
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL, v, o);
    return v;
}

__device__ __forceinline__ double warp_sum_d(double v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL, v, o);
    return v;
}

// ImplicitArgs are the implicit objective's inputs of solve_rows (unused,
// zero, for the explicit kernels).
struct ImplicitArgs {
    const float* wgram;  // packed lower triangle of w₀·G, k(k+1)/2 floats (als_gram_reduce)
    double lambda;       // λ of reg = λ·(n + w₀·N)^ν
    double alpha;        // confidence slope α
    double w0;           // unobserved weight w₀
    double nu;           // ridge exponent ν
    int nfixed;          // N, the rows of the fixed side
};

// solve_rows is the body of als_solve_shared / als_implicit_shared
// (kGlobalGram false) and als_solve_global / als_implicit_global
// (kGlobalGram true); kImplicit selects the implicit objective (ka == k)
// and kCG the conjugate-gradient solve (als_cg_*, als_implicit_cg_*).
//
// Shared memory layout (floats), kp = ka rounded up to a multiple of TB:
//   staging            stage_floats(nbuf, chunk, kp, kImplicit): ys [nbuf][chunk][kp]
//                      (staged y' rows, zero padded), ix, tgt, wt [2][chunk] (see
//                      assemble_pass); once A is assembled, cg_solve's vectors
//   bs   [kp]         right-hand side b, then z, then x'
//   dg   [kp]         diagonal of the Cholesky factor L
//   flag [1]          non-zero when a pivot was not positive
//   gram [ka(ka+1)/2] packed lower triangle of A, then L (shared variant only;
//                     the global variant uses ws + blockIdx.x·ka(ka+1)/2)
// block_sum returns the sum over the block of every thread's v, the same
// value in every thread (each thread adds the warp sums in the same order).
// red is one of two alternating buffers of 32 floats: a call's writes cannot
// overtake the previous call's reads, which happen before its barrier.
__device__ __forceinline__ float block_sum(float v, float* red, int lane, int warp, int nwarps) {
    v = warp_sum(v);
    if (lane == 0) red[warp] = v;
    __syncthreads();
    float s = 0.0f;
    for (int w = 0; w < nwarps; ++w) s += red[w];
    return s;
}

// sym_matvec returns (A v)_i for the packed lower triangle G of a
// symmetric ka×ka matrix: row i up to the diagonal, then column i below it.
__device__ __forceinline__ float sym_matvec(const float* G, const float* v, int i, int ka) {
    const float* gi = G + tri(i);
    float s = 0.0f;
#pragma unroll 4
    for (int l = 0; l <= i; ++l) s = fmaf(gi[l], v[l], s);
#pragma unroll 4
    for (int l = i + 1; l < ka; ++l) s = fmaf(G[tri(l) + i], v[l], s);
    return s;
}

// cholesky_solve solves A x' = b in place by Cholesky for the packed lower
// triangle G of A (overwritten with L) and b in bs (overwritten with x'),
// dg [ka] holding L's diagonal, and reports whether every pivot was
// positive (*flag, zeroed by the caller, stays 0). All threads of the block
// call it; it ends with a barrier.
__device__ __forceinline__ bool cholesky_solve(float* G, float* bs, float* dg, int* flag, int ka, int tid,
                                               int nthreads, int lane, int warp, int nwarps) {
    // --- Cholesky A = L·Lᵀ in place, one barrier per column. ---
    // Step j reads column j (not yet scaled) and the pivot G[j][j], and
    // updates the trailing triangle (columns > j):
    //     G[i][l] -= G[i][j]·G[l][j] / G[j][j],  j < l ≤ i.
    // Column j-1 is scaled by 1/L[j-1][j-1] in the same step: it is
    // neither read nor written by the update of step j.
    for (int j = 0; j < ka; ++j) {
        const float d = G[tri(j) + j];
        if (tid == 0) {
            if (!(d > 0.0f)) *flag = 1;
            dg[j] = sqrtf(d);
        }
        if (j > 0) {
            const float s = 1.0f / dg[j - 1];
            for (int i = j + tid; i < ka; i += nthreads) G[tri(i) + j - 1] *= s;
        }
        const float invd = 1.0f / d;
        for (int i = j + 1 + warp; i < ka; i += nwarps) {
            float* gi = G + tri(i);
            const float f = gi[j] * invd;
            for (int l = j + 1 + lane; l <= i; l += 32) gi[l] = fmaf(-f, G[tri(l) + j], gi[l]);
        }
        __syncthreads();
    }
    // Now L[i][j] = G[tri(i)+j] for i > j and L[j][j] = dg[j]; the last
    // column has no entries below the diagonal, so nothing is left to scale.

    // --- Triangular solves by warp 0: L z = b, then Lᵀ x' = z. ---
    if (warp == 0) {
        for (int i = 0; i < ka; ++i) {
            const float* li = G + tri(i);
            float s = 0.0f;
            for (int c = lane; c < i; c += 32) s = fmaf(li[c], bs[c], s);
            s = warp_sum(s);
            const float z = (bs[i] - s) / dg[i];
            __syncwarp();
            if (lane == 0) bs[i] = z;
            __syncwarp();
        }
        for (int i = ka - 1; i >= 0; --i) {
            float s = 0.0f;
            for (int q = i + 1 + lane; q < ka; q += 32) s = fmaf(G[tri(q) + i], bs[q], s);
            s = warp_sum(s);
            const float x = (bs[i] - s) / dg[i];
            __syncwarp();
            if (lane == 0) bs[i] = x;
            __syncwarp();
        }
    }
    __syncthreads();  // x' complete
    return *flag == 0;
}

// cg_solve takes cgsteps ≥ 1 conjugate-gradient steps on A x' = b from
// x'₀ = the row's current factors xo (and *xbias when non-null), for the
// packed lower triangle G of A and b in bs (overwritten with x'). ys (the
// free staging area) holds x'₀, r, p, Ap ([kp] each) and two reduction
// buffers of 32. It reports false when A is not numerically positive
// definite (a curvature pᵀAp ≤ 0) or the residual is not finite. All
// threads of the block call it; it ends with a barrier.
__device__ __forceinline__ bool cg_solve(const float* G, float* bs, float* ys, int kp, int ka, int k, const float* xo,
                                         const float* xbias, int cgsteps, int tid, int nthreads, int lane, int warp,
                                         int nwarps) {
    float* xs = ys;
    float* rv = xs + kp;
    float* pv = rv + kp;
    float* qv = pv + kp;
    float* red = qv + kp;
    for (int i = tid; i < ka; i += nthreads) xs[i] = i < k ? xo[i] : *xbias;
    __syncthreads();  // x'₀ complete
    // r = b − A x'₀, p = r; then bs holds x' (each thread its own elements).
    float part = 0.0f;
    for (int i = tid; i < ka; i += nthreads) {
        const float ri = bs[i] - sym_matvec(G, xs, i, ka);
        rv[i] = ri;
        pv[i] = ri;
        bs[i] = xs[i];
        part = fmaf(ri, ri, part);
    }
    int nsum = 0;
    float rr = block_sum(part, red + 32 * (nsum++ & 1), lane, warp, nwarps);
    bool ok = true;
    for (int step = 0; step < cgsteps && rr > 0.0f; ++step) {
        __syncthreads();  // p complete
        part = 0.0f;
        for (int i = tid; i < ka; i += nthreads) {
            const float qi = sym_matvec(G, pv, i, ka);
            qv[i] = qi;
            part = fmaf(pv[i], qi, part);
        }
        const float pq = block_sum(part, red + 32 * (nsum++ & 1), lane, warp, nwarps);
        if (!(pq > 0.0f) || isinf(pq)) {  // uniform: not positive definite
            ok = false;
            break;
        }
        const float alpha = rr / pq;
        part = 0.0f;
        for (int i = tid; i < ka; i += nthreads) {
            bs[i] = fmaf(alpha, pv[i], bs[i]);
            const float ri = fmaf(-alpha, qv[i], rv[i]);
            rv[i] = ri;
            part = fmaf(ri, ri, part);
        }
        const float rn = block_sum(part, red + 32 * (nsum++ & 1), lane, warp, nwarps);
        const float beta = rn / rr;
        for (int i = tid; i < ka; i += nthreads) pv[i] = fmaf(beta, pv[i], rv[i]);
        rr = rn;
    }
    if (!isfinite(rr)) ok = false;
    __syncthreads();  // x' complete
    return ok;
}

// --- Staging of factor rows (solve_rows and split_gram) ---
//
// Each chunk of at most chunk ratings of a row is staged in shared memory:
// its factor rows y' (kp floats each, the bias column and the zero padding
// included), its targets and (implicit) weights. Layout (floats):
//   ys  [nbuf][chunk][kp]  staged y' rows; nbuf = 2: double buffer
//   ix  [2][chunk]         int: column indices of the next chunks
//   vr  [2][chunk]         ratings of the next chunks
//   tgt [2][chunk]         targets t_j (implicit: confidences c_j)
//   wt  [2][chunk]         implicit only: weights c_j − w₀
// stage_floats is its size; the callers' own arrays follow it. Each ys
// buffer starts a multiple of 4 floats from the 16-byte aligned base (kp is
// a multiple of TB), so ys rows take 16-byte copies.
//
// Copies from global memory are cp.async (sm_80+): factor rows by 16-byte
// copies when k is a multiple of 4 and Y is 16-byte aligned (cuMemAlloc;
// row stride k floats), by 4-byte copies otherwise (the bias column and
// the padding are plain stores); column indices and ratings by 4-byte
// copies. A thread's copies complete at its cp_async_wait_all and are
// visible to the block after the __syncthreads that follows it; every copy
// is issued after the last barrier before that wait, and nothing else
// touches its destination in between. Pipeline of chunk i (of a pass):
// its indices and ratings are copied two chunks ahead, its targets formed
// one chunk ahead (by thread c for rating c: chunk ≤ blockDim.x; the
// fixed side's bias, with biases, is loaded before the products and the
// target stored after them), and its factor rows copied one chunk ahead
// from the staged indices: with nbuf = 2 while chunk i−1 is multiplied,
// with nbuf = 1 (the plan's choice when two buffers do not fit) once chunk
// i−1 is no longer read. So no thread waits on an index → factor round
// trip except once per pass, for chunk 0.
__device__ __forceinline__ int stage_floats(int nbuf, int chunk, int kp, bool implicit) {
    return nbuf * chunk * kp + (implicit ? 8 : 6) * chunk;
}

__device__ __forceinline__ void cp_async16(void* dst, const void* src) {
    const unsigned s = (unsigned)__cvta_generic_to_shared(dst);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(s), "l"(src) : "memory");
}

__device__ __forceinline__ void cp_async4(void* dst, const void* src) {
    const unsigned s = (unsigned)__cvta_generic_to_shared(dst);
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(s), "l"(src) : "memory");
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }

__device__ __forceinline__ void cp_async_wait_all() { asm volatile("cp.async.wait_group 0;\n" ::: "memory"); }

// gather_vec reports whether the factor rows of Y take 16-byte copies.
__device__ __forceinline__ bool gather_vec(const float* Y, int k) {
    return (k & 3) == 0 && (reinterpret_cast<unsigned long long>(Y) & 15) == 0;
}

// gather_rows is gather_chunk for one unit size (kVec: float4).
template <bool kVec>
__device__ __forceinline__ void gather_rows(float* ys, const int* js, int cn, const float* __restrict__ Y, int k,
                                            int kp, bool bias, int tid, int nthreads) {
    constexpr int w = kVec ? 4 : 1;  // floats per unit
    const int upr = kp / w;
    int c = tid / upr, u = tid - c * upr;
    const int dr = nthreads / upr, du = nthreads - dr * upr;
    while (c < cn) {
        const int col = w * u;
        float* d = ys + c * kp + col;
        if (col < k) {
            // Column indices are non-negative: an unsigned 32×32→64 product.
            const float* src = Y + (unsigned long long)(unsigned)js[c] * (unsigned)k + col;
            if (kVec) {
                cp_async16(d, src);
            } else {
                cp_async4(d, src);
            }
        } else if (kVec) {
            *reinterpret_cast<float4*>(d) = make_float4(bias && col == k ? 1.0f : 0.0f, 0.0f, 0.0f, 0.0f);
        } else {
            *d = bias && col == k ? 1.0f : 0.0f;
        }
        u += du;
        c += dr;
        if (u >= upr) {
            u -= upr;
            ++c;
        }
    }
}

// gather_chunk starts the copies of this thread's share of cn factor rows
// Y[js[c]] into ys (rows of kp floats): y' = [y, 1 (bias), 0 …]. The rows
// are cut into units (float4 when vec, else float), upr per row, taken by
// the block's threads round robin: this thread's first unit is (row
// tid / upr, unit tid % upr), each next one blockDim.x units further.
__device__ __forceinline__ void gather_chunk(float* ys, const int* js, int cn, const float* __restrict__ Y, int k,
                                             int kp, bool bias, bool vec, int tid, int nthreads) {
    if (vec) {
        gather_rows<true>(ys, js, cn, Y, k, kp, bias, tid, nthreads);
    } else {
        gather_rows<false>(ys, js, cn, Y, k, kp, bias, tid, nthreads);
    }
}

// put_target stores rating c's target (and implicit weight) from its value
// v (and, with biases, the fixed side's bias yb), as the kernels always
// have: t = v − (μ + c_j); implicit c = max(1 + α·v, 0), w = c − w₀.
template <bool kImplicit>
__device__ __forceinline__ void put_target(float* tgt, float* wt, int c, float v, float yb, bool bias, float mu,
                                           double alpha, double w0) {
    if (kImplicit) {
        const double conf = fmax(1.0 + alpha * (double)v, 0.0);
        tgt[c] = (float)conf;
        wt[c] = (float)(conf - w0);
    } else {
        float tv = v;
        if (bias) tv -= mu + yb;
        tgt[c] = tv;
    }
}

// Staging is the staging area of one block (see above).
struct Staging {
    float* ys;
    int* ix;
    float* vr;
    float* tgt;
    float* wt;
};

__device__ __forceinline__ Staging staging(float* smem, int nbuf, int chunk, int kp) {
    Staging st;
    st.ys = smem;
    st.ix = reinterpret_cast<int*>(smem + nbuf * chunk * kp);
    st.vr = reinterpret_cast<float*>(st.ix + 2 * chunk);
    st.tgt = st.vr + 2 * chunk;
    st.wt = st.tgt + 2 * chunk;
    return st;
}

// issue_chunk starts the copies made while chunk ch (c0 = ch·chunk) is
// current: chunk ch+1's factor rows (into ys buffer yb) from its staged
// indices, chunk ch+2's indices and (stage_t) ratings; then commits them.
__device__ __forceinline__ void issue_chunk(const Staging& st, float* yb, int ch, int c0, int n,
                                            const int* __restrict__ idx, const float* __restrict__ val, long long start,
                                            const float* __restrict__ Y, int k, int kp, int chunk, bool bias, bool vec,
                                            bool stage_t, int tid, int nthreads) {
    const int cur = ch & 1, nxt = cur ^ 1;
    gather_chunk(yb, st.ix + nxt * chunk, min(chunk, n - c0 - chunk), Y, k, kp, bias, vec, tid, nthreads);
    if (tid < min(chunk, n - c0 - 2 * chunk)) {
        const long long q = start + c0 + 2 * chunk + tid;
        cp_async4(st.ix + cur * chunk + tid, idx + q);
        if (stage_t) cp_async4(st.vr + cur * chunk + tid, val + q);
    }
    cp_async_commit();
}

// assemble_pass is one pass of the assembly of a row (or slice) of n ≥ 1
// ratings starting at start: this thread's 4×4 register tile (pi, qi)
// of Σ y'y'ᵀ (own), accumulated chunk by chunk (per-chunk partial sums,
// added to acc), and with rhs, b (bs[p] by thread p). stage_t stages the
// targets (the explicit kernels use them in the first pass only; the
// implicit ones need the weights in every pass). All threads of the block
// call it; it starts with a barrier and leaves no copy in flight.
template <bool kImplicit>
__device__ __forceinline__ void assemble_pass(
    const int* __restrict__ idx, const float* __restrict__ val, long long start, int n,
    const float* __restrict__ Y, const float* __restrict__ Ybias, int k, int ka, int kp, float mu, double alpha,
    double w0, int chunk, int nbuf, const Staging& st, float* bs, bool stage_t, bool rhs, bool own, int pi, int qi,
    float (&acc)[TB][TB], bool vec, int tid, int nthreads) {
    const bool bias = !kImplicit && ka > k;
    const int nch = (n + chunk - 1) / chunk;
    const int cs = chunk * kp;
    __syncthreads();  // the staging area is no longer read (previous pass or row)
    // Prologue: chunk 0's factor rows (indices straight from idx: the one
    // dependent round trip per pass), chunk 1's indices and ratings, chunk
    // 0's targets.
    gather_chunk(st.ys, idx + start, min(chunk, n), Y, k, kp, bias, vec, tid, nthreads);
    if (tid < min(chunk, n - chunk)) {
        const long long q = start + chunk + tid;
        cp_async4(st.ix + chunk + tid, idx + q);
        if (stage_t) cp_async4(st.vr + chunk + tid, val + q);
    }
    cp_async_commit();
    if (stage_t && tid < min(chunk, n)) {
        const long long q = start + tid;
        put_target<kImplicit>(st.tgt, st.wt, tid, val[q], bias ? __ldg(&Ybias[idx[q]]) : 0.0f, bias, mu, alpha, w0);
    }

    for (int ch = 0; ch < nch; ++ch) {
        const int c0 = ch * chunk;
        const int cn = min(chunk, n - c0);
        const int cur = ch & 1, nxt = cur ^ 1;
        const float* yc = st.ys + (nbuf == 2 ? cur : 0) * cs;
        const float* tc = st.tgt + cur * chunk;
        const float* wc = st.wt + cur * chunk;
        cp_async_wait_all();
        __syncthreads();  // chunk ch is staged, and chunk ch+1's indices and ratings
        if (nbuf == 2 && ch + 1 < nch) {  // chunk ch−1 is no longer read
            issue_chunk(st, st.ys + nxt * cs, ch, c0, n, idx, val, start, Y, k, kp, chunk, bias, vec, stage_t, tid,
                        nthreads);
        }
        // Chunk ch+1's target: the bias loaded now, stored after the products.
        const bool ldt = stage_t && tid < min(chunk, n - c0 - chunk);
        float ybn = 0.0f;
        if (ldt && bias) ybn = __ldg(&Ybias[st.ix[nxt * chunk + tid]]);

        if (own) {
            // Per-chunk partial sums keep the float32 error of long
            // rows at O((chunk + n/chunk)·ε) instead of O(n·ε).
            float part[TB][TB];
#pragma unroll
            for (int i = 0; i < TB; ++i)
#pragma unroll
                for (int j = 0; j < TB; ++j) part[i][j] = 0.0f;
            const float* yp = yc + pi * TB;
            const float* yq = yc + qi * TB;
#pragma unroll 4
            for (int c = 0; c < cn; ++c) {
                const float4 a4 = *reinterpret_cast<const float4*>(yp + c * kp);
                const float4 b4 = *reinterpret_cast<const float4*>(yq + c * kp);
                float a[TB] = {a4.x, a4.y, a4.z, a4.w};
                const float b[TB] = {b4.x, b4.y, b4.z, b4.w};
                if (kImplicit) {
                    const float w = wc[c];
#pragma unroll
                    for (int i = 0; i < TB; ++i) a[i] *= w;
                }
#pragma unroll
                for (int i = 0; i < TB; ++i)
#pragma unroll
                    for (int j = 0; j < TB; ++j) part[i][j] = fmaf(a[i], b[j], part[i][j]);
            }
#pragma unroll
            for (int i = 0; i < TB; ++i)
#pragma unroll
                for (int j = 0; j < TB; ++j) acc[i][j] += part[i][j];
        }
        if (rhs) {
            // Thread p owns b[p]: no other thread touches it.
            for (int p = tid; p < ka; p += nthreads) {
                float s = 0.0f;
                for (int c = 0; c < cn; ++c) s = fmaf(tc[c], yc[c * kp + p], s);
                bs[p] += s;
            }
        }

        if (ldt) {
            put_target<kImplicit>(st.tgt + nxt * chunk, st.wt + nxt * chunk, tid, st.vr[nxt * chunk + tid], ybn, bias,
                                  mu, alpha, w0);
        }
        if (nbuf == 1 && ch + 1 < nch) {
            __syncthreads();  // chunk ch is no longer read
            issue_chunk(st, st.ys, ch, c0, n, idx, val, start, Y, k, kp, chunk, bias, vec, stage_t, tid, nthreads);
        }
    }
}

template <bool kGlobalGram, bool kImplicit, bool kCG = false>
__device__ __forceinline__ void solve_rows(
    const long long* __restrict__ ptr, const int* __restrict__ idx, const float* __restrict__ val,
    const int* __restrict__ perm, int nrows,
    const float* __restrict__ Y, const float* __restrict__ Ybias,
    float* __restrict__ X, float* __restrict__ Xbias,
    int k, int ka, float lambda, float mu, int chunk, int nbuf, float* __restrict__ ws, int* __restrict__ failed,
    ImplicitArgs im, int cgsteps = 0) {
    float* smem = reinterpret_cast<float*>(als_smem4);
    const int tid = threadIdx.x;
    const int nthreads = blockDim.x;
    const int lane = tid & 31;
    const int warp = tid >> 5;
    const int nwarps = nthreads >> 5;
    const bool bias = !kImplicit && ka > k;

    const int kp = (ka + TB - 1) / TB * TB;
    const int nt = kp / TB;
    const int ntiles = nt * (nt + 1) / 2;
    const int npass = (ntiles + nthreads - 1) / nthreads;

    const Staging st = staging(smem, nbuf, chunk, kp);
    float* ys = st.ys;
    float* bs = smem + stage_floats(nbuf, chunk, kp, kImplicit);
    float* dg = bs + kp;
    int* flag = reinterpret_cast<int*>(dg + kp);
    const bool vec = gather_vec(Y, k);
    float* G;
    if (kGlobalGram) {
        G = ws + (long long)blockIdx.x * tri(ka);
    } else {
        G = reinterpret_cast<float*>(flag + 1);
    }

    // 64-bit so that r + gridDim.x cannot overflow for any nrows ≤ 2³¹−1.
    for (long long r = blockIdx.x; r < nrows; r += gridDim.x) {
        const int row = perm[r];
        const long long start = ptr[row];
        const int n = (int)(ptr[row + 1] - start);
        float* xo = X + (long long)row * k;
        if (n == 0) {  // uniform across the block; touches no shared memory
            for (int p = tid; p < k; p += nthreads) xo[p] = 0.0f;
            if (bias && tid == 0) Xbias[row] = 0.0f;
            continue;
        }
        const float reg = kImplicit ? (float)(im.lambda * pow((double)n + im.w0 * (double)im.nfixed, im.nu))
                                    : lambda * (float)n;
        for (int p = tid; p < kp; p += nthreads) bs[p] = 0.0f;
        if (tid == 0) *flag = 0;

        // --- Assembly: A (packed lower, register tiles) and b. ---
        for (int pass = 0; pass < npass; ++pass) {
            const int t = pass * nthreads + tid;
            const bool own = t < ntiles;
            int pi = 0, qi = 0;
            if (own) tile_coords(t, &pi, &qi);
            float acc[TB][TB];
#pragma unroll
            for (int i = 0; i < TB; ++i)
#pragma unroll
                for (int j = 0; j < TB; ++j) acc[i][j] = 0.0f;

            assemble_pass<kImplicit>(idx, val, start, n, Y, Ybias, k, ka, kp, mu, im.alpha, im.w0, chunk, nbuf, st, bs,
                                     kImplicit || pass == 0, pass == 0, own, pi, qi, acc, vec, tid,
                                     nthreads);

            if (own) {
#pragma unroll
                for (int i = 0; i < TB; ++i) {
                    const int P = pi * TB + i;
#pragma unroll
                    for (int j = 0; j < TB; ++j) {
                        const int Q = qi * TB + j;
                        if (P < ka && Q <= P) {
                            float v = acc[i][j];
                            if (kImplicit) v = __ldg(&im.wgram[tri(P) + Q]) + v;
                            G[tri(P) + Q] = v + (P == Q ? reg : 0.0f);
                        }
                    }
                }
            }
        }
        __syncthreads();  // A and b complete

        // --- Solve: x' into bs; ok is uniform across the block. ---
        const bool ok = kCG ? cg_solve(G, bs, ys, kp, ka, k, xo, bias ? Xbias + row : 0, cgsteps, tid, nthreads,
                                       lane, warp, nwarps)
                            : cholesky_solve(G, bs, dg, flag, ka, tid, nthreads, lane, warp, nwarps);
        for (int p = tid; p < k; p += nthreads) xo[p] = ok ? bs[p] : 0.0f;
        if (bias && tid == 0) Xbias[row] = ok ? bs[k] : 0.0f;
        if (!ok && tid == 0) failed[1 + atomicAdd(failed, 1)] = row;
        __syncthreads();  // shared memory is reused by the next row
    }
}

// als_solve_shared: the packed Gram lives in dynamic shared memory.
extern "C" __global__ void __launch_bounds__(512, 2) als_solve_shared(
    const long long* __restrict__ ptr, const int* __restrict__ idx, const float* __restrict__ val,
    const int* __restrict__ perm, int nrows,
    const float* __restrict__ Y, const float* __restrict__ Ybias,
    float* __restrict__ X, float* __restrict__ Xbias,
    int k, int ka, float lambda, float mu, int chunk, int nbuf, float* __restrict__ ws, int* __restrict__ failed) {
    solve_rows<false, false>(ptr, idx, val, perm, nrows, Y, Ybias, X, Xbias, k, ka, lambda, mu, chunk, nbuf, ws, failed,
                             ImplicitArgs{});
}

// als_solve_global: the packed Gram lives in ws, one slot of ka(ka+1)/2
// floats per block; gridDim.x must not exceed the number of slots.
extern "C" __global__ void __launch_bounds__(512, 2) als_solve_global(
    const long long* __restrict__ ptr, const int* __restrict__ idx, const float* __restrict__ val,
    const int* __restrict__ perm, int nrows,
    const float* __restrict__ Y, const float* __restrict__ Ybias,
    float* __restrict__ X, float* __restrict__ Xbias,
    int k, int ka, float lambda, float mu, int chunk, int nbuf, float* __restrict__ ws, int* __restrict__ failed) {
    solve_rows<true, false>(ptr, idx, val, perm, nrows, Y, Ybias, X, Xbias, k, ka, lambda, mu, chunk, nbuf, ws, failed,
                            ImplicitArgs{});
}

// als_cg_shared: als_solve_shared with cgsteps conjugate-gradient steps
// from the current factors (X, Xbias on entry) instead of the Cholesky;
// cgsteps must be at least 1.
extern "C" __global__ void __launch_bounds__(512, 2) als_cg_shared(
    const long long* __restrict__ ptr, const int* __restrict__ idx, const float* __restrict__ val,
    const int* __restrict__ perm, int nrows,
    const float* __restrict__ Y, const float* __restrict__ Ybias,
    float* __restrict__ X, float* __restrict__ Xbias,
    int k, int ka, float lambda, float mu, int chunk, int nbuf, float* __restrict__ ws, int* __restrict__ failed,
    int cgsteps) {
    solve_rows<false, false, true>(ptr, idx, val, perm, nrows, Y, Ybias, X, Xbias, k, ka, lambda, mu, chunk, nbuf, ws,
                                   failed, ImplicitArgs{}, cgsteps);
}

// als_cg_global: als_cg_shared with the packed Gram in ws, as als_solve_global.
extern "C" __global__ void __launch_bounds__(512, 2) als_cg_global(
    const long long* __restrict__ ptr, const int* __restrict__ idx, const float* __restrict__ val,
    const int* __restrict__ perm, int nrows,
    const float* __restrict__ Y, const float* __restrict__ Ybias,
    float* __restrict__ X, float* __restrict__ Xbias,
    int k, int ka, float lambda, float mu, int chunk, int nbuf, float* __restrict__ ws, int* __restrict__ failed,
    int cgsteps) {
    solve_rows<true, false, true>(ptr, idx, val, perm, nrows, Y, Ybias, X, Xbias, k, ka, lambda, mu, chunk, nbuf, ws,
                                  failed, ImplicitArgs{}, cgsteps);
}

// als_implicit_shared: the implicit objective's rows, packed Gram in
// dynamic shared memory. wgram is als_gram_reduce's w₀·G of Y.
extern "C" __global__ void __launch_bounds__(512, 2) als_implicit_shared(
    const long long* __restrict__ ptr, const int* __restrict__ idx, const float* __restrict__ val,
    const int* __restrict__ perm, int nrows, const float* __restrict__ Y, float* __restrict__ X, int k,
    const float* __restrict__ wgram, double lambda, double alpha, double w0, double nu, int nfixed,
    int chunk, int nbuf, float* __restrict__ ws, int* __restrict__ failed) {
    const ImplicitArgs im = {wgram, lambda, alpha, w0, nu, nfixed};
    solve_rows<false, true>(ptr, idx, val, perm, nrows, Y, 0, X, 0, k, k, 0.0f, 0.0f, chunk, nbuf, ws, failed, im);
}

// als_implicit_global: als_implicit_shared with the packed Gram in ws, one
// slot of k(k+1)/2 floats per block; gridDim.x must not exceed the slots.
extern "C" __global__ void __launch_bounds__(512, 2) als_implicit_global(
    const long long* __restrict__ ptr, const int* __restrict__ idx, const float* __restrict__ val,
    const int* __restrict__ perm, int nrows, const float* __restrict__ Y, float* __restrict__ X, int k,
    const float* __restrict__ wgram, double lambda, double alpha, double w0, double nu, int nfixed,
    int chunk, int nbuf, float* __restrict__ ws, int* __restrict__ failed) {
    const ImplicitArgs im = {wgram, lambda, alpha, w0, nu, nfixed};
    solve_rows<true, true>(ptr, idx, val, perm, nrows, Y, 0, X, 0, k, k, 0.0f, 0.0f, chunk, nbuf, ws, failed, im);
}

// als_implicit_cg_shared: als_implicit_shared with cgsteps
// conjugate-gradient steps from the current factors (X on entry) instead
// of the Cholesky; cgsteps must be at least 1. __launch_bounds__(512, 2)
// as the explicit CG kernels: 64 registers (sm_90) instead of 77/76, so
// that 3 blocks of 288 threads (rank 128) fit an SM instead of 2; ptxas
// then spills a few loop-setup values (4 B here, 20 B in the global
// variant: trip counts and bounds), stored outside the loops and reloaded
// before some of them, never inside an inner loop (cuobjdump -sass;
// kernels/README.md).
extern "C" __global__ void __launch_bounds__(512, 2) als_implicit_cg_shared(
    const long long* __restrict__ ptr, const int* __restrict__ idx, const float* __restrict__ val,
    const int* __restrict__ perm, int nrows, const float* __restrict__ Y, float* __restrict__ X, int k,
    const float* __restrict__ wgram, double lambda, double alpha, double w0, double nu, int nfixed,
    int chunk, int nbuf, float* __restrict__ ws, int* __restrict__ failed, int cgsteps) {
    const ImplicitArgs im = {wgram, lambda, alpha, w0, nu, nfixed};
    solve_rows<false, true, true>(ptr, idx, val, perm, nrows, Y, 0, X, 0, k, k, 0.0f, 0.0f, chunk, nbuf, ws, failed, im,
                                  cgsteps);
}

// als_implicit_cg_global: als_implicit_cg_shared with the packed Gram in
// ws, as als_implicit_global.
extern "C" __global__ void __launch_bounds__(512, 2) als_implicit_cg_global(
    const long long* __restrict__ ptr, const int* __restrict__ idx, const float* __restrict__ val,
    const int* __restrict__ perm, int nrows, const float* __restrict__ Y, float* __restrict__ X, int k,
    const float* __restrict__ wgram, double lambda, double alpha, double w0, double nu, int nfixed,
    int chunk, int nbuf, float* __restrict__ ws, int* __restrict__ failed, int cgsteps) {
    const ImplicitArgs im = {wgram, lambda, alpha, w0, nu, nfixed};
    solve_rows<true, true, true>(ptr, idx, val, perm, nrows, Y, 0, X, 0, k, k, 0.0f, 0.0f, chunk, nbuf, ws, failed, im,
                                 cgsteps);
}

// Heavy rows split across blocks (als_split_gram*, als_split_solve*).
//
// A row with many more ratings than the others (ML-25M's most rated
// movie: 80–90 thousand) would be the critical path of its half if one
// block assembled it. The host (gpu/plan.go: planSplit) lists the rows
// above a threshold, the heavy rows (a prefix of the length-sorted
// permutation), and cuts each into slices of at most a fixed number of
// ratings, with boundaries that depend on nothing but the row's length.
// als_split_gram assembles one slice per block into its own slot of part
// (the slice's partial packed Σ y'y'ᵀ, then its partial b: tri(ka) + kp
// floats, no ridge and no w₀·G); the light rows run through the row
// kernels above, unchanged; then als_split_solve adds, for each heavy row,
// its slices' slots in slice order (float64; no atomics, so the sum does
// not depend on scheduling), adds the ridge (and w₀·G), and solves as
// solve_rows does (Cholesky, or CG from the row's current factors when
// cgsteps > 0), with the same failed-row list. A second launch rather than
// "the last block to finish reduces": that would need an atomic counter
// per row, reset before every half, and a __threadfence between each
// slice's stores and its count, and it would make the row's solve run in
// a block shaped for assembly. In stream order the partial slots are
// complete when the solve starts; the launch costs a few microseconds.

// split_gram is the body of als_split_gram (kImplicit false: targets
// t = v, or v − μ − c with biases) and als_split_gram_implicit (targets
// c, weights c − w₀). Shared memory (floats): the staging area of
// assemble_pass (stage_floats), then bs [kp]. The assembly is solve_rows's:
// 4×4 register tiles per pass, per-chunk partial sums, the same staging.
template <bool kImplicit>
__device__ __forceinline__ void split_gram(
    const long long* __restrict__ ptr, const int* __restrict__ idx, const float* __restrict__ val,
    const int* __restrict__ slices, int nslices, const float* __restrict__ Y, const float* __restrict__ Ybias,
    int k, int ka, float mu, int chunk, int nbuf, float* __restrict__ part, double alpha, double w0) {
    float* smem = reinterpret_cast<float*>(als_smem4);
    const int tid = threadIdx.x;
    const int nthreads = blockDim.x;
    const int kp = (ka + TB - 1) / TB * TB;
    const int nt = kp / TB;
    const int ntiles = nt * (nt + 1) / 2;
    const int npass = (ntiles + nthreads - 1) / nthreads;
    const long long stride = tri(ka) + kp;

    const Staging st = staging(smem, nbuf, chunk, kp);
    float* bs = smem + stage_floats(nbuf, chunk, kp, kImplicit);
    const bool vec = gather_vec(Y, k);

    for (long long s = blockIdx.x; s < nslices; s += gridDim.x) {
        const int row = slices[3 * s];
        const long long start = ptr[row] + slices[3 * s + 1];
        const int n = slices[3 * s + 2] - slices[3 * s + 1];
        float* out = part + s * stride;
        for (int p = tid; p < kp; p += nthreads) bs[p] = 0.0f;

        for (int pass = 0; pass < npass; ++pass) {
            const int t = pass * nthreads + tid;
            const bool own = t < ntiles;
            int pi = 0, qi = 0;
            if (own) tile_coords(t, &pi, &qi);
            float acc[TB][TB];
#pragma unroll
            for (int i = 0; i < TB; ++i)
#pragma unroll
                for (int j = 0; j < TB; ++j) acc[i][j] = 0.0f;

            assemble_pass<kImplicit>(idx, val, start, n, Y, Ybias, k, ka, kp, mu, alpha, w0, chunk, nbuf, st, bs,
                                     kImplicit || pass == 0, pass == 0, own, pi, qi, acc, vec, tid, nthreads);

            if (own) {
#pragma unroll
                for (int i = 0; i < TB; ++i) {
                    const int P = pi * TB + i;
#pragma unroll
                    for (int j = 0; j < TB; ++j) {
                        const int Q = qi * TB + j;
                        if (P < ka && Q <= P) out[tri(P) + Q] = acc[i][j];
                    }
                }
            }
        }
        // Thread p wrote bs[p] (and zeroed it): no barrier needed before.
        for (int p = tid; p < kp; p += nthreads) out[tri(ka) + p] = bs[p];
    }
}

// split_solve is the body of als_split_solve (kImplicit false) and
// als_split_solve_implicit: for heavy row h (grid-stride), A and b are the
// sums of its slices' slots first[h] … first[h+1]−1 of part, in that
// order and in float64, rounded once to float32, plus the ridge on the
// diagonal (implicit: after w₀·G, as solve_rows adds them); then
// cholesky_solve (cgsteps 0) or cg_solve (cgsteps steps from the row's
// current factors), the row's output and failed entry exactly as
// solve_rows. Shared memory: solve_rows's layout for the same chunk and nbuf; the
// Gram in shared memory (ws null) or in ws slot blockIdx.x (ws non-null).
// Every row listed has at least one rating (it is heavy).
template <bool kImplicit>
__device__ __forceinline__ void split_solve(
    const long long* __restrict__ ptr, const int* __restrict__ rows, const int* __restrict__ first, int nheavy,
    const float* __restrict__ part, float* __restrict__ X, float* __restrict__ Xbias, int k, int ka, float lambda,
    int chunk, int nbuf, float* __restrict__ ws, int* __restrict__ failed, ImplicitArgs im, int cgsteps) {
    float* smem = reinterpret_cast<float*>(als_smem4);
    const int tid = threadIdx.x;
    const int nthreads = blockDim.x;
    const int lane = tid & 31;
    const int warp = tid >> 5;
    const int nwarps = nthreads >> 5;
    const bool bias = !kImplicit && ka > k;
    const int kp = (ka + TB - 1) / TB * TB;
    const long long stride = tri(ka) + kp;

    float* ys = smem;
    float* bs = smem + stage_floats(nbuf, chunk, kp, kImplicit);
    float* dg = bs + kp;
    int* flag = reinterpret_cast<int*>(dg + kp);
    float* G = ws != 0 ? ws + (long long)blockIdx.x * tri(ka) : reinterpret_cast<float*>(flag + 1);

    for (long long h = blockIdx.x; h < nheavy; h += gridDim.x) {
        const int row = rows[h];
        const int n = (int)(ptr[row + 1] - ptr[row]);
        const int s0 = first[h], s1 = first[h + 1];
        float* xo = X + (long long)row * k;
        const float reg = kImplicit ? (float)(im.lambda * pow((double)n + im.w0 * (double)im.nfixed, im.nu))
                                    : lambda * (float)n;
        // Row P of the packed triangle by warp, its elements by lane.
        for (int P = warp; P < ka; P += nwarps) {
            for (int Q = lane; Q <= P; Q += 32) {
                const int e = tri(P) + Q;
                double a = 0.0;
                for (int s = s0; s < s1; ++s) a += (double)part[s * stride + e];
                float v = (float)a;
                if (kImplicit) v = __ldg(&im.wgram[e]) + v;
                G[e] = v + (P == Q ? reg : 0.0f);
            }
        }
        for (int p = tid; p < kp; p += nthreads) {
            double a = 0.0;
            if (p < ka)
                for (int s = s0; s < s1; ++s) a += (double)part[s * stride + tri(ka) + p];
            bs[p] = (float)a;
        }
        if (tid == 0) *flag = 0;
        __syncthreads();  // A and b complete

        const bool ok = cgsteps > 0 ? cg_solve(G, bs, ys, kp, ka, k, xo, bias ? Xbias + row : 0, cgsteps, tid,
                                               nthreads, lane, warp, nwarps)
                                    : cholesky_solve(G, bs, dg, flag, ka, tid, nthreads, lane, warp, nwarps);
        for (int p = tid; p < k; p += nthreads) xo[p] = ok ? bs[p] : 0.0f;
        if (bias && tid == 0) Xbias[row] = ok ? bs[k] : 0.0f;
        if (!ok && tid == 0) failed[1 + atomicAdd(failed, 1)] = row;
        __syncthreads();  // shared memory is reused by the next row
    }
}

// als_split_gram: one slice of a heavy row per block (grid-stride over
// the nslices slices; slice s is the ratings slices[3s+1] … slices[3s+2]−1
// of row slices[3s]) into slot s of part (tri(ka) + kp floats: the packed
// partial Σ y'y'ᵀ, then the partial b). Explicit objective, with or
// without biases (ka = k+1).
extern "C" __global__ void __launch_bounds__(512, 2) als_split_gram(
    const long long* __restrict__ ptr, const int* __restrict__ idx, const float* __restrict__ val,
    const int* __restrict__ slices, int nslices, const float* __restrict__ Y, const float* __restrict__ Ybias,
    int k, int ka, float mu, int chunk, int nbuf, float* __restrict__ part) {
    split_gram<false>(ptr, idx, val, slices, nslices, Y, Ybias, k, ka, mu, chunk, nbuf, part, 0.0, 0.0);
}

// als_split_gram_implicit: als_split_gram for the implicit objective
// (ka = k): partial Σ (c − w₀) y yᵀ and Σ c y, c = max(1 + α·v, 0).
extern "C" __global__ void __launch_bounds__(512, 2) als_split_gram_implicit(
    const long long* __restrict__ ptr, const int* __restrict__ idx, const float* __restrict__ val,
    const int* __restrict__ slices, int nslices, const float* __restrict__ Y, int k, double alpha, double w0,
    int chunk, int nbuf, float* __restrict__ part) {
    split_gram<true>(ptr, idx, val, slices, nslices, Y, 0, k, k, 0.0f, chunk, nbuf, part, alpha, w0);
}

// als_split_solve: the heavy rows rows[0 … nheavy−1] of an explicit half
// from als_split_gram's slots (row h's are first[h] … first[h+1]−1), by
// Cholesky (cgsteps 0) or cgsteps CG steps, as solve_rows.
extern "C" __global__ void als_split_solve(
    const long long* __restrict__ ptr, const int* __restrict__ rows, const int* __restrict__ first, int nheavy,
    const float* __restrict__ part, float* __restrict__ X, float* __restrict__ Xbias, int k, int ka, float lambda,
    int chunk, int nbuf, float* __restrict__ ws, int* __restrict__ failed, int cgsteps) {
    split_solve<false>(ptr, rows, first, nheavy, part, X, Xbias, k, ka, lambda, chunk, nbuf, ws, failed, ImplicitArgs{},
                       cgsteps);
}

// als_split_solve_implicit: als_split_solve for the implicit objective:
// A = w₀·G + Σ slots + λ·(n + w₀·N)^ν·I.
extern "C" __global__ void als_split_solve_implicit(
    const long long* __restrict__ ptr, const int* __restrict__ rows, const int* __restrict__ first, int nheavy,
    const float* __restrict__ part, float* __restrict__ X, int k, const float* __restrict__ wgram, double lambda,
    double w0, double nu, int nfixed, int chunk, int nbuf, float* __restrict__ ws, int* __restrict__ failed,
    int cgsteps) {
    const ImplicitArgs im = {wgram, lambda, 0.0, w0, nu, nfixed};
    split_solve<true>(ptr, rows, first, nheavy, part, X, 0, k, k, 0.0f, chunk, nbuf, ws, failed, im, cgsteps);
}

// als_gram_partial writes the Gram matrix Σ y yᵀ of one stripe of the rows
// of the factor table Y (nrows × k) into part: block (s, g) sums rows
// [s·per, min((s+1)·per, nrows)) and thread tid owns the 4×4 register tile
// t = g·blockDim.x + tid of the lower triangle (tile_coords), accumulating
// in float64. Slot s of part holds the packed lower triangle, k(k+1)/2
// doubles; every element is written exactly once (by its tile's owner).
// Dynamic shared memory: ys [chunk][kp] floats, kp = k rounded up to 4.
extern "C" __global__ void als_gram_partial(
    const float* __restrict__ Y, int nrows, int k, int per, int chunk, double* __restrict__ part) {
    float* ys = reinterpret_cast<float*>(als_smem4);
    const int tid = threadIdx.x;
    const int nthreads = blockDim.x;
    const int kp = (k + TB - 1) / TB * TB;
    const int nt = kp / TB;
    const int ntiles = nt * (nt + 1) / 2;
    const int t = blockIdx.y * nthreads + tid;
    const bool own = t < ntiles;
    int pi = 0, qi = 0;
    if (own) tile_coords(t, &pi, &qi);
    double acc[TB][TB];
#pragma unroll
    for (int i = 0; i < TB; ++i)
#pragma unroll
        for (int j = 0; j < TB; ++j) acc[i][j] = 0.0;

    const long long lo = (long long)blockIdx.x * per;
    const long long hi = min(lo + per, (long long)nrows);
    for (long long c0 = lo; c0 < hi; c0 += chunk) {
        const int cn = (int)min((long long)chunk, hi - c0);
        __syncthreads();  // the previous chunk is no longer read
        // The chunk's rows are contiguous in Y: coalesced along the rows.
        for (int e = tid; e < cn * kp; e += nthreads) {
            const int c = e / kp;
            const int col = e - c * kp;
            ys[e] = col < k ? __ldg(&Y[(c0 + c) * k + col]) : 0.0f;
        }
        __syncthreads();  // the chunk is staged
        if (own) {
            const float* yp = ys + pi * TB;
            const float* yq = ys + qi * TB;
#pragma unroll 2
            for (int c = 0; c < cn; ++c) {
                const float4 a4 = *reinterpret_cast<const float4*>(yp + c * kp);
                const float4 b4 = *reinterpret_cast<const float4*>(yq + c * kp);
                const double a[TB] = {a4.x, a4.y, a4.z, a4.w};
                const double b[TB] = {b4.x, b4.y, b4.z, b4.w};
#pragma unroll
                for (int i = 0; i < TB; ++i)
#pragma unroll
                    for (int j = 0; j < TB; ++j) acc[i][j] = fma(a[i], b[j], acc[i][j]);
            }
        }
    }
    if (own) {
        double* out = part + (long long)blockIdx.x * tri(k);
#pragma unroll
        for (int i = 0; i < TB; ++i) {
            const int P = pi * TB + i;
#pragma unroll
            for (int j = 0; j < TB; ++j) {
                const int Q = qi * TB + j;
                if (P < k && Q <= P) out[tri(P) + Q] = acc[i][j];
            }
        }
    }
}

// als_gram_reduce sets out[e] = (float)(w0 · Σ_s part[s·len + e]) for the
// len elements of the packed Gram, summing the stripes in order s = 0, 1, …
// in float64 (grid-stride, one thread per element).
extern "C" __global__ void als_gram_reduce(
    const double* __restrict__ part, int stripes, int len, double w0, float* __restrict__ out) {
    for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < len; e += gridDim.x * blockDim.x) {
        double s = 0.0;
        for (int p = 0; p < stripes; ++p) s += part[(long long)p * len + e];
        out[e] = (float)(w0 * s);
    }
}

// sse is the body of als_sse (kPreference false: the target is the
// rating) and als_preference_sse (kPreference true: the target is the
// preference 1, as in als.PreferenceRMSE).
template <bool kPreference>
__device__ __forceinline__ void sse(
    const long long* __restrict__ ptr, const int* __restrict__ idx, const float* __restrict__ val,
    int nusers, const float* __restrict__ X, const float* __restrict__ Y,
    const float* __restrict__ Xbias, const float* __restrict__ Ybias,
    int k, float mu, double* __restrict__ out) {
    __shared__ double wsum[32];
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int wpb = blockDim.x >> 5;
    double se = 0.0;
    for (long long u = (long long)blockIdx.x * wpb + warp; u < nusers; u += (long long)gridDim.x * wpb) {
        const long long end = ptr[u + 1];
        const float* x = X + (long long)u * k;
        const float bu = Xbias != 0 ? Xbias[u] : 0.0f;
        for (long long q = ptr[u] + lane; q < end; q += 32) {
            const int i = idx[q];
            const float* y = Y + (long long)i * k;
            float s = 0.0f;
            for (int c = 0; c < k; ++c) s = fmaf(__ldg(&x[c]), __ldg(&y[c]), s);
            if (Xbias != 0) s += mu + bu + Ybias[i];
            const double e = (double)s - (kPreference ? 1.0 : (double)val[q]);
            se += e * e;
        }
    }
    se = warp_sum_d(se);
    if (lane == 0) wsum[warp] = se;
    __syncthreads();
    if (warp == 0) {
        double v = lane < wpb ? wsum[lane] : 0.0;
        v = warp_sum_d(v);
        if (lane == 0 && v != 0.0) atomicAdd(out, v);
    }
}

// als_sse adds to *out the sum of squared errors of the model over the
// by-user CSR ratings: one warp per user (grid-stride), one lane per rating.
// With biases (Xbias non-null) a prediction is μ + Xbias[u] + Ybias[i] + x_u·y_i.
// *out must be zeroed before the launch. blockDim.x must be a multiple of 32
// and at most 256.
extern "C" __global__ void __launch_bounds__(256) als_sse(
    const long long* __restrict__ ptr, const int* __restrict__ idx, const float* __restrict__ val,
    int nusers, const float* __restrict__ X, const float* __restrict__ Y,
    const float* __restrict__ Xbias, const float* __restrict__ Ybias,
    int k, float mu, double* __restrict__ out) {
    sse<false>(ptr, idx, val, nusers, X, Y, Xbias, Ybias, k, mu, out);
}

// als_preference_sse is als_sse with the target 1 for every rated pair
// (the implicit objective's training error, als.PreferenceRMSE); val is
// not read. Same arguments and launch shape as als_sse.
extern "C" __global__ void __launch_bounds__(256) als_preference_sse(
    const long long* __restrict__ ptr, const int* __restrict__ idx, const float* __restrict__ val,
    int nusers, const float* __restrict__ X, const float* __restrict__ Y,
    const float* __restrict__ Xbias, const float* __restrict__ Ybias,
    int k, float mu, double* __restrict__ out) {
    sse<true>(ptr, idx, val, nusers, X, Y, Xbias, Ybias, k, mu, out);
}

// als_copy_runs copies runs of CSR entries between device arrays: run r is
// the triplet (src, dst, n) at runs[3r], and dstIdx[dst+e] = srcIdx[src+e],
// dstVal[dst+e] = srcVal[src+e] for e < n. It is how a device holding one
// version of the ratings becomes the next without receiving them again
// (gpu/patch.go): launched once with the held arrays as the source (the
// clean stretches) and once with the staged new entries. The source and
// destination must not overlap, and no two runs may write the same entry
// (the plan covers each entry once), so the order of the copies does not
// matter. One block per run (grid-stride over runs), its threads striding
// over the run's entries: coalesced 4-byte loads and stores.
extern "C" __global__ void __launch_bounds__(256) als_copy_runs(
    const int* __restrict__ srcIdx, const float* __restrict__ srcVal,
    int* __restrict__ dstIdx, float* __restrict__ dstVal,
    const long long* __restrict__ runs, int nruns) {
    for (long long r = blockIdx.x; r < nruns; r += gridDim.x) {
        const long long src = runs[3 * r], dst = runs[3 * r + 1], n = runs[3 * r + 2];
        for (long long e = threadIdx.x; e < n; e += blockDim.x) {
            dstIdx[dst + e] = __ldg(&srcIdx[src + e]);
            dstVal[dst + e] = __ldg(&srcVal[src + e]);
        }
    }
}
