//go:build cuda

package gpu_test

import (
	"context"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"movierec/als"
	"movierec/als/alstest"
	"movierec/gpu"
)

// TestResidentRatings checks that a Device keeps the ratings between Fits:
// a first Fit sends them in full; a Fit on ratings built from them by a
// Delta, announced by Patched, patches them on the device (the held arrays
// downloaded equal the new version's, and the model equals a fresh
// device's on the same data, bit for bit); a Fit on the same ratings again
// sends nothing; unrelated ratings, or a Patch from a version it does not
// hold, are sent in full.
func TestResidentRatings(t *testing.T) {
	ctx := context.Background()
	d := newDevice(t)
	defer d.Close()
	p := als.Params{Rank: 16, Iterations: 3, Lambda: 0.1, Seed: 3, Bias: true}
	base, _ := alstest.Synthetic(400, 150, 9000, 3, 0.3, 21)
	upload := func(want string) int64 {
		t.Helper()
		mode, sent := gpu.LastUpload(d)
		if mode != want {
			t.Fatalf("upload mode %q, want %q", mode, want)
		}
		return sent
	}
	held := func(want *als.Ratings) {
		t.Helper()
		got, err := gpu.HeldRatings(d)
		if err != nil {
			t.Fatalf("HeldRatings() = %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("ratings held on the device differ (-want +got):\n%s", diff)
		}
	}
	var m als.Model
	if err := d.Fit(ctx, &m, base, p, nil); err != nil {
		t.Fatal(err)
	}
	full := upload("full")
	held(base)

	cur := base
	var spare *als.Ratings
	var pt gpu.Patch
	for step, n := range []int{3, 40, 600} {
		next := mutate(cur, n, 1, 0, uint64(step+5))
		var delta gpu.Delta
		if !delta.Diff(cur, next, next.NNZ()) {
			t.Fatal("Diff() = false")
		}
		r, err := delta.ApplyPatch(spare, cur, &pt)
		if err != nil {
			t.Fatal(err)
		}
		d.Patched(&pt)
		var got als.Model
		if err := d.Fit(ctx, &got, r, p, nil); err != nil {
			t.Fatal(err)
		}
		if sent := upload("patch"); n <= 40 && sent > full/4 {
			t.Errorf("a patch of %d changes sent %d bytes; a full upload %d", n, sent, full)
		}
		held(r)
		fresh := newDevice(t)
		var want als.Model
		err = fresh.Fit(ctx, &want, r, p, nil)
		fresh.Close()
		if err != nil {
			t.Fatal(err)
		}
		for k := range want.ItemFactors {
			if math.Float32bits(want.ItemFactors[k]) != math.Float32bits(got.ItemFactors[k]) {
				t.Fatalf("step %d: item factor %d = %v after a patch, %v on a fresh device", step, k, got.ItemFactors[k], want.ItemFactors[k])
			}
		}
		spare, cur = cur, r
	}
	if err := d.Fit(ctx, &m, cur, p, nil); err != nil {
		t.Fatal(err)
	}
	if sent := upload("held"); sent != 0 {
		t.Errorf("a Fit on the held ratings sent %d bytes", sent)
	}
	// A Patch whose base is not what the device holds is ignored.
	other, _ := alstest.Synthetic(300, 100, 5000, 3, 0.3, 22)
	next := mutate(other, 5, 0, 0, 9)
	var delta gpu.Delta
	if !delta.Diff(other, next, next.NNZ()) {
		t.Fatal("Diff() = false")
	}
	r, err := delta.ApplyPatch(nil, other, &pt)
	if err != nil {
		t.Fatal(err)
	}
	d.Patched(&pt)
	if err := d.Fit(ctx, &m, r, p, nil); err != nil {
		t.Fatal(err)
	}
	upload("full")
	held(r)
}
