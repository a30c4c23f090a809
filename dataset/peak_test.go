package dataset_test

import (
	"bytes"
	"os"
	"testing"
	"time"

	"movierec/dataset"
)

// TestPeakLoad loads the data set in $DATASET_PEAK_DIR (e.g. a MovieLens 25M
// directory) with LoadDir and logs the rows per second and the peak RSS
// (VmHWM) of the process. It is skipped unless the variable is set; run it
// alone in a fresh process:
//
//	DATASET_PEAK_DIR=/tmp/ml25m go test -run TestPeakLoad -v ./dataset
func TestPeakLoad(t *testing.T) {
	dir := os.Getenv("DATASET_PEAK_DIR")
	if dir == "" {
		t.Skip("DATASET_PEAK_DIR not set")
	}
	t.Logf("before: %s", vmHWM(t))
	start := time.Now()
	d, err := dataset.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	t.Logf("LoadDir(%s): %d ratings (cap %d), %d movies in %v: %.1f M rows/s; %s",
		dir, len(d.Ratings), cap(d.Ratings), len(d.Movies), el.Round(time.Millisecond),
		float64(len(d.Ratings))/el.Seconds()/1e6, vmHWM(t))
}

// vmHWM returns the VmHWM line of /proc/self/status.
func vmHWM(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip(err)
	}
	for line := range bytes.Lines(b) {
		if bytes.HasPrefix(line, []byte("VmHWM:")) {
			return string(bytes.Join(bytes.Fields(line), []byte(" ")))
		}
	}
	return "VmHWM unknown"
}
