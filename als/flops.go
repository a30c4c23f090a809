package als

// FlopsPerIteration counts the useful floating-point work of one ALS
// iteration (both halves) on r with augmented rank kp, a multiply-add
// counting as 2 flops:
//
//	assembly of one triangle of Σ y yᵀ: kp(kp+1)/2 multiply-adds per
//	rating, nnz ratings per half           → 2 · nnz · kp(kp+1)
//	right-hand side Σ r y                  → 2 · 2·nnz·kp
//	Cholesky, kp³/3 flops per row          → (m+n) · kp³/3
//	two triangular solves, kp² each        → (m+n) · 2kp²
//
// ≈ 2·nnz·kp² + (m+n)·kp³/3. Rows without ratings are not counted. Every
// backend's GFLOP/s figure uses this count, so they compare.
func FlopsPerIteration(r *Ratings, kp int) float64 {
	nnz, k := float64(r.NNZ()), float64(kp)
	var rows float64
	for _, ptr := range [][]int64{r.UserPtr, r.ItemPtr} {
		for j := 1; j < len(ptr); j++ {
			if ptr[j] > ptr[j-1] {
				rows++
			}
		}
	}
	return 2*nnz*k*(k+1) + 4*nnz*k + rows*(k*k*k/3+2*k*k)
}
