package engine

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestTopNMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 5, 10, 100, 1000} {
		var all []cand
		top := topN{n: n}
		for i := range 700 {
			c := cand{score: float32(rng.IntN(50)), id: int32(rng.IntN(100000)), ix: int32(i)}
			all = append(all, c)
			top.push(c)
		}
		slices.SortFunc(all, func(a, b cand) int {
			switch {
			case worse(a, b):
				return 1
			case worse(b, a):
				return -1
			}
			return 0
		})
		want := all[:min(n, len(all))]
		got := top.sorted()
		if len(got) != len(want) {
			t.Fatalf("topN(%d) kept %d, want %d", n, len(got), len(want))
		}
		for i := range want {
			if got[i].score != want[i].score || got[i].id != want[i].id {
				t.Fatalf("topN(%d)[%d] = %+v, want %+v", n, i, got[i], want[i])
			}
		}
	}
}
