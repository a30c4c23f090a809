package dataset_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"movierec/dataset"
)

// quoteAll quotes every field of every row of a ratings.csv, which sends it
// down the sequential quote-aware path.
func quoteAll(b []byte) []byte {
	return regexp.MustCompile(`(?m)([^,\r\n]+)`).ReplaceAll(b, []byte(`"$1"`))
}

func TestParallelEqualsSequential(t *testing.T) {
	raw := bundled(t, "ratings.csv")
	want, err := dataset.ParseRatingsSlow(raw, "ratings.csv", "csv", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 100836 {
		t.Fatalf("sequential: %d ratings, want 100836", len(want))
	}
	lf := bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	tests := []struct {
		name    string
		in      []byte
		workers int
	}{
		{"1 worker", raw, 1},
		{"2 workers", raw, 2},
		{"3 workers", raw, 3},
		{"8 workers", raw, 8},
		{"1000 workers", raw, 1000},
		{"LF 5 workers", lf, 5},
		{"ReadRatingsCSV", raw, 0},
		{"quoted", quoteAll(raw), 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got any
			var err error
			if tc.workers == 0 {
				got, err = dataset.ReadRatingsCSV(bytes.NewReader(tc.in), "ratings.csv")
			} else {
				got, err = dataset.ParseRatings(tc.in, "ratings.csv", "csv", tc.workers)
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: differs from the sequential parse (-want +got):\n%s", tc.name, diff)
			}
		})
	}
}

// TestParallelErrorLine breaks one row at several places in the bundled
// ratings and checks every worker count reports the same, first, bad line.
func TestParallelErrorLine(t *testing.T) {
	raw := bundled(t, "ratings.csv")
	lines := strings.SplitAfter(string(raw), "\n")
	for _, bad := range []int{2, 3, 50000, 77777, 100837} { // 1-based line numbers
		for _, second := range []int{0, 90000} { // a later bad line must not win
			mod := append([]string(nil), lines...)
			mod[bad-1] = "1,2,abc,3\r\n"
			if second > bad {
				mod[second-1] = "1,2\r\n"
			}
			in := []byte(strings.Join(mod, ""))
			for _, workers := range []int{1, 2, 3, 7, 64} {
				t.Run(fmt.Sprintf("line %d, %d workers", bad, workers), func(t *testing.T) {
					_, err := dataset.ParseRatings(in, "ratings.csv", "csv", workers)
					var pe *dataset.ParseError
					if !errors.As(err, &pe) || pe.Line != bad {
						t.Errorf("ParseRatings() error %v, want a *ParseError on line %d", err, bad)
					}
				})
			}
		}
	}
}

func TestDatAndUDataParallel(t *testing.T) {
	raw := bundled(t, "ratings.csv")
	want, err := dataset.ParseRatings(raw, "ratings.csv", "csv", 1)
	if err != nil {
		t.Fatal(err)
	}
	body := raw[bytes.IndexByte(raw, '\n')+1:]
	for _, tc := range []struct{ format, sep string }{{"dat", "::"}, {"udata", "\t"}} {
		in := bytes.ReplaceAll(body, []byte(","), []byte(tc.sep))
		for _, workers := range []int{1, 4} {
			got, err := dataset.ParseRatings(in, "x", tc.format, workers)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ParseRatings(%s, %d workers) mismatch (-want +got):\n%s", tc.format, workers, diff)
			}
		}
	}
}

