package engine

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Match is one movie found by SearchMovies, with its rating statistics.
type Match struct {
	Movie   Movie
	Count   int     // number of ratings of the movie
	Average float64 // mean rating of the movie (0 when unrated)
}

// titleIndex finds movies by words of their titles. It is built with its
// catalog (New, AddMovies) and read-only after, so searches need no lock.
//
// Titles are folded (foldWords) into words; every distinct word is listed
// once, sorted, with its postings (catalog indices, ascending), so the
// titles with a word that starts with a prefix are the postings of one
// contiguous range of words.
type titleIndex struct {
	words  []string    // distinct folded words, sorted
	start  []int32     // postings of words[w] are post[start[w]:start[w+1]]
	post   []int32     // catalog indices
	titles []titleInfo // by catalog index

	scratch sync.Pool // *searchScratch
}

// titleInfo is what ranking needs of one title.
type titleInfo struct {
	words  []string // folded words in title order, the year's included
	bare   int      // how many of words come before the year
	exact  []string // word sequences a query must equal to be an exact match, each joined by one space
	length int32    // title length in bytes
}

// articles are the trailing articles MovieLens moves behind a comma
// ("American President, The (1995)"); a title ending with one also matches
// exactly with the article in front ("the american president").
var articles = []string{"a", "an", "the", "das", "de", "den", "der", "det", "die", "el", "il", "l", "la", "las", "le", "les", "lo", "los"}

// newTitleIndex indexes the titles of movies.
func newTitleIndex(movies []Movie) *titleIndex {
	return (&titleIndex{}).with(movies)
}

// with returns an index of ix's titles followed by those of movies, whose
// catalog indices follow ix's (AddMovies appends them). ix is left as it
// is and shares its titles, which are immutable, with the result, so only
// the new titles are folded: adding a few movies to a catalog of 60,000
// costs a merge of the word lists, not a new index.
func (ix *titleIndex) with(movies []Movie) *titleIndex {
	base := int32(len(ix.titles))
	nx := &titleIndex{titles: make([]titleInfo, len(ix.titles)+len(movies))}
	copy(nx.titles, ix.titles)
	type occ struct {
		word  string
		movie int32
	}
	var occs []occ
	for i, m := range movies {
		t := &nx.titles[int(base)+i]
		t.length = int32(len(m.Title))
		body, year := splitYear(m.Title)
		t.words = foldWords(nil, body)
		t.bare = len(t.words)
		t.words = foldWords(t.words, year)
		bare := strings.Join(t.words[:t.bare], " ")
		t.exact = append(t.exact, bare)
		if t.bare < len(t.words) {
			t.exact = append(t.exact, strings.Join(t.words, " "))
		}
		if k := strings.LastIndexByte(body, ','); k >= 0 {
			if art := foldWords(nil, body[k+1:]); len(art) == 1 && slices.Contains(articles, art[0]) && t.bare > 1 {
				t.exact = append(t.exact, art[0]+" "+strings.Join(t.words[:t.bare-1], " "))
			}
		}
		for _, w := range t.words {
			occs = append(occs, occ{w, base + int32(i)})
		}
	}
	slices.SortFunc(occs, func(a, b occ) int {
		if c := strings.Compare(a.word, b.word); c != 0 {
			return c
		}
		return int(a.movie - b.movie)
	})
	// Merge ix's words with the new ones. A word's new postings go after
	// its old ones: every new index is above every old one, so they stay
	// ascending.
	nx.words = make([]string, 0, len(ix.words)+len(occs))
	nx.start = make([]int32, 0, len(ix.words)+len(occs)+1)
	nx.post = make([]int32, 0, len(ix.post)+len(occs))
	w, k := 0, 0
	for w < len(ix.words) || k < len(occs) {
		word := ""
		if k == len(occs) || w < len(ix.words) && ix.words[w] <= occs[k].word {
			word = ix.words[w]
		} else {
			word = occs[k].word
		}
		nx.words = append(nx.words, word)
		nx.start = append(nx.start, int32(len(nx.post)))
		if w < len(ix.words) && ix.words[w] == word {
			nx.post = append(nx.post, ix.post[ix.start[w]:ix.start[w+1]]...)
			w++
		}
		for ; k < len(occs) && occs[k].word == word; k++ {
			if k > 0 && occs[k] == occs[k-1] {
				continue // a word twice in one title
			}
			nx.post = append(nx.post, occs[k].movie)
		}
	}
	nx.start = append(nx.start, int32(len(nx.post)))
	return nx
}

