package dataset_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"movierec/dataset"
	"movierec/engine"
)

// checkParseError fails unless err is a *ParseError on a line of in.
func checkParseError(t *testing.T, err error, in []byte) {
	t.Helper()
	var pe *dataset.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T), want a *ParseError", err, err)
	}
	if lines := bytes.Count(in, []byte("\n")) + 1; pe.Line < 1 || pe.Line > lines {
		t.Fatalf("error %v: line %d, want 1 to %d", err, pe.Line, lines)
	}
}

// checkRatings fails unless every rating has valid ids and a value on the
// scale.
func checkRatings(t *testing.T, rs []engine.Rating) {
	t.Helper()
	for i, r := range rs {
		if r.User < 0 || r.Movie < 0 || r.Time < 0 || !engine.MovieLensScale.Valid(float64(r.Value)) {
			t.Fatalf("rating %d = %+v: want User >= 0, Movie >= 0, Time >= 0, Value on %v", i, r, engine.MovieLensScale)
		}
		if q := r.Value * 2; q != float32(int(q)) {
			t.Fatalf("rating %d = %+v: Value is not an exact half step", i, r)
		}
	}
}

// fuzzRatings checks read against the invariants, the parallel parser and
// the general row parser.
func fuzzRatings(t *testing.T, in []byte, format string, read func([]byte) ([]engine.Rating, error)) {
	got, err := read(in)
	if err != nil {
		checkParseError(t, err, in)
	} else {
		checkRatings(t, got)
	}
	type parser = func([]byte, string, string, int) ([]engine.Rating, error)
	alts := []struct {
		name string
		read parser
	}{{"parallel", dataset.ParseRatings}, {"slow", dataset.ParseRatingsSlow},
		{"5-byte blocks", func(b []byte, name, format string, workers int) ([]engine.Rating, error) {
			return dataset.ReadRatingsBlocks(iotest.HalfReader(bytes.NewReader(b)), name, format, 5, workers)
		}},
		{"1-byte blocks, unsized", func(b []byte, name, format string, workers int) ([]engine.Rating, error) {
			return dataset.ReadRatingsBlocks(unsizedReader{bytes.NewReader(b)}, name, format, 1, workers)
		}},
	}
	if format == "csv" {
		alts = append(alts, struct {
			name string
			read parser
		}{"quote-aware", func(b []byte, name, _ string, _ int) ([]engine.Rating, error) {
			return dataset.ParseRatingsQuoted(b, name)
		}})
	}
	for _, alt := range alts {
		got2, err2 := alt.read(slices.Clip(in), "f", format, 3)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("%s parser: error %v, want %v", alt.name, err2, err)
		}
		if err != nil {
			var pe, pe2 *dataset.ParseError
			errors.As(err, &pe)
			errors.As(err2, &pe2)
			if pe.Line != pe2.Line || pe.Err.Error() != pe2.Err.Error() {
				t.Fatalf("%s parser: error %v, want %v", alt.name, err2, err)
			}
		} else if diff := cmp.Diff(got, got2); diff != "" {
			t.Fatalf("%s parser differs (-want +got):\n%s", alt.name, diff)
		}
	}
}

func FuzzReadRatingsCSV(f *testing.F) {
	const hdr = "userId,movieId,rating,timestamp\r\n"
	for _, s := range []string{
		hdr + "1,1,4.0,964982703\r\n1,3,4.0,964981247\r\n",
		hdr + "1,1,4.0,964982703\n2,3,0.5,0\n\n",
		"\xEF\xBB\xBF" + hdr + "0,2147483647,5,9223372036854775807",
		`"userId","movieId","rating","timestamp"` + "\n\"1\",\"2\",\"3.5\",\"4\"\n",
		hdr + "1,2,4.50,00000000000000000000001\r\n",
		hdr + "1,2,3.0,4,5\n1,,x,\n",
		hdr + "1,\"2\n\",3.0,4\n",
		hdr + "-1,0,5.5,-1\r\r\n",
		hdr + "1,2,4.0000001,5\n",
		hdr,
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		fuzzRatings(t, in, "csv", func(b []byte) ([]engine.Rating, error) {
			return dataset.ReadRatingsCSV(bytes.NewReader(b), "ratings.csv")
		})
	})
}