// TestRatingsAllocs checks that allocations do not grow with the number of
// rows: parsing 100 and 100,000 rows costs the same number of allocations.
func TestRatingsAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	raw := bundled(t, "ratings.csv")
	small := raw[:bytes.Index(raw, []byte("\n1,1210,"))+1] // 100-odd rows
	allocs := func(in []byte, workers int) float64 {
		return testing.AllocsPerRun(10, func() {
			if _, err := dataset.ParseRatings(in, "ratings.csv", "csv", workers); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, workers := range []int{1, 4} {
		s, l := allocs(small, workers), allocs(raw, workers)
		t.Logf("%d workers: %v allocs for %d bytes, %v for %d bytes", workers, s, len(small), l, len(raw))
		if limit := float64(8 + 6*workers); l > s || l > limit {
			t.Errorf("%d workers: %v allocs for %d bytes, %v for %d bytes; want no growth and at most %v",
				workers, s, len(small), l, len(raw), limit)
		}
	}
	n := testing.AllocsPerRun(10, func() {
		if _, err := dataset.ReadRatingsCSV(bytes.NewReader(raw), "ratings.csv"); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("ReadRatingsCSV(ml-latest-small): %v allocs", n)
	if limit := float64(8 + 6*runtime.GOMAXPROCS(0)); n > limit {
		t.Errorf("ReadRatingsCSV(ml-latest-small): %v allocs, want at most %v", n, limit)
	}
	q := quoteAll(raw)
	if n := testing.AllocsPerRun(5, func() {
		if _, err := dataset.ParseRatings(q, "ratings.csv", "csv", 1); err != nil {
			t.Fatal(err)
		}
	}); n > 10 {
		t.Errorf("quoted path: %v allocs, want at most 10", n)
	}
}

// unsizedReader hides the Len method of a bytes.Reader, so that the reader
// does not know the size of its input.
type unsizedReader struct{ io.Reader }

// TestReadRatingsBlocks reads inputs in blocks of many sizes, from readers
// that do and do not tell the size of the input or return short reads, and
// checks the result, or the error, is that of parsing the whole input at
// once.
func TestReadRatingsBlocks(t *testing.T) {
	raw := bundled(t, "ratings.csv")
	small := raw[:bytes.Index(raw, []byte("\n2,318,"))+1] // ~230 rows
	lines := strings.SplitAfter(string(small), "\n")
	mod := func(edit func(l []string)) []byte {
		l := append([]string(nil), lines...)
		edit(l)
		return []byte(strings.Join(l, ""))
	}
	quoted := strings.SplitAfter(string(quoteAll(small)), "\n")
	quoted[150] = "\"1\",\"1\n\",\"4.0\",\"2\"\r\n"
	const hdr = "userId,movieId,rating,timestamp\r\n"
	inputs := map[string][]byte{
		"quoted, newline": []byte(strings.Join(quoted, "")),
		"CRLF":            small,
		"LF":              bytes.ReplaceAll(small, []byte("\r\n"), []byte("\n")),
		"quoted":          quoteAll(small),
		"quoted middle":   mod(func(l []string) { l[100] = `"1","1","4.0","964982703"` + "\r\n" }),
		"quoted newline":  mod(func(l []string) { l[120] = "1,\"1\n\",4.0,2\r\n" }),
		"quoted CR":       mod(func(l []string) { l[80] = "1,1,4.0,\"2\"\r\r\n" }),
		"unterminated":    mod(func(l []string) { l[150] = "1,\"1,4.0,2\r\n" }),
		"bare quote":      mod(func(l []string) { l[150] = "1,1\",4.0,2\r\n" }),
		"bad row":         mod(func(l []string) { l[60] = "1,1,4.1,2\r\n"; l[200] = "x\r\n" }),
		"bad after quote": mod(func(l []string) { l[30] = `1,"1",4.0,2` + "\r\n"; l[200] = "1,1,4,x\r\n" }),
		"empty line":      mod(func(l []string) { l[90] = "\r\n" }),
		"trailing lines":  append(slices.Clip(small), "\r\n\n\r\n\r"...),
		"trailing CR row": append(slices.Clip(small), "1,1,4.0,1\r\r\n\n"...),
		"no final EOL":    bytes.TrimSuffix(small, []byte("\r\n")),
		"BOM":             append([]byte("\xEF\xBB\xBF"), small...),
		"quoted header":   append([]byte(`"userId","movieId","rating","timestamp"`), small[len(hdr)-2:]...),
		"header newline":  []byte("\"userId\n\",movieId,rating,timestamp\r\n1,1,4.0,1\r\n"),
		"header only":     []byte(hdr),
		"header no EOL":   []byte(hdr[:len(hdr)-2]),
		"bad header":      []byte("userId,movieId,rating\r\n1,1,4.0,1\r\n"),
		"blank":           []byte("\r\n\r\n"),
		"empty":           nil,
	}
	readers := map[string]func([]byte) io.Reader{
		"sized":     func(b []byte) io.Reader { return bytes.NewReader(b) },
		"unsized":   func(b []byte) io.Reader { return unsizedReader{bytes.NewReader(b)} },
		"one byte":  func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
		"data+EOF":  func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) },
		"half read": func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) },
	}
	for name, in := range inputs {
		want, wantErr := dataset.ParseRatings(in, "ratings.csv", "csv", 1)
		if name == "CRLF" && (wantErr != nil || len(want) < 200) {
			t.Fatalf("%s: %d ratings, error %v", name, len(want), wantErr)
		}
		for rname, reader := range readers {
			// len(in): a block ends where the input does, but the reader
			// does not know yet that it ends there.
			for _, bs := range []int{1, 3, 31, 100, 4096, 1 << 20, len(in), len(in) - 1, len(in) - 3} {
				got, err := dataset.ReadRatingsBlocks(reader(in), "ratings.csv", "csv", bs, 0)
				if fmt.Sprint(err) != fmt.Sprint(wantErr) {
					t.Errorf("%s, %s reader, %d-byte blocks: error %v, want %v", name, rname, bs, err, wantErr)
				} else if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s, %s reader, %d-byte blocks: mismatch (-want +got):\n%s", name, rname, bs, diff)
				}
			}
		}
	}
}

