package gpu_test

import (
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"movierec/als"
	"movierec/als/alstest"
	"movierec/gpu"
)

// triples returns r's ratings as coordinate lists in by-user order.
func triples(r *als.Ratings) (us, is []int32, vs []float32) {
	for u := 0; u < r.NumUsers; u++ {
		for p := r.UserPtr[u]; p < r.UserPtr[u+1]; p++ {
			us, is, vs = append(us, int32(u)), append(is, r.UserIdx[p]), append(vs, r.UserVal[p])
		}
	}
	return us, is, vs
}

// mutate returns r with n random changes (replaced values, deletions, new
// ratings) and addUsers and addItems more rows, built from scratch by
// als.NewRatings as the engine would.
func mutate(r *als.Ratings, n, addUsers, addItems int, seed uint64) *als.Ratings {
	rng := rand.New(rand.NewPCG(seed, 1))
	us, is, vs := triples(r)
	users, items := r.NumUsers+addUsers, r.NumItems+addItems
	have := map[[2]int32]int{}
	for k := range us {
		have[[2]int32{us[k], is[k]}] = k
	}
	deleted := map[int]bool{}
	for range n {
		switch rng.IntN(3) {
		case 0: // replace
			k := rng.IntN(len(us))
			vs[k] = float32(1+rng.IntN(9)) / 2
		case 1: // delete
			deleted[rng.IntN(len(us))] = true
		default: // add
			key := [2]int32{int32(rng.IntN(users)), int32(rng.IntN(items))}
			if _, ok := have[key]; !ok {
				have[key] = len(us)
				us, is, vs = append(us, key[0]), append(is, key[1]), append(vs, float32(1+rng.IntN(9))/2)
			}
		}
	}
	var ku, ki []int32
	var kv []float32
	for k := range us {
		if !deleted[k] {
			ku, ki, kv = append(ku, us[k]), append(ki, is[k]), append(kv, vs[k])
		}
	}
	return als.NewRatings(users, items, ku, ki, kv)
}

