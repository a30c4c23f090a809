package store

// IDSet is a set of ids (movie ids, say): a bitmap for ids below 1<<24
// (at most 2 MiB), a map beyond, so the dense ids of real data sets cost a
// bit each and any id from 0 to 2^31−1 still fits. The zero value is an
// empty set. It is not safe for concurrent writes.
type IDSet struct {
	bits []uint64
	big  map[int32]bool
}

const bitmapLimit = 1 << 24 // ids below this go in the bitmap

// Add puts id in the set.
func (m *IDSet) Add(id int32) {
	if id >= 0 && id < bitmapLimit {
		if need := int(id)/64 + 1; need > len(m.bits) {
			m.bits = append(m.bits, make([]uint64, need-len(m.bits))...)
		}
		m.bits[id/64] |= 1 << (id % 64)
		return
	}
	if m.big == nil {
		m.big = make(map[int32]bool)
	}
	m.big[id] = true
}

// Has reports whether id is in the set.
func (m *IDSet) Has(id int32) bool {
	if id >= 0 && id < bitmapLimit {
		return int(id)/64 < len(m.bits) && m.bits[id/64]&(1<<(id%64)) != 0
	}
	return m.big[id]
}
