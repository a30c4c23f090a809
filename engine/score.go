package engine

import (
	"movierec/als"
	"movierec/internal/f32"
)

// scoreBlock is the number of movies scored at a time: their scores stay
// in L1 between the kernel and the heap.
const scoreBlock = 512

// topScored offers top every movie below m.NumItems that the user has not
// rated (rated: catalog indices, ascending), that has at least minR
// ratings and, with a genre, is of that genre, scored x·y (plus the
// biases when m has them). With the engine's own floor it takes the
// movies at or above it from their 8-bit rows (topQuant, quant.go; qi
// holds m's, or is nil to have them made), which offers the same list for
// a quarter of the reads, or, where that does not apply, scores their rows
// gathered from m's item table; otherwise it scores m's whole item table,
// which is packed already. Scores are computed block by block (f32.Dots,
// f32.DotsIdx: a row's score does not depend on the path), and a score
// below the heap's worst is dropped at once. It allocates nothing once sc
// has grown.
//
// c is the catalog the call reads (userState.cat: it covers m).
func (e *Engine) topScored(top *topN, sc *scratch, c *catalog, m *als.Model, qi *quantItems, x []float32, userBias float32, rated []int32, minR int, genre string) {
	if cap(sc.part) < scoreBlock {
		sc.part = make([]float32, scoreBlock)
	}
	var base float32
	if m.Bias {
		base = m.Mean + userBias
	}
	ix := c.all[:min(m.NumItems, len(c.movies))]
	gathered := false
	if el := e.eligibleFor(c, minR); el != nil {
		p := e.quantFor(m, qi, el)
		if e.topQuant(top, sc, c, p, x, base, rated, minR, genre) {
			return
		}
		ix, gathered = p.ix, true
	}
	k := m.Rank
	for lo := 0; lo < len(ix); lo += scoreBlock {
		hi := min(lo+scoreBlock, len(ix))
		scores := sc.part[:hi-lo]
		if gathered {
			f32.DotsIdx(scores, m.ItemFactors, k, ix[lo:hi], x)
		} else {
			f32.Dots(scores, m.ItemFactors[lo*k:hi*k], k, x)
		}
		for j, i := range ix[lo:hi] {
			for len(rated) > 0 && rated[0] < i {
				rated = rated[1:]
			}
			if len(rated) > 0 && rated[0] == i {
				continue
			}
			s := scores[j]
			if m.Bias {
				s += base + m.ItemBias[i]
			}
			if top.below(s) || int(c.counts[i].Load()) < minR || genre != "" && !hasGenre(c.movies[i].Genres, genre) {
				continue
			}
			top.push(cand{score: s, id: c.movies[i].ID, ix: i})
		}
	}
}
