package engine_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"movierec/als"
	"movierec/data"
	"movierec/dataset"
	"movierec/engine"
)

// searchCatalog has the titles the ranking rules are about.
var searchCatalog = []engine.Movie{
	{ID: 1, Title: "Toy Story (1995)"},
	{ID: 2, Title: "Toy Story 2 (1999)"},
	{ID: 3, Title: "Story of Us, The (1999)"},
	{ID: 4, Title: "American President, The (1995)"},
	{ID: 5, Title: "Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)"},
	{ID: 6, Title: "Schindler's List (1993)"},
	{ID: 7, Title: "Straße der Sehnsucht (1999)"},
	{ID: 8, Title: "E.T. the Extra-Terrestrial (1982)"},
	{ID: 9, Title: "Toy Soldiers (1991)"},
	{ID: 10, Title: "Toy Story 3 (2010)"},
	{ID: 11, Title: "Story of a Toy (2001)"},
	{ID: 12, Title: "Æon Flux (2005)"},
	{ID: 13, Title: "Cosmos: A Spacetime Odyssey (2014– )"},
	{ID: 14, Title: "Toy Story of Terror (2013)"},
}

func searchEngine(t testing.TB, movies []engine.Movie, rs []engine.Rating) *engine.Engine {
	t.Helper()
	e, err := engine.New(engine.Config{Params: als.Params{Rank: 2, Iterations: 1, Lambda: 0.1}, Scale: engine.MovieLensScale},
		&foldSolver{}, movies, rs)
	if err != nil {
		t.Fatalf("engine.New() error = %v", err)
	}
	return e
}

func TestSearchMovies(t *testing.T) {
	// Movie 10 has more ratings than 2, which ties it on every other key.
	rs := []engine.Rating{{User: 1, Movie: 10, Value: 4}, {User: 2, Movie: 10, Value: 5}, {User: 1, Movie: 2, Value: 3}}
	e := searchEngine(t, searchCatalog, rs)
	tests := []struct {
		query string
		n     int
		want  []int32
	}{
		{"toy story", 10, []int32{1, 10, 2, 14, 11}},
		{"Toy Story", 2, []int32{1, 10}},
		{"story toy", 10, []int32{11, 1, 10, 2, 14}}, // 11 is in order; the rest by extra words, length
		{"toy story 1995", 10, []int32{1}},
		{"TOY ST", 3, []int32{1, 10, 2}},
		{"toy s", 10, []int32{1, 9, 10, 2, 14, 11}}, // "soldiers" too; shorter titles first among equal word counts
		{"the american president", 5, []int32{4}},
		{"american president", 5, []int32{4}},
		{"amelie", 5, []int32{5}},
		{"AMÉLIE poulain", 5, []int32{5}},
		{"strasse", 5, []int32{7}},
		{"straße", 5, []int32{7}},
		{"schindlers", 5, []int32{6}},
		{"schindler's list", 5, []int32{6}},
		{"schindler", 5, []int32{6}},
		{"e.t.", 5, []int32{8}},
		{"et extra", 5, []int32{8}},
		{"terrestrial", 5, []int32{8}},
		{"aeon", 5, []int32{12}},
		{"cosmos", 5, []int32{13}},
		{"2014", 5, []int32{13}},
		{"oy", 5, nil},        // words match at their start only
		{"toy zebra", 5, nil}, // every word must match
		{"", 5, nil},
		{"  !!  ", 5, nil},
		{"ü", 5, []int32{3}}, // folds to u, the start of "us"
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			got, err := e.SearchMovies(tc.query, tc.n)
			if err != nil {
				t.Fatalf("SearchMovies(%q, %d) error = %v", tc.query, tc.n, err)
			}
			var ids []int32
			for _, m := range got {
				ids = append(ids, m.Movie.ID)
			}
			if diff := cmp.Diff(tc.want, ids); diff != "" {
				t.Errorf("SearchMovies(%q, %d) ids mismatch (-want +got):\n%s", tc.query, tc.n, diff)
			}
		})
	}
	got, _ := e.SearchMovies("toy story 3", 1)
	if len(got) != 1 || got[0].Count != 2 || got[0].Average != 4.5 {
		t.Errorf("SearchMovies(toy story 3) = %+v, want movie 10 with 2 ratings averaging 4.5", got)
	}
	if _, err := e.SearchMovies("toy", 0); err == nil {
		t.Errorf("SearchMovies(toy, 0) error = nil, want ErrInvalidInput")
	}
}

func TestSearchMoviesAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	e := searchEngine(t, searchCatalog, nil)
	_, _ = e.SearchMovies("toy story", 5) // fill the scratch pool
	if n := testing.AllocsPerRun(100, func() { _, _ = e.SearchMovies("Toy Story", 5) }); n > 1 {
		t.Errorf("SearchMovies allocates %v times per call, want 1 (the result)", n)
	}
}

// syntheticTitles returns the titles `movierec gen` writes for n movies,
// in the same patterns as dataset/generate.go (writeMovies): every title
// shares the words "synthetic movie", the worst case for a prefix search.
func syntheticTitles(n int) []engine.Movie {
	rng := rand.New(rand.NewPCG(1, 1))
	out := make([]engine.Movie, n)
	for i := range out {
		id := i + 1
		year := 1920 + rng.IntN(104)
		var t string
		switch {
		case id%17 == 5:
			t = fmt.Sprintf(`"Synthetic" Movie %d (%d)`, id, year)
		case id%10 == 3:
			t = fmt.Sprintf("Synthetic Movie %d, The (%d)", id, year)
		default:
			t = fmt.Sprintf("Synthetic Movie %d (%d)", id, year)
		}
		out[i] = engine.Movie{ID: int32(id), Title: t}
	}
	return out
}

// realTitles returns n titles made from ml-latest-small's 9,742: the real
// ones, then copies with " Part k" appended, so the word statistics are a
// real catalog's at the size of ml-25m's.
func realTitles(t testing.TB, n int) []engine.Movie {
	t.Helper()
	ds, err := dataset.Load(data.MLLatestSmall())
	if err != nil {
		t.Fatal(err)
	}
	out := make([]engine.Movie, 0, n)
	for k := 0; len(out) < n; k++ {
		for _, m := range ds.Movies {
			if len(out) == n {
				break
			}
			if k > 0 {
				m.Title = fmt.Sprintf("%s Part %d", m.Title, k+1)
			}
			m.ID = int32(len(out) + 1)
			out = append(out, m)
		}
	}
	return out
}

// ml25mMovies is the movie count of the ml-25m preset.
const ml25mMovies = 59047

// searchQueries are typed-as-you-go queries: prefixes, whole titles,
// common words, accents.
var searchQueries = []string{"t", "to", "toy", "toy s", "toy story", "star wars", "the", "lord of the rings",
	"amélie", "s", "godfather", "matrix", "love", "man", "a", "die hard 2", "synthetic", "synthetic movie", "synthetic movie 4",
	"movie 12345", "z", "x men", "harry potter and the", "part 3"}

// BenchmarkSearchMovies measures one search of 10 over ml-25m-sized
// catalogs: the synthetic titles of the ml-25m preset and real titles.
func BenchmarkSearchMovies(b *testing.B) {
	for _, c := range []struct {
		name   string
		movies []engine.Movie
	}{{"synthetic", syntheticTitles(ml25mMovies)}, {"real", realTitles(b, ml25mMovies)}} {
		e := searchEngine(b, c.movies, nil)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := e.SearchMovies(searchQueries[i%len(searchQueries)], 10); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

var searchLatency = flag.Bool("search-latency", false, "print SearchMovies latency percentiles over ml-25m-sized catalogs (TestSearchLatency)")

// TestSearchLatency prints p50, p99 and the maximum of SearchMovies over
// every query of searchQueries, many times, on one goroutine. It asserts
// nothing about time: run it with
//
//	go test -run TestSearchLatency -search-latency -v ./engine
func TestSearchLatency(t *testing.T) {
	if !*searchLatency {
		t.Skip("run with -search-latency")
	}
	for _, c := range []struct {
		name   string
		movies []engine.Movie
	}{{"synthetic", syntheticTitles(ml25mMovies)}, {"real", realTitles(t, ml25mMovies)}} {
		e := searchEngine(t, c.movies, nil)
		var d []time.Duration
		for range 400 {
			for _, q := range searchQueries {
				start := time.Now()
				if _, err := e.SearchMovies(q, 10); err != nil {
					t.Fatal(err)
				}
				d = append(d, time.Since(start))
			}
		}
		slices.Sort(d)
		t.Logf("%s titles, %d searches: p50 %v, p99 %v, max %v", c.name, len(d), d[len(d)/2], d[len(d)*99/100], d[len(d)-1])
	}
}
