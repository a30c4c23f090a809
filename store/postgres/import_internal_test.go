package postgres

import (
	"slices"
	"strings"
	"testing"

	"movierec/engine"
)

func TestKeySortSettings(t *testing.T) {
	for _, tc := range []struct {
		rows, parts int
		want        []string
	}{
		{1000, 1, []string{"SET LOCAL maintenance_work_mem = '65536kB'", "SET LOCAL max_parallel_maintenance_workers = 0"}},
		{1000, 4, []string{"SET LOCAL maintenance_work_mem = '65536kB'", "SET LOCAL max_parallel_maintenance_workers = 0"}},
		{25_000_095, 1, []string{"SET LOCAL maintenance_work_mem = '1953132kB'", "SET LOCAL max_parallel_maintenance_workers = 0"}},
		{6_250_024, 4, []string{"SET LOCAL maintenance_work_mem = '488283kB'", "SET LOCAL max_parallel_maintenance_workers = 0"}},
		{26_843_545, 1, []string{"SET LOCAL maintenance_work_mem = '2097151kB'", "SET LOCAL max_parallel_maintenance_workers = 0"}},
		{26_843_546, 1, []string{"SET LOCAL maintenance_work_mem = '1024MB'"}},
		{6_710_887, 4, []string{"SET LOCAL maintenance_work_mem = '256MB'"}}, // over a quarter of 2 GiB
		{100_480_507, 1, []string{"SET LOCAL maintenance_work_mem = '1024MB'"}},
		{25_120_127, 4, []string{"SET LOCAL maintenance_work_mem = '256MB'"}},
	} {
		if got := keySortSettings(tc.rows, tc.parts); !slices.Equal(got, tc.want) {
			t.Errorf("keySortSettings(%d, %d) = %q, want %q", tc.rows, tc.parts, got, tc.want)
		}
	}
}

// TestEncodersSplitByUser checks that a staged import's parts hold whole
// users, in key order, about as many ratings each, and that their bounds
// cover every user once.
func TestEncodersSplitByUser(t *testing.T) {
	defer func(old int) { minStagedImport = old }(minStagedImport)
	minStagedImport = 4
	// Users 1..9 with i ratings each, and one heavy user.
	var rs []engine.Rating
	for u := int32(1); u <= 9; u++ {
		for m := range u {
			rs = append(rs, engine.Rating{User: u, Movie: m})
		}
	}
	for m := range int32(40) {
		rs = append(rs, engine.Rating{User: 100, Movie: m})
	}
	for _, tc := range []struct {
		n     int
		users [][]int32 // each part's users
	}{
		{1, [][]int32{{1, 2, 3, 4, 5, 6, 7, 8, 9, 100}}},
		{2, [][]int32{{1, 2, 3, 4, 5, 6, 7, 8, 9}, {100}}},
		{3, [][]int32{{1, 2, 3, 4, 5, 6, 7}, {8, 9, 100}}}, // a third ends in user 7; the heavy user is the rest
		{4, [][]int32{{1, 2, 3, 4, 5, 6}, {7, 8, 9}, {100}}},
		{100, nil}, // capped by minStagedImport/2 = 2 ratings a part: checked for bounds only
	} {
		encs := encoders(rs, tc.n)
		var got [][]int32
		var all []engine.Rating
		for i, e := range encs {
			var users []int32
			for j, r := range e.rs {
				if j == 0 || r.User != e.rs[j-1].User {
					users = append(users, r.User)
				}
			}
			got = append(got, users)
			all = append(all, e.rs...)
			if i > 0 && e.rs[0].User == encs[i-1].rs[len(encs[i-1].rs)-1].User {
				t.Errorf("encoders(%d): user %d split across parts %d and %d", tc.n, e.rs[0].User, i-1, i)
			}
			bound, check := partBounds(encs, i)
			if len(encs) == 1 && (bound != "FOR VALUES FROM (MINVALUE) TO (MAXVALUE)" || check != "") {
				t.Errorf("encoders(%d): one part's bound %q, check %q", tc.n, bound, check)
			}
			if i == 0 && len(encs) > 1 && !strings.HasPrefix(bound, "FOR VALUES FROM (MINVALUE) TO (") {
				t.Errorf("encoders(%d): first bound %q", tc.n, bound)
			}
			if i == len(encs)-1 && len(encs) > 1 && (!strings.HasSuffix(bound, "TO (MAXVALUE)") || !strings.HasPrefix(check, "user_id >= ") || strings.Contains(check, "<")) {
				t.Errorf("encoders(%d): last bound %q, check %q", tc.n, bound, check)
			}
		}
		if !slices.Equal(all, rs) {
			t.Errorf("encoders(%d): the parts are not rs in order", tc.n)
		}
		if tc.users != nil && !slices.EqualFunc(got, tc.users, slices.Equal) {
			t.Errorf("encoders(%d) users = %v, want %v", tc.n, got, tc.users)
		}
	}
	if got := encoders(nil, 4); len(got) != 1 || len(got[0].rs) != 0 {
		t.Errorf("encoders(nil, 4) = %d parts", len(got))
	}
}

// TestSplitPages checks the division of partitions' pages among
// connections: every page read once, in order, about evenly.
func TestSplitPages(t *testing.T) {
	parts := []partition{{name: "a", pages: 10}, {name: "b", pages: 0}, {name: "c", pages: 5}, {name: "d", pages: 1}}
	for _, tc := range []struct {
		n    int
		want [][]piece
	}{
		{1, [][]piece{{{"a", 0, 0}, {"c", 0, 0}, {"d", 0, 0}}}},
		{2, [][]piece{{{"a", 0, 8}}, {{"a", 8, 0}, {"c", 0, 0}, {"d", 0, 0}}}},
		{4, [][]piece{{{"a", 0, 4}}, {{"a", 4, 8}}, {{"a", 8, 0}, {"c", 0, 2}}, {{"c", 2, 0}, {"d", 0, 0}}}},
	} {
		if got := splitPages(parts, tc.n); !slices.EqualFunc(got, tc.want, slices.Equal) {
			t.Errorf("splitPages(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
	if got := splitPages(nil, 1); len(got) != 1 || len(got[0]) != 0 {
		t.Errorf("splitPages(nil, 1) = %v, want one empty part", got)
	}
}
