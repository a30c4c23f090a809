package postgres_test

import (
	"os"
	"testing"

	"movierec/store"
	"movierec/store/postgres"
	"movierec/store/postgres/pgtest"
	"movierec/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// open opens the store at url and closes it when t ends.
func open(t testing.TB, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), url, nil)
	if err != nil {
		t.Fatalf("Open(%s) error = %v", url, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	pgtest.Require(t)
	storetest.Run(t, func(t *testing.T) (store.DB, func(t *testing.T) store.DB) {
		url := pgtest.NewDB(t)
		open := func(t *testing.T) store.DB { return open(t, url) }
		return open(t), open
	})
}
