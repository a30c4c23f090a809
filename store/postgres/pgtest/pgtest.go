// Package pgtest runs throw-away PostgreSQL clusters for tests.
//
// Tests that need PostgreSQL call NewDB (a fresh database on a cluster
// shared by the test binary) or NewCluster (a dedicated cluster, for tests
// that stop and start it). Both run only when MOVIEREC_TEST_POSTGRES=1:
// otherwise the test is skipped with a message naming the variable, except
// under CI=true, where a skip would hide the tests and the test fails
// instead.
//
// A cluster is initdb'd into a temporary directory, owned by the user
// postgres when the tests run as root (PostgreSQL refuses to run as root),
// and listens on 127.0.0.1 on a free port, with fsync on. The server
// binaries are found in $MOVIEREC_TEST_POSTGRES_BIN, in the newest
// /usr/lib/postgresql/*/bin, or on $PATH.
//
// A package whose tests use the shared cluster should stop it after its
// tests with Main:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// Without it the shared cluster's server is killed when the test binary
// exits (the parent-death signal), and its directory is left in the
// temporary directory.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar turns the PostgreSQL tests on when set to 1.
const EnvVar = "MOVIEREC_TEST_POSTGRES"

// BinEnvVar, when set, names the directory of initdb and postgres.
const BinEnvVar = "MOVIEREC_TEST_POSTGRES_BIN"

// Enabled reports whether EnvVar turns the PostgreSQL tests on.
func Enabled() bool { return os.Getenv(EnvVar) == "1" }

// Require skips t when the PostgreSQL tests are off, and fails it when
// they are off under CI=true.
func Require(t testing.TB) {
	t.Helper()
	if Enabled() {
		return
	}
	msg := fmt.Sprintf("PostgreSQL tests are off: set %s=1 to run them (PostgreSQL's initdb and postgres must be installed)", EnvVar)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; CI must run them", msg)
	}
	t.Skip(msg)
}

// Cluster is one PostgreSQL server and its data directory. Its methods are
// safe for concurrent use.
type Cluster struct {
	dir  string // data directory (and the socket's)
	bin  string
	port int
	cred *syscall.Credential // the postgres user's, when running as root

	mu   sync.Mutex
	cmd  *exec.Cmd     // the running server; nil when stopped
	exit chan struct{} // closed when cmd has exited
	logf *os.File
}

