package models

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gorm.io/gorm"
)

// TestMigration5Schema checks the audit table as the database holds it.
func TestMigration5Schema(t *testing.T) {
	sqliteOnly(t, "reads SQLite's catalog; TestSchemaSameOnBothEngines holds PostgreSQL to it")
	s := newTestStore(t)
	var ddl string
	if err := s.sqlDB.QueryRow(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'audit_events'`).Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	// AUTOINCREMENT: an id is never handed out twice, even after the
	// newest rows are deleted.
	if !strings.Contains(ddl, "`id` integer PRIMARY KEY AUTOINCREMENT") {
		t.Errorf("audit_events' id is not an autoincrement rowid:\n%s", ddl)
	}
	rows, err := s.sqlDB.Query(`SELECT name, "notnull" FROM pragma_table_info('audit_events') ORDER BY cid`)
	if err != nil {
		t.Fatal(err)
	}
	var nullable []string
	for rows.Next() {
		var name string
		var notNull bool
		if err := rows.Scan(&name, &notNull); err != nil {
			t.Fatal(err)
		}
		if !notNull {
			nullable = append(nullable, name)
		}
	}
	rows.Close()
	want := []string{"id", "user_id", "route_id", "status", "rpc_error_code", "is_error", "duration_micros", "response_bytes", "outcome_at"}
	if !slices.Equal(nullable, want) {
		t.Errorf("nullable columns = %v, want %v", nullable, want)
	}
	var fks int
	if err := s.sqlDB.QueryRow(`SELECT count(*) FROM pragma_foreign_key_list('audit_events')`).Scan(&fks); err != nil || fks != 0 {
		t.Errorf("audit_events has %d foreign keys (%v); the trail must outlive what it names", fks, err)
	}

	indexes := map[string][]string{}
	rows, err = s.sqlDB.Query(`SELECT il.name, il."unique", ii.name FROM pragma_index_list('audit_events') il
		JOIN pragma_index_info(il.name) ii ORDER BY il.name, ii.seqno`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name, col string
		var unique bool
		if err := rows.Scan(&name, &unique, &col); err != nil {
			t.Fatal(err)
		}
		if unique {
			name += " unique"
		}
		indexes[name] = append(indexes[name], col)
	}
	rows.Close()
	for _, name := range indexNames(auditIndexesV8) {
		delete(indexes, name) // TestMigration8Schema checks them
	}
	wantIndexes := map[string][]string{
		"idx_audit_events_writer_seq unique": {"writer", "seq"},
		"idx_audit_events_at":                {"at"},
		"idx_audit_events_request":           {"request_id", "id"},
		"idx_audit_events_user":              {"user_id", "id"},
		"idx_audit_events_service_account":   {"service_account", "id"},
		"idx_audit_events_client":            {"client_id", "id"},
		"idx_audit_events_route":             {"route_id", "id"},
		"idx_audit_events_mcp_method":        {"mcp_method", "id"},
		"idx_audit_events_tool":              {"tool", "id"},
		"idx_audit_events_decision":          {"decision", "id"},
		"idx_audit_events_kind":              {"kind", "id"},
	}
	if !reflect.DeepEqual(indexes, wantIndexes) {
		t.Errorf("indexes = %v\nwant %v", indexes, wantIndexes)
	}

	// (writer, seq) is unique whatever writes the row.
	appendEvents(t, s, "gw", 0, 1)
	err = s.db.Exec(`INSERT INTO audit_events (` + auditInsertColumns + `)
		SELECT ` + auditInsertColumns + ` FROM audit_events WHERE writer = 'gw'`).Error
	if !errors.Is(err, gorm.ErrDuplicatedKey) {
		t.Errorf("a second event at seq 1 of one writer: err = %v, want a unique violation", err)
	}
}

// TestMigration5KeysetPlans checks that each filter of the audit log,
// paged newest first from a cursor, walks an index and never sorts: a
// page costs the same however deep it is. A tool prefix and a time range
// are paged through seeks (see auditIndexesV5), which must use an index
// too.
func TestMigration5KeysetPlans(t *testing.T) {
	sqliteOnly(t, "checks SQLite's query plans")
	s := newTestStore(t)
	appendEvents(t, s, "gw", 0, 20)
	page := func(where string) string {
		return "SELECT id FROM audit_events WHERE " + where + " AND id < 1000000 ORDER BY id DESC LIMIT 50"
	}
	tests := []struct{ query, index string }{
		{page("user_id = 7"), "idx_audit_events_user"},
		{page("user_id = 7 AND id >= 100 AND id <= 900"), "idx_audit_events_user"},
		{page("service_account = 'ci'"), "idx_audit_events_service_account"},
		{page("client_id = 'c'"), "idx_audit_events_client"},
		{page("route_id = 3"), "idx_audit_events_route"},
		{page("mcp_method = 'tools/call'"), "idx_audit_events_mcp_method"},
		{page("tool = 'admin_x'"), "idx_audit_events_tool"},
		{page("decision = 'deny'"), "idx_audit_events_decision"},
		{page("kind = 'sign_in'"), "idx_audit_events_kind"},
		{page("request_id = 'req-1'"), "idx_audit_events_request"},
		// The next distinct tool under a prefix; the first id at a time.
		{"SELECT tool FROM audit_events WHERE tool > 'admin_a' AND tool < 'admin`' ORDER BY tool LIMIT 1", "idx_audit_events_tool"},
		{"SELECT id FROM audit_events WHERE at >= '2026-03-01' ORDER BY at LIMIT 1", "idx_audit_events_at"},
	}
	for _, tt := range tests {
		rows, err := s.sqlDB.Query("EXPLAIN QUERY PLAN " + tt.query)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "; ")
		if !strings.Contains(text, "USING INDEX "+tt.index) && !strings.Contains(text, "USING COVERING INDEX "+tt.index) {
			t.Errorf("%s: plan %q does not use %s", tt.query, text, tt.index)
		}
		if strings.Contains(text, "TEMP B-TREE") {
			t.Errorf("%s: plan %q sorts", tt.query, text)
		}
	}
}

