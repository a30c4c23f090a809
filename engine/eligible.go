package engine

// eligibleMovies is the list of movies a top-N list may offer under the
// engine's rating floor (Config.MinRatings): the indexes of catalog cat
// whose count is at least the floor, ascending, as of generation gen. It
// is immutable once published.
type eligibleMovies struct {
	gen uint64
	cat *catalog
	ix  []int32
}

// addCount adds d (±1) to movie i's rating count in c, the current
// catalog, and, when the count crosses the rating floor, marks the
// eligible list stale. e.mu must be held for writing (see catalog).
func (e *Engine) addCount(c *catalog, i int32, d int32) {
	n := c.counts[i].Add(d)
	if floor := int32(e.cfg.MinRatings); floor > 0 && (d > 0 && n == floor || d < 0 && n == floor-1) {
		e.eligGen.Add(1)
	}
}

// eligibleFor returns the movies a top-N list with rating floor minR
// walks when minR is the engine's own floor: the eligible list, rebuilt
// here when a count crossed the floor since it was built, so a list on a
// large catalog skips the movies below the floor without looking at them.
// Otherwise (another floor, or none) it returns nil: every movie. The
// caller still checks each candidate's count, which may have moved since.
// The list is of catalog c (the caller's): a list is cached for the
// current catalog only, so a call still reading the catalog that
// AddMovies replaced builds its own. Safe for concurrent use; the result
// must not be modified.
func (e *Engine) eligibleFor(c *catalog, minR int) *eligibleMovies {
	if minR <= 0 || minR != e.cfg.MinRatings {
		return nil
	}
	if p := e.eligible.Load(); p != nil && p.gen == e.eligGen.Load() && p.cat == c {
		return p
	}
	e.eligMu.Lock()
	defer e.eligMu.Unlock()
	// Read the generation before the counts: a crossing during the scan
	// bumps it, so the list built here is rebuilt on the next call.
	gen := e.eligGen.Load()
	if p := e.eligible.Load(); p != nil && p.gen == gen && p.cat == c {
		return p
	}
	ix := make([]int32, 0, len(c.movies)/4)
	for i := range c.counts {
		if int(c.counts[i].Load()) >= minR {
			ix = append(ix, int32(i))
		}
	}
	p := &eligibleMovies{gen: gen, cat: c, ix: ix}
	if c == e.cat.Load() {
		e.eligible.Store(p)
	}
	return p
}
