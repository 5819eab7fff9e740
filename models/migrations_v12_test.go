package models

import (
	"context"
	"testing"
	"time"
)

// TestUpgradeFromV11ThroughMigration12 builds a database as migration 11
// left it, with events, and opens it with this build: the journal's ids
// carry on above the events already there, and settle among them.
func TestUpgradeFromV11ThroughMigration12(t *testing.T) {
	sqliteOnly(t, "the journal, and its counter, are SQLite's")
	ctx := context.Background()
	path, db := dbAtVersion(t, 11)
	if db.Migrator().HasTable("audit_journal") {
		t.Fatal("a version 11 database already has audit_journal")
	}
	old := auditEventV5{ID: 41, At: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), Kind: AuditKindSignIn, Writer: "before",
		Seq: 1, PrevHash: "", Hash: "h", Decision: AuditAllow, Reasons: "[]"}
	if err := db.Create(&old).Error; err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	if err := sqlDB.Close(); err != nil {
		t.Fatal(err)
	}

	s := openTestStore(t, path)
	ev := testAuditEvent(1)
	if err := s.AppendAuditEvents(ctx, "after", []*AuditEvent{ev}); err != nil {
		t.Fatal(err)
	}
	if ev.ID <= old.ID {
		t.Errorf("the first event after the upgrade got id %d, want one above %d", ev.ID, old.ID)
	}
	page, err := s.ListAuditEvents(ctx, AuditFilter{}, 0, 10)
	if err != nil || len(page.Events) != 2 || page.Events[0].ID != ev.ID || page.Events[1].ID != old.ID {
		t.Errorf("after the upgrade the log lists %+v, %v; want the new event, then the old", page.Events, err)
	}
}