// splitYear splits a MovieLens title into its body and a trailing
// parenthesised year or year range ("(1995)", "(2006-2007)"), if any.
func splitYear(title string) (body, year string) {
	t := strings.TrimRight(title, " ")
	if !strings.HasSuffix(t, ")") {
		return title, ""
	}
	k := strings.LastIndexByte(t, '(')
	if k < 0 {
		return title, ""
	}
	digits := 0
	for _, r := range t[k+1 : len(t)-1] {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '-' || r == '–' || r == ' ':
		default:
			return title, ""
		}
	}
	if digits < 4 {
		return title, ""
	}
	return t[:k], t[k:]
}

// foldWords appends the words of s to dst, folded for matching: letters
// lower-cased with accents and ligatures folded to ASCII where foldTable
// knows them (é → e, ß → ss), apostrophes and periods dropped
// ("Schindler's" → "schindlers", "E.T." → "et"), combining marks dropped,
// and every other non-letter, non-digit rune a word break.
func foldWords(dst []string, s string) []string {
	var buf []byte
	var spans []span
	buf, spans = foldInto(buf, spans, s)
	for _, sp := range spans {
		dst = append(dst, string(buf[sp.lo:sp.hi]))
	}
	return dst
}

// span is one word of a folded buffer: buf[lo:hi].
type span struct{ lo, hi int32 }

// foldInto folds s (see foldWords) into buf, appending one span per word.
func foldInto(buf []byte, spans []span, s string) ([]byte, []span) {
	inWord := false
	begin := func() {
		if !inWord {
			spans = append(spans, span{lo: int32(len(buf))})
			inWord = true
		}
	}
	end := func() {
		if inWord {
			spans[len(spans)-1].hi = int32(len(buf))
			inWord = false
		}
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			begin()
			buf = append(buf, byte(r))
		case r >= 'A' && r <= 'Z':
			begin()
			buf = append(buf, byte(r)+'a'-'A')
		case r == '\'' || r == '.' || r == '’' || r == 'ʼ' || r == '`' || r == '´':
			// Dropped inside words: "Schindler's" is one word.
		case r < utf8.RuneSelf:
			end()
		case unicode.Is(unicode.Mn, r):
			// A combining mark of a decomposed letter: drop it.
		default:
			if f, ok := foldTable[r]; ok {
				begin()
				buf = append(buf, f...)
			} else if unicode.IsLetter(r) || unicode.IsDigit(r) {
				begin()
				buf = utf8.AppendRune(buf, unicode.ToLower(r))
			} else {
				end()
			}
		}
	}
	end()
	return buf, spans
}

// searchScratch is one search's working memory, reused through a pool.
type searchScratch struct {
	buf    []byte
	spans  []span
	mark   []uint32 // mark[i] == gen: title i was seen by this search
	gen    uint32
	heap   []hit
	joined []byte
}

// hit is a matching title with its rank keys.
type hit struct {
	exact   bool  // the query equals the title's words (see titleInfo.exact)
	ordered bool  // the query words match word starts in title order
	extra   int32 // title words (before the year) beyond the query's
	length  int32 // title bytes
	count   int32 // ratings of the movie
	id      int32 // movie id
	ix      int32 // catalog index
}

// better reports whether a ranks before b: exact matches first, then
// in-order matches, then fewer extra words, then shorter titles, then more
// ratings, then lower movie ids.
func (a hit) better(b hit) bool {
	switch {
	case a.exact != b.exact:
		return a.exact
	case a.ordered != b.ordered:
		return a.ordered
	case a.extra != b.extra:
		return a.extra < b.extra
	case a.length != b.length:
		return a.length < b.length
	case a.count != b.count:
		return a.count > b.count
	}
	return a.id < b.id
}

