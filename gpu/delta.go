package gpu

import (
	"fmt"
	"math"

	"movierec/als"
)

// Delta is the change from one version of a dataset to the next: the new
// dimensions (never smaller than the base's: new users and movies append
// rows) and the ratings set (new or replaced) and deleted, each list in
// ascending (user, item) order. A Delta holds its own slices; it is not safe
// for concurrent use while being built.
type Delta struct {
	NumUsers, NumItems int

	SetUser []int32
	SetItem []int32
	SetVal  []float32

	DelUser []int32
	DelItem []int32
}

// Changes returns the number of set and deleted ratings.
func (d *Delta) Changes() int { return len(d.SetUser) + len(d.DelUser) }

func (d *Delta) reset(users, items int) {
	d.NumUsers, d.NumItems = users, items
	d.SetUser, d.SetItem, d.SetVal = d.SetUser[:0], d.SetItem[:0], d.SetVal[:0]
	d.DelUser, d.DelItem = d.DelUser[:0], d.DelItem[:0]
}

// Diff sets d to the change from old to cur, comparing their by-user forms
// row by row (a merge of sorted rows: O(nnz) and no allocation beyond d's
// lists). It reports false, leaving d undefined, when cur has fewer users
// or items than old (a Delta only appends rows) or when more than limit
// ratings changed (a full upload is then cheaper). Values are compared by
// their bits, so that the rebuilt Ratings equals cur exactly.
func (d *Delta) Diff(old, cur *als.Ratings, limit int) bool {
	if cur.NumUsers < old.NumUsers || cur.NumItems < old.NumItems {
		return false
	}
	d.reset(cur.NumUsers, cur.NumItems)
	if old == cur {
		return true
	}
	for u := 0; u < cur.NumUsers; u++ {
		var oi []int32
		var ov []float32
		if u < old.NumUsers {
			oi, ov = old.UserIdx[old.UserPtr[u]:old.UserPtr[u+1]], old.UserVal[old.UserPtr[u]:old.UserPtr[u+1]]
		}
		ni, nv := cur.UserIdx[cur.UserPtr[u]:cur.UserPtr[u+1]], cur.UserVal[cur.UserPtr[u]:cur.UserPtr[u+1]]
		if len(oi) == len(ni) && equalRow(oi, ov, ni, nv) {
			continue
		}
		uu := int32(u)
		a, b := 0, 0
		for a < len(oi) || b < len(ni) {
			switch {
			case b == len(ni) || (a < len(oi) && oi[a] < ni[b]):
				d.DelUser = append(d.DelUser, uu)
				d.DelItem = append(d.DelItem, oi[a])
				a++
			case a == len(oi) || ni[b] < oi[a]:
				d.SetUser, d.SetItem, d.SetVal = append(d.SetUser, uu), append(d.SetItem, ni[b]), append(d.SetVal, nv[b])
				b++
			default: // same item
				if !sameBits(ov[a], nv[b]) {
					d.SetUser, d.SetItem, d.SetVal = append(d.SetUser, uu), append(d.SetItem, ni[b]), append(d.SetVal, nv[b])
				}
				a++
				b++
			}
		}
		if d.Changes() > limit {
			return false
		}
	}
	return true
}

func equalRow(ai []int32, av []float32, bi []int32, bv []float32) bool {
	for k := range ai {
		if ai[k] != bi[k] || !sameBits(av[k], bv[k]) {
			return false
		}
	}
	return true
}

func sameBits(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }

// Apply returns base with d applied: a new Ratings (base is not modified,
// and none of its slices are retained) whose by-user form is base's rows
// merged with d's changes and whose by-item form is its transpose
// (als.NewRatingsCSR), so it equals, slice for slice, a Ratings built from
// the same ratings by als.NewRatings. It costs O(nnz) host time and memory
// and no transfer. The error reports a Delta that does not fit base
// (dimensions that shrink, indices out of range or out of order, a deleted
// rating that base lacks).
func (d *Delta) Apply(base *als.Ratings) (*als.Ratings, error) {
	if err := d.check(base); err != nil {
		return nil, err
	}
	nnz := int64(base.NNZ())
	// Each set adds at most one rating, each delete removes one.
	capacity := nnz + int64(len(d.SetUser))
	ptr := make([]int64, d.NumUsers+1)
	idx := make([]int32, 0, capacity)
	val := make([]float32, 0, capacity)
	s, x := 0, 0 // next set, next delete
	for u := 0; u < d.NumUsers; u++ {
		var oi []int32
		var ov []float32
		if u < base.NumUsers {
			oi, ov = base.UserIdx[base.UserPtr[u]:base.UserPtr[u+1]], base.UserVal[base.UserPtr[u]:base.UserPtr[u+1]]
		}
		uu := int32(u)
		a := 0
		for a < len(oi) || (s < len(d.SetUser) && d.SetUser[s] == uu) {
			setHere := s < len(d.SetUser) && d.SetUser[s] == uu
			switch {
			case setHere && (a == len(oi) || d.SetItem[s] < oi[a]):
				idx, val = append(idx, d.SetItem[s]), append(val, d.SetVal[s])
				s++
			case setHere && d.SetItem[s] == oi[a]:
				idx, val = append(idx, d.SetItem[s]), append(val, d.SetVal[s])
				s++
				a++
			case x < len(d.DelUser) && d.DelUser[x] == uu && d.DelItem[x] == oi[a]:
				x++
				a++
			default:
				idx, val = append(idx, oi[a]), append(val, ov[a])
				a++
			}
		}
		if x < len(d.DelUser) && d.DelUser[x] == uu {
			return nil, fmt.Errorf("gpu: delta deletes rating (%d, %d), which the base lacks", uu, d.DelItem[x])
		}
		ptr[u+1] = int64(len(idx))
	}
	return als.NewRatingsCSR(d.NumUsers, d.NumItems, ptr, idx, val), nil
}

// check validates d against base: dimensions, ranges and order.
func (d *Delta) check(base *als.Ratings) error {
	if d.NumUsers < base.NumUsers || d.NumItems < base.NumItems || d.NumUsers > MaxRows || d.NumItems > MaxRows {
		return fmt.Errorf("gpu: delta to %d×%d from a base of %d×%d", d.NumUsers, d.NumItems, base.NumUsers, base.NumItems)
	}
	if len(d.SetItem) != len(d.SetUser) || len(d.SetVal) != len(d.SetUser) || len(d.DelItem) != len(d.DelUser) {
		return fmt.Errorf("gpu: delta lists of unequal lengths")
	}
	ordered := func(what string, us, is []int32) error {
		for k := range us {
			if us[k] < 0 || int(us[k]) >= d.NumUsers || is[k] < 0 || int(is[k]) >= d.NumItems {
				return fmt.Errorf("gpu: delta %s (%d, %d) out of range", what, us[k], is[k])
			}
			if k > 0 && (us[k] < us[k-1] || us[k] == us[k-1] && is[k] <= is[k-1]) {
				return fmt.Errorf("gpu: delta %s list not in ascending (user, item) order at %d", what, k)
			}
		}
		return nil
	}
	if err := ordered("set", d.SetUser, d.SetItem); err != nil {
		return err
	}
	return ordered("delete", d.DelUser, d.DelItem)
}
