package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeviceCheckDryRun runs scripts/cuda/device-check.sh's dry run: every
// step's command line, against this worker built without the cuda tag and
// stand-ins for nvidia-smi and compute-sanitizer, so that the script the
// first GPU session runs cannot rot. -short skips it (it builds three
// binaries).
func TestDeviceCheckDryRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gpu.test, movierec and movierec-cuda")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	out := t.TempDir()
	cmd := exec.CommandContext(t.Context(), "bash", "../../scripts/cuda/device-check.sh", "dry-run", out)
	cmd.Env = append(os.Environ(), "RUN_BUDGET=300", "TMPDIR="+t.TempDir())
	log, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("device-check.sh dry-run: %v\n%s", err, log)
	}
	summary, err := os.ReadFile(filepath.Join(out, "summary.txt"))
	if err != nil {
		t.Fatalf("no summary.txt: %v", err)
	}
	for _, name := range []string{"0-env", "1-smoke", "2-memcheck", "2-memcheck-split", "2-racecheck", "2-synccheck", "3-ranks", "4-suite", "4b-split", "5-bench", "6-service"} {
		if !strings.Contains(string(summary), "== "+name+" (timeout") {
			t.Errorf("summary.txt lacks step %s:\n%s", name, summary)
		}
		if _, err := os.Stat(filepath.Join(out, name+".log")); err != nil {
			t.Errorf("step %s wrote no log: %v", name, err)
		}
	}
	if strings.Contains(string(summary), "FAILED") || strings.Contains(string(summary), "TIMEOUT") ||
		!strings.Contains(string(summary), "status 0") {
		t.Errorf("dry run did not pass every step:\n%s", summary)
	}
	service, _ := os.ReadFile(filepath.Join(out, "6-service.log"))
	if !strings.Contains(string(service), "| cuda | cpu (no cuda tag) |") {
		t.Errorf("6-service.log lacks the worker's row:\n%s", service)
	}
}
