package dataset_test

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"testing"

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
