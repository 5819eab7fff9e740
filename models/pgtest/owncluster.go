package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ErrNotInstalled is what StartCluster's error wraps when no PostgreSQL
// server programs are installed on this machine.
var ErrNotInstalled = errors.New("pgtest: PostgreSQL is not installed")

// Installed reports whether StartCluster can find PostgreSQL's server
// programs (initdb on PATH or in /usr/lib/postgresql/*/bin).
func Installed() bool {
	_, err := findBin()
	return err == nil
}

// Cluster is a PostgreSQL cluster of its own, in a temporary directory,
// on a loopback port. Unlike the server DSN shares between the tests of a
// binary, it can be stopped and started again, to see what a client does
// while its database is away; and a program that is not a test (the
// benchmark) can start one. StartCluster and NewCluster make one.
type Cluster struct {
	c *cluster
}

// ClusterOptions change how StartCluster sets a cluster up.
type ClusterOptions struct {
	// Durable keeps PostgreSQL's own durability settings (fsync,
	// synchronous commits, full-page writes, autovacuum) and puts the
	// files in the temporary directory rather than /dev/shm: a server set
	// up as production would run it, for measuring. Without it the
	// cluster is the tests': fast, and lost in a crash.
	Durable bool
}

// StartCluster initdbs and starts a cluster; Remove stops it and deletes
// its files. It takes nothing from EnvServer: a server somebody else
// runs is not this one's to stop. An error wrapping ErrNotInstalled says
// only that PostgreSQL is not installed here.
func StartCluster(opts ClusterOptions) (*Cluster, error) {
	c, notFound, err := startCluster(opts.Durable)
	switch {
	case notFound:
		return nil, fmt.Errorf("%w: %v", ErrNotInstalled, err)
	case err != nil:
		return nil, err
	}
	return &Cluster{c: c}, nil
}

// NewCluster starts a cluster for t, removed when t ends. Without
// PostgreSQL it skips t, or fails it where PostgreSQL is required
// (CI=true, DRAWBRIDGE_REQUIRE_POSTGRES=1), as DSN does.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	c, err := StartCluster(ClusterOptions{})
	switch {
	case errors.Is(err, ErrNotInstalled) && required():
		t.Fatalf("pgtest: PostgreSQL is required here (CI=true or %s=1): %v", EnvRequire, err)
	case errors.Is(err, ErrNotInstalled):
		t.Skipf("%s: %v", skipMessage, err)
	case err != nil:
		t.Fatalf("pgtest: start a cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Remove(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return c
}

// AdminDSN reaches the cluster's postgres database as its superuser.
func (c *Cluster) AdminDSN() string { return c.c.adminDSN() }

// DSN creates an empty database for t on the cluster and returns the
// DSN that reaches it as the superuser. The database goes with the
// cluster.
func (c *Cluster) DSN(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn, _, err := CreateDatabase(ctx, c.AdminDSN())
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// Stop shuts the server down (fast: open connections are ended) and
// waits until it has, keeping its files for Start.
func (c *Cluster) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	return c.c.halt(ctx, "fast")
}

// Start starts a stopped server again, on the same port, and waits until
// it accepts connections.
func (c *Cluster) Start() error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	return c.c.start(ctx)
}

// ServerPID is the process ID of the server's postmaster, the parent of
// its other processes.
func (c *Cluster) ServerPID() (int, error) {
	b, err := os.ReadFile(c.c.pidFile())
	if err != nil {
		return 0, fmt.Errorf("pgtest: the server's pid: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return 0, fmt.Errorf("pgtest: the server's pid: %q is not a number", line)
	}
	return pid, nil
}

// Remove stops the server, if it runs, and deletes its files.
func (c *Cluster) Remove() error {
	if _, err := os.Stat(c.c.pidFile()); err != nil {
		// Stopped already: pg_ctl stop would fail for want of a server.
		return os.RemoveAll(c.c.dir)
	}
	return c.c.stop()
}

// CreateDatabase creates an empty database on the server adminDSN
// reaches (as a role that may create databases) and returns its DSN and
// a function that drops it, ending any connection still open to it.
func CreateDatabase(ctx context.Context, adminDSN string) (dsn string, drop func(context.Context) error, err error) {
	admin, err := connect(adminDSN)
	if err != nil {
		return "", nil, err
	}
	defer admin.Close()
	name := newName("drawbridge_")
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	dsn, err = withDatabase(adminDSN, name)
	if err != nil {
		return "", nil, err
	}
	drop = func(ctx context.Context) error {
		admin, err := connect(adminDSN)
		if err != nil {
			return err
		}
		defer admin.Close()
		return dropDatabase(ctx, admin, name)
	}
	return dsn, drop, nil
}

// dropDatabase drops database name, ending any connection open to it
// (WITH (FORCE), PostgreSQL 13 and later; plainly before that).
func dropDatabase(ctx context.Context, admin *sql.DB, name string) error {
	_, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	if err != nil && strings.Contains(err.Error(), "syntax error") {
		_, err = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name)
	}
	return err
}
