package models

import (
	"context"
	"testing"
	"time"
)

// TestUpgradeFromV12ThroughMigration13 builds a database as migration 12
// left it, with an event settled and two journaled, the journal's counter
// ahead of both, and opens it with this build: the journaled events are
// settled, and ids carry on above every id the journal ever gave.
func TestUpgradeFromV12ThroughMigration13(t *testing.T) {
	sqliteOnly(t, "the journal, and its counter, are SQLite's")
	ctx := context.Background()
	path, db := dbAtVersion(t, 12)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	settled := auditEventV5{ID: 5, At: at, Kind: AuditKindSignIn, Writer: "before", Seq: 1, Hash: "h1", Decision: AuditAllow, Reasons: "[]"}
	if err := db.Create(&settled).Error; err != nil {
		t.Fatal(err)
	}
	for i, id := range []uint64{8, 9} {
		j := auditJournalV12{ID: id, At: at, Kind: AuditKindSignIn, Writer: "before", Seq: uint64(i + 2), Hash: "h", Decision: AuditAllow, Reasons: "[]"}
		if err := db.Create(&j).Error; err != nil {
			t.Fatal(err)
		}
	}
	// The journal gave id 12 to an event since deleted.
	if err := db.Exec("UPDATE sqlite_sequence SET seq = 12 WHERE name = 'audit_journal'").Error; err != nil {
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
	if ev.ID != 13 {
		t.Errorf("the first event after the upgrade got id %d, want 13", ev.ID)
	}
	page, err := s.ListAuditEvents(ctx, AuditFilter{}, 0, 10)
	var ids []uint64
	for _, e := range page.Events {
		ids = append(ids, e.ID)
	}
	if err != nil || len(ids) != 4 || ids[0] != 13 || ids[1] != 9 || ids[2] != 8 || ids[3] != 5 {
		t.Errorf("after the upgrade the log lists ids %v, %v; want 13, 9, 8, 5", ids, err)
	}
	if got := queryStrings(t, s.sqlDB, "SELECT name FROM sqlite_sequence WHERE name = 'audit_journal'"); len(got) != 0 {
		t.Errorf("the journal still has an AUTOINCREMENT counter")
	}
}

// TestAuditJournalSameColumns: a settle copies every column of the
// journal into audit_events by name, so the journal must have exactly
// audit_events' columns, and its id must be the rowid (INTEGER PRIMARY
// KEY), not an index of its own.
func TestAuditJournalSameColumns(t *testing.T) {
	sqliteOnly(t, "reads SQLite's catalog; TestSchemaSameOnBothEngines holds PostgreSQL to it")
	s := newTestStore(t)
	const columns = `SELECT group_concat(name, ', ') FROM (SELECT name FROM pragma_table_info(?) ORDER BY cid)`
	if got := queryStrings(t, s.sqlDB, columns, "audit_journal"); len(got) != 1 || got[0] != auditSelectColumns {
		t.Errorf("audit_journal's columns: %q, want %q", got, auditSelectColumns)
	}
	if got := queryStrings(t, s.sqlDB, columns, "audit_events"); len(got) != 1 || got[0] != auditSelectColumns {
		t.Errorf("audit_events' columns: %q, want the journal's, %q", got, auditSelectColumns)
	}
	if got := queryStrings(t, s.sqlDB, "SELECT name FROM pragma_index_list('audit_journal') WHERE origin = 'pk'"); len(got) != 0 {
		t.Errorf("the journal's id has an index of its own, %v: it is not the rowid", got)
	}
}
