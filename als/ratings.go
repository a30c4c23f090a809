package als

import (
	"fmt"
	"math"
)

// Ratings is a sparse users×items rating matrix held twice: compressed by row
// (by user) and compressed by column (by item). Users and items are dense
// indices 0..NumUsers-1 and 0..NumItems-1; mapping external ids to them is the
// caller's job.
//
// Row u's ratings are UserIdx[UserPtr[u]:UserPtr[u+1]] (item indices, ascending)
// with values UserVal at the same positions; item i's ratings are
// ItemIdx[ItemPtr[i]:ItemPtr[i+1]] (user indices, ascending) with values ItemVal.
//
// A Ratings is immutable once built and safe for concurrent reads. Solvers
// must not modify it.
type Ratings struct {
	NumUsers, NumItems int

	UserPtr []int64   // len NumUsers+1
	UserIdx []int32   // item index per rating, len NNZ
	UserVal []float32 // rating value, len NNZ

	ItemPtr []int64   // len NumItems+1
	ItemIdx []int32   // user index per rating, len NNZ
	ItemVal []float32 // rating value, len NNZ
}

// NewRatings builds both compressed forms from coordinate triples. users,
// items and vals must have the same length; each (user, item) pair must occur
// at most once. The input slices are not retained. It panics on out-of-range
// indices or mismatched lengths (programmer errors).
func NewRatings(numUsers, numItems int, users, items []int32, vals []float32) *Ratings {
	n := len(users)
	if len(items) != n || len(vals) != n {
		panic(fmt.Sprintf("als: NewRatings length mismatch: %d users, %d items, %d vals", n, len(items), len(vals)))
	}
	r := &Ratings{NumUsers: numUsers, NumItems: numItems}
	r.UserPtr, r.UserIdx, r.UserVal = compress(numUsers, numItems, users, items, vals)
	r.ItemPtr, r.ItemIdx, r.ItemVal = compress(numItems, numUsers, items, users, vals)
	return r
}

// compress builds a CSR of rows×cols from coordinates, columns ascending
// within each row (a counting sort on rows after a counting sort on cols).
func compress(rows, cols int, ri, ci []int32, v []float32) ([]int64, []int32, []float32) {
	n := len(ri)
	// Order by column first so that the stable row pass leaves columns ascending.
	colPtr := make([]int64, cols+1)
	for k, c := range ci {
		if c < 0 || int(c) >= cols {
			panic(fmt.Sprintf("als: index %d out of range [0,%d) at %d", c, cols, k))
		}
		colPtr[c+1]++
	}
	for c := 0; c < cols; c++ {
		colPtr[c+1] += colPtr[c]
	}
	order := make([]int32, n)
	next := append([]int64(nil), colPtr[:cols]...)
	for k, c := range ci {
		order[next[c]] = int32(k)
		next[c]++
	}
	ptr := make([]int64, rows+1)
	for k, r := range ri {
		if r < 0 || int(r) >= rows {
			panic(fmt.Sprintf("als: index %d out of range [0,%d) at %d", r, rows, k))
		}
		ptr[r+1]++
	}
	for r := 0; r < rows; r++ {
		ptr[r+1] += ptr[r]
	}
	idx := make([]int32, n)
	val := make([]float32, n)
	pos := append([]int64(nil), ptr[:rows]...)
	for _, k := range order {
		r := ri[k]
		p := pos[r]
		idx[p] = ci[k]
		val[p] = v[k]
		pos[r]++
	}
	return ptr, idx, val
}

// NNZ returns the number of stored ratings.
func (r *Ratings) NNZ() int { return len(r.UserIdx) }

// Mean returns the average rating, or 0 for an empty matrix.
func (r *Ratings) Mean() float64 {
	if len(r.UserVal) == 0 {
		return 0
	}
	var s float64
	for _, v := range r.UserVal {
		s += float64(v)
	}
	return s / float64(len(r.UserVal))
}

// Validate checks the structural invariants of both compressed forms and
// that every value is finite. Decoders of untrusted input (the worker
// protocol) call it before handing a Ratings to a solver.
func (r *Ratings) Validate() error {
	if err := checkCSR("user", r.NumUsers, r.NumItems, r.UserPtr, r.UserIdx, r.UserVal); err != nil {
		return err
	}
	if err := checkCSR("item", r.NumItems, r.NumUsers, r.ItemPtr, r.ItemIdx, r.ItemVal); err != nil {
		return err
	}
	if len(r.UserIdx) != len(r.ItemIdx) {
		return fmt.Errorf("als: by-user nnz %d != by-item nnz %d", len(r.UserIdx), len(r.ItemIdx))
	}
	return nil
}

func checkCSR(what string, rows, cols int, ptr []int64, idx []int32, val []float32) error {
	if rows < 0 || cols < 0 {
		return fmt.Errorf("als: negative %s dimensions %d×%d", what, rows, cols)
	}
	if len(ptr) != rows+1 || ptr[0] != 0 || ptr[rows] != int64(len(idx)) || len(val) != len(idx) {
		return fmt.Errorf("als: malformed %s CSR: %d rows, ptr len %d, idx len %d, val len %d", what, rows, len(ptr), len(idx), len(val))
	}
	for i := 0; i < rows; i++ {
		if ptr[i+1] < ptr[i] {
			return fmt.Errorf("als: %s row %d has decreasing pointers", what, i)
		}
	}
	for k, c := range idx {
		if c < 0 || int(c) >= cols {
			return fmt.Errorf("als: %s CSR index %d out of range at %d", what, c, k)
		}
		if v := float64(val[k]); math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("als: %s CSR value not finite at %d", what, k)
		}
	}
	return nil
}

// NewRatingsCSR builds a Ratings from its by-user form, computing the by-item
// form by a counting-sort transpose. ptr, idx and val are retained (they
// become UserPtr, UserIdx, UserVal) and must not be modified afterwards. Item
// indices within a row must be ascending and unique.
func NewRatingsCSR(numUsers, numItems int, ptr []int64, idx []int32, val []float32) *Ratings {
	r := &Ratings{NumUsers: numUsers, NumItems: numItems, UserPtr: ptr, UserIdx: idx, UserVal: val}
	if len(ptr) != numUsers+1 || len(val) != len(idx) || ptr[numUsers] != int64(len(idx)) {
		panic(fmt.Sprintf("als: NewRatingsCSR malformed: %d users, ptr len %d, idx len %d, val len %d", numUsers, len(ptr), len(idx), len(val)))
	}
	iptr := make([]int64, numItems+1)
	for _, c := range idx {
		if c < 0 || int(c) >= numItems {
			panic(fmt.Sprintf("als: NewRatingsCSR item index %d out of range [0,%d)", c, numItems))
		}
		iptr[c+1]++
	}
	for i := 0; i < numItems; i++ {
		iptr[i+1] += iptr[i]
	}
	iidx := make([]int32, len(idx))
	ival := make([]float32, len(idx))
	pos := append([]int64(nil), iptr[:numItems]...)
	for u := 0; u < numUsers; u++ {
		for p := ptr[u]; p < ptr[u+1]; p++ {
			c := idx[p]
			q := pos[c]
			iidx[q] = int32(u)
			ival[q] = val[p]
			pos[c]++
		}
	}
	r.ItemPtr, r.ItemIdx, r.ItemVal = iptr, iidx, ival
	return r
}
