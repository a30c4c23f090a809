package engine

import "errors"

// ErrDiskFull marks a write the store refused because its disk (or quota)
// is full. Nothing of the write is stored; the same write succeeds once
// space is freed.
var ErrDiskFull = errors.New("disk full")

// StorageStatus is a store's health, for the readiness probe and the
// metrics. The zero value is a healthy store.
type StorageStatus struct {
	// WriteError is the error of the last write while writes fail for a
	// storage reason (disk full, I/O error, read-only file), "" once a
	// write or the store's recovery probe succeeds.
	WriteError string
	// DiskFull is set while WriteError is a full disk.
	DiskFull bool
	// Unavailable is set while WriteError is a shared store that cannot
	// be reached: reads are still served from memory (the readiness
	// probe says "degraded" rather than "not ready").
	Unavailable bool
	// ModelSaveFailures counts failed model saves since the store opened;
	// LastModelSaveError is the newest one's error.
	ModelSaveFailures  int64
	LastModelSaveError string
}

// Healthy reports whether writes work.
func (s StorageStatus) Healthy() bool { return s.WriteError == "" }
