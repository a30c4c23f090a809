package sqlite

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"movierec/als"
	"movierec/engine"
)

// TestDiskFull fills a small tmpfs under the database: writes fail with
// engine.ErrDiskFull ("disk full"), Status says so, nothing half-written
// is acknowledged, and once space returns the store recovers by itself
// (its probe) with no client writing. It needs root to mount the tmpfs.
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: mounting a tmpfs to fill needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("skipped: cannot mount a tmpfs (%v: %s)", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	old := probeEvery
	probeEvery = 20 * time.Millisecond
	t.Cleanup(func() { probeEvery = old })

	db := importSmall(t, filepath.Join(dir, "m.db"), 3000)
	defer db.Close()
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	f.Close()

	var werr error
	for i := range 2000 {
		rs := make([]engine.Rating, 200)
		for j := range rs {
			rs[j] = engine.Rating{User: int32(100000 + i*200 + j), Movie: int32(j%3 + 1), Value: 3, Time: int64(j)}
		}
		if werr = db.AddRatings(t.Context(), rs); werr != nil {
			break
		}
	}
	if !errors.Is(werr, engine.ErrDiskFull) || !strings.Contains(werr.Error(), "disk full") {
		t.Fatalf("AddRatings on a full disk = %v, want engine.ErrDiskFull saying \"disk full\"", werr)
	}
	if st := db.StorageStatus(); st.Healthy() || !st.DiskFull {
		t.Errorf("Status() on a full disk = %+v, want unhealthy and DiskFull", st)
	}
	if err := db.SaveModel(t.Context(), tinySnapshot()); err == nil {
		t.Errorf("SaveModel on a full disk = nil, want an error")
	}
	if st := db.StorageStatus(); st.ModelSaveFailures != 1 || st.LastModelSaveError == "" {
		t.Errorf("Status() after a failed save = %+v, want 1 failure with its error", st)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !db.StorageStatus().Healthy() {
		if time.Now().After(deadline) {
			t.Fatalf("Status() 10 s after space returned = %+v, want healthy", db.StorageStatus())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := db.AddRatings(t.Context(), []engine.Rating{{User: 1, Movie: 2, Value: 5, Time: 1}}); err != nil {
		t.Errorf("AddRatings after space returned = %v", err)
	}
}

// tinySnapshot is a model of a quarter million factors (1 MiB).
func tinySnapshot() *engine.Snapshot {
	const users = 1 << 17
	m := &als.Model{Rank: 2, NumUsers: users, NumItems: 1,
		UserFactors: make([]float32, 2*users), ItemFactors: []float32{1, 2}}
	return &engine.Snapshot{Model: m, Params: als.Params{Rank: 2, Iterations: 1, Lambda: 0.1}, DataVersion: 1,
		Backend: "cpu", TrainedAt: time.Unix(1700000000, 0), UserIDs: make([]int32, users), MovieIDs: []int32{1}}
}