// TestUpgradeFromV4ThroughMigration5 builds a database as migration 4
// left it, with configuration in it, and opens it with this build: the
// audit table arrives empty beside the old rows and takes events.
func TestUpgradeFromV4ThroughMigration5(t *testing.T) {
	ctx := context.Background()
	path, db := dbAtVersion(t, 4)
	if err := db.Exec(`INSERT INTO users (email, name, password_hash, is_admin, disabled, provider, subject, groups, session_epoch, created_at, updated_at)
		VALUES ('alice@example.com', 'Alice', '', true, false, 'local', '', '[]', 1, '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')`).Error; err != nil {
		t.Fatal(err)
	}
	if db.Migrator().HasTable("audit_events") {
		t.Fatal("a version 4 database already has audit_events")
	}
	sqlDB, _ := db.DB()
	if err := sqlDB.Close(); err != nil {
		t.Fatal(err)
	}

	s := openTestStore(t, path)
	if v, err := s.SchemaVersion(ctx); err != nil || v < 5 {
		t.Fatalf("SchemaVersion = %d, %v; want at least 5", v, err)
	}
	alice, err := s.GetUserByEmail(ctx, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if n := auditCount(t, s); n != 0 {
		t.Errorf("upgraded database has %d audit events", n)
	}
	e := testAuditEvent(1)
	e.UserID, e.UserEmail = &alice.ID, alice.Email
	if err := s.AppendAuditEvents(ctx, "gw", []*AuditEvent{e}); err != nil {
		t.Fatal(err)
	}
	if st := verifyChains(t, s)["gw"]; st.Break != nil || st.Events != 1 {
		t.Errorf("chain on the upgraded database: %+v", st)
	}
}
