package sqlite_test

import (
	"path/filepath"
	"testing"

	"movierec/store"
	"movierec/store/sqlite"
	"movierec/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (store.DB, func(t *testing.T) store.DB) {
		path := filepath.Join(t.TempDir(), "m.db")
		open := func(t *testing.T) store.DB { return open(t, path) }
		return open(t), open
	})
}

var _ store.DB = (*sqlite.DB)(nil)
