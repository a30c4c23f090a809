package engine

import "slices"

// cand is a candidate during top-N selection.
type cand struct {
	score float32
	id    int32 // movie id, the tie-breaker (smaller first)
	ix    int32 // catalog index
}

// worse reports whether a ranks below b: lower score, or equal score and a
// larger movie id.
func worse(a, b cand) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	return a.id > b.id
}

// topN keeps the n best candidates pushed: a min-heap under worse whose
// root is the worst one kept. h is caller-owned storage (reused between
// calls); it allocates only if h's capacity is below n.
type topN struct {
	n int
	h []cand
}

// below reports whether a candidate scored s cannot enter: the heap is
// full and its worst scores more (an equal score may still enter on its
// movie id).
func (t *topN) below(s float32) bool {
	return len(t.h) == t.n && s < t.h[0].score
}

// push offers c.
func (t *topN) push(c cand) {
	h := t.h
	if len(h) < t.n {
		h = append(h, c)
		for j := len(h) - 1; j > 0; {
			p := (j - 1) / 2
			if !worse(h[j], h[p]) {
				break
			}
			h[j], h[p] = h[p], h[j]
			j = p
		}
		t.h = h
		return
	}
	if !worse(h[0], c) {
		return
	}
	h[0] = c
	for j := 0; ; {
		l := 2*j + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && worse(h[r], h[l]) {
			m = r
		}
		if !worse(h[m], h[j]) {
			return
		}
		h[j], h[m] = h[m], h[j]
		j = m
	}
}

// sorted returns the kept candidates, best first. It reorders t.h.
func (t *topN) sorted() []cand {
	slices.SortFunc(t.h, func(a, b cand) int {
		switch {
		case worse(a, b):
			return 1
		case worse(b, a):
			return -1
		}
		return 0
	})
	return t.h
}
