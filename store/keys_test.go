package store

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"movierec/engine"
)

// refApply is ApplyChanges by a map: the plain definition.
func refApply(rs []engine.Rating, ch []engine.Change) []engine.Rating {
	type key struct{ u, m int32 }
	m := make(map[key]engine.Rating, len(rs))
	for _, r := range rs {
		m[key{r.User, r.Movie}] = r
	}
	for _, c := range ch {
		if c.Deleted {
			delete(m, key{c.User, c.Movie})
		} else {
			m[key{c.User, c.Movie}] = c.Rating
		}
	}
	out := slices.Collect(maps.Values(m))
	slices.SortFunc(out, CompareKey)
	return out
}

func TestApplyChanges(t *testing.T) {
	r := func(u, m int32, v float32) engine.Rating {
		return engine.Rating{User: u, Movie: m, Value: v, Time: int64(u*100 + m)}
	}
	set := func(u, m int32, v float32) engine.Change { return engine.Change{Rating: r(u, m, v)} }
	del := func(u, m int32) engine.Change {
		return engine.Change{Rating: engine.Rating{User: u, Movie: m}, Deleted: true}
	}
	base := []engine.Rating{r(1, 1, 1), r(1, 3, 2), r(2, 2, 3), r(4, 1, 4)}
	for _, tc := range []struct {
		name string
		ch   []engine.Change
		want []engine.Rating
	}{
		{"none", nil, base},
		{"rerate in place", []engine.Change{set(1, 3, 5)}, []engine.Rating{r(1, 1, 1), r(1, 3, 5), r(2, 2, 3), r(4, 1, 4)}},
		{"new first, middle, last", []engine.Change{set(5, 1, 1), set(0, 9, 2), set(1, 2, 3)},
			[]engine.Rating{r(0, 9, 2), r(1, 1, 1), r(1, 2, 3), r(1, 3, 2), r(2, 2, 3), r(4, 1, 4), r(5, 1, 1)}},
		{"delete", []engine.Change{del(2, 2)}, []engine.Rating{r(1, 1, 1), r(1, 3, 2), r(4, 1, 4)}},
		{"delete of nothing", []engine.Change{del(3, 3)}, base},
		{"later wins: set then delete", []engine.Change{set(3, 3, 1), del(3, 3)}, base},
		{"later wins: delete then set", []engine.Change{del(1, 1), set(1, 1, 4.5)}, []engine.Rating{r(1, 1, 4.5), r(1, 3, 2), r(2, 2, 3), r(4, 1, 4)}},
		{"later wins: two sets", []engine.Change{set(4, 1, 1), set(4, 1, 2)}, []engine.Rating{r(1, 1, 1), r(1, 3, 2), r(2, 2, 3), r(4, 1, 2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ApplyChanges(slices.Clone(base), slices.Clone(tc.ch))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ApplyChanges (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, refApply(base, tc.ch)); diff != "" {
				t.Errorf("the reference disagrees with the table (-want +got):\n%s", diff)
			}
		})
	}
	// Random logs against the reference.
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		var rs []engine.Rating
		for u := int32(0); u < 20; u++ {
			for m := int32(0); m < 20; m++ {
				if rng.IntN(3) == 0 {
					rs = append(rs, r(u, m, float32(rng.IntN(10))/2))
				}
			}
		}
		ch := make([]engine.Change, rng.IntN(30))
		for i := range ch {
			u, m := int32(rng.IntN(22)), int32(rng.IntN(22))
			if rng.IntN(4) == 0 {
				ch[i] = del(u, m)
			} else {
				ch[i] = set(u, m, float32(rng.IntN(10))/2)
			}
		}
		want := refApply(rs, ch)
		if got := ApplyChanges(slices.Clone(rs), slices.Clone(ch)); !slices.Equal(got, want) {
			t.Fatalf("trial %d: ApplyChanges differs from the reference:\n%s", trial, cmp.Diff(want, got))
		}
	}
}

func TestLastOfEachKey(t *testing.T) {
	r := func(u, m int32, v float32) engine.Rating { return engine.Rating{User: u, Movie: m, Value: v} }
	for _, tc := range []struct {
		name     string
		in, want []engine.Rating
	}{
		{"empty", nil, nil},
		{"sorted", []engine.Rating{r(1, 1, 1), r(1, 2, 2), r(2, 1, 3)}, []engine.Rating{r(1, 1, 1), r(1, 2, 2), r(2, 1, 3)}},
		{"unsorted", []engine.Rating{r(2, 1, 3), r(1, 2, 2), r(1, 1, 1)}, []engine.Rating{r(1, 1, 1), r(1, 2, 2), r(2, 1, 3)}},
		{"the last of a pair wins", []engine.Rating{r(1, 1, 1), r(2, 1, 3), r(1, 1, 5), r(1, 1, 4)}, []engine.Rating{r(1, 1, 4), r(2, 1, 3)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.in)
			got := LastOfEachKey(in)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("LastOfEachKey (-want +got):\n%s", diff)
			}
			if !slices.Equal(in, tc.in) {
				t.Errorf("the input was modified: %v", in)
			}
			if !SortedByKey(got) {
				t.Errorf("not sorted by key: %v", got)
			}
		})
	}
}
