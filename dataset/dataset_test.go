package dataset_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"movierec/data"
	"movierec/dataset"
	"movierec/engine"
)

func bundled(t testing.TB, name string) []byte {
	t.Helper()
	b, err := fs.ReadFile(data.MLLatestSmall(), name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadBundled(t *testing.T) {
	d, err := dataset.Load(data.MLLatestSmall())
	if err != nil {
		t.Fatalf("Load(ml-latest-small) error: %v", err)
	}
	users := map[int32]bool{}
	rated := map[int32]bool{}
	for _, r := range d.Ratings {
		users[r.User] = true
		rated[r.Movie] = true
	}
	noGenres := 0
	titles := map[int32]string{}
	for _, m := range d.Movies {
		titles[m.ID] = m.Title
		if m.Genres == nil {
			noGenres++
		}
	}
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"Layout", d.Layout, dataset.LayoutLatest},
		{"Scale", d.Scale, engine.MovieLensScale},
		{"len(Ratings)", len(d.Ratings), 100836},
		{"len(Movies)", len(d.Movies), 9742},
		{"users", len(users), 610},
		{"rated movies", len(rated), 9724},
		{"movies without genres", noGenres, 34},
		{"title of 11", titles[11], "American President, The (1995)"},
		{"title of 7789", titles[7789], `11'09"01 - September 11 (2002)`},
		{"first movie", d.Movies[0], engine.Movie{ID: 1, Title: "Toy Story (1995)",
			Genres: []string{"Adventure", "Animation", "Children", "Comedy", "Fantasy"}}},
		{"first rating", d.Ratings[0], engine.Rating{User: 1, Movie: 1, Value: 4, Time: 964982703}},
		{"last rating", d.Ratings[len(d.Ratings)-1], engine.Rating{User: 610, Movie: 170875, Value: 3, Time: 1493846415}},
	} {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("Load(ml-latest-small): %s mismatch (-want +got):\n%s", c.what, diff)
		}
	}
}

// TestMoviesCSVMatchesEncodingCSV cross-checks our CSV splitter against
// encoding/csv on the bundled movies.csv (2,079 quoted titles, CRLF).
func TestMoviesCSVMatchesEncodingCSV(t *testing.T) {
	raw := bundled(t, "movies.csv")
	recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	movies, err := dataset.ReadMoviesCSV(bytes.NewReader(raw), "movies.csv")
	if err != nil {
		t.Fatal(err)
	}
	var want, got [][]string
	for _, rec := range recs[1:] {
		if rec[2] == "(no genres listed)" {
			rec[2] = ""
		}
		want = append(want, rec)
	}
	for _, m := range movies {
		got = append(got, []string{strconv.Itoa(int(m.ID)), m.Title, strings.Join(m.Genres, "|")})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadMoviesCSV(movies.csv) differs from encoding/csv (-want +got):\n%s", diff)
	}
}