// StartCluster creates and starts a new cluster. Stop it with Remove.
func StartCluster(ctx context.Context) (*Cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("pgtest: running as root needs the user postgres: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	c.dir, err = os.MkdirTemp("", "movierec-pg-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if c.cred != nil {
		if err := os.Chown(c.dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			os.RemoveAll(c.dir)
			return nil, fmt.Errorf("pgtest: %w", err)
		}
	}
	data := filepath.Join(c.dir, "data")
	init := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
		"--encoding=UTF8", "--locale=C")
	init.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	init.Dir = c.dir
	if out, err := init.CombinedOutput(); err != nil {
		os.RemoveAll(c.dir)
		return nil, fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	if c.port, err = freePort(); err != nil {
		os.RemoveAll(c.dir)
		return nil, err
	}
	if err := c.Start(); err != nil {
		os.RemoveAll(c.dir)
		return nil, err
	}
	return c, nil
}

// Port returns the TCP port the cluster listens on (on 127.0.0.1).
func (c *Cluster) Port() int { return c.port }

// Dir returns the cluster's directory; the server's log is Dir()/server.log.
func (c *Cluster) Dir() string { return c.dir }

// URL returns the URL of database db on the cluster.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// Start starts the server if it is stopped and waits until it accepts
// connections.
func (c *Cluster) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd != nil {
		return nil
	}
	logf, err := os.OpenFile(filepath.Join(c.dir, "server.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	cmd := exec.Command(filepath.Join(c.bin, "postgres"), "-D", filepath.Join(c.dir, "data"),
		"-p", strconv.Itoa(c.port), "-k", c.dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=on", "-c", "max_connections=300", "-c", "shared_buffers=256MB", "-c", "max_wal_size=4GB")
	cmd.Stdout, cmd.Stderr = logf, logf
	// The server dies with the test binary (a backstop for a missing Main
	// or a crash).
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	exit := make(chan struct{})
	go func() { cmd.Wait(); close(exit) }()
	c.cmd, c.exit, c.logf = cmd, exit, logf
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, c.URL("postgres"))
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		select {
		case <-exit:
			c.cmd = nil
			logf.Close()
			return fmt.Errorf("pgtest: postgres exited at start; see %s", logf.Name())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgtest: postgres not accepting connections after 30 s: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop shuts the server down (fast mode: open connections are closed,
// committed transactions are kept) and waits for it to exit.
func (c *Cluster) Stop() error { return c.stop(syscall.SIGINT) }

// Kill stops the server at once (immediate mode, as a crash: recovery
// runs at the next Start) and waits for it to exit.
func (c *Cluster) Kill() error { return c.stop(syscall.SIGQUIT) }

func (c *Cluster) stop(sig syscall.Signal) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil {
		return nil
	}
	if err := c.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("pgtest: stop postgres: %w", err)
	}
	select {
	case <-c.exit:
	case <-time.After(60 * time.Second):
		c.cmd.Process.Kill()
		<-c.exit
	}
	c.cmd = nil
	c.logf.Close()
	return nil
}

// Remove stops the server and deletes the cluster's directory.
func (c *Cluster) Remove() error {
	err := c.Stop()
	return errors.Join(err, os.RemoveAll(c.dir))
}

// CreateDB creates database name (a plain identifier) and returns its URL.
func (c *Cluster) CreateDB(ctx context.Context, name string) (string, error) {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return c.URL(name), nil
}

// DropDB drops database name, closing its connections.
func (c *Cluster) DropDB(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("pgtest: drop database %s: %w", name, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("pgtest: drop database %s: %w", name, err)
	}
	return nil
}

var (
	sharedOnce sync.Once
	shared     *Cluster
	sharedErr  error
	dbSeq      atomic.Int64
)

// Shared returns the cluster shared by the test binary, starting it on
// first use. It skips or fails t as Require does.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	Require(t)
	sharedOnce.Do(func() {
		shared, sharedErr = StartCluster(context.Background())
	})
	if sharedErr != nil {
		t.Fatalf("start the test cluster: %v", sharedErr)
	}
	return shared
}

// NewDB creates a fresh database on the shared cluster for t and returns
// its URL; the database is dropped when t ends. It skips or fails t as
// Require does.
func NewDB(t testing.TB) string {
	t.Helper()
	c := Shared(t)
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1))
	url, err := c.CreateDB(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.DropDB(context.Background(), name); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	return url
}

// NewCluster starts a dedicated cluster for t (for tests that stop and
// start the server) and removes it when t ends. It skips or fails t as
// Require does.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	Require(t)
	c, err := StartCluster(context.Background())
	if err != nil {
		t.Fatalf("start a test cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Remove(); err != nil {
			t.Errorf("remove test cluster: %v", err)
		}
	})
	return c
}

// Main runs m's tests and then removes the shared cluster, if one was
// started. It returns m.Run's exit code.
func Main(m *testing.M) int {
	code := m.Run()
	if shared != nil {
		if err := shared.Remove(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	return code
}

// binDir finds the directory holding initdb and postgres.
func binDir() (string, error) {
	if d := os.Getenv(BinEnvVar); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return pgMajor(b) - pgMajor(a) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("pgtest: no PostgreSQL server binaries: none in /usr/lib/postgresql/*/bin or on PATH (set %s, or install Debian's postgresql)", BinEnvVar)
}

// pgMajor returns the major version in a path .../postgresql/N/bin.
func pgMajor(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// freePort returns a TCP port that was free on 127.0.0.1 a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