// TestReadRatingsBlocksLarge reads the bundled ratings, CSV and u.data, in
// blocks of a few sizes with several workers each.
func TestReadRatingsBlocksLarge(t *testing.T) {
	raw := bundled(t, "ratings.csv")
	want, err := dataset.ParseRatings(raw, "ratings.csv", "csv", 1)
	if err != nil {
		t.Fatal(err)
	}
	udata := bytes.ReplaceAll(raw[bytes.IndexByte(raw, '\n')+1:], []byte(","), []byte("\t"))
	for _, bs := range []int{1000, 65536, 1 << 20} {
		for _, workers := range []int{0, 1, 3} {
			for _, sized := range []bool{true, false} {
				var r, ru io.Reader = bytes.NewReader(raw), bytes.NewReader(udata)
				if !sized {
					r, ru = unsizedReader{r}, unsizedReader{ru}
				}
				got, err := dataset.ReadRatingsBlocks(r, "ratings.csv", "csv", bs, workers)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(want, got) {
					diff := cmp.Diff(want, got)
					t.Errorf("csv, %d-byte blocks, %d workers, sized %v: mismatch (-want +got):\n%s", bs, workers, sized, diff)
				}
				got, err = dataset.ReadRatingsBlocks(ru, "u.data", "udata", bs, workers)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(want, got) {
					diff := cmp.Diff(want, got)
					t.Errorf("u.data, %d-byte blocks, %d workers, sized %v: mismatch (-want +got):\n%s", bs, workers, sized, diff)
				}
			}
		}
	}
}

// TestReadRatingsBlocksErrorLine is TestParallelErrorLine for a reader in
// small blocks: an error names its line in the whole file.
func TestReadRatingsBlocksErrorLine(t *testing.T) {
	raw := bundled(t, "ratings.csv")
	lines := strings.SplitAfter(string(raw), "\n")
	for _, bad := range []int{2, 3, 50000, 77777, 100837} {
		mod := append([]string(nil), lines...)
		mod[bad-1] = "1,2,abc,3\r\n"
		if bad < 90000 {
			mod[90000-1] = "1,2\r\n"
		}
		in := []byte(strings.Join(mod, ""))
		for _, bs := range []int{100, 65536} {
			_, err := dataset.ReadRatingsBlocks(bytes.NewReader(in), "ratings.csv", "csv", bs, 2)
			var pe *dataset.ParseError
			if !errors.As(err, &pe) || pe.Line != bad {
				t.Errorf("line %d, %d-byte blocks: error %v, want a *ParseError on line %d", bad, bs, err, bad)
			}
		}
	}
}

// TestReadRatingsIOError checks that an I/O error of the reader is returned
// as is, wherever in the input it happens.
func TestReadRatingsIOError(t *testing.T) {
	raw := bundled(t, "ratings.csv")
	errBroken := errors.New("broken")
	for _, n := range []int64{0, 10, 100000, int64(len(raw)) - 1} {
		r := io.MultiReader(io.LimitReader(bytes.NewReader(raw), n), iotest.ErrReader(errBroken))
		for _, bs := range []int{64, 1 << 20} {
			if _, err := dataset.ReadRatingsBlocks(r, "ratings.csv", "csv", bs, 0); err != errBroken {
				t.Errorf("error after %d bytes, %d-byte blocks: got %v, want %v", n, bs, err, errBroken)
			}
		}
		r = io.MultiReader(io.LimitReader(bytes.NewReader(raw), n), iotest.ErrReader(errBroken))
		if _, err := dataset.ReadRatingsCSV(r, "ratings.csv"); err != errBroken {
			t.Errorf("ReadRatingsCSV, error after %d bytes: got %v, want %v", n, err, errBroken)
		}
	}
}

// TestQuotedPathEqualsFast checks that the quote-aware parser agrees with
// the fast one on rows without quotes, which the readers parse with the fast
// parser even when a later row has quotes.
func TestQuotedPathEqualsFast(t *testing.T) {
	raw := bundled(t, "ratings.csv")
	want, err := dataset.ParseRatings(raw, "ratings.csv", "csv", 2)
	if err != nil {
		t.Fatal(err)
	}
	got, err := dataset.ParseRatingsQuoted(raw, "ratings.csv")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("quote-aware parse differs (-want +got):\n%s", diff)
	}
}
