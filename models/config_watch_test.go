package models

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"
)

// TestWatchConfigHearsAnotherProcess: a configuration change committed
// through one store reaches WatchConfig on another store of the same
// database, as one replica's change reaches the others. On SQLite there
// is nothing to hear and WatchConfig returns at once.
func TestWatchConfigHearsAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	writer := openTestStore(t, path)
	watcher := openTestStore(t, processPath(t, path))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := make(chan struct{}, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		watcher.WatchConfig(ctx, slog.New(slog.DiscardHandler), func() { calls <- struct{}{} })
	}()
	if !onPostgres {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("WatchConfig on SQLite did not return")
		}
		return
	}
	wait := func(what string) {
		t.Helper()
		select {
		case <-calls:
		case <-time.After(5 * time.Second):
			t.Fatalf("no call %s", what)
		}
	}
	wait("once listening") // what happened before it listened is unknown
	for i := range 3 {
		createPolicy(t, writer, "p"+string(rune('a'+i)))
		wait("after a change")
	}
	// A transaction that rolls back announces nothing.
	if err := writer.CreatePolicy(context.Background(), &Policy{Name: "pa", Source: "x"}); err == nil {
		t.Fatal("a duplicate policy was created")
	}
	select {
	case <-calls:
		t.Error("a failed write was announced")
	case <-time.After(300 * time.Millisecond):
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("WatchConfig did not end with its context")
	}
}

// TestWatchConfigReconnects: a listening connection the server ends is
// replaced, and a change made after that is heard.
func TestWatchConfigReconnects(t *testing.T) {
	if !onPostgres {
		t.Skip("PostgreSQL only: SQLite has no announcements")
	}
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	writer := openTestStore(t, path)
	watcher := openTestStore(t, processPath(t, path))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := make(chan struct{}, 100)
	go watcher.WatchConfig(ctx, slog.New(slog.DiscardHandler), func() { calls <- struct{}{} })
	<-calls
	// End every listening backend but our own, as a failover would.
	err := writer.db.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'`).Error
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-calls: // listening again
	case <-time.After(10 * time.Second):
		t.Fatal("WatchConfig did not listen again after its connection ended")
	}
	createPolicy(t, writer, "after")
	select {
	case <-calls:
	case <-time.After(5 * time.Second):
		t.Fatal("a change after the reconnection was not heard")
	}
}
