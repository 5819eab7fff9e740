// Package pgtest gives each test a fresh, empty PostgreSQL database, so
// that the models suite, and any suite that stores through models, runs
// against PostgreSQL as well as SQLite.
//
// The server is the one DRAWBRIDGE_TEST_POSTGRES names (an admin DSN:
// a role that may create and drop databases), or else a throwaway
// cluster this test binary starts itself on first use, from the
// PostgreSQL installed on the machine, and stops in Stop. A test binary
// that calls DSN must call Stop from its TestMain, after m.Run.
//
// With no server to be had, DSN skips the test, unless CI=true or
// DRAWBRIDGE_REQUIRE_POSTGRES=1, where it fails it: there the PostgreSQL
// half must not pass by not running.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Environment variables pgtest reads.
const (
	// EnvServer names an existing server to use instead of starting one:
	// an admin DSN, as a postgres:// URL or key=value settings.
	EnvServer = "DRAWBRIDGE_TEST_POSTGRES"
	// EnvRequire, set to 1, makes a missing server fail the tests that
	// need it instead of skipping them; so does CI=true.
	EnvRequire = "DRAWBRIDGE_REQUIRE_POSTGRES"
)

// skipMessage is what a test without a server is skipped with.
const skipMessage = "PostgreSQL half skipped: no server (set " + EnvServer + " or install postgresql)"

// server is where the test databases are created.
type server struct {
	admin    *sql.DB // connected to the admin DSN's own database
	adminDSN string
	cluster  *cluster // the cluster this binary started; nil for EnvServer's

	mu        sync.Mutex
	templates map[string]*templateDB // by the name tests ask for
}

var (
	startOnce sync.Once
	current   *server
	errStart  error      // why there is no server
	notFound  bool       // errStart means PostgreSQL is not installed
	stopMu    sync.Mutex // Stop against a start in progress
)

// DSN creates a database of its own for t, empty, dropped when t ends,
// and returns a DSN that reaches it as the admin role.
func DSN(t testing.TB) string {
	t.Helper()
	return create(t, get(t), "")
}

// DSNFrom is DSN for a copy of a template database instead of an empty
// one. build fills the template, given its DSN, the first time a test
// of this binary asks for template; it must close every connection it
// opened, since PostgreSQL copies a database only while nobody is
// connected to it. Copying is much faster than, say, migrating each
// test's database from nothing.
func DSNFrom(t testing.TB, template string, build func(dsn string) error) string {
	t.Helper()
	s := get(t)
	tpl := s.template(template, build)
	if tpl.err != nil {
		t.Fatalf("pgtest: template %s: %v", template, tpl.err)
	}
	return create(t, s, tpl.database)
}

// create creates t's database, a copy of template or empty for "", and
// returns its DSN.
func create(t testing.TB, s *server, template string) string {
	t.Helper()
	name := newName("drawbridge_test_")
	stmt := "CREATE DATABASE " + name
	if template != "" {
		stmt += " TEMPLATE " + template
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := s.admin.ExecContext(ctx, stmt); err != nil {
		t.Fatalf("pgtest: %s: %v", stmt, err)
	}
	t.Cleanup(func() {
		if err := s.drop(name); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	dsn, err := withDatabase(s.adminDSN, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// newName returns a database name no other test binary will pick.
func newName(prefix string) string { return prefix + strings.ToLower(rand.Text()[:12]) }

// templateDB is a template database, built once per test binary.
type templateDB struct {
	once     sync.Once
	database string
	err      error
}

// template returns the template database called name, building it on
// first use.
func (s *server) template(name string, build func(dsn string) error) *templateDB {
	s.mu.Lock()
	tpl, ok := s.templates[name]
	if !ok {
		tpl = &templateDB{}
		s.templates[name] = tpl
	}
	s.mu.Unlock()
	tpl.once.Do(func() {
		database := newName("drawbridge_template_")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, tpl.err = s.admin.ExecContext(ctx, "CREATE DATABASE "+database); tpl.err != nil {
			return
		}
		tpl.database = database // dropped by Stop, even half built
		dsn, err := withDatabase(s.adminDSN, database)
		if err == nil {
			err = build(dsn)
		}
		if err == nil {
			// Copying waits for every session in the template to end,
			// autovacuum's included; autovacuum leaves alone a database
			// that takes no connections.
			_, err = s.admin.ExecContext(ctx, "ALTER DATABASE "+database+" ALLOW_CONNECTIONS false")
		}
		tpl.err = err
	})
	return tpl
}

// get returns the server, starting it on the first call, or ends t when
// there is none.
func get(t testing.TB) *server {
	t.Helper()
	startOnce.Do(func() {
		stopMu.Lock()
		defer stopMu.Unlock()
		current, notFound, errStart = start()
	})
	switch {
	case errStart == nil && current == nil:
		t.Fatal("pgtest: DSN called after Stop")
	case errStart == nil:
		return current
	case required():
		t.Fatalf("pgtest: PostgreSQL is required here (CI=true or %s=1): %v", EnvRequire, errStart)
	case notFound:
		t.Skipf("%s: %v", skipMessage, errStart)
	default:
		// PostgreSQL is installed but would not start: say why, loudly.
		t.Fatalf("pgtest: %v", errStart)
	}
	return nil
}

func required() bool {
	return os.Getenv("CI") == "true" || os.Getenv(EnvRequire) == "1"
}

// start connects to EnvServer's server or starts a cluster. notFound
// says the error is only that no PostgreSQL is installed.
func start() (s *server, notFound bool, err error) {
	dsn := os.Getenv(EnvServer)
	var c *cluster
	if dsn == "" {
		if c, notFound, err = startCluster(false); err != nil {
			return nil, notFound, err
		}
		dsn = c.adminDSN()
	}
	admin, err := connect(dsn)
	if err != nil {
		if c != nil {
			err = errors.Join(err, c.stop())
		} else {
			err = fmt.Errorf("%s: %w", EnvServer, err)
		}
		return nil, false, err
	}
	return &server{admin: admin, adminDSN: dsn, cluster: c, templates: map[string]*templateDB{}}, false, nil
}

// connect opens the admin connection and checks that it answers.
func connect(dsn string) (*sql.DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("admin DSN: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to the test server: %w", err)
	}
	return db, nil
}

// drop drops database name, ending any connection a test left open to
// it (WITH (FORCE), PostgreSQL 13 and later; plainly before that).
func (s *server) drop(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return dropDatabase(ctx, s.admin, name)
}

// withDatabase returns dsn with its database replaced by name.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", errors.New("the admin DSN is not a valid URL")
		}
		u.Path = "/" + name
		return u.String(), nil
	}
	// In key=value settings, the last dbname given wins.
	return dsn + " dbname=" + name, nil
}

// Stop stops the cluster DSN started, if it did, and removes its files.
// The test binary's TestMain calls it after m.Run.
func Stop() {
	stopMu.Lock()
	defer stopMu.Unlock()
	if current == nil {
		return
	}
	// Templates live on a server EnvServer named; a cluster goes whole.
	if current.cluster == nil {
		for _, tpl := range current.templates {
			if tpl.database == "" {
				continue
			}
			if err := current.drop(tpl.database); err != nil {
				fmt.Fprintf(os.Stderr, "pgtest: drop template %s: %v\n", tpl.database, err)
			}
		}
	}
	current.admin.Close()
	if current.cluster != nil {
		if err := current.cluster.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		}
	}
	current = nil
}
