package pgtest_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"movierec/store/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestNewDB(t *testing.T) {
	a, b := pgtest.NewDB(t), pgtest.NewDB(t)
	if a == b {
		t.Fatalf("NewDB twice = %s both times, want two databases", a)
	}
	conn, err := pgx.Connect(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var fsync string
	if err := conn.QueryRow(t.Context(), "SHOW fsync").Scan(&fsync); err != nil || fsync != "on" {
		t.Errorf("SHOW fsync = %q, %v, want on", fsync, err)
	}
}

func TestStopStart(t *testing.T) {
	c := pgtest.NewCluster(t)
	url, err := c.CreateDB(t.Context(), "x")
	if err != nil {
		t.Fatal(err)
	}
	ping := func() error {
		conn, err := pgx.Connect(t.Context(), url)
		if err != nil {
			return err
		}
		return conn.Close(context.Background())
	}
	if err := ping(); err != nil {
		t.Fatalf("connect to a started cluster: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := ping(); err == nil {
		t.Fatal("connect to a stopped cluster succeeded")
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if err := ping(); err != nil {
		t.Errorf("connect after Start: %v", err)
	}
}
