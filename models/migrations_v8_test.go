package models

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// indexNames returns the names CREATE INDEX statements give.
func indexNames(stmts []string) []string {
	var names []string
	for _, s := range stmts {
		f := strings.Fields(s)
		i := slices.Index(f, "INDEX")
		names = append(names, f[i+1])
	}
	return names
}

// TestMigration8Schema checks what migration 8 added as the database
// holds it.
func TestMigration8Schema(t *testing.T) {
	sqliteOnly(t, "reads SQLite's catalog; TestSchemaSameOnBothEngines holds PostgreSQL to it")
	s := newTestStore(t)
	query := func(q string, args ...any) []string {
		t.Helper()
		rows, err := s.sqlDB.Query(q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
		return out
	}
	want := map[string]string{
		"idx_audit_events_calls":   "(mcp_method, user_id, route_id, tool, id)",
		"idx_audit_events_refused": "(id, mcp_method, decision) WHERE decision <> 'allow'",
		"idx_audit_events_failed":  "(id, mcp_method, route_id, status, rpc_error_code, is_error) WHERE " + auditFailedSQL,
	}
	for name, tail := range want {
		ddl := query("SELECT sql FROM sqlite_master WHERE name = ?", name)
		if len(ddl) != 1 || !strings.HasSuffix(ddl[0], "ON audit_events "+tail) {
			t.Errorf("%s: %q, want it ending %q", name, ddl, tail)
		}
	}
	if got := indexNames(auditIndexesV8); !slices.Equal(got, []string{"idx_audit_events_calls", "idx_audit_events_refused", "idx_audit_events_failed"}) {
		t.Errorf("indexNames = %v", got)
	}
	for table, nullable := range map[string][]string{"audit_checkpoints": nil, "audit_verifications": {"id"}} {
		if got := query(`SELECT name FROM pragma_table_info(?) WHERE NOT "notnull"`, table); !slices.Equal(got, nullable) {
			t.Errorf("%s's nullable columns: %v, want %v", table, got, nullable)
		}
	}
	if got := query(`SELECT name FROM pragma_table_info('audit_checkpoints') WHERE pk > 0`); !slices.Equal(got, []string{"writer"}) {
		t.Errorf("audit_checkpoints' key: %v", got)
	}
	if got := query(`SELECT "notnull" || ' ' || dflt_value FROM pragma_table_info('users') WHERE name = 'is_auditor'`); !slices.Equal(got, []string{"1 false"}) {
		t.Errorf("users.is_auditor: %v, want NOT NULL DEFAULT false", got)
	}
}

// TestUpgradeFromV7ThroughMigration8 builds a database as migration 7
// left it, with a user and a chain of audit events, and opens it with
// this build: the user is no auditor, the events verify and page as
// before, and the new indexes serve them.
func TestUpgradeFromV7ThroughMigration8(t *testing.T) {
	ctx := context.Background()
	path, db := dbAtVersion(t, 7)
	if err := db.Exec(`INSERT INTO users (email, name, password_hash, is_admin, disabled, provider, subject, groups, session_epoch, created_at, updated_at)
		VALUES ('alice@example.com', 'Alice', '', true, false, 'local', '', '[]', 1, '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')`).Error; err != nil {
		t.Fatal(err)
	}
	// The events as a version 7 build appended them: a chain from seq 1.
	var evs []*AuditEvent
	prev := ""
	for i := range 30 {
		e := queryEvent(i)
		e.normalize()
		e.Writer, e.Seq, e.PrevHash = "gw", uint64(i+1), prev
		e.Hash = e.chainHash()
		prev, evs = e.Hash, append(evs, e)
	}
	for _, e := range evs {
		args := e.insertArgs()
		err := db.Exec("INSERT INTO audit_events ("+auditInsertColumns+") VALUES ("+
			bindVars(false, 1, auditInsertColumnCount)+")", args[1:]...).Error
		if err != nil {
			t.Fatal(err)
		}
	}
	if db.Migrator().HasTable("audit_checkpoints") || db.Migrator().HasColumn("users", "is_auditor") {
		t.Fatal("a version 7 database already has migration 8's schema")
	}
	sqlDB, _ := db.DB()
	if err := sqlDB.Close(); err != nil {
		t.Fatal(err)
	}

	s := openTestStore(t, path)
	if v, err := s.SchemaVersion(ctx); err != nil || v < 8 {
		t.Fatalf("SchemaVersion = %d, %v; want at least 8", v, err)
	}
	alice, err := s.GetUserByEmail(ctx, "alice@example.com")
	if err != nil || !alice.IsAdmin || alice.IsAuditor {
		t.Fatalf("alice after the upgrade: %+v, %v", alice, err)
	}
	if st := verifyChains(t, s)["gw"]; !st.OK || st.Events != 30 || st.FirstSeq != 1 || st.CheckpointSeq != 0 {
		t.Errorf("chain after the upgrade: %+v", st)
	}
	all := allAuditEvents(t, s)
	for _, f := range []AuditFilter{{}, {Decision: AuditDeny}, {ToolPrefix: "admin_"}, {Outcome: AuditOutcomePending}} {
		if got, want := pageAll(t, s, f, 4), expectedIDs(all, f); !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("%+v after the upgrade: %v, want %v", f, got, want)
		}
	}
	if d, err := s.AuditDashboard(ctx, queryBase, 5*time.Second, queryBase.Add(15*time.Second)); err != nil || d.Calls != 21 {
		t.Errorf("dashboard after the upgrade: %+v, %v", d, err)
	}
	if err := s.SetAuditor(ctx, alice.ID, true); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.GetUser(ctx, alice.ID); !u.IsAuditor {
		t.Error("SetAuditor on an upgraded user did not stick")
	}
}

// TestMigration8FrozenTypes checks that the live entities read and write
// the columns migration 8 created or changed.
func TestMigration8FrozenTypes(t *testing.T) {
	s := newTestStore(t)
	wantLiveColumns(t, s, "users", &User{})
	wantLiveColumns(t, s, "audit_checkpoints", &auditCheckpoint{})
	wantLiveColumns(t, s, "audit_verifications", &auditVerification{})
}
