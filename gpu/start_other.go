//go:build !linux

package gpu

import "os/exec"

// startNiced starts cmd; lowering a child's priority is implemented on
// Linux only.
func startNiced(cmd *exec.Cmd, nice int) error { return cmd.Start() }