func TestLoadTestdata(t *testing.T) {
	tests := []struct {
		dir  string
		want *dataset.Dataset
	}{
		{"latest", &dataset.Dataset{
			Layout: dataset.LayoutLatest,
			Movies: []engine.Movie{
				{ID: 1, Title: "Toy Story (1995)", Genres: []string{"Adventure", "Animation", "Children", "Comedy", "Fantasy"}},
				{ID: 11, Title: "American President, The (1995)", Genres: []string{"Comedy", "Drama", "Romance"}},
				{ID: 7789, Title: `11'09"01 - September 11 (2002)`, Genres: []string{"Drama"}},
				{ID: 42, Title: "Amélie (2001)"},
			},
			Ratings: []engine.Rating{
				{User: 1, Movie: 1, Value: 4, Time: 964982703},
				{User: 1, Movie: 11, Value: 3.5, Time: 964981247},
				{User: 2, Movie: 7789, Value: 0.5, Time: 1445714835},
				{User: 0, Movie: 42, Value: 5, Time: 0},
				{User: 1, Movie: 1, Value: 4, Time: 964982703}, // duplicate kept
			},
			Scale: engine.MovieLensScale,
		}},
		{"dat", &dataset.Dataset{
			Layout: dataset.LayoutDat,
			Movies: []engine.Movie{
				{ID: 1, Title: "Toy Story (1995)", Genres: []string{"Animation", "Children's", "Comedy"}},
				{ID: 73, Title: "Misérables, Les (1995)", Genres: []string{"Drama", "War"}},
				{ID: 999, Title: "Untitled"},
			},
			Ratings: []engine.Rating{
				{User: 1, Movie: 1, Value: 5, Time: 978300760},
				{User: 1, Movie: 73, Value: 3.5, Time: 978302109},
				{User: 2, Movie: 999, Value: 1, Time: 978301968},
			},
			Scale: engine.MovieLensScale, // 3.5 is a half star
		}},
		{"100k", &dataset.Dataset{
			Layout: dataset.Layout100K,
			Movies: []engine.Movie{
				{ID: 1, Title: "Toy Story (1995)", Genres: []string{"Animation", "Children's", "Comedy"}},
				{ID: 9, Title: "Misérables, Les (1995)", Genres: []string{"Drama", "War"}},
				{ID: 267, Title: "unknown"},
			},
			Ratings: []engine.Rating{
				{User: 196, Movie: 1, Value: 3, Time: 881250949},
				{User: 186, Movie: 9, Value: 5, Time: 891717742},
				{User: 22, Movie: 267, Value: 1, Time: 878887116},
				{User: 196, Movie: 9, Value: 4, Time: 881251000},
			},
			Scale: engine.WholeStarScale,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			got, err := dataset.LoadDir(filepath.Join("testdata", tc.dir))
			if err != nil {
				t.Fatalf("LoadDir(%s) error: %v", tc.dir, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("LoadDir(%s) mismatch (-want +got):\n%s", tc.dir, diff)
			}
			for _, m := range got.Movies {
				if !utf8.ValidString(m.Title) {
					t.Errorf("LoadDir(%s): title %q is not UTF-8", tc.dir, m.Title)
				}
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	csvMovies := "movieId,title,genres\n1,A (1995),Drama\n"
	tests := []struct {
		name     string
		fsys     fstest.MapFS
		wantErr  error  // errors.Is target, or nil
		wantLine int    // *ParseError line, or 0 for no *ParseError
		wantMsg  string // substring of the message
	}{
		{"empty", fstest.MapFS{"README": {}}, dataset.ErrNoDataset, 0, "want ratings.csv and movies.csv"},
		{"no movies", fstest.MapFS{"ratings.csv": {}}, dataset.ErrNoDataset, 0, "found ratings.csv but not movies.csv"},
		{"no u.data", fstest.MapFS{"u.item": {}}, dataset.ErrNoDataset, 0, "found u.item but not u.data"},
		{"unknown movie", fstest.MapFS{
			"movies.csv":  {Data: []byte(csvMovies)},
			"ratings.csv": {Data: []byte("userId,movieId,rating,timestamp\n1,1,4.0,1\n1,2,4.0,2\n")},
		}, engine.ErrUnknownMovie, 3, "ratings.csv:3: unknown movie 2 (not in movies.csv)"},
		{"unknown movie dat", fstest.MapFS{
			"movies.dat":  {Data: []byte("1::A::Drama\n")},
			"ratings.dat": {Data: []byte("1::1::4::1\n1::7::4::1\n")},
		}, engine.ErrUnknownMovie, 2, "ratings.dat:2: unknown movie 7"},
		{"bad movies", fstest.MapFS{
			"movies.csv":  {Data: []byte("movieId,title,genres\n1,A (1995),Drama\n1,B,Drama\n")},
			"ratings.csv": {Data: []byte("userId,movieId,rating,timestamp\n")},
		}, nil, 3, "movies.csv:3: duplicate movie id 1 (first on line 2)"},
		{"bad ratings", fstest.MapFS{
			"movies.csv":  {Data: []byte(csvMovies)},
			"ratings.csv": {Data: []byte("userId,movieId,rating,timestamp\n1,1,4.0,1\n1,1,9.0,2\n")},
		}, nil, 3, `ratings.csv:3: rating "9.0" is not on the scale 0.5 to 5 in steps of 0.5 (allowed: 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dataset.Load(tc.fsys)
			if err == nil {
				t.Fatalf("Load() = nil error, want %q", tc.wantMsg)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("Load() error %q, want it to contain %q", err, tc.wantMsg)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("Load() error %q is not %v", err, tc.wantErr)
			}
			var pe *dataset.ParseError
			if got := errors.As(err, &pe); got != (tc.wantLine > 0) || got && pe.Line != tc.wantLine {
				t.Errorf("Load() error %#v, want *ParseError on line %d", err, tc.wantLine)
			}
		})
	}
}

func TestLoadDirNamesDir(t *testing.T) {
	dir := t.TempDir()
	_, err := dataset.LoadDir(dir)
	if err == nil || !strings.Contains(err.Error(), dir) || !errors.Is(err, dataset.ErrNoDataset) {
		t.Errorf("LoadDir(%s) error %v, want ErrNoDataset naming the dir", dir, err)
	}
}

func TestReadRatings(t *testing.T) {
	const hdr = "userId,movieId,rating,timestamp"
	r1 := engine.Rating{User: 1, Movie: 2, Value: 3.5, Time: 1112486027}
	r2 := engine.Rating{User: 7, Movie: 29, Value: 5, Time: 0}
	tests := []struct {
		name string
		read func(string) ([]engine.Rating, error)
		in   string
		want []engine.Rating
	}{
		{"csv LF", csvRatings, hdr + "\n1,2,3.5,1112486027\n7,29,5.0,0\n", []engine.Rating{r1, r2}},
		{"csv CRLF", csvRatings, hdr + "\r\n1,2,3.5,1112486027\r\n7,29,5.0,0\r\n", []engine.Rating{r1, r2}},
		{"csv BOM", csvRatings, "\xEF\xBB\xBF" + hdr + "\r\n1,2,3.5,1112486027\r\n", []engine.Rating{r1}},
		{"csv no final newline", csvRatings, hdr + "\n1,2,3.5,1112486027\n7,29,5,0", []engine.Rating{r1, r2}},
		{"csv trailing empty lines", csvRatings, hdr + "\r\n1,2,3.5,1112486027\r\n\r\n\n", []engine.Rating{r1}},
		{"csv header only", csvRatings, hdr + "\r\n", []engine.Rating{}},
		{"csv quoted fields", csvRatings, `"userId","movieId",rating,"timestamp"` + "\r\n" +
			`"1","2","3.5","1112486027"` + "\r\n" + `7,"29",5,0` + "\r\n", []engine.Rating{r1, r2}},
		{"csv quoted last field CRLF EOF", csvRatings, hdr + "\n1,2,3.5,\"1112486027\"\r", []engine.Rating{r1}},
		{"csv rating forms", csvRatings, hdr + "\n1,2,0.5,1\n1,2,5,1\n1,2,4.50,1\n1,2,+2.0,1\n",
			[]engine.Rating{rt(1, 2, 0.5, 1), rt(1, 2, 5, 1), rt(1, 2, 4.5, 1), rt(1, 2, 2, 1)}},
		{"csv rating exponents", csvRatings, hdr + "\n1,2,5e0,1\n1,2,45E-1,1\n1,2,0.05e+1,1\n1,2,4.500000000000000000001,1\n",
			[]engine.Rating{rt(1, 2, 5, 1), rt(1, 2, 4.5, 1), rt(1, 2, 0.5, 1), rt(1, 2, 4.5, 1)}},
		{"csv id limits", csvRatings, hdr + "\n0,2147483647,1.0,9223372036854775807\n00000000000000000000001,1,1,1\n",
			[]engine.Rating{rt(0, 2147483647, 1, 9223372036854775807), rt(1, 1, 1, 1)}},
		{"dat", datRatings, "1::2::3.5::1112486027\r\n7::29::5::0\n", []engine.Rating{r1, r2}},
		{"dat empty", datRatings, "", []engine.Rating{}},
		{"u.data", uData, "1\t2\t3.5\t1112486027\n7\t29\t5\t0\n\n", []engine.Rating{r1, r2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.read(tc.in)
			if err != nil {
				t.Fatalf("read(%q) error: %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("read(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func rt(user, movie int32, v float32, t int64) engine.Rating {
	return engine.Rating{User: user, Movie: movie, Value: v, Time: t}
}

func csvRatings(s string) ([]engine.Rating, error) {
	return dataset.ReadRatingsCSV(strings.NewReader(s), "ratings.csv")
}
func datRatings(s string) ([]engine.Rating, error) {
	return dataset.ReadRatingsDat(strings.NewReader(s), "ratings.dat")
}
func uData(s string) ([]engine.Rating, error) {
	return dataset.ReadUData(strings.NewReader(s), "u.data")
}

func TestReadErrors(t *testing.T) {
	const hdr = "userId,movieId,rating,timestamp\n"
	file := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", "malformed", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	ratings := func(read func(string) ([]engine.Rating, error)) func(string) error {
		return func(s string) error { _, err := read(s); return err }
	}
	movies := func(read func(r *strings.Reader, name string) ([]engine.Movie, error), name string) func(string) error {
		return func(s string) error { _, err := read(strings.NewReader(s), name); return err }
	}
	moviesCSV := movies(func(r *strings.Reader, n string) ([]engine.Movie, error) { return dataset.ReadMoviesCSV(r, n) }, "movies.csv")
	moviesDat := movies(func(r *strings.Reader, n string) ([]engine.Movie, error) { return dataset.ReadMoviesDat(r, n) }, "movies.dat")
	uItem := movies(func(r *strings.Reader, n string) ([]engine.Movie, error) { return dataset.ReadUItem(r, n) }, "u.item")
	rcsv, rdat, rudata := ratings(csvRatings), ratings(datRatings), ratings(uData)

	tests := []struct {
		name string
		read func(string) error
		in   string
		want string // the full error message, "file:line: reason"
	}{
		{"bad rating file", rcsv, file("ratings_bad_rating.csv"), `ratings.csv:3: rating "abc" is not a number`},
		{"off scale file CRLF", rcsv, file("ratings_off_scale.csv"), `ratings.csv:4: rating "4.2" is not on the scale 0.5 to 5 in steps of 0.5 (allowed: 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5)`},
		{"field count file", rcsv, file("ratings_fields.csv"), `ratings.csv:3: got 3 fields, want 4`},
		{"header file", rcsv, file("ratings_header.csv"), `ratings.csv:1: header is "user,movie,rating,timestamp", want "userId,movieId,rating,timestamp"`},
		{"quoted file", rcsv, file("ratings_quoted_bad.csv"), `ratings.csv:3: movie id "x3" is not a number`},
		{"no header", rcsv, "", `ratings.csv:1: missing header row "userId,movieId,rating,timestamp"`},
		{"too many fields", rcsv, hdr + "1,2,3.0,4,5\n", `ratings.csv:2: got 5 fields, want 4`},
		{"too many fields bad rating", rcsv, hdr + "1,2,x,4,5\n", `ratings.csv:2: got 5 fields, want 4`},
		{"empty line inside", rcsv, hdr + "1,2,3.0,4\n\n1,2,3.0,4\n", `ratings.csv:3: empty line`},
		{"empty line inside CRLF", rcsv, hdr + "1,2,3.0,4\r\n\r\n1,2,3.0,4\r\n", `ratings.csv:3: empty line`},
		{"empty line quoted path", rcsv, hdr + "\"1\",2,3.0,4\n\n1,2,3.0,4\n", `ratings.csv:3: empty line`},
		{"negative user", rcsv, hdr + "-1,2,3.0,4\n", `ratings.csv:2: user id "-1" is out of range (want 0 to 2147483647)`},
		{"user overflow", rcsv, hdr + "2147483648,2,3.0,4\n", `ratings.csv:2: user id "2147483648" is out of range (want 0 to 2147483647)`},
		{"movie negative", rcsv, hdr + "1,-1,3.0,4\n", `ratings.csv:2: movie id "-1" is out of range (want 0 to 2147483647)`},
		{"movie beyond int32", rcsv, hdr + "1,2147483648,3.0,4\n", `ratings.csv:2: movie id "2147483648" is out of range (want 0 to 2147483647)`},
		{"movie overflow", rcsv, hdr + "1,99999999999999999999999,3.0,4\n", `ratings.csv:2: movie id "99999999999999999999999" is out of range (want 0 to 2147483647)`},
		{"movie space", rcsv, hdr + "1, 2,3.0,4\n", `ratings.csv:2: movie id " 2" is not a number`},
		{"rating NaN", rcsv, hdr + "1,2,NaN,4\n", `ratings.csv:2: rating "NaN" is not a number`},
		{"rating Inf", rcsv, hdr + "1,2,+Inf,4\n", `ratings.csv:2: rating "+Inf" is not a number`},
		{"rating exponent off scale", rcsv, hdr + "1,2,5.1e-05,4\n", `ratings.csv:2: rating "5.1e-05" is not on the scale 0.5 to 5 in steps of 0.5 (allowed: 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5)`},
		{"rating underscore", rcsv, hdr + "1,2,0_5,4\n", `ratings.csv:2: rating "0_5" is not a number`},
		{"rating hex float", rcsv, hdr + "1,2,0x1p2,4\n", `ratings.csv:2: rating "0x1p2" is not a number`},
		{"rating inf", rcsv, hdr + "1,2,inf,4\n", `ratings.csv:2: rating "inf" is not a number`},
		{"rating nan", rcsv, hdr + "1,2,nan,4\n", `ratings.csv:2: rating "nan" is not a number`},
		{"rating inner space", rcsv, hdr + "1,2,4 .5,4\n", `ratings.csv:2: rating "4 .5" is not a number`},
		{"rating empty", rcsv, hdr + "1,2,,4\n", `ratings.csv:2: rating "" is not a number`},
		{"rating between steps", rcsv, hdr + "1,2,4.5000004,4\n", `ratings.csv:2: rating "4.5000004" is not on the scale 0.5 to 5 in steps of 0.5 (allowed: 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5)`},
		{"dat rating underscore", rdat, "1::2::0_5::4\n", `ratings.dat:1: rating "0_5" is not a number`},
		{"u.data rating between steps", rudata, "1\t2\t4.5000004\t4\n", `u.data:1: rating "4.5000004" is not on the scale 0.5 to 5 in steps of 0.5 (allowed: 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5)`},
		{"u.data rating hex", rudata, "1\t2\t0x1p2\t4\n", `u.data:1: rating "0x1p2" is not a number`},
		{"rating empty", rcsv, hdr + "1,2,,4\n", `ratings.csv:2: rating "" is not a number`},
		{"rating zero", rcsv, hdr + "1,2,0.0,4\n", `ratings.csv:2: rating "0.0" is not on the scale 0.5 to 5 in steps of 0.5 (allowed: 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5)`},
		{"rating 5.5", rcsv, hdr + "1,2,5.5,4\n", `ratings.csv:2: rating "5.5" is not on the scale 0.5 to 5 in steps of 0.5 (allowed: 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5)`},
		{"rating negative", rcsv, hdr + "1,2,-1.0,4\n", `ratings.csv:2: rating "-1.0" is not on the scale 0.5 to 5 in steps of 0.5 (allowed: 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5)`},
		{"rating dot", rcsv, hdr + "1,2,4.,4\n", `ratings.csv:2: rating "4." is not a number`},
		{"timestamp bad", rcsv, hdr + "1,2,4.0,12:00\n", `ratings.csv:2: timestamp "12:00" is not a number`},
		{"timestamp negative", rcsv, hdr + "1,2,4.0,-1\n", `ratings.csv:2: timestamp "-1" is out of range (want 0 to 9223372036854775807)`},
		{"timestamp overflow", rcsv, hdr + "1,2,4.0,9223372036854775808\n", `ratings.csv:2: timestamp "9223372036854775808" is out of range (want 0 to 9223372036854775807)`},
		{"bare quote", rcsv, hdr + "1,2\",4.0,5\n", `ratings.csv:2: bare " in non-quoted field`},
		{"unterminated quote", rcsv, hdr + "1,2,4.0,5\n1,\"2,4.0,5\n", `ratings.csv:3: quoted field has no closing "`},
		{"text after quote", rcsv, hdr + "1,\"2\"x,4.0,5\n", `ratings.csv:2: unexpected 'x' after closing quote of field 2`},
		{"quoted newline", rcsv, hdr + "1,\"2\n\",4.0,5\n1,2,x,5\n", `ratings.csv:2: movie id "2\n" is not a number`},
		{"dat bad movie file", rdat, file("ratings_bad_movie.dat"), `ratings.dat:2: movie id "-7" is out of range (want 0 to 2147483647)`},
		{"dat fields", rdat, "1::2::3\n", `ratings.dat:1: got 3 fields, want 4`},
		{"dat comma", rdat, "1,2,3,4\n", `ratings.dat:1: got 1 field, want 4`},
		{"u.data bad user file", rudata, file("u_bad_user.data"), `u.data:3: user id "-5" is out of range (want 0 to 2147483647)`},
		{"u.data spaces", rudata, "1 2 3 4\n", `u.data:1: got 1 field, want 4`},
		{"movies dup file", moviesCSV, file("movies_dup.csv"), `movies.csv:4: duplicate movie id 1 (first on line 2)`},
		{"movies quote file", moviesCSV, file("movies_quote.csv"), `movies.csv:3: unexpected 'x' after closing quote of field 2`},
		{"movies header", moviesCSV, "id,title,genres\n", `movies.csv:1: header is "id,title,genres", want "movieId,title,genres"`},
		{"movies fields", moviesCSV, "movieId,title,genres\n1,A, The (1995),Drama\n", `movies.csv:2: got 4 fields, want 3`},
		{"movies empty line", moviesCSV, "movieId,title,genres\n1,A,Drama\n\n2,B,Drama\n", `movies.csv:3: empty line`},
		{"movies empty genre", moviesCSV, "movieId,title,genres\n1,A,Drama||War\n", `movies.csv:2: genres "Drama||War" contain an empty name`},
		{"movies line after quoted newline", moviesCSV, "movieId,title,genres\n1,\"A\nB\",Drama\n-1,C,Drama\n", `movies.csv:4: movie id "-1" is out of range (want 0 to 2147483647)`},
		{"movies.dat bad id file", moviesDat, file("movies_bad_id.dat"), `movies.dat:2: movie id "x" is not a number`},
		{"movies.dat fields", moviesDat, "1::A (1995)\n", `movies.dat:1: got 2 fields, want 3`},
		{"movies.dat dup", moviesDat, "5::A::Drama\n5::B::Drama\n", `movies.dat:2: duplicate movie id 5 (first on line 1)`},
		{"u.item bad flag file", uItem, file("u_bad_flag.item"), `u.item:2: field 24 (genre Western) is "2", want 0 or 1`},
		{"u.item fields", uItem, "1|A|x|y|z|0|1\n", `u.item:1: got 7 fields, want 24`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.read(tc.in)
			var pe *dataset.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("read(%q) error %v, want a *ParseError", tc.in, err)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("read(%q) error\n%s\nwant\n%s", tc.in, got, tc.want)
			}
			if want := strings.SplitN(tc.want, ":", 3)[1]; strconv.Itoa(pe.Line) != want {
				t.Errorf("read(%q): ParseError.Line = %d, want %s", tc.in, pe.Line, want)
			}
		})
	}
}

func TestReadUItemLatin1(t *testing.T) {
	// "Misérables" in Latin-1: é is the single byte 0xE9.
	in := "9|Mis\xe9rables, Les (1995)|01-Jan-1995||http://x|0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|1|0\n"
	got, err := dataset.ReadUItem(strings.NewReader(in), "u.item")
	if err != nil {
		t.Fatal(err)
	}
	want := []engine.Movie{{ID: 9, Title: "Misérables, Les (1995)", Genres: []string{"Drama", "War"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadUItem(Latin-1) mismatch (-want +got):\n%s", diff)
	}
	// Already UTF-8: unchanged.
	got, err = dataset.ReadMoviesDat(strings.NewReader("9::Misérables, Les (1995)::Drama|War\n"), "movies.dat")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadMoviesDat(UTF-8) mismatch (-want +got):\n%s", diff)
	}
}

func dataFS(t testing.TB) fs.FS {
	t.Helper()
	return data.MLLatestSmall()
}