func FuzzReadUData(f *testing.F) {
	for _, s := range []string{
		"196\t242\t3\t881250949\n186\t302\t3\t891717742\n",
		"1\t2\t3.5\t4\r\n\r\n",
		"1\t2\t3\n1 2 3 4\n",
		"0\t2147483647\t0.5\t0",
		"1\t2\t\"3\"\t4\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		fuzzRatings(t, in, "udata", func(b []byte) ([]engine.Rating, error) {
			return dataset.ReadUData(bytes.NewReader(b), "u.data")
		})
	})
}

func FuzzReadMoviesCSV(f *testing.F) {
	const hdr = "movieId,title,genres\r\n"
	for _, s := range []string{
		hdr + "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\r\n",
		hdr + "11,\"American President, The (1995)\",Comedy|Drama|Romance\r\n",
		hdr + "7789,\"11'09\"\"01 - September 11 (2002)\",Drama\r\n",
		hdr + "9,Untitled,(no genres listed)\n10,\"a\nb\",\n",
		"\xEF\xBB\xBF" + hdr + "1,Am\xe9lie (2001),Romance\n",
		hdr + "1,A,B\n1,A,B\n",
		hdr + "1,\"A\"x,B\n",
		hdr + "1,A,B||C\n\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		movies, err := dataset.ReadMoviesCSV(bytes.NewReader(in), "movies.csv")
		if err != nil {
			checkParseError(t, err, in)
			return
		}
		seen := map[int32]bool{}
		for _, m := range movies {
			if m.ID <= 0 || seen[m.ID] {
				t.Fatalf("movie %+v: want a positive, unique id", m)
			}
			seen[m.ID] = true
			if !utf8.ValidString(m.Title) {
				t.Fatalf("movie %+v: title is not UTF-8", m)
			}
			for _, g := range m.Genres {
				if g == "" || g == "(no genres listed)" {
					t.Fatalf("movie %+v: bad genre %q", m, g)
				}
			}
		}
	})
}

// ratingSyntax is the number syntax every reader accepts for a rating.
var ratingSyntax = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// FuzzRatingField puts one rating field into a row of each ratings format
// and checks the number rules against an independent oracle: a row is
// accepted exactly when the field is a plain decimal number (digits,
// optional fraction, optional exponent; no Go-only syntax, no spaces,
// no inf or nan) whose float64 value is exactly a half step from 0.5 to 5,
// and then the stored value is that step.
func FuzzRatingField(f *testing.F) {
	for _, s := range []string{
		"4", "4.5", "4.50", "+2.0", "5e0", "45E-1", "0.05e+1", "5.1e-05", "0_5", "0x1p2", "0X1P-1", "inf", "+Inf", "nan",
		"NaN", "4 .5", " 4", "4.5000004", "4.500000000000000000001", ".5", "5.", "1e", "", "-0.5", "1e400", "1e-400", "٤",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, field string) {
		if strings.ContainsAny(field, ",\t:\"\r\n") {
			t.Skip("the field would change the row's shape")
		}
		want, wantOK := float32(0), false
		if ratingSyntax.MatchString(field) {
			if v, err := strconv.ParseFloat(field, 64); err == nil && v*2 == math.Round(v*2) && v >= 0.5 && v <= 5 {
				want, wantOK = float32(v), true
			}
		}
		for _, tc := range []struct {
			name string
			row  string
			read func(io.Reader, string) ([]engine.Rating, error)
		}{
			{"csv", "userId,movieId,rating,timestamp\n1,2," + field + ",3\n", dataset.ReadRatingsCSV},
			{"dat", "1::2::" + field + "::3\n", dataset.ReadRatingsDat},
			{"u.data", "1\t2\t" + field + "\t3\n", dataset.ReadUData},
		} {
			got, err := tc.read(strings.NewReader(tc.row), tc.name)
			if (err == nil) != wantOK {
				t.Fatalf("%s rating %q: error %v, want accepted %v", tc.name, field, err, wantOK)
			}
			if err == nil && (len(got) != 1 || got[0].Value != want) {
				t.Fatalf("%s rating %q = %+v, want one rating of %v", tc.name, field, got, want)
			}
		}
	})
}

// checkAnyRatings fails unless every rating has valid ids, a finite value
// (on scale when there is one) and a non-negative time.
func checkAnyRatings(t *testing.T, rs []engine.Rating, scale *engine.Scale) {
	t.Helper()
	for i, r := range rs {
		v := float64(r.Value)
		if r.User < 0 || r.Movie < 0 || r.Time < 0 || math.IsNaN(v) || math.IsInf(v, 0) || (scale != nil && !scale.Contains(r.Value)) {
			t.Fatalf("rating %d = %+v: want ids and time >= 0 and a finite value (on %v)", i, r, scale)
		}
	}
}

