package engine

import (
	"movierec/als"
	"movierec/internal/f32"
)

// scoreBlock is the number of movies topScored filters and scores at a
// time: their candidate indices and scores stay in L1 between the passes.
const scoreBlock = 512

// topScored offers top every movie below m.NumItems that the user has not
// rated (rated: catalog indices, ascending), that has at least minR
// ratings and, with a genre, is of that genre, scored x·y (plus the
// biases when m has them). With the engine's own floor it scores the
// packed rows of the movies at or above it (topPacked); otherwise, block
// by block, it collects the candidates'
// indices, scores them with one AVX2/FMA kernel call (f32.DotsIdx, which
// reads only the candidates' rows of the item table) and pushes them into
// the bounded heap, skipping at once the scores below its worst. It
// allocates nothing once sc has grown to scoreBlock.
func (e *Engine) topScored(top *topN, sc *scratch, m *als.Model, x []float32, userBias float32, rated []int32, minR int, genre string) {
	if cap(sc.cand) < scoreBlock {
		sc.cand = make([]int32, scoreBlock)
		sc.part = make([]float32, scoreBlock)
	}
	var base float32
	if m.Bias {
		base = m.Mean + userBias
	}
	if el := e.eligibleFor(minR); el != nil {
		e.topPacked(top, sc, e.packedFor(m, el), x, base, rated, minR, genre)
		return
	}
	limit := int32(min(m.NumItems, len(e.movies)))
	pool := e.allIx // ascending catalog indexes
	for len(pool) > 0 && pool[0] < limit {
		ids := sc.cand[:0]
		for len(pool) > 0 && len(ids) < scoreBlock {
			i := pool[0]
			if i >= limit {
				pool = nil
				break
			}
			pool = pool[1:]
			for len(rated) > 0 && rated[0] < i {
				rated = rated[1:]
			}
			if len(rated) > 0 && rated[0] == i {
				continue
			}
			if minR > 0 && int(e.counts[i].Load()) < minR {
				continue
			}
			if genre != "" && !hasGenre(e.movies[i].Genres, genre) {
				continue
			}
			ids = append(ids, i)
		}
		scores := sc.part[:len(ids)]
		f32.DotsIdx(scores, m.ItemFactors, m.Rank, ids, x)
		for j, i := range ids {
			s := scores[j]
			if m.Bias {
				s += base + m.ItemBias[i]
			}
			if top.below(s) {
				continue
			}
			top.push(cand{score: s, id: e.movies[i].ID, ix: i})
		}
	}
}
