package cpu

import (
	"cmp"
	"slices"

	"movierec/als"
)

// An order renumbers a Fit's users and items by descending rating count
// (ties by index), so that the most-rated rows of each factor table sit
// together. The solver gathers a row's fixed factors by index; on skewed
// data (the ml-25m preset's 3,000 most-rated of 59,044 movies hold 81% of
// its ratings) the gathers of a table in that order touch far fewer cache
// lines and pages than of one in arrival order, where the popular rows are
// scattered over the whole table. Fit trains on a renumbered copy of the
// ratings and returns the model in the caller's numbering: only rounding
// (the order of the rows' sums) differs from a fit without it.
//
// An order is built and used by one Fit; it is not safe for concurrent
// use.
type order struct {
	users, items   []int32 // new index → the caller's index
	userAt, itemAt []int32 // the caller's index → new index
}

// wantOrder reports whether a fit of p on r trains in the degree order:
// when its larger factor table (at the augmented rank) has at least
// kernel.order bytes. A smaller table stays in cache whatever its order,
// and the copy of the ratings would cost more than it saves.
func (k *kernel) wantOrder(r *als.Ratings, p als.Params) bool {
	if k.order <= 0 {
		return false
	}
	return 4*p.AugmentedRank()*max(r.NumUsers, r.NumItems) >= k.order
}

// newOrder returns the degree order of r's users and items.
func newOrder(r *als.Ratings) *order {
	o := &order{}
	o.users, o.userAt = byDegree(r.UserPtr)
	o.items, o.itemAt = byDegree(r.ItemPtr)
	return o
}

// byDegree returns the rows of a compressed form, given by ptr, by
// descending length (ties by index), and each row's position in that
// order.
func byDegree(ptr []int64) (rows, at []int32) {
	n := len(ptr) - 1
	rows = make([]int32, n)
	for i := range rows {
		rows[i] = int32(i)
	}
	slices.SortFunc(rows, func(a, b int32) int {
		if c := cmp.Compare(ptr[b+1]-ptr[b], ptr[a+1]-ptr[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	at = make([]int32, n)
	for j, i := range rows {
		at[i] = int32(j)
	}
	return rows, at
}

// ratings returns r renumbered: a new Ratings (r is not modified or
// retained) whose row j of either form is the caller's row o.users[j]
// (o.items[j]) with its column indices renumbered, its ratings in the
// caller's order. So a row's indices are not ascending, which no kernel
// needs. It copies every rating twice (once per form), on t's workers.
func (o *order) ratings(t *team, r *als.Ratings) *als.Ratings {
	n := &als.Ratings{NumUsers: r.NumUsers, NumItems: r.NumItems}
	n.UserPtr, n.UserIdx, n.UserVal = permuteCSR(t, r.UserPtr, r.UserIdx, r.UserVal, o.users, o.itemAt)
	n.ItemPtr, n.ItemIdx, n.ItemVal = permuteCSR(t, r.ItemPtr, r.ItemIdx, r.ItemVal, o.items, o.userAt)
	return n
}

// permuteCSR returns the compressed form (ptr, idx, val) with its rows
// taken in the order rows and its column indices mapped through colAt.
func permuteCSR(t *team, ptr []int64, idx []int32, val []float32, rows, colAt []int32) ([]int64, []int32, []float32) {
	np := make([]int64, len(rows)+1)
	for j, i := range rows {
		np[j+1] = np[j] + ptr[i+1] - ptr[i]
	}
	ni := make([]int32, len(idx))
	nv := make([]float32, len(val))
	const rowsPer = 1024
	t.parallel((len(rows)+rowsPer-1)/rowsPer, func(_, c int) {
		for j := c * rowsPer; j < min((c+1)*rowsPer, len(rows)); j++ {
			i := rows[j]
			lo, hi := ptr[i], ptr[i+1]
			copy(nv[np[j]:np[j+1]], val[lo:hi])
			dst := ni[np[j]:np[j+1]]
			for l, col := range idx[lo:hi] {
				dst[l] = colAt[col]
			}
		}
	})
	return np, ni, nv
}

// model returns a new model holding m's rows in the new numbering.
func (o *order) model(m *als.Model) *als.Model {
	n := &als.Model{Rank: m.Rank, NumUsers: m.NumUsers, NumItems: m.NumItems, Bias: m.Bias, Mean: m.Mean}
	n.UserFactors = permuteRows(m.UserFactors, m.Rank, o.users)
	n.ItemFactors = permuteRows(m.ItemFactors, m.Rank, o.items)
	if m.Bias {
		n.UserBias = permuteRows(m.UserBias, 1, o.users)
		n.ItemBias = permuteRows(m.ItemBias, 1, o.items)
	}
	return n
}

// restore writes n (in the new numbering) into dst's slices in the
// caller's numbering: row o.users[j] of dst is row j of n.
func (o *order) restore(dst, n *als.Model) {
	dst.Mean = n.Mean
	unpermuteRows(dst.UserFactors, n.UserFactors, n.Rank, o.users)
	unpermuteRows(dst.ItemFactors, n.ItemFactors, n.Rank, o.items)
	if n.Bias {
		unpermuteRows(dst.UserBias, n.UserBias, 1, o.users)
		unpermuteRows(dst.ItemBias, n.ItemBias, 1, o.items)
	}
}

// permuteRows returns a new table whose row j is the row rows[j] of src
// (rows of k values).
func permuteRows(src []float32, k int, rows []int32) []float32 {
	dst := make([]float32, len(src))
	for j, i := range rows {
		copy(dst[j*k:(j+1)*k], src[int(i)*k:(int(i)+1)*k])
	}
	return dst
}

// unpermuteRows sets row rows[j] of dst to row j of src.
func unpermuteRows(dst, src []float32, k int, rows []int32) {
	for j, i := range rows {
		copy(dst[int(i)*k:(int(i)+1)*k], src[j*k:(j+1)*k])
	}
}

// heldOut returns h with its users and items renumbered (a copy).
func (o *order) heldOut(h als.HeldOut) als.HeldOut {
	n := als.HeldOut{Users: make([]int32, len(h.Users)), Items: make([]int32, len(h.Items)), Vals: h.Vals}
	for j := range h.Users {
		n.Users[j], n.Items[j] = o.userAt[h.Users[j]], o.itemAt[h.Items[j]]
	}
	return n
}
