package engine

import (
	"context"
	"fmt"
	"maps"
	"sync/atomic"
)

// catalog is the movie catalog with what the engine keeps per movie: the
// entries, the id → index map, the title search index, and the rating
// counts and sums. Its movies, map, index and titles are immutable once
// published (Engine.cat). Its counts and sums change only under e.mu held
// for writing, atomically so that readers need no lock, and only while
// it is the engine's current catalog: AddMovies copies them into the
// catalog that replaces it, under the same lock.
//
// A catalog only grows: AddMovies appends movies and keeps every index, so
// an index found in any catalog names the same movie in every later one.
// A reader takes one catalog per call (e.cat.Load(), or userState.cat) and
// indexes only that one, so it never reads past its end; rows and models
// hold indices below the length of the catalog current when they were
// made, which is never longer than one loaded after them.
type catalog struct {
	movies []Movie
	ix     map[int32]int32 // movie id → catalog index
	titles *titleIndex
	all    []int32 // 0 … len(movies)−1, for top-N lists over every movie

	counts []atomic.Int32
	sums   []floatSum // Σ rating
}

// newCatalog returns a catalog of movies with no ratings, titles indexed.
// It fails when a movie is listed twice.
func newCatalog(movies []Movie) (*catalog, error) {
	c := &catalog{movies: movies, ix: make(map[int32]int32, len(movies))}
	for i, m := range movies {
		if _, dup := c.ix[m.ID]; dup {
			return nil, fmt.Errorf("%w: movie %d listed twice", ErrInvalidInput, m.ID)
		}
		c.ix[m.ID] = int32(i)
	}
	c.finish(newTitleIndex(movies))
	return c, nil
}

// finish sets c's title index to titles and builds its index list and
// zero counts and sums, once c.movies and c.ix are set.
func (c *catalog) finish(titles *titleIndex) {
	c.titles = titles
	c.all = make([]int32, len(c.movies))
	for i := range c.all {
		c.all[i] = int32(i)
	}
	c.counts = make([]atomic.Int32, len(c.movies))
	c.sums = make([]floatSum, len(c.movies))
}

// stats returns catalog movie i's rating count and average (0 when
// unrated).
func (c *catalog) stats(i int32) (int, float64) {
	n := int(c.counts[i].Load())
	if n == 0 {
		return 0, 0
	}
	return n, c.sums[i].Load() / float64(n)
}

// ids returns the catalog's movie ids in index order.
func (c *catalog) ids() []int32 {
	ids := make([]int32, len(c.movies))
	for i, m := range c.movies {
		ids[i] = m.ID
	}
	return ids
}

// AddMovies adds to the catalog the movies of movies it lacks, in the
// order given, and returns how many it added; a movie already in the
// catalog keeps its entry (as a store's Import keeps it), and of a movie
// listed twice the first counts. It is how a running engine learns of
// movies another process imported (Follow calls it; see CatalogReader).
//
// New movies have no ratings until writes or the change feed bring them.
// A model published before them has no factors for them: Predict gives
// their average rating (or the global mean), personal top-N lists and
// Similar leave them out (the lists of users without a personal vector,
// by rating count or average, include them), and fold-in solves against
// the movies the model has, until a model trained or loaded since covers
// them.
//
// It is safe to call concurrently with every other method: a call in
// flight sees the catalog before or after, whole. It copies the catalog's
// tables and merges the new titles into a copy of the title index (on a
// catalog of 59,000 movies: BenchmarkAddMovies); the write lock is held
// only to copy the counts and sums.
func (e *Engine) AddMovies(movies []Movie) int {
	e.catMu.Lock()
	defer e.catMu.Unlock()
	old := e.cat.Load()
	ix := maps.Clone(old.ix)
	all := old.movies[:len(old.movies):len(old.movies)] // appends copy
	for _, m := range movies {
		if _, ok := ix[m.ID]; ok {
			continue
		}
		ix[m.ID] = int32(len(all))
		all = append(all, m)
	}
	added := len(all) - len(old.movies)
	if added == 0 {
		return 0
	}
	c := &catalog{movies: all, ix: ix}
	c.finish(old.titles.with(all[len(old.movies):]))

	e.mu.Lock()
	// Every writer of counts and sums holds e.mu: the copies are exact,
	// and the writers after this one find c.
	for i := range old.movies {
		c.counts[i].Store(old.counts[i].Load())
		c.sums[i].Store(old.sums[i].Load())
	}
	e.cat.Store(c)
	e.mu.Unlock()
	return added
}

// CatalogReader reads a store's catalog; a ChangeFeed that implements it
// lets Follow add the movies that other processes import (AddMovies).
type CatalogReader interface {
	// Movies returns every movie of the catalog.
	Movies(ctx context.Context) ([]Movie, error)
}

// CatalogVersioner is implemented by a store whose catalog changes are
// numbered: CatalogVersion returns a number that grows whenever movies
// are added. Follow compares it on every notification and reads the
// catalog when it moved, so movies reach a replica even before any
// rating names them.
type CatalogVersioner interface {
	CatalogVersion(ctx context.Context) (int64, error)
}
