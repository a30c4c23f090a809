// als.cu: the device half of explicit ALS (ALS-WR) for package gpu.
//
// One half-iteration solves, for every row r of one side (all items against
// the fixed user factors, or all users against the fixed item factors),
//
//     A = Σ_j y'_j y'_jᵀ + λ·n·I      b = Σ_j t_j y'_j      A x' = b
//
// over the row's n ratings (column j, value v_j) in CSR form, where y'_j is
// the fixed side's factor row j and t_j = v_j; with biases (ka = k+1)
// y'_j = [y_j, 1] and t_j = v_j − μ − c_j (c = the fixed side's bias), and
// x' = [x, b] is written as factor row x and bias b. A row with no ratings,
// or whose system is not numerically positive definite, gets zeros.
//
// Assembly and solve are fused: one thread block owns one row at a time
// (grid-stride over a permutation of rows sorted by rating count, so blocks
// that run together do similar work); the packed lower triangle of A lives
// in dynamic shared memory (als_solve_shared) or, when it does not fit in
// the 48 KiB a launch may ask for without an opt-in, in a per-block global
// workspace (als_solve_global). Launch shapes are computed on the host (see
// gpu/plan.go and kernels/doc.go); nothing here depends on a fixed rank.
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

// solve_rows is the body of als_solve_shared (kGlobalGram false) and
// als_solve_global (kGlobalGram true).
//
// Shared memory layout (floats), kp = ka rounded up to a multiple of TB:
//   ys   [chunk][kp]  staged y' rows of the current chunk of ratings (zero padded)
//   tgt  [chunk]      their targets t_j
//   bs   [kp]         right-hand side b, then z, then x'
//   dg   [kp]         diagonal of the Cholesky factor L
//   flag [1]          non-zero when a pivot was not positive
//   gram [ka(ka+1)/2] packed lower triangle of A, then L (shared variant only;
//                     the global variant uses ws + blockIdx.x·ka(ka+1)/2)
template <bool kGlobalGram>
__device__ __forceinline__ void solve_rows(
    const long long* __restrict__ ptr, const int* __restrict__ idx, const float* __restrict__ val,
    const int* __restrict__ perm, int nrows,
    const float* __restrict__ Y, const float* __restrict__ Ybias,
    float* __restrict__ X, float* __restrict__ Xbias,
    int k, int ka, float lambda, float mu, int chunk, float* __restrict__ ws) {
    float* smem = reinterpret_cast<float*>(als_smem4);
    const int tid = threadIdx.x;
    const int nthreads = blockDim.x;
    const int lane = tid & 31;
    const int warp = tid >> 5;
    const int nwarps = nthreads >> 5;
    const bool bias = ka > k;

    const int kp = (ka + TB - 1) / TB * TB;
    const int nt = kp / TB;
    const int ntiles = nt * (nt + 1) / 2;
    const int npass = (ntiles + nthreads - 1) / nthreads;

    float* ys = smem;
    float* tgt = ys + chunk * kp;
    float* bs = tgt + chunk;
    float* dg = bs + kp;
    int* flag = reinterpret_cast<int*>(dg + kp);
    float* G;
    if (kGlobalGram) {
        G = ws + (long long)blockIdx.x * tri(ka);
    } else {
        G = reinterpret_cast<float*>(flag + 1);
    }

    for (int r = blockIdx.x; r < nrows; r += gridDim.x) {
        const int row = perm[r];
        const long long start = ptr[row];
        const int n = (int)(ptr[row + 1] - start);
        float* xo = X + (long long)row * k;
        if (n == 0) {  // uniform across the block; touches no shared memory
            for (int p = tid; p < k; p += nthreads) xo[p] = 0.0f;
            if (bias && tid == 0) Xbias[row] = 0.0f;
            continue;
        }
        const float reg = lambda * (float)n;
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

            for (int c0 = 0; c0 < n; c0 += chunk) {
                const int cn = min(chunk, n - c0);
                __syncthreads();  // the previous chunk (or row) is no longer read
                // Gather cn factor rows, coalesced along the row.
                for (int e = tid; e < cn * kp; e += nthreads) {
                    const int c = e / kp;
                    const int col = e - c * kp;
                    float v = 0.0f;
                    if (col < k) {
                        const int j = idx[start + c0 + c];
                        v = __ldg(&Y[(long long)j * k + col]);
                    } else if (bias && col == k) {
                        v = 1.0f;
                    }
                    ys[e] = v;
                }
                if (pass == 0) {
                    for (int c = tid; c < cn; c += nthreads) {
                        const long long q = start + c0 + c;
                        float tv = val[q];
                        if (bias) tv -= mu + __ldg(&Ybias[idx[q]]);
                        tgt[c] = tv;
                    }
                }
                __syncthreads();  // the chunk is staged

                if (own) {
                    // Per-chunk partial sums keep the float32 error of long
                    // rows at O((chunk + n/chunk)·ε) instead of O(n·ε).
                    float part[TB][TB];
#pragma unroll
                    for (int i = 0; i < TB; ++i)
#pragma unroll
                        for (int j = 0; j < TB; ++j) part[i][j] = 0.0f;
                    const float* yp = ys + pi * TB;
                    const float* yq = ys + qi * TB;
#pragma unroll 4
                    for (int c = 0; c < cn; ++c) {
                        const float4 a4 = *reinterpret_cast<const float4*>(yp + c * kp);
                        const float4 b4 = *reinterpret_cast<const float4*>(yq + c * kp);
                        const float a[TB] = {a4.x, a4.y, a4.z, a4.w};
                        const float b[TB] = {b4.x, b4.y, b4.z, b4.w};
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
                if (pass == 0) {
                    // Thread p owns b[p]: no other thread touches it.
                    for (int p = tid; p < ka; p += nthreads) {
                        float s = 0.0f;
                        for (int c = 0; c < cn; ++c) s = fmaf(tgt[c], ys[c * kp + p], s);
                        bs[p] += s;
                    }
                }
            }

            if (own) {
#pragma unroll
                for (int i = 0; i < TB; ++i) {
                    const int P = pi * TB + i;
#pragma unroll
                    for (int j = 0; j < TB; ++j) {
                        const int Q = qi * TB + j;
                        if (P < ka && Q <= P) G[tri(P) + Q] = acc[i][j] + (P == Q ? reg : 0.0f);
                    }
                }
            }
        }
        __syncthreads();  // A and b complete

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

        const bool ok = *flag == 0;
        for (int p = tid; p < k; p += nthreads) xo[p] = ok ? bs[p] : 0.0f;
        if (bias && tid == 0) Xbias[row] = ok ? bs[k] : 0.0f;
        __syncthreads();  // shared memory is reused by the next row
    }
}

// als_solve_shared: the packed Gram lives in dynamic shared memory.
extern "C" __global__ void als_solve_shared(
    const long long* __restrict__ ptr, const int* __restrict__ idx, const float* __restrict__ val,
    const int* __restrict__ perm, int nrows,
    const float* __restrict__ Y, const float* __restrict__ Ybias,
    float* __restrict__ X, float* __restrict__ Xbias,
    int k, int ka, float lambda, float mu, int chunk, float* __restrict__ ws) {
    solve_rows<false>(ptr, idx, val, perm, nrows, Y, Ybias, X, Xbias, k, ka, lambda, mu, chunk, ws);
}

// als_solve_global: the packed Gram lives in ws, one slot of ka(ka+1)/2
// floats per block; gridDim.x must not exceed the number of slots.
extern "C" __global__ void als_solve_global(
    const long long* __restrict__ ptr, const int* __restrict__ idx, const float* __restrict__ val,
    const int* __restrict__ perm, int nrows,
    const float* __restrict__ Y, const float* __restrict__ Ybias,
    float* __restrict__ X, float* __restrict__ Xbias,
    int k, int ka, float lambda, float mu, int chunk, float* __restrict__ ws) {
    solve_rows<true>(ptr, idx, val, perm, nrows, Y, Ybias, X, Xbias, k, ka, lambda, mu, chunk, ws);
}

// als_sse adds to *out the sum of squared errors of the model over the
// by-user CSR ratings: one warp per user (grid-stride), one lane per rating.
// With biases (Xbias non-null) a prediction is μ + Xbias[u] + Ybias[i] + x_u·y_i.
// *out must be zeroed before the launch. blockDim.x must be a multiple of 32
// and at most 1024.
extern "C" __global__ void __launch_bounds__(256) als_sse(
    const long long* __restrict__ ptr, const int* __restrict__ idx, const float* __restrict__ val,
    int nusers, const float* __restrict__ X, const float* __restrict__ Y,
    const float* __restrict__ Xbias, const float* __restrict__ Ybias,
    int k, float mu, double* __restrict__ out) {
    __shared__ double wsum[32];
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int wpb = blockDim.x >> 5;
    double se = 0.0;
    for (int u = blockIdx.x * wpb + warp; u < nusers; u += gridDim.x * wpb) {
        const long long end = ptr[u + 1];
        const float* x = X + (long long)u * k;
        const float bu = Xbias != 0 ? Xbias[u] : 0.0f;
        for (long long q = ptr[u] + lane; q < end; q += 32) {
            const int i = idx[q];
            const float* y = Y + (long long)i * k;
            float s = 0.0f;
            for (int c = 0; c < k; ++c) s = fmaf(__ldg(&x[c]), __ldg(&y[c]), s);
            if (Xbias != 0) s += mu + bu + Ybias[i];
            const double e = (double)s - (double)val[q];
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
