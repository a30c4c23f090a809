package sqlite

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"time"

	sqlite "modernc.org/sqlite"

	"movierec/engine"
)

// health tracks whether writes work, for StorageStatus. A write that fails for a
// storage reason (full disk, I/O error, read-only file) marks the store
// unhealthy; the next write that succeeds, or the recovery probe the
// store then runs every probeEvery, marks it healthy again.
type health struct {
	mu           sync.Mutex
	writeErr     string
	diskFull     bool
	probing      bool
	saveFailures int64
	lastSaveErr  string
}

// probeEvery is how often an unhealthy store tries a small write.
var probeEvery = time.Second

// SQLite's primary result codes that say the storage, not the data, failed.
const (
	sqliteReadOnly = 8
	sqliteIOErr    = 10
	sqliteCorrupt  = 11
	sqliteFull     = 13
)

// sqliteCode returns the primary SQLite result code in err's chain, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() & 0xff
	}
	return 0
}

// isDiskFull reports whether err says the disk is full.
func isDiskFull(err error) bool {
	return err != nil && (sqliteCode(err) == sqliteFull || errors.Is(err, syscall.ENOSPC) ||
		strings.Contains(err.Error(), "disk is full"))
}

// isStorageErr reports whether err is a failure of the storage itself.
func isStorageErr(err error) bool {
	switch sqliteCode(err) {
	case sqliteReadOnly, sqliteIOErr, sqliteCorrupt, sqliteFull:
		return true
	}
	return isDiskFull(err)
}

// noteWrite records the outcome of a write (for StorageStatus) and returns err, wrapped in
// engine.ErrDiskFull when the disk is full.
func (d *DB) noteWrite(err error) error {
	d.health.mu.Lock()
	defer d.health.mu.Unlock()
	switch {
	case err == nil:
		if d.health.writeErr != "" {
			d.log.Info("writes work again")
		}
		d.health.writeErr, d.health.diskFull = "", false
		return nil
	case !isStorageErr(err):
		return err
	}
	full := isDiskFull(err)
	if full {
		err = fmt.Errorf("%w: %s: %w", engine.ErrDiskFull, d.path, err)
	}
	if d.health.writeErr == "" {
		d.log.Error("writes fail; the service is not ready until they work again", "err", err)
	}
	d.health.writeErr, d.health.diskFull = err.Error(), full
	if !d.health.probing {
		d.health.probing = true
		go d.probe()
	}
	return err
}

// probe tries a small write every probeEvery until one succeeds or the
// store closes, so the store recovers with no client writing.
func (d *DB) probe() {
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	for {
		select {
		case <-d.quit:
			return
		case <-t.C:
		}
		req := &writeReq{probe: true, done: make(chan error, 1)}
		d.closeMu.RLock()
		if d.closed {
			d.closeMu.RUnlock()
			return
		}
		select {
		case d.writes <- req:
		default: // the queue is full: real writes will tell
			req = nil
		}
		d.closeMu.RUnlock()
		if req != nil {
			<-req.done
		}
		d.health.mu.Lock()
		ok := d.health.writeErr == ""
		if ok {
			d.health.probing = false
		}
		d.health.mu.Unlock()
		if ok {
			return
		}
	}
}

// noteSave records a model save's outcome.
func (d *DB) noteSave(err error) error {
	if err == nil {
		return d.noteWrite(nil)
	}
	err = d.noteWrite(err)
	d.health.mu.Lock()
	d.health.saveFailures++
	d.health.lastSaveErr = err.Error()
	d.health.mu.Unlock()
	return err
}

// StorageStatus reports whether writes work and how many model saves failed. It
// is safe for concurrent use and does no I/O.
func (d *DB) StorageStatus() engine.StorageStatus {
	d.health.mu.Lock()
	defer d.health.mu.Unlock()
	return engine.StorageStatus{WriteError: d.health.writeErr, DiskFull: d.health.diskFull,
		ModelSaveFailures: d.health.saveFailures, LastModelSaveError: d.health.lastSaveErr}
}
