//go:build linux

package cpu

import "golang.org/x/sys/unix"

func gettid() int { return unix.Gettid() }
