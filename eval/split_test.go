package eval_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"movierec/engine"
	"movierec/eval"
)

func TestSplitByTime(t *testing.T) {
	at := func(u, m int32, time int64) engine.Rating {
		return engine.Rating{User: u, Movie: m, Value: 4, Time: time}
	}
	rs := []engine.Rating{
		// User 1: 10 ratings; the latest two (times 90 and 100) are held out.
		at(1, 1, 100), at(1, 2, 10), at(1, 3, 20), at(1, 4, 30), at(1, 5, 40),
		at(1, 6, 50), at(1, 7, 60), at(1, 8, 70), at(1, 9, 80), at(1, 10, 90),
		// User 2: 5 ratings at one time: round(1) = 1 held out, the
		// highest movie id.
		at(2, 30, 7), at(2, 50, 7), at(2, 10, 7), at(2, 40, 7), at(2, 20, 7),
		// User 3: one rating, kept for training (round(0.2) = 0).
		at(3, 1, 5),
		// User 4: 3 ratings, round(0.6) = 1: the latest.
		at(4, 1, 3), at(4, 2, 2), at(4, 3, 1),
	}
	input := slices.Clone(rs)
	train, test := eval.SplitByTime(rs, 0.2)
	wantTest := []engine.Rating{at(1, 1, 100), at(1, 10, 90), at(2, 50, 7), at(4, 1, 3)}
	if diff := cmp.Diff(wantTest, test); diff != "" {
		t.Errorf("test (-want +got):\n%s", diff)
	}
	if len(train)+len(test) != len(rs) {
		t.Errorf("%d train + %d test ratings, want %d", len(train), len(test), len(rs))
	}
	for _, r := range wantTest {
		if slices.Contains(train, r) {
			t.Errorf("%+v in both parts", r)
		}
	}
	if !slices.IsSortedFunc(train, func(a, b engine.Rating) int { return slices.Index(input, a) - slices.Index(input, b) }) {
		t.Errorf("train lost the input order: %v", train)
	}
	if diff := cmp.Diff(input, rs); diff != "" {
		t.Errorf("SplitByTime modified its input (-before +after):\n%s", diff)
	}

	// The split does not depend on the input order.
	rev := slices.Clone(input)
	slices.Reverse(rev)
	_, test2 := eval.SplitByTime(rev, 0.2)
	slices.Reverse(test2)
	sortR := func(a, b engine.Rating) int {
		if a.User != b.User {
			return int(a.User - b.User)
		}
		return int(a.Movie - b.Movie)
	}
	slices.SortFunc(test2, sortR)
	want := slices.Clone(wantTest)
	slices.SortFunc(want, sortR)
	if diff := cmp.Diff(want, test2); diff != "" {
		t.Errorf("reversed input: test (-want +got):\n%s", diff)
	}

	// Every user keeps at least one training rating.
	_, all := eval.SplitByTime(input, 1)
	if len(all) != len(input)-4 {
		t.Errorf("fraction 1 held out %d ratings, want all but one per user (%d)", len(all), len(input)-4)
	}
}

func TestSplitByTimeFraction(t *testing.T) {
	rs := ratings(5000) // 37 users, increasing times
	train, test := eval.SplitByTime(rs, 0.2)
	if n := len(test); n < 950 || n > 1050 {
		t.Errorf("held out %d of 5000, want about 1000", n)
	}
	// Each user's test ratings are later than each of their training ones.
	last := map[int32]int64{}
	for _, r := range train {
		last[r.User] = max(last[r.User], r.Time)
	}
	for _, r := range test {
		if r.Time <= last[r.User] {
			t.Errorf("test rating %+v is not after the user's latest training rating (%d)", r, last[r.User])
		}
	}
}
