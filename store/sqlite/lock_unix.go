//go:build unix

package sqlite

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// LockWriter takes an exclusive advisory lock (flock) on path+".lock", the
// lock file beside the database, so that a second server on the same file
// refuses to start: SQLite is single-writer here and each server keeps the
// ratings in memory, so two would diverge (several servers need a shared
// store such as PostgreSQL). The lock goes with the process, so a crash
// never leaves a stale lock. Call unlock when done; it removes nothing
// (removing the file would race with the next locker).
func LockWriter(path string) (unlock func() error, err error) {
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: another movierec serve holds %s (stop it first; SQLite serves from one process, several servers need the PostgreSQL store)", ErrLocked, name)
		}
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	return f.Close, nil
}
