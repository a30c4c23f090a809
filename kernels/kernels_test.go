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
		".visible .entry " + kernels.CGShared + "(",
		".visible .entry " + kernels.CGGlobal + "(",
		".visible .entry " + kernels.SSE + "(",
		".visible .entry " + kernels.ImplicitShared + "(",
		".visible .entry " + kernels.ImplicitGlobal + "(",
		".visible .entry " + kernels.ImplicitCGShared + "(",
		".visible .entry " + kernels.ImplicitCGGlobal + "(",
		".visible .entry " + kernels.GramPartial + "(",
		".visible .entry " + kernels.GramReduce + "(",
		".visible .entry " + kernels.PreferenceSSE + "(",
		".visible .entry " + kernels.SplitGram + "(",
		".visible .entry " + kernels.SplitGramImplicit + "(",
		".visible .entry " + kernels.SplitSolve + "(",
		".visible .entry " + kernels.SplitSolveImplicit + "(",
		".visible .entry " + kernels.CopyRuns + "(",
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

// TestPTXParams pins each entry's parameter list to the one documented in
// doc.go, which gpu/device.go passes through cuLaunchKernel: package cu
// copies 8 bytes from every argument pointer and the driver takes from each
// as many bytes as the .param is wide, so a parameter that changes width or
// position in als.cu must fail here, not on a GPU.
func TestPTXParams(t *testing.T) {
	solve := []string{"u64", "u64", "u64", "u64", "u32", "u64", "u64", "u64", "u64", "u32", "u32", "f32", "f32", "u32", "u32", "u64", "u64"}
	cg := append(append([]string(nil), solve...), "u32")
	implicit := []string{"u64", "u64", "u64", "u64", "u32", "u64", "u64", "u32", "u64", "f64", "f64", "f64", "f64", "u32", "u32", "u32", "u64", "u64"}
	implicitCG := append(append([]string(nil), implicit...), "u32")
	sse := []string{"u64", "u64", "u64", "u32", "u64", "u64", "u64", "u64", "u32", "f32", "u64"}
	want := map[string][]string{
		kernels.SolveShared:       solve,
		kernels.SolveGlobal:       solve,
		kernels.CGShared:          cg,
		kernels.CGGlobal:          cg,
		kernels.SSE:               sse,
		kernels.ImplicitShared:    implicit,
		kernels.ImplicitGlobal:    implicit,
		kernels.ImplicitCGShared:  implicitCG,
		kernels.ImplicitCGGlobal:  implicitCG,
		kernels.GramPartial:       {"u64", "u32", "u32", "u32", "u32", "u64"},
		kernels.GramReduce:        {"u64", "u32", "u32", "f64", "u64"},
		kernels.PreferenceSSE:     sse,
		kernels.SplitGram:         {"u64", "u64", "u64", "u64", "u32", "u64", "u64", "u32", "u32", "f32", "u32", "u32", "u64"},
		kernels.SplitGramImplicit: {"u64", "u64", "u64", "u64", "u32", "u64", "u32", "f64", "f64", "u32", "u32", "u64"},
		kernels.SplitSolve: {"u64", "u64", "u64", "u32", "u64", "u64", "u64", "u32", "u32", "f32", "u32", "u32", "u64",
			"u64", "u32"},
		kernels.SplitSolveImplicit: {"u64", "u64", "u64", "u32", "u64", "u64", "u32", "u64", "f64", "f64", "f64", "u32",
			"u32", "u32", "u64", "u64", "u32"},
		kernels.CopyRuns: {"u64", "u64", "u64", "u64", "u64", "u32"},
	}
	ptx := kernels.PTX()
	for name, types := range want {
		head := ".visible .entry " + name + "("
		i := strings.Index(ptx, head)
		if i < 0 {
			t.Errorf("PTX() lacks %q", head)
			continue
		}
		rest := ptx[i+len(head):]
		end := strings.Index(rest, ")")
		if end < 0 {
			t.Fatalf("%s: unterminated parameter list", name)
		}
		var got []string
		for _, line := range strings.Split(rest[:end], ",") {
			f := strings.Fields(line)
			if len(f) != 3 || f[0] != ".param" {
				t.Fatalf("%s: unexpected parameter %q", name, strings.TrimSpace(line))
			}
			got = append(got, strings.TrimPrefix(f[1], "."))
		}
		if strings.Join(got, " ") != strings.Join(types, " ") {
			t.Errorf("%s parameters = %v, want %v (doc.go, gpu/device.go)", name, got, types)
		}
	}
}