// SearchMovies returns up to n movies whose titles contain every word of
// query as the start of a word, in any order, best first. Matching is
// case- and accent-insensitive (é matches e, ß matches ss; see foldWords),
// and apostrophes and periods are ignored. The order is:
//
//  1. exact matches: the query's words are the title's, without the year
//     or with it ("toy story", "toy story 1995"), or with a trailing
//     article in front ("the american president");
//  2. titles where the query's words match in the title's order;
//  3. fewer title words beyond the query's (the year not counted);
//  4. shorter titles;
//  5. more ratings;
//  6. lower movie ids.
//
// A query without words ("", "!!") finds nothing. It allocates only the
// result. The error wraps ErrInvalidInput (n < 1).
func (e *Engine) SearchMovies(query string, n int) ([]Match, error) {
	if n < 1 {
		return nil, fmt.Errorf("%w: limit %d must be at least 1", ErrInvalidInput, n)
	}
	cat := e.cat.Load()
	ix := cat.titles
	sc, _ := ix.scratch.Get().(*searchScratch)
	if sc == nil {
		sc = &searchScratch{mark: make([]uint32, len(ix.titles))}
	}
	defer ix.scratch.Put(sc)
	sc.buf, sc.spans = foldInto(sc.buf[:0], sc.spans[:0], query)
	q := sc.spans
	if len(q) == 0 {
		return []Match{}, nil
	}
	word := func(k int) []byte { return sc.buf[q[k].lo:q[k].hi] }

	// The rarest query word (fewest postings over its prefix range)
	// chooses the candidates; the others are checked per title.
	pick, plo, phi := -1, 0, 0
	for k := range q {
		lo, hi := ix.prefixRange(word(k))
		if pick < 0 || ix.start[hi]-ix.start[lo] < ix.start[phi]-ix.start[plo] {
			pick, plo, phi = k, lo, hi
		}
	}
	if ix.start[phi] == ix.start[plo] {
		return []Match{}, nil
	}
	sc.joined = sc.joined[:0]
	for k := range q {
		if k > 0 {
			sc.joined = append(sc.joined, ' ')
		}
		sc.joined = append(sc.joined, word(k)...)
	}
	sc.gen++
	if sc.gen == 0 {
		clear(sc.mark)
		sc.gen = 1
	}
	h := sc.heap[:0]
	for _, t := range ix.post[ix.start[plo]:ix.start[phi]] {
		if sc.mark[t] == sc.gen {
			continue
		}
		sc.mark[t] = sc.gen
		ti := &ix.titles[t]
		c := hit{ordered: true, extra: int32(max(ti.bare-len(q), 0)), length: ti.length,
			count: cat.counts[t].Load(), id: cat.movies[t].ID, ix: t}
		// The best this title could rank; the words are checked only when
		// that would enter the list.
		c.exact = len(q) == ti.bare || len(q) == len(ti.words)
		if len(h) == n && !c.better(h[0]) {
			continue
		}
		ordered, all := true, true
		next := 0 // the title word the next query word must match at or after, in order
		for k := range q {
			w := word(k)
			at := -1
			for j := next; j < len(ti.words); j++ {
				if hasPrefix(ti.words[j], w) {
					at = j
					break
				}
			}
			if at < 0 {
				ordered = false
				for j := range min(next, len(ti.words)) {
					if hasPrefix(ti.words[j], w) {
						at = j
						break
					}
				}
				if at < 0 {
					all = false
					break
				}
			}
			if ordered {
				next = at + 1
			}
		}
		if !all {
			continue
		}
		c.ordered, c.exact = ordered, false
		for _, x := range ti.exact {
			if x == string(sc.joined) {
				c.exact = true
				break
			}
		}
		h = pushHit(h, n, c)
	}
	// Heap sort: the worst is at the root, so popping fills from the back.
	out := make([]Match, len(h))
	for k := len(h) - 1; k >= 0; k-- {
		c := h[0]
		h[0] = h[k]
		h = h[:k]
		siftDown(h, 0)
		cnt, avg := cat.stats(c.ix)
		out[k] = Match{Movie: cat.movies[c.ix], Count: cnt, Average: avg}
	}
	sc.heap = h
	return out, nil
}

// hasPrefix reports whether s starts with p, without converting p.
func hasPrefix(s string, p []byte) bool {
	return len(s) >= len(p) && s[:len(p)] == string(p)
}

// prefixRange returns the range [lo, hi) of words that start with p.
func (ix *titleIndex) prefixRange(p []byte) (int, int) {
	lo, hi := 0, len(ix.words)
	for lo < hi { // first word ≥ p
		m := int(uint(lo+hi) >> 1)
		if ix.words[m] < string(p) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	end := len(ix.words)
	for l := lo; l < end; { // first word at or after lo without the prefix
		m := int(uint(l+end) >> 1)
		if hasPrefix(ix.words[m], p) {
			l = m + 1
		} else {
			end = m
		}
	}
	return lo, end
}

// pushHit adds c to h, a heap of at most n hits with the worst at the root.
func pushHit(h []hit, n int, c hit) []hit {
	if len(h) < n {
		h = append(h, c)
		for k := len(h) - 1; k > 0; { // sift up
			p := (k - 1) / 2
			if !h[p].better(h[k]) {
				break
			}
			h[p], h[k] = h[k], h[p]
			k = p
		}
		return h
	}
	if !c.better(h[0]) {
		return h
	}
	h[0] = c
	siftDown(h, 0)
	return h
}

// siftDown restores the heap below k (worst at the root).
func siftDown(h []hit, k int) {
	for {
		l := 2*k + 1
		if l >= len(h) {
			return
		}
		w := l
		if r := l + 1; r < len(h) && h[l].better(h[r]) {
			w = r
		}
		if !h[k].better(h[w]) {
			return
		}
		h[k], h[w] = h[w], h[k]
		k = w
	}
}
