//go:build !unix

package sqlite

// LockWriter does nothing where flock is missing: run one server per
// database file there.
func LockWriter(path string) (unlock func() error, err error) {
	return func() error { return nil }, nil
}
