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
// biases when m has them). With the engine's own floor it scores the
// packed rows of the movies at or above it (packedFor); otherwise it
// scores m's whole item table, which is packed already. Either way the
// reads are sequential (f32.Dots), block by block, and a score below the
// heap's worst is dropped at once. It allocates nothing once sc has grown
// to scoreBlock.
func (e *Engine) topScored(top *topN, sc *scratch, m *als.Model, x []float32, userBias float32, rated []int32, minR int, genre string) {
	if cap(sc.part) < scoreBlock {
		sc.part = make([]float32, scoreBlock)
	}
	var base float32
	if m.Bias {
		base = m.Mean + userBias
	}
	ix := e.allIx[:min(m.NumItems, len(e.movies))]
	rows := m.ItemFactors
	if el := e.eligibleFor(minR); el != nil {
		p := e.packedFor(m, el)
		ix, rows = p.ix, p.rows
	}
	k := m.Rank
	for lo := 0; lo < len(ix); lo += scoreBlock {
		hi := min(lo+scoreBlock, len(ix))
		scores := sc.part[:hi-lo]
		f32.Dots(scores, rows[lo*k:hi*k], k, x)
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
			if top.below(s) || int(e.counts[i].Load()) < minR || genre != "" && !hasGenre(e.movies[i].Genres, genre) {
				continue
			}
			top.push(cand{score: s, id: e.movies[i].ID, ix: i})
		}
	}
}
