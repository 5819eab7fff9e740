package models

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"
)

// explain returns SQLite's plan for q, one line per step.
func explain(t *testing.T, s *Store, q string, args ...any) string {
	t.Helper()
	return explainOn(t, s.sqlDB, q, args...)
}

// explainOn is explain on db, a *sql.DB or a *sql.Conn.
func explainOn(t *testing.T, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, q string, args ...any) string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return strings.Join(plan, "; ")
}

// TestAuditQueryPlans checks the index each query of the audit log walks,
// as SQLite plans it (without statistics, as in production): every page
// of a single filter walks that filter's (column, id) index backwards
// with no sort, whatever its depth, a time range walks ids, and each
// count of the dashboard walks one index alone.
func TestAuditQueryPlans(t *testing.T) {
	sqliteOnly(t, "checks SQLite's query plans")
	s := newTestStore(t)
	seedQueryEvents(t, s, 60)
	db := s.db
	from, to := queryBase.Add(10*time.Second), queryBase.Add(20*time.Second)
	pages := []struct {
		name  string
		f     AuditFilter
		index string // "" for the table itself, by id
	}{
		{"none", AuditFilter{}, ""},
		{"user", AuditFilter{UserID: ptr(uint(2))}, "idx_audit_events_user"},
		{"service account", AuditFilter{ServiceAccount: "ci-bot"}, "idx_audit_events_service_account"},
		{"route", AuditFilter{RouteID: ptr(uint(2))}, "idx_audit_events_route"},
		{"tool", AuditFilter{ToolPrefix: "read_file"}, "idx_audit_events_tool"},
		{"tool prefix", AuditFilter{ToolPrefix: "admin_"}, "idx_audit_events_tool"},
		{"method", AuditFilter{MCPMethod: "tools/call"}, "idx_audit_events_mcp_method"},
		{"decision", AuditFilter{Decision: AuditDeny}, "idx_audit_events_decision"},
		{"client", AuditFilter{ClientID: "client-a"}, "idx_audit_events_client"},
		{"kind", AuditFilter{Kind: AuditKindSignIn}, "idx_audit_events_kind"},
		{"failures", AuditFilter{Outcome: AuditOutcomeHTTPError}, "idx_audit_events_failed"},
		{"ok", AuditFilter{Outcome: AuditOutcomeOK}, ""},
		{"pending", AuditFilter{Outcome: AuditOutcomePending}, ""},
		{"text", AuditFilter{Text: "needle"}, ""},
		{"time", AuditFilter{From: from, To: to}, ""},
		{"user in time", AuditFilter{UserID: ptr(uint(2)), From: from, To: to}, "idx_audit_events_user"},
		{"method and user", AuditFilter{MCPMethod: "tools/call", UserID: ptr(uint(2))}, "idx_audit_events_"},
	}
	for _, tt := range pages {
		p, err := planAudit(db, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		for _, desc := range []bool{true, false} {
			q, args := p.query(1, 1000, 51, desc)
			plan := explain(t, s, q, args...)
			switch {
			case tt.index == "" && !strings.Contains(plan, "USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"):
				t.Errorf("%s: plan %q does not walk the table by id", tt.name, plan)
			case tt.index != "" && !strings.Contains(plan, " INDEX "+tt.index):
				t.Errorf("%s: plan %q does not walk %s", tt.name, plan, tt.index)
			case strings.Contains(plan, "idx_audit_events_calls"):
				t.Errorf("%s: plan %q walks the dashboard's index, and must sort", tt.name, plan)
			case strings.Contains(plan, "TEMP B-TREE") && !p.multi:
				// A tool IN list sorts, but SQLite stops each tool's walk
				// once LIMIT rows of it are in: see planAudit.
				t.Errorf("%s: plan %q sorts", tt.name, plan)
			}
		}
		if len(p.conds) == 1 && !p.multi {
			q, args := p.floorQuery(1, 1000, 100)
			if plan := explain(t, s, q, args...); !strings.Contains(plan, "COVERING INDEX "+tt.index) {
				t.Errorf("%s: the window's floor is found by %q, not by %s alone", tt.name, plan, tt.index)
			}
		}
	}

	others := []struct {
		name, query, index string
		args               []any
	}{
		{"first id at", auditFirstIDAtSQL, "COVERING INDEX idx_audit_events_at", []any{from}},
		{"next tool", "SELECT tool FROM audit_events WHERE tool > ? AND tool < ? ORDER BY tool LIMIT 1", "COVERING INDEX idx_audit_events_tool", []any{"a", "b"}},
		{"next writer", "SELECT writer FROM audit_events WHERE writer > ? ORDER BY writer LIMIT 1", "COVERING INDEX idx_audit_events_writer_seq", []any{"a"}},
		{"retention", "SELECT " + auditSelectColumns + " FROM audit_events WHERE writer = ? ORDER BY seq LIMIT ?", "INDEX idx_audit_events_writer_seq", []any{"gw", 10}},
		{"bucket calls", auditBucketCallsSQL, "COVERING INDEX idx_audit_events_mcp_method", []any{mcpToolsCall, 1, 100}},
		{"bucket refused", auditBucketRefusedSQL, "COVERING INDEX idx_audit_events_refused", []any{1, 100}},
		{"calls", auditCallsSQL, "COVERING INDEX idx_audit_events_calls", []any{mcpToolsCall, 1, 100}},
		{"failed", auditFailedCountSQL, "COVERING INDEX idx_audit_events_failed", []any{1, 100}},
	}
	for _, tt := range others {
		plan := explain(t, s, tt.query, tt.args...)
		if !strings.Contains(plan, tt.index) {
			t.Errorf("%s: plan %q does not use %s", tt.name, plan, tt.index)
		}
		// Grouping a few hundred refused or failed rows sorts them; the
		// calls, a week of them, are grouped in the index's order.
		if strings.Contains(plan, "TEMP B-TREE") && tt.name != "bucket refused" && tt.name != "failed" {
			t.Errorf("%s: plan %q sorts", tt.name, plan)
		}
	}
}
