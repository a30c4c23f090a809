//go:build !unix

package eval_test

import "time"

// cpuTime returns 0: CPU time is only measured on Unix.
func cpuTime() time.Duration { return 0 }
