package dataset_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"movierec/dataset"
	"movierec/engine"
)

var tenScale = engine.Scale{Min: 1, Max: 10, Step: 1}

func scalePtr(s engine.Scale) *engine.Scale { return &s }

// TestReadRatingsPlain covers the plain layout's separators, headers,
// column orders, line ends and values, with and without a declared scale.
func TestReadRatingsPlain(t *testing.T) {
	r := func(u, m int32, v float32, ts int64) engine.Rating {
		return engine.Rating{User: u, Movie: m, Value: v, Time: ts}
	}
	tests := []struct {
		name  string
		in    string
		pf    dataset.PlainFormat
		scale *engine.Scale
		want  []engine.Rating
		err   string
	}{
		{"comma, no header", "1,2,3.5\n4,5,1\n", dataset.PlainFormat{}, nil,
			[]engine.Rating{r(1, 2, 3.5, 0), r(4, 5, 1, 0)}, ""},
		{"timestamp by position", "1,2,3.5,99\n", dataset.PlainFormat{}, nil, []engine.Rating{r(1, 2, 3.5, 99)}, ""},
		{"tab, header names, CRLF, BOM", "\xEF\xBB\xBFitem\tscore\tuser\r\n7\t-0.3\t0\r\n2147483647\t-9.4e-05\t2147483647\r\n", dataset.PlainFormat{}, nil,
			[]engine.Rating{r(0, 7, -0.3, 0), r(2147483647, 2147483647, -9.4e-05, 0)}, ""},
		{"double colon", "0::0::10::5\n3::4::1::6\n", dataset.PlainFormat{}, &tenScale,
			[]engine.Rating{r(0, 0, 10, 5), r(3, 4, 1, 6)}, ""},
		{"pipe, columns given, extras ignored", "x|9|1|7|y\n", dataset.PlainFormat{Columns: "-,movie,user,rating,note", Sep: "pipe", Header: "no"}, &tenScale,
			[]engine.Rating{r(1, 9, 7, 0)}, ""},
		{"semicolon, quoted fields", "user;movie;rating\n\"1\";\"2\";\"4.5\"\n", dataset.PlainFormat{}, &engine.MovieLensScale,
			[]engine.Rating{r(1, 2, 4.5, 0)}, ""},
		{"letters in the first field: a header", "x|9|1|7|y\n1|2|3|4|5\n", dataset.PlainFormat{Columns: "-,movie,user,rating,note"}, &tenScale,
			[]engine.Rating{r(3, 2, 4, 0)}, ""},
		{"header yes with digits", "1,2,3\n4,5,6\n", dataset.PlainFormat{Header: "yes", Columns: "user,movie,rating"}, nil,
			[]engine.Rating{r(4, 5, 6, 0)}, ""},
		{"off a declared scale", "1,2,10\n1,3,11\n", dataset.PlainFormat{}, &tenScale, nil,
			`r.csv:2: rating "11" is not on the scale 1 to 10 in steps of 1 (allowed: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)`},
		{"half on a whole scale", "1,2,0.5\n", dataset.PlainFormat{}, &tenScale, nil, `r.csv:1: rating "0.5" is not on the scale`},
		{"NaN", "1,2,3\n1,2,NaN\n", dataset.PlainFormat{}, nil, nil, `r.csv:2: rating "NaN" is not a number`},
		{"Inf", "1,2,+Inf\n", dataset.PlainFormat{}, nil, nil, `r.csv:1: rating "+Inf" is not a number`},
		{"beyond float32", "1,2,1e39\n", dataset.PlainFormat{}, nil, nil, `r.csv:1: rating "1e39" is out of the range of a float32`},
		{"negative user", "-1,2,3\n", dataset.PlainFormat{}, nil, nil, `r.csv:1: user id "-1" is out of range (want 0 to 2147483647)`},
		{"movie beyond", "1,2147483648,3\n", dataset.PlainFormat{}, nil, nil, `r.csv:1: movie id "2147483648" is out of range (want 0 to 2147483647)`},
		{"too few fields", "1,2,3\n1,2\n", dataset.PlainFormat{}, nil, nil, `r.csv:2: got 2 fields, want 3`},
		{"empty line inside", "1,2,3\n\n1,2,3\n", dataset.PlainFormat{}, nil, nil, `r.csv:2: empty line`},
		{"no separator", "123\n", dataset.PlainFormat{}, nil, nil, `r.csv:1: cannot tell the field separator`},
		{"columns lack rating", "a,b,c\n1,2,3\n", dataset.PlainFormat{}, nil, nil, `must name user, movie and rating`},
		{"bad separator", "1,2,3\n", dataset.PlainFormat{Sep: "#"}, nil, nil, `separator "#"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := dataset.ReadRatingsPlain(strings.NewReader(tc.in), "r.csv", tc.pf, tc.scale)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ReadRatingsPlain(%q) = %v, %v, want an error containing %q", tc.in, got, err, tc.err)
				}
				var pe *dataset.ParseError
				if !errors.As(err, &pe) || pe.File != "r.csv" {
					t.Errorf("error %v is not a *ParseError naming r.csv", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadRatingsPlain(%q) error = %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ReadRatingsPlain(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// writeFiles writes name → content into a new directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadPlain(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"r.tsv": "user\tmovie\trating\ttimestamp\r\n0\t0\t10\t1\r\n1\t2147483647\t1\t2\r\n2\t0\t2\t3\r\n",
		// Latin-1 title, a quoted title holding the separator and a quote.
		"m.csv":       "id,title,genres\n0,\"Caf\xe9, The\",Drama|Comedy\n2147483647,\"\"\"Big\"\", Last\",\n",
		"m_short.csv": "id,title\n0,Only zero\n",
	})
	d, err := dataset.LoadPlain(dataset.PlainOptions{Ratings: filepath.Join(dir, "r.tsv"), Movies: filepath.Join(dir, "m.csv")})
	if err != nil {
		t.Fatalf("LoadPlain() error = %v", err)
	}
	if d.Layout != dataset.LayoutPlain || d.Scale != tenScale || len(d.Ratings) != 3 {
		t.Errorf("LoadPlain() = layout %q, scale %v, %d ratings; want plain, 1:10:1 detected, 3", d.Layout, d.Scale, len(d.Ratings))
	}
	wantMovies := []engine.Movie{{ID: 0, Title: "Café, The", Genres: []string{"Drama", "Comedy"}}, {ID: 2147483647, Title: `"Big", Last`}}
	if diff := cmp.Diff(wantMovies, d.Movies); diff != "" {
		t.Errorf("movies mismatch (-want +got):\n%s", diff)
	}

	// Without a movies file the rated movies are named.
	d, err = dataset.LoadPlain(dataset.PlainOptions{Ratings: filepath.Join(dir, "r.tsv"), Scale: scalePtr(engine.Unbounded)})
	if err != nil {
		t.Fatal(err)
	}
	wantMovies = []engine.Movie{{ID: 0, Title: "Movie 0"}, {ID: 2147483647, Title: "Movie 2147483647"}}
	if diff := cmp.Diff(wantMovies, d.Movies); diff != "" || d.Scale != engine.Unbounded {
		t.Errorf("named movies mismatch (-want +got):\n%s, scale %v", diff, d.Scale)
	}

	// A movie missing from the movies file names the ratings line.
	_, err = dataset.LoadPlain(dataset.PlainOptions{Ratings: filepath.Join(dir, "r.tsv"), Movies: filepath.Join(dir, "m_short.csv")})
	if !errors.Is(err, engine.ErrUnknownMovie) || !strings.Contains(err.Error(), "r.tsv:3: unknown movie 2147483647") {
		t.Errorf("LoadPlain(missing movie) error = %v, want r.tsv:3 naming movie 2147483647", err)
	}
}

func TestReadRatingsNetflix(t *testing.T) {
	r := func(u, m int32, v float32, day string) engine.Rating {
		ts, _ := dateSeconds(day)
		return engine.Rating{User: u, Movie: m, Value: v, Time: ts}
	}
	tests := []struct {
		name  string
		in    string
		scale *engine.Scale
		want  []engine.Rating
		err   string
	}{
		{"two movies", "1:\n1488844,3,2005-09-06\n822109,5,2005-05-13\n2:\n2059652,4,2005-09-05\n", nil,
			[]engine.Rating{r(1488844, 1, 3, "2005-09-06"), r(822109, 1, 5, "2005-05-13"), r(2059652, 2, 4, "2005-09-05")}, ""},
		{"CRLF, BOM, zero and largest ids", "\xEF\xBB\xBF0:\r\n0,1,1970-01-01\r\n2147483647:\r\n2147483647,-2.5,2000-02-29\r\n", nil,
			[]engine.Rating{r(0, 0, 1, "1970-01-01"), r(2147483647, 2147483647, -2.5, "2000-02-29")}, ""},
		{"exponent rating", "5:\n1,1e1,2001-01-01\n", &tenScale, []engine.Rating{r(1, 5, 10, "2001-01-01")}, ""},
		{"row before movie", "1,3,2005-09-06\n", nil, nil, `n.txt:1: rating before the first "MovieID:" line`},
		{"bad date", "1:\n1,3,2005-02-30\n", nil, nil, `n.txt:2: date "2005-02-30" is not a date`},
		{"off scale", "1:\n1,3,2005-01-01\n1,6,2005-01-01\n", &engine.WholeStarScale, nil, `n.txt:3: rating "6" is not on the scale 1 to 5`},
		{"bad movie line", "1:\n1,3,2005-01-01\nx:\n", nil, nil, `n.txt:3: movie id "x" is not a number`},
		{"colon in a row", "1:\n1,3:,2005-01-01\n", nil, nil, `n.txt:2: line "1,3:,2005-01-01"`},
		{"fields", "1:\n1,3\n", nil, nil, `n.txt:2: got 2 fields, want 3`},
		{"NaN", "1:\n1,NaN,2005-01-01\n", nil, nil, `n.txt:2: rating "NaN" is not a number`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := dataset.ReadRatingsNetflix(strings.NewReader(tc.in), "n.txt", tc.scale)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ReadRatingsNetflix(%q) = %v, %v, want an error containing %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadRatingsNetflix(%q) error = %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ReadRatingsNetflix(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// dateSeconds is the reference for the date parser: time's own.
func dateSeconds(day string) (int64, error) {
	tm, err := time.Parse(time.DateOnly, day)
	return tm.Unix(), err
}

func TestReadMovieTitles(t *testing.T) {
	in := "1,2003,Dinosaur Planet\r\n2,NULL,Isle of Man TT 2004 Review\r\n3,1997,Character, The\r\n4,1999,Caf\xe9 \xc0 Paris\r\n"
	got, err := dataset.ReadMovieTitles(strings.NewReader(in), "movie_titles.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := []engine.Movie{{ID: 1, Title: "Dinosaur Planet (2003)"}, {ID: 2, Title: "Isle of Man TT 2004 Review"},
		{ID: 3, Title: "Character, The (1997)"}, {ID: 4, Title: "Café À Paris (1999)"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadMovieTitles mismatch (-want +got):\n%s", diff)
	}
	for _, tc := range []struct{ in, err string }{
		{"1,2003,A\n1,2004,B\n", "movie_titles.csv:2: duplicate movie id 1"},
		{"1,20x3,A\n", `movie_titles.csv:1: year "20x3"`},
		{"1,2003\n", "movie_titles.csv:1: got 2 fields, want 3"},
		{"1,2003,\n", "movie_titles.csv:1: empty title"},
	} {
		if _, err := dataset.ReadMovieTitles(strings.NewReader(tc.in), "movie_titles.csv"); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ReadMovieTitles(%q) error = %v, want one containing %q", tc.in, err, tc.err)
		}
	}
}

func TestLoadNetflix(t *testing.T) {
	titles := "1,2003,Dinosaur Planet\n2,NULL,Two, The\n3,1999,Three\n"
	for _, tc := range []struct {
		name  string
		files map[string]string
	}{
		{"combined", map[string]string{"combined_data_1.txt": "1:\n7,3,2005-09-06\n8,5,2005-05-13\n", "combined_data_2.txt": "2:\n7,1,2005-09-05\n3:\n9,4,2004-01-01\n", "movie_titles.csv": titles}},
		{"training_set", map[string]string{"training_set/mv_0000001.txt": "1:\n7,3,2005-09-06\n8,5,2005-05-13\n", "training_set/mv_0000002.txt": "2:\n7,1,2005-09-05\n", "training_set/mv_0000003.txt": "3:\n9,4,2004-01-01\n", "movie_titles.csv": titles}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := dataset.LoadDir(writeFiles(t, tc.files))
			if err != nil {
				t.Fatal(err)
			}
			if d.Layout != dataset.LayoutNetflix || d.Scale != engine.WholeStarScale || len(d.Ratings) != 4 || len(d.Movies) != 3 {
				t.Errorf("LoadDir() = layout %q, scale %v, %d ratings, %d movies; want netflix, 1:5:1, 4, 3", d.Layout, d.Scale, len(d.Ratings), len(d.Movies))
			}
			if got := []int32{d.Ratings[0].Movie, d.Ratings[2].Movie, d.Ratings[3].Movie}; !cmp.Equal(got, []int32{1, 2, 3}) {
				t.Errorf("movies of the ratings = %v, want [1 2 3]", got)
			}
		})
	}
	dir := writeFiles(t, map[string]string{"combined_data_1.txt": "1:\n7,3,2005-09-06\n4:\n7,3,2005-09-06\n", "movie_titles.csv": titles})
	_, err := dataset.LoadDir(dir)
	if !errors.Is(err, engine.ErrUnknownMovie) || !strings.Contains(err.Error(), "combined_data_1.txt:3: unknown movie 4 (not in movie_titles.csv)") {
		t.Errorf("LoadDir(unknown movie) error = %v, want combined_data_1.txt:3 naming movie 4", err)
	}
	_, err = dataset.LoadDirWith(dir, dataset.Options{Layout: dataset.LayoutLatest})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadDirWith(layout ml-latest) error = %v, want a missing movies.csv", err)
	}
}

// TestGenerateNetflixRoundTrip generates the Netflix layout and loads it
// back, also in small blocks with several goroutines.
func TestGenerateNetflixRoundTrip(t *testing.T) {
	cfg := dataset.GenConfig{Users: 1500, Movies: 100, Ratings: 20000, Seed: 3}
	var ratings, titles bytes.Buffer
	st, err := dataset.GenerateNetflix(context.Background(), cfg, &ratings, &titles, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Ratings != cfg.Ratings || st.Users != cfg.Users || st.Movies != cfg.Movies {
		t.Errorf("GenerateNetflix stats = %+v", st)
	}
	dir := writeFiles(t, map[string]string{"combined_data_1.txt": ratings.String(), "movie_titles.csv": titles.String()})
	d, err := dataset.LoadDir(dir)
	if err != nil {
		t.Fatalf("LoadDir(generated) error = %v", err)
	}
	if int64(len(d.Ratings)) != cfg.Ratings || len(d.Movies) != cfg.Movies || d.Scale != engine.WholeStarScale {
		t.Fatalf("LoadDir(generated) = %d ratings, %d movies, scale %v; want %d, %d, 1:5:1", len(d.Ratings), len(d.Movies), d.Scale, cfg.Ratings, cfg.Movies)
	}
	for _, r := range d.Ratings {
		if r.User < 1 || int(r.User) > cfg.Users || r.Movie < 1 || int(r.Movie) > cfg.Movies || r.Time < 946684800 {
			t.Fatalf("rating %+v out of the generated ranges", r)
		}
	}
	for _, bs := range []int{16 << 10, 128 << 10} {
		got, err := dataset.ReadNetflixBlocks(bytes.NewReader(ratings.Bytes()), "c.txt", bs, 3)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(d.Ratings, got); diff != "" {
			t.Fatalf("ReadNetflixBlocks(block %d) differs from LoadDir (-want +got):\n%.2000s", bs, diff)
		}
	}
	if math.Abs(st.MeanRating-meanOf(d.Ratings)) > 1e-9 {
		t.Errorf("MeanRating %v, loaded mean %v", st.MeanRating, meanOf(d.Ratings))
	}
}

func meanOf(rs []engine.Rating) float64 {
	var s float64
	for _, r := range rs {
		s += float64(r.Value)
	}
	return s / float64(len(rs))
}

// TestNetflixAllocs: the Netflix parser's allocations do not grow with the
// rows (none per row).
func TestNetflixAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	gen := func(n int64) []byte {
		var ratings, titles bytes.Buffer
		if _, err := dataset.GenerateNetflix(context.Background(), dataset.GenConfig{Users: int(n / 20), Movies: 100, Ratings: n, Seed: 1}, &ratings, &titles, nil); err != nil {
			t.Fatal(err)
		}
		return ratings.Bytes()
	}
	allocs := func(in []byte) float64 {
		return testing.AllocsPerRun(5, func() {
			if _, err := dataset.ReadNetflixBlocks(bytes.NewReader(in), "c.txt", 1<<20, 2); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, large := gen(2_000), gen(150_000)
	s, l := allocs(small), allocs(large)
	t.Logf("%v allocs for %d bytes, %v for %d bytes", s, len(small), l, len(large))
	// Each 1 MiB block costs a few allocations (goroutines, chunk lists);
	// 150,000 rows must not cost any.
	if blocks := float64(len(large)>>20 + 1); l > s+16*blocks {
		t.Errorf("%v allocs for %d bytes, %v for %d bytes; want at most %v more: none per row", s, len(small), l, len(large), 16*blocks)
	}
}
