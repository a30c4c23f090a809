package dataset

import (
	"testing"
	"time"
)

// TestDates checks parseDate and appendDate against package time on every
// day from 1970 to 2150 (past the table of month starts).
func TestDates(t *testing.T) {
	for ts := int64(0); ts < time.Date(2150, 1, 1, 0, 0, 0, 0, time.UTC).Unix(); ts += 86400 {
		want := time.Unix(ts, 0).UTC().Format(time.DateOnly)
		if got := string(appendDate(nil, ts+3600)); got != want {
			t.Fatalf("appendDate(%d) = %s, want %s", ts, got, want)
		}
		if got, ok := parseDate([]byte(want)); !ok || got != ts {
			t.Fatalf("parseDate(%s) = %d, %v, want %d", want, got, ok, ts)
		}
	}
	for _, bad := range []string{"1969-12-31", "2001-02-29", "2000-13-01", "2000-00-10", "2000-01-00", "2000-1-01", "20000-01-01", "2000/01/01", "2x00-01-01"} {
		if _, ok := parseDate([]byte(bad)); ok {
			t.Errorf("parseDate(%s) accepted", bad)
		}
	}
	if n := testing.AllocsPerRun(100, func() { parseDate([]byte("2005-09-06")) }); n != 0 {
		t.Errorf("parseDate allocates %v times", n)
	}
}
