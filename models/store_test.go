package models

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestOpenRejectsBadOptions(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no cipher", Options{Driver: "sqlite", DSN: filepath.Join(dir, "a.db")}, "cipher is required"},
		{"no driver", Options{DSN: filepath.Join(dir, "b.db"), Cipher: testCipher(t)}, `unsupported driver ""`},
		{"postgres without dsn", Options{Driver: "postgres", Cipher: testCipher(t)}, "postgres: DSN is required"},
		{"postgres dsn unparsable", Options{Driver: "postgres", DSN: "postgres://bob:pa55word@db:port/x", Cipher: testCipher(t)}, "postgres: DSN: not a postgres:// URL or key=value settings"},
		{"postgres key=value unparsable", Options{Driver: "postgres", DSN: "host=db port=x password=pa55word", Cipher: testCipher(t)}, "invalid port"},
		{"no dsn", Options{Driver: "sqlite", Cipher: testCipher(t)}, "DSN (a file path) is required"},
		{"dsn with params", Options{Driver: "sqlite", DSN: filepath.Join(dir, "c.db?mode=ro"), Cipher: testCipher(t)}, "without query parameters"},
		{"unwritable path", Options{Driver: "sqlite", DSN: filepath.Join(dir, "missing", "d.db"), Cipher: testCipher(t)}, "sqlite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(context.Background(), tt.opts)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded, want error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "pa55word") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestOpenSetsPragmasOnEveryConnection(t *testing.T) {
	sqliteOnly(t, "checks SQLite's PRAGMAs")
	s := newTestStore(t)
	ctx := context.Background()
	// Hold several connections at once so the pool must open new ones:
	// the settings have to hold on each, not just the first.
	for i := range 3 {
		conn, err := s.sqlDB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		pragmas := map[string]string{
			"journal_mode": "wal",
			"foreign_keys": "1",
			"busy_timeout": "5000",
			"synchronous":  "1", // NORMAL
		}
		for name, want := range pragmas {
			var got string
			if err := conn.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("connection %d: PRAGMA %s = %q, want %q", i, name, got, want)
			}
		}
	}
}

func TestOpenMemory(t *testing.T) {
	sqliteOnly(t, "opens SQLite's :memory: database")
	ctx := context.Background()
	s, err := Open(ctx, Options{Driver: "sqlite", DSN: ":memory:", Cipher: testCipher(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	createUser(t, s, "mem@example.com")
	// A second connection to ":memory:" would be a different, empty
	// database; the user must still be there.
	if _, err := s.GetUserByEmail(ctx, "mem@example.com"); err != nil {
		t.Fatal(err)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != len(migrations) {
		t.Errorf("SchemaVersion = %d, %v; want %d", v, err, len(migrations))
	}
}

func TestPingAndClose(t *testing.T) {
	s, err := Open(context.Background(), testOptions(t, filepath.Join(t.TempDir(), "p.db")))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Ping(context.Background()); err == nil {
		t.Error("Ping after Close succeeded")
	}
}

func TestCipherAccessor(t *testing.T) {
	s := newTestStore(t)
	if s.Cipher() == nil || s.Cipher().CurrentKeyID() != "k1" {
		t.Errorf("Cipher() = %v, want the cipher Open was given", s.Cipher())
	}
}

func TestConfigWriteRollsBackOnError(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	before := configVersionOf(t, s)
	boom := errors.New("boom")
	err := s.configWrite(ctx, func(w *configTx) error {
		if err := w.createUser(&User{Email: "ghost@example.com", Provider: ProviderLocal}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("configWrite error = %v, want boom", err)
	}
	if got := configVersionOf(t, s); got != before {
		t.Errorf("config version = %d after a failed write, want %d", got, before)
	}
	if _, err := s.GetUserByEmail(ctx, "ghost@example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("user from the failed write: err = %v, want ErrNotFound", err)
	}
	if _, n, err := s.ListChanges(ctx, ChangeFilter{}); err != nil || n != 0 {
		t.Errorf("history after a failed write: %d changes, %v; want none", n, err)
	}
}

func TestConcurrentWritesDoNotHitBusy(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	const workers, each = 8, 10
	before := configVersionOf(t, s)
	var wg sync.WaitGroup
	errs := make(chan error, workers*each*2)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				u := &User{Email: fmt.Sprintf("w%d-%d@example.com", w, i), Provider: ProviderLocal}
				if err := s.CreateUser(ctx, u); err != nil {
					errs <- err
					continue
				}
				if err := s.SetAdmin(ctx, u.ID, true); err != nil {
					errs <- err
				}
				if _, _, err := s.ListUsers(ctx, UserFilter{Limit: 5}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	counts, err := s.CountUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts.Total != workers*each || counts.Admins != workers*each {
		t.Errorf("CountUsers = %+v, want %d users, all admins", counts, workers*each)
	}
	if got, want := configVersionOf(t, s), before+2*workers*each; got != want {
		t.Errorf("config version = %d, want %d (one bump per write)", got, want)
	}
}

// TestPostgresSessionTimeouts: on PostgreSQL a lock wait gives up as
// SQLite's does, and a session idle inside a transaction is ended.
func TestPostgresSessionTimeouts(t *testing.T) {
	if !onPostgres {
		t.Skip("PostgreSQL only")
	}
	s := newTestStore(t)
	for name, want := range map[string]string{"lock_timeout": "5s", "idle_in_transaction_session_timeout": "1min"} {
		var got string
		if err := s.sqlDB.QueryRow("SHOW " + name).Scan(&got); err != nil || got != want {
			t.Errorf("%s = %q (%v), want %q", name, got, err, want)
		}
	}
}