func TestDeltaApplyRebuildsExactly(t *testing.T) {
	base, _ := alstest.Synthetic(300, 120, 5000, 2, 0.3, 7)
	for _, tc := range []struct {
		name               string
		n, addUsers, addIt int
	}{
		{"none", 0, 0, 0},
		{"few", 20, 0, 0},
		{"many", 800, 0, 0},
		{"new rows", 50, 7, 3},
		{"new empty rows", 0, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur := mutate(base, tc.n, tc.addUsers, tc.addIt, uint64(tc.n+1))
			var d gpu.Delta
			if !d.Diff(base, cur, cur.NNZ()) {
				t.Fatal("Diff() = false")
			}
			got, err := d.Apply(base)
			if err != nil {
				t.Fatalf("Apply() = %v", err)
			}
			if diff := cmp.Diff(cur, got); diff != "" {
				t.Errorf("Apply(Diff(base, cur)) differs from cur (-want +got):\n%s", diff)
			}
			// Merged into a spare (a worker's previous version), then
			// chained: the results are the same and the base is intact.
			keep := mutate(base, 0, 0, 0, 1)
			spare := mutate(base, 30, 0, 0, 99)
			got2, err := d.ApplyTo(spare, base)
			if err != nil {
				t.Fatalf("ApplyTo() = %v", err)
			}
			if diff := cmp.Diff(cur, got2); diff != "" {
				t.Errorf("ApplyTo(spare, base) differs from cur (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(keep, base); diff != "" {
				t.Errorf("ApplyTo changed its base:\n%s", diff)
			}
			third := mutate(cur, 40, 1, 1, 7)
			var d2 gpu.Delta
			if !d2.Diff(cur, third, third.NNZ()) {
				t.Fatal("Diff() = false")
			}
			got3, err := d2.ApplyTo(keep, got2) // a copy of base is now the spare
			if err != nil {
				t.Fatalf("chained ApplyTo() = %v", err)
			}
			if diff := cmp.Diff(third, got3); diff != "" {
				t.Errorf("chained ApplyTo differs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeltaDiffRefuses(t *testing.T) {
	base, _ := alstest.Synthetic(50, 40, 600, 2, 0.3, 8)
	var d gpu.Delta
	smaller := als.NewRatings(49, 40, nil, nil, nil)
	if d.Diff(base, smaller, 1<<30) {
		t.Error("Diff() to fewer users = true, want false")
	}
	if d.Diff(base, mutate(base, 200, 0, 0, 3), 10) {
		t.Error("Diff() beyond its limit = true, want false")
	}
}

func TestDeltaApplyRejects(t *testing.T) {
	base := als.NewRatings(3, 3, []int32{0, 1}, []int32{1, 2}, []float32{3, 4})
	for name, d := range map[string]gpu.Delta{
		"shrinks":        {NumUsers: 2, NumItems: 3},
		"out of range":   {NumUsers: 3, NumItems: 3, SetUser: []int32{0}, SetItem: []int32{3}, SetVal: []float32{1}},
		"out of order":   {NumUsers: 3, NumItems: 3, SetUser: []int32{1, 0}, SetItem: []int32{0, 0}, SetVal: []float32{1, 1}},
		"delete missing": {NumUsers: 3, NumItems: 3, DelUser: []int32{0}, DelItem: []int32{2}},
		"ragged":         {NumUsers: 3, NumItems: 3, SetUser: []int32{0}, SetItem: []int32{0}},
	} {
		if _, err := d.Apply(base); err == nil {
			t.Errorf("%s: Apply() = nil error", name)
		}
	}
}

// TestClientSendsDeltas is issue 13's acceptance test for resident data:
// a retrain after a POST-sized change sends a small fraction of a full
// upload (counted on the worker's stdin), and its model equals, bit for
// bit, the model of a full upload; a version gap and a worker restart each
// cost one full upload.
func TestClientSendsDeltas(t *testing.T) {
	base, _ := alstest.Synthetic(2000, 500, 60_000, 2, 0.3, 9)
	p := als.Params{Rank: 4, Iterations: 2, Lambda: 0.1, Seed: 3}
	c := start(t)
	fit := func(r *als.Ratings) (*als.Model, uint64) {
		t.Helper()
		before := c.SentBytes()
		var m als.Model
		if err := c.Fit(t.Context(), &m, r, p, nil); err != nil {
			t.Fatalf("Fit() = %v", err)
		}
		return &m, c.SentBytes() - before
	}
	_, full := fit(base)
	next := mutate(base, 3, 1, 0, 42) // one POST: a few ratings, a new user
	got, delta := fit(next)
	if c.DeltaJobs() != 1 {
		t.Errorf("DeltaJobs() = %d, want 1", c.DeltaJobs())
	}
	if delta*100 > full {
		t.Errorf("retrain after a small change sent %d bytes, want under 1%% of the full upload's %d", delta, full)
	}
	t.Logf("full upload %d bytes, delta %d bytes", full, delta)

	fresh := start(t)
	var want als.Model
	if err := fresh.Fit(t.Context(), &want, next, p, nil); err != nil {
		t.Fatalf("fresh Fit() = %v", err)
	}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("model after a delta differs from the model after a full upload (-full +delta):\n%s", diff)
	}

	// Unchanged data: only the job's header goes out.
	if _, n := fit(next); n > 512 {
		t.Errorf("retrain of unchanged data sent %d bytes", n)
	}

	// Version gap: the worker answers CodeStaleData and the client resends.
	gpu.SkewHeldVersion(t, c)
	third := mutate(next, 5, 0, 1, 43)
	m3, n := fit(third)
	if n < full {
		t.Errorf("retrain after a version gap sent %d bytes, want a full upload (≥ %d)", n, full)
	}
	var want3 als.Model
	if err := fresh.Fit(t.Context(), &want3, third, p, nil); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m3.UserFactors, want3.UserFactors) || !slices.Equal(m3.ItemFactors, want3.ItemFactors) {
		t.Error("model after a resend differs from the full upload's")
	}
	if _, n := fit(mutate(third, 2, 0, 0, 44)); n*100 > full {
		t.Errorf("retrain after the resend sent %d bytes, want a delta", n)
	}

	// Worker restart: the new worker holds nothing, so the client sends all.
	exited := gpu.WorkerExited(t, c)
	if err := syscall.Kill(gpu.WorkerPID(t, c), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	if _, n := fit(mutate(third, 2, 0, 0, 45)); n < full {
		t.Errorf("retrain on a restarted worker sent %d bytes, want a full upload (≥ %d)", n, full)
	}
}

// TestPatchReplaysDelta checks that a device holding a version can become
// the next by replaying the Patch ApplyPatch records: every entry written
// exactly once, and the arrays equal to the result's, for the same kinds of
// change as TestDeltaApplyRebuildsExactly, chained over several versions
// (each replay's arrays the next one's base, as on a device), and that the
// upload is a small part of a full one.
func TestPatchReplaysDelta(t *testing.T) {
	base, _ := alstest.Synthetic(300, 120, 5000, 2, 0.3, 7)
	held := func(r *als.Ratings) (gpu.ReplayedCSR, gpu.ReplayedCSR) {
		return gpu.ReplayedCSR{Idx: r.UserIdx, Val: r.UserVal}, gpu.ReplayedCSR{Idx: r.ItemIdx, Val: r.ItemVal}
	}
	hu, hi := held(base)
	cur := base
	var spare *als.Ratings
	var pt gpu.Patch // reused across versions, as a worker does
	for step, tc := range []struct {
		n, addUsers, addIt int
	}{{0, 0, 0}, {3, 0, 0}, {20, 0, 0}, {800, 0, 0}, {50, 7, 3}, {0, 2, 2}, {1, 0, 0}} {
		next := mutate(cur, tc.n, tc.addUsers, tc.addIt, uint64(step+11))
		var d gpu.Delta
		if !d.Diff(cur, next, next.NNZ()) {
			t.Fatal("Diff() = false")
		}
		got, err := d.ApplyPatch(spare, cur, &pt)
		if err != nil {
			t.Fatalf("step %d: ApplyPatch() = %v", step, err)
		}
		if diff := cmp.Diff(next, got); diff != "" {
			t.Fatalf("step %d: ApplyPatch differs from the next version (-want +got):\n%s", step, diff)
		}
		if pt.Base != cur || pt.Result != got {
			t.Fatalf("step %d: patch names base %p → result %p, want %p → %p", step, pt.Base, pt.Result, cur, got)
		}
		ru, ri := gpu.ReplayPatch(t, &pt, hu, hi)
		for _, c := range []struct {
			name string
			got  gpu.ReplayedCSR
			idx  []int32
			val  []float32
		}{{"users", ru, got.UserIdx, got.UserVal}, {"items", ri, got.ItemIdx, got.ItemVal}} {
			for e, w := range c.got.Writes {
				if w != 1 {
					t.Fatalf("step %d (%d changes): %s entry %d written %d times, want once", step, tc.n, c.name, e, w)
				}
			}
			if !slices.Equal(c.got.Idx, c.idx) || !slices.Equal(c.got.Val, c.val) {
				t.Fatalf("step %d (%d changes): replayed %s arrays differ from the result's", step, tc.n, c.name)
			}
		}
		full := 16*int64(got.NNZ()) + 8*int64(len(got.UserPtr)+len(got.ItemPtr))
		if up := gpu.PatchUploadBytes(&pt); tc.n <= 20 && tc.addUsers == 0 && up > full/4 {
			t.Errorf("step %d: a patch of %d changes uploads %d bytes, a full upload %d", step, tc.n, up, full)
		}
		// The device now holds the replayed arrays; the worker's spare
		// is the version before.
		hu, hi = ru, ri
		spare, cur = cur, got
	}
}
