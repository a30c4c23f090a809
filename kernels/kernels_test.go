package kernels_test

import (
	"strings"
	"testing"

	"movierec/kernels"
)

func TestPTX(t *testing.T) {
	ptx := kernels.PTX()
	for _, want := range []string{
		".target sm_80",
		".address_size 64",
		".visible .entry " + kernels.SolveShared + "(",
		".visible .entry " + kernels.SolveGlobal + "(",
		".visible .entry " + kernels.SSE + "(",
	} {
		if !strings.Contains(ptx, want) {
			t.Errorf("PTX() lacks %q", want)
		}
	}
	// No file paths: the PTX must be the same on every machine that makes it.
	if strings.Contains(ptx, ".file") || strings.Contains(ptx, "/home/") || strings.Contains(ptx, "/root/") {
		t.Errorf("PTX() carries file paths; generate it without -lineinfo/-G")
	}
}
