package engine

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// refTitleIndex is newTitleIndex as it was before indices could be
// extended: one sort of every title's words.
func refTitleIndex(movies []Movie) *titleIndex {
	ix := &titleIndex{titles: make([]titleInfo, len(movies))}
	type occ struct {
		word  string
		movie int32
	}
	var occs []occ
	for i, m := range movies {
		t := &ix.titles[i]
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
			occs = append(occs, occ{w, int32(i)})
		}
	}
	slices.SortFunc(occs, func(a, b occ) int {
		if c := strings.Compare(a.word, b.word); c != 0 {
			return c
		}
		return int(a.movie - b.movie)
	})
	for k, o := range occs {
		if k > 0 && o == occs[k-1] {
			continue
		}
		if len(ix.words) == 0 || ix.words[len(ix.words)-1] != o.word {
			ix.words = append(ix.words, o.word)
			ix.start = append(ix.start, int32(len(ix.post)))
		}
		ix.post = append(ix.post, o.movie)
	}
	ix.start = append(ix.start, int32(len(ix.post)))
	return ix
}

// TestTitleIndexWith: an index extended with more titles is the index a
// full build of all of them makes (refTitleIndex).
func TestTitleIndexWith(t *testing.T) {
	var movies []Movie
	for i := range 50 {
		movies = append(movies, Movie{ID: int32(i + 1), Title: fmt.Sprintf("Movie %d, The (19%02d)", i%7, i%13)})
	}
	movies = append(movies,
		Movie{ID: 60, Title: "Toy Story (1995)"},
		Movie{ID: 61, Title: "Story of Story, A (2001)"},
		Movie{ID: 62, Title: "Zebra Élan (2026)"},
		Movie{ID: 63, Title: "aardvark"},
		Movie{ID: 64, Title: ""},
	)
	for _, split := range []int{0, 1, 25, 50, 52, len(movies)} {
		t.Run(fmt.Sprint(split), func(t *testing.T) {
			old := newTitleIndex(movies[:split])
			oldWords, oldPost := slices.Clone(old.words), slices.Clone(old.post)
			got := old.with(movies[split:])
			want := refTitleIndex(movies)
			opt := cmp.AllowUnexported(titleIndex{}, titleInfo{})
			empty := cmpopts.EquateEmpty()
			ignore := cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".scratch" }, cmp.Ignore())
			if diff := cmp.Diff(want, got, opt, ignore, empty); diff != "" {
				t.Errorf("newTitleIndex(movies[:%d]).with(rest) differs from a full build (-want +got):\n%s", split, diff)
			}
			if !slices.Equal(old.words, oldWords) || !slices.Equal(old.post, oldPost) {
				t.Errorf("with modified the index it extends")
			}
		})
	}
}
