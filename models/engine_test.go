package models

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/drawbridge/drawbridge/models/pgtest"
)

// The suite runs on SQLite, or, with DRAWBRIDGE_TEST_DB=postgres, on
// PostgreSQL (see package pgtest for where the server comes from).
//
// Tests name their database by a file path either way. On PostgreSQL a
// path stands for a database of its own, created the first time the
// path is asked for and dropped when that test ends, so that a test
// reopening a path, as a second process would, reaches the same data.

// onPostgres says the suite runs on PostgreSQL.
var onPostgres = os.Getenv("DRAWBRIDGE_TEST_DB") == "postgres"

// pgDatabases maps each path a test named to its database's DSN.
var pgDatabases = struct {
	sync.Mutex
	dsn map[string]string
}{dsn: map[string]string{}}

// testOptions are the options that open the store path stands for.
func testOptions(t *testing.T, path string) Options {
	t.Helper()
	driver, dsn := testDSN(t, path, true)
	return Options{Driver: driver, DSN: dsn, Cipher: testCipher(t)}
}

// testDSN returns the driver and DSN of the database path stands for. A
// path that already is a PostgreSQL DSN (handed to a helper process)
// stands for itself. A PostgreSQL database made for the path is empty,
// or, with migrated, a copy of one that Open migrated (the same thing
// Open would make of an empty one, in a fraction of the time).
func testDSN(t testing.TB, path string, migrated bool) (driver, dsn string) {
	t.Helper()
	if !onPostgres {
		return "sqlite", path
	}
	if strings.HasPrefix(path, "postgres://") {
		return "postgres", path
	}
	pgDatabases.Lock()
	defer pgDatabases.Unlock()
	if dsn, ok := pgDatabases.dsn[path]; ok {
		return "postgres", dsn
	}
	if migrated {
		dsn = pgtest.DSNFrom(t, "migrated", migrateTemplate)
	} else {
		dsn = pgtest.DSN(t)
	}
	pgDatabases.dsn[path] = dsn
	t.Cleanup(func() {
		pgDatabases.Lock()
		defer pgDatabases.Unlock()
		delete(pgDatabases.dsn, path)
	})
	return "postgres", dsn
}

// processPath is what another process opens (with openTestStore) to
// reach the database path stands for: path itself on SQLite, its DSN on
// PostgreSQL.
func processPath(t *testing.T, path string) string {
	t.Helper()
	_, dsn := testDSN(t, path, true)
	return dsn
}

// migrateTemplate migrates the template database the PostgreSQL
// databases of openTestStore are copies of.
func migrateTemplate(dsn string) error {
	c, err := NewCipher(testKey("k1", 1))
	if err != nil {
		return err
	}
	s, err := Open(context.Background(), Options{Driver: "postgres", DSN: dsn, Cipher: c})
	if err != nil {
		return err
	}
	return s.Close()
}

// openTestDB opens the database path stands for as it is, unmigrated,
// for a test to build an older schema in. The caller closes it.
// dbAtVersion returns a fresh database, and the path it stands for,
// with the first version migrations applied: the schema as a build of
// that version left it, for an upgrade test to fill and reopen.
func dbAtVersion(t *testing.T, version int) (string, *gorm.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	db, err := openTestDB(t, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(context.Background(), db, migrations[:version], discardLog); err != nil {
		t.Fatal(err)
	}
	return path, db
}

func openTestDB(t *testing.T, path string) (*gorm.DB, error) {
	t.Helper()
	driver, dsn := testDSN(t, path, false)
	if driver == "postgres" {
		return openPostgres(context.Background(), dsn, discardLog)
	}
	return openSQLite(context.Background(), dsn, discardLog)
}

// sqliteOnly skips t on PostgreSQL: it checks something only SQLite has
// (a PRAGMA, the bytes of the database file, a query plan), said by why.
func sqliteOnly(t *testing.T, why string) {
	t.Helper()
	if onPostgres {
		t.Skip("SQLite only: " + why)
	}
}
