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
		if r.User < 0 || r.Movie <= 0 || r.Time < 0 || !engine.MovieLensScale.Valid(float64(r.Value)) {
			t.Fatalf("rating %d = %+v: want User >= 0, Movie > 0, Time >= 0, Value on %v", i, r, engine.MovieLensScale)
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
