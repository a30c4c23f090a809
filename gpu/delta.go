package gpu

import (
	"cmp"
	"fmt"
	"math"
	"slices"

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
// and none of its slices are retained) equal, slice for slice, to a Ratings
// built from the same ratings by als.NewRatings. Both orientations are
// merged the same way: rows without changes are copied in bulk (one copy
// per run of clean rows), rows with changes are merged element by element,
// so the cost is a memory copy of the ratings plus O(changes + changed
// rows' lengths), with no transfer and no transpose. The error reports a
// Delta that does not fit base (dimensions that shrink, indices out of
// range or out of order, a deleted rating that base lacks).
func (d *Delta) Apply(base *als.Ratings) (*als.Ratings, error) {
	return d.ApplyTo(nil, base)
}

// ApplyTo is Apply building the result in spare's slices where they are
// large enough (spare, when non-nil, is consumed: the caller must no
// longer use it, nor may anything else hold it; it must not share slices
// with base). A worker passes the version before base, which saves
// allocating (and faulting in) a full copy of the ratings per retrain.
func (d *Delta) ApplyTo(spare, base *als.Ratings) (*als.Ratings, error) {
	return d.ApplyPatch(spare, base, nil)
}

// ApplyPatch is ApplyTo that also records in pt (when non-nil) how the
// result was built from base (see Patch), for a device that holds base to
// replay instead of receiving the result in full. The recording costs
// O(runs): the merge already works run by run.
func (d *Delta) ApplyPatch(spare, base *als.Ratings, pt *Patch) (*als.Ratings, error) {
	var users, items *CSRPatch
	if pt != nil {
		*pt = Patch{Users: pt.Users, Items: pt.Items}
		pt.Users.reset()
		pt.Items.reset()
		users, items = &pt.Users, &pt.Items
	}
	if err := d.check(base); err != nil {
		return nil, err
	}
	if spare == nil {
		spare = &als.Ratings{}
	}
	r := &als.Ratings{NumUsers: d.NumUsers, NumItems: d.NumItems}
	var err error
	r.UserPtr, r.UserIdx, r.UserVal, err = mergeCSR(spare.UserPtr, spare.UserIdx, spare.UserVal,
		base.NumUsers, d.NumUsers, base.UserPtr, base.UserIdx, base.UserVal,
		d.SetUser, d.SetItem, d.SetVal, d.DelUser, d.DelItem, users)
	if err != nil {
		return nil, err
	}
	// The by-item side: the same changes in (item, user) order.
	set := make([]int, len(d.SetUser))
	for k := range set {
		set[k] = k
	}
	slices.SortFunc(set, func(a, b int) int {
		return cmp.Or(cmp.Compare(d.SetItem[a], d.SetItem[b]), cmp.Compare(d.SetUser[a], d.SetUser[b]))
	})
	del := make([]int, len(d.DelUser))
	for k := range del {
		del[k] = k
	}
	slices.SortFunc(del, func(a, b int) int {
		return cmp.Or(cmp.Compare(d.DelItem[a], d.DelItem[b]), cmp.Compare(d.DelUser[a], d.DelUser[b]))
	})
	sr, sc, sv := make([]int32, len(set)), make([]int32, len(set)), make([]float32, len(set))
	for k, p := range set {
		sr[k], sc[k], sv[k] = d.SetItem[p], d.SetUser[p], d.SetVal[p]
	}
	dr, dc := make([]int32, len(del)), make([]int32, len(del))
	for k, p := range del {
		dr[k], dc[k] = d.DelItem[p], d.DelUser[p]
	}
	r.ItemPtr, r.ItemIdx, r.ItemVal, err = mergeCSR(spare.ItemPtr, spare.ItemIdx, spare.ItemVal,
		base.NumItems, d.NumItems, base.ItemPtr, base.ItemIdx, base.ItemVal,
		sr, sc, sv, dr, dc, items)
	if err != nil {
		return nil, err
	}
	if pt != nil {
		pt.Base, pt.Result = base, r
	}
	return r, nil
}

// mergeCSR returns the CSR of rows rows (oldRows of them in ptr, idx, val;
// the rest empty) with the ratings (setR, setC) set to setV and (delR,
// delC) deleted, both lists in ascending (row, column) order. It builds the
// result in bufP, bufI, bufV where their capacity suffices, and records in
// rec (when non-nil) which entries it copied from idx, val and which are
// set ones.
func mergeCSR(bufP []int64, bufI []int32, bufV []float32, oldRows, rows int, ptr []int64, idx []int32, val []float32,
	setR, setC []int32, setV []float32, delR, delC []int32, rec *CSRPatch) ([]int64, []int32, []float32, error) {
	capacity := len(idx) + len(setR)
	np := bufP[:0]
	if cap(np) < rows+1 {
		np = make([]int64, 0, rows+1+rows/64)
	}
	np = np[:rows+1]
	np[0] = 0
	ni, nv := bufI[:0], bufV[:0]
	if cap(ni) < capacity || cap(nv) < capacity {
		// Room for growth, so that the next retrains reuse it.
		ni, nv = make([]int32, 0, capacity+capacity/64), make([]float32, 0, capacity+capacity/64)
	}
	s, x := 0, 0 // next set, next delete
	row := 0     // rows before it are done
	for row < rows {
		// The next row with a change, or rows.
		next := rows
		if s < len(setR) {
			next = int(setR[s])
		}
		if x < len(delR) {
			next = min(next, int(delR[x]))
		}
		// Clean rows [row, next): one bulk copy, pointers shifted.
		if end := min(next, oldRows); row < end {
			lo, hi := ptr[row], ptr[end]
			shift := int64(len(ni)) - lo
			for u := row; u < end; u++ {
				np[u+1] = ptr[u+1] + shift
			}
			rec.old(lo, int64(len(ni)), hi-lo)
			ni, nv = append(ni, idx[lo:hi]...), append(nv, val[lo:hi]...)
		}
		for u := max(row, oldRows); u < next; u++ {
			np[u+1] = int64(len(ni))
		}
		if next == rows {
			break
		}
		// The changed row.
		var oi []int32
		var ov []float32
		var ob int64 // oi's offset in idx
		if next < oldRows {
			ob = ptr[next]
			oi, ov = idx[ob:ptr[next+1]], val[ob:ptr[next+1]]
		}
		// Spans between its changes are copied in bulk, found by binary
		// search, so a long row with few changes costs O(changes · log).
		rr := int32(next)
		a := 0
		for {
			setHere := s < len(setR) && setR[s] == rr
			delHere := x < len(delR) && delR[x] == rr
			if !setHere && !delHere {
				break
			}
			c, isSet := int32(0), setHere
			switch {
			case setHere && delHere:
				if delC[x] < setC[s] {
					c, isSet = delC[x], false
				} else {
					c = setC[s]
				}
			case setHere:
				c = setC[s]
			default:
				c = delC[x]
			}
			pos, found := slices.BinarySearch(oi[a:], c)
			pos += a
			rec.old(ob+int64(a), int64(len(ni)), int64(pos-a))
			ni, nv = append(ni, oi[a:pos]...), append(nv, ov[a:pos]...)
			a = pos
			if isSet {
				rec.own(int64(len(ni)), 1)
				ni, nv = append(ni, c), append(nv, setV[s])
				s++
				if found {
					a++
				}
				continue
			}
			if !found {
				return nil, nil, nil, fmt.Errorf("gpu: delta deletes rating (%d, %d), which the base lacks", rr, c)
			}
			x++
			a++
		}
		rec.old(ob+int64(a), int64(len(ni)), int64(len(oi)-a))
		ni, nv = append(ni, oi[a:]...), append(nv, ov[a:]...)
		if x < len(delR) && delR[x] == rr {
			return nil, nil, nil, fmt.Errorf("gpu: delta deletes rating (%d, %d), which the base lacks", rr, delC[x])
		}
		np[next+1] = int64(len(ni))
		row = next + 1
	}
	return np, ni, nv, nil
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
