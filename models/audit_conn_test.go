package models

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestAuditConnDiscardEndsTransaction: after a failure the audit
// connection is closed, not put back in the pool, even with a
// transaction still open on it, as a ROLLBACK that failed would leave
// one. Pooled, that transaction would hold SQLite's write lock, and no
// one else could write.
func TestAuditConnDiscardEndsTransaction(t *testing.T) {
	sqliteOnly(t, "only SQLite's audit connection runs BEGIN itself")
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	s := openTestStore(t, path)
	appendUnsettled(t, s, "gw", 0, 1) // opens the audit connection
	c := &s.auditConn
	c.mu.Lock()
	_, err := c.stmts.begin.Exec()
	if err == nil {
		c.discard(true)
	}
	c.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := s.sqlDB.ExecContext(ctx, "CREATE TABLE probe_pool (x)"); err != nil {
		t.Fatalf("a connection of the pool could not write: %v", err)
	}
	other := openTestStore(t, path) // as another process would
	if _, err := other.sqlDB.ExecContext(ctx, "CREATE TABLE probe_other (x)"); err != nil {
		t.Fatalf("another store could not write: %v", err)
	}
	appendUnsettled(t, s, "gw", 1, 1) // on a new audit connection
}
