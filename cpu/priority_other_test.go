//go:build !linux

package cpu

func gettid() int { return 0 }

func threadNice(int) (int, error) { return 0, nil }