func FuzzReadRatingsPlain(f *testing.F) {
	for _, s := range []string{
		"1,2,3.5\n4,5,1\n",
		"\xEF\xBB\xBFitem\tscore\tuser\r\n7\t-0.3\t0\r\n2147483647\t-9.4e-05\t2147483647\r\n",
		"0::0::10::5\n3::4::1::6\n",
		"user;movie;rating\n\"1\";\"2\";\"4.5\"\n",
		"x|9|1|7|y\n1|2|3|4|5\n",
		"1,2,NaN\n1,2,+Inf\n1,2,1e39\n",
		"1,2,3\n\n1,2\n",
		"-1,2147483648,3\n",
		"",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, in []byte, declared bool) {
		var scale *engine.Scale
		if declared {
			scale = &tenScale
		}
		got, err := dataset.ReadRatingsPlain(bytes.NewReader(in), "r.csv", dataset.PlainFormat{}, scale)
		slow, serr := dataset.ReadRatingsPlainSlow(slices.Clip(in), "r.csv", dataset.PlainFormat{}, scale)
		if (err == nil) != (serr == nil) || (err != nil && err.Error() != serr.Error()) {
			t.Fatalf("general parser: error %v, want %v", serr, err)
		}
		if err != nil {
			checkParseError(t, err, in)
			return
		}
		if diff := cmp.Diff(got, slow); diff != "" {
			t.Fatalf("general parser differs (-fast +general):\n%s", diff)
		}
		checkAnyRatings(t, got, scale)
		// The same input unsized and read a byte at a time gives the same.
		got2, err := dataset.ReadRatingsPlain(iotest.OneByteReader(unsizedReader{bytes.NewReader(in)}), "r.csv", dataset.PlainFormat{}, scale)
		if err != nil {
			t.Fatalf("one byte at a time: error %v, none at once", err)
		}
		if diff := cmp.Diff(got, got2); diff != "" {
			t.Fatalf("one byte at a time differs (-want +got):\n%s", diff)
		}
	})
}

func FuzzReadRatingsNetflix(f *testing.F) {
	for _, s := range []string{
		"1:\n1488844,3,2005-09-06\n822109,5,2005-05-13\n2:\n2059652,4,2005-09-05\n",
		"\xEF\xBB\xBF0:\r\n0,1,1970-01-01\r\n2147483647:\r\n2147483647,-2.5,2000-02-29\r\n",
		"1,3,2005-09-06\n",
		"1:\n1,3,2005-02-30\n1,3:,2005-01-01\nx:\n",
		"1:\n1,3\n\n1,NaN,2005-01-01\n",
		"1:2:\n:\n1::\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := dataset.ReadRatingsNetflix(bytes.NewReader(in), "n.txt", nil)
		if err != nil {
			checkParseError(t, err, in)
		} else {
			checkAnyRatings(t, got, nil)
		}
		for _, bs := range []int{1, 7} {
			got2, err2 := dataset.ReadNetflixBlocks(iotest.HalfReader(bytes.NewReader(in)), "n.txt", bs, 3)
			if (err == nil) != (err2 == nil) {
				t.Fatalf("%d-byte blocks: error %v, want %v", bs, err2, err)
			}
			if err != nil {
				if err.Error() != err2.Error() {
					t.Fatalf("%d-byte blocks: error %v, want %v", bs, err2, err)
				}
			} else if diff := cmp.Diff(got, got2); diff != "" {
				t.Fatalf("%d-byte blocks differ (-want +got):\n%s", bs, diff)
			}
		}
	})
}

func FuzzReadMovieTitles(f *testing.F) {
	for _, s := range []string{
		"1,2003,Dinosaur Planet\r\n2,NULL,Isle of Man TT 2004 Review\r\n3,1997,Character, The\r\n",
		"4,1999,Caf\xe9 \xc0 Paris\n",
		"1,2003,A\n1,2004,B\n",
		"1,20x3,A\n1,2003\n1,2003,\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := dataset.ReadMovieTitles(bytes.NewReader(in), "movie_titles.csv")
		if err != nil {
			checkParseError(t, err, in)
			return
		}
		seen := map[int32]bool{}
		for _, m := range got {
			if m.ID < 0 || seen[m.ID] || m.Title == "" || !utf8.ValidString(m.Title) {
				t.Fatalf("movie %+v: want a new id >= 0 and a non-empty UTF-8 title", m)
			}
			seen[m.ID] = true
		}
	})
}
