package pgtest

import (
	"database/sql"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestDSNIsFreshAndOwn checks that each DSN reaches an empty database of
// its own.
func TestDSNIsFreshAndOwn(t *testing.T) {
	a, b := open(t, DSN(t)), open(t, DSN(t))
	if _, err := a.Exec("CREATE TABLE mine (x int)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.QueryRow("SELECT count(*) FROM pg_tables WHERE tablename = 'mine'").Scan(&n); err != nil || n != 0 {
		t.Errorf("the other test's database has the table: %d, %v", n, err)
	}
}

// TestDSNFromCopiesTheTemplate checks that a template is built once and
// each copy starts as it left it.
func TestDSNFromCopiesTheTemplate(t *testing.T) {
	builds := 0
	build := func(dsn string) error {
		builds++
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.Exec("CREATE TABLE seeded (x int); INSERT INTO seeded VALUES (7)")
		return err
	}
	for range 2 {
		db := open(t, DSNFrom(t, "seeded", build))
		var x int
		if err := db.QueryRow("SELECT x FROM seeded").Scan(&x); err != nil || x != 7 {
			t.Errorf("copy of the template: %d, %v", x, err)
		}
		if _, err := db.Exec("UPDATE seeded SET x = 8"); err != nil {
			t.Fatal(err)
		}
	}
	if builds != 1 {
		t.Errorf("template built %d times, want once", builds)
	}
}

func TestWithDatabase(t *testing.T) {
	for _, tt := range []struct{ admin, want string }{
		{"postgres://u:p@db:5432/postgres?sslmode=disable", "postgres://u:p@db:5432/t1?sslmode=disable"},
		{"postgresql://db/", "postgresql://db/t1"},
		{"host=db user=u dbname=postgres", "host=db user=u dbname=postgres dbname=t1"},
	} {
		if got, err := withDatabase(tt.admin, "t1"); err != nil || got != tt.want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", tt.admin, got, err, tt.want)
		}
	}
}
