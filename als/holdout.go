package als

import (
	"fmt"
	"math"
)

// HeldOut is the ratings Ratings.HoldOut set aside, in coordinate form
// ordered by user, then item: rating j is Vals[j] by user Users[j] of item
// Items[j]. The zero value holds nothing.
type HeldOut struct {
	Users []int32
	Items []int32
	Vals  []float32
}

// Len returns the number of held-out ratings.
func (h HeldOut) Len() int { return len(h.Vals) }

// RMSE returns the root-mean-square error of m's raw (unclamped)
// predictions, as Model.Predict, over the held-out ratings, or 0 when
// there are none. m must cover their users and items.
func (h HeldOut) RMSE(m *Model) float64 {
	if len(h.Vals) == 0 {
		return 0
	}
	var se float64
	for j, v := range h.Vals {
		d := m.Predict(int(h.Users[j]), int(h.Items[j])) - float64(v)
		se += d * d
	}
	return math.Sqrt(se / float64(len(h.Vals)))
}

// HoldOut splits r in two: each rating is held out with probability
// fraction, decided by a hash of (user, item, seed) alone, so the choice
// does not depend on the order of the ratings or on the other ratings. It
// returns the ratings kept, both compressed forms with r's dimensions and
// order, and the ones held out. r is not modified. It allocates the new
// arrays only (nothing per rating); with fraction 0 it returns r itself
// and an empty HeldOut. It panics unless 0 ≤ fraction < 1.
func (r *Ratings) HoldOut(fraction float64, seed int64) (*Ratings, HeldOut) {
	if !(fraction >= 0 && fraction < 1) {
		panic(fmt.Sprintf("als: HoldOut fraction %v not in [0, 1)", fraction))
	}
	if fraction == 0 {
		return r, HeldOut{}
	}
	// A rating is held out when its hash, uniform on 64 bits, falls below
	// fraction·2⁶⁴ (exact in float64 and < 2⁶⁴ for fraction < 1).
	cut := uint64(fraction * (1 << 64))
	held := func(u, i int32) bool { return holdHash(u, i, seed) < cut }

	k := &Ratings{NumUsers: r.NumUsers, NumItems: r.NumItems}
	k.UserPtr = make([]int64, r.NumUsers+1)
	k.ItemPtr = make([]int64, r.NumItems+1)
	var nHeld int
	for u := 0; u < r.NumUsers; u++ {
		n := int64(0)
		for p := r.UserPtr[u]; p < r.UserPtr[u+1]; p++ {
			if i := r.UserIdx[p]; held(int32(u), i) {
				nHeld++
			} else {
				n++
				k.ItemPtr[i+1]++
			}
		}
		k.UserPtr[u+1] = k.UserPtr[u] + n
	}
	for i := 0; i < r.NumItems; i++ {
		k.ItemPtr[i+1] += k.ItemPtr[i]
	}
	nnz := r.NNZ() - nHeld
	k.UserIdx, k.UserVal = make([]int32, 0, nnz), make([]float32, 0, nnz)
	h := HeldOut{Users: make([]int32, 0, nHeld), Items: make([]int32, 0, nHeld), Vals: make([]float32, 0, nHeld)}
	for u := 0; u < r.NumUsers; u++ {
		for p := r.UserPtr[u]; p < r.UserPtr[u+1]; p++ {
			i, v := r.UserIdx[p], r.UserVal[p]
			if held(int32(u), i) {
				h.Users, h.Items, h.Vals = append(h.Users, int32(u)), append(h.Items, i), append(h.Vals, v)
			} else {
				k.UserIdx, k.UserVal = append(k.UserIdx, i), append(k.UserVal, v)
			}
		}
	}
	k.ItemIdx, k.ItemVal = make([]int32, 0, nnz), make([]float32, 0, nnz)
	for i := 0; i < r.NumItems; i++ {
		for p := r.ItemPtr[i]; p < r.ItemPtr[i+1]; p++ {
			if u := r.ItemIdx[p]; !held(u, int32(i)) {
				k.ItemIdx, k.ItemVal = append(k.ItemIdx, u), append(k.ItemVal, r.ItemVal[p])
			}
		}
	}
	return k, h
}

// holdHash mixes (user, item, seed) into 64 uniform bits: SplitMix64's
// finaliser over the pair, keyed by the seed.
func holdHash(u, i int32, seed int64) uint64 {
	x := uint64(uint32(u))<<32 | uint64(uint32(i))
	x ^= mix64(uint64(seed) + 0x9e3779b97f4a7c15)
	return mix64(x)
}

func mix64(x uint64) uint64 {
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
