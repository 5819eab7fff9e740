package models

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMigration11Schema checks sign_in_failures as the database holds it:
// its indexes, and that no column but the key may be NULL.
func TestMigration11Schema(t *testing.T) {
	sqliteOnly(t, "reads SQLite's catalog; TestSchemaSameOnBothEngines holds PostgreSQL to it")
	s := newTestStore(t)
	indexes := queryStrings(t, s.sqlDB, `SELECT il.name || ' (' ||
			(SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(il.name) ORDER BY seqno)) || ')'
		FROM pragma_index_list('sign_in_failures') il WHERE il.origin = 'c' AND NOT il."unique"`)
	slices.Sort(indexes)
	if want := []string{"idx_sign_in_failures_at (at)", "idx_sign_in_failures_key (scope,key_hash,at)"}; !slices.Equal(indexes, want) {
		t.Errorf("indexes = %q, want %q", indexes, want)
	}
	if got := queryStrings(t, s.sqlDB, `SELECT name FROM pragma_table_info('sign_in_failures') WHERE NOT "notnull"`); !slices.Equal(got, []string{"id"}) {
		t.Errorf("nullable columns = %q, want id alone (the rowid)", got)
	}
}

// TestMigration11QueryPlans checks that each statement on
// sign_in_failures walks an index, as SQLite plans it: a key's count,
// and the deletion of its old rows, a range of (scope, key_hash, at); the
// sweep, a range of (at).
func TestMigration11QueryPlans(t *testing.T) {
	sqliteOnly(t, "checks SQLite's query plans")
	s := newTestStore(t)
	const hash = "0000000000000000000000000000000000000000000000000000000000000000"
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name, query string
		args        []any
		want        string
	}{
		{"count", rateEventsSQL, []any{sql.Named("scope", SignInScopeAccount), sql.Named("key", hash), sql.Named("since", at)},
			"SEARCH sign_in_failures USING COVERING INDEX idx_sign_in_failures_key (scope=? AND key_hash=? AND at>?); " +
				"SCALAR SUBQUERY 1; SEARCH sign_in_failures USING COVERING INDEX idx_sign_in_failures_key (scope=? AND key_hash=? AND at>?)"},
		{"a key's old rows", "DELETE FROM sign_in_failures WHERE scope = ? AND key_hash = ? AND at < ?", []any{SignInScopeAccount, hash, at},
			"SEARCH sign_in_failures USING INDEX idx_sign_in_failures_key (scope=? AND key_hash=? AND at<?)"},
		{"sweep", "DELETE FROM sign_in_failures WHERE at < ?", []any{at},
			"SEARCH sign_in_failures USING INDEX idx_sign_in_failures_at (at<?)"},
	} {
		if plan := explain(t, s, tt.query, tt.args...); !strings.Contains(plan, tt.want) || strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s: plan %q, want %q and no sort", tt.name, plan, tt.want)
		}
	}
}

// TestUpgradeFromV10ThroughMigration11 builds a database as migration 10
// left it and opens it with this build: sign-in failures are recorded
// and counted.
func TestUpgradeFromV10ThroughMigration11(t *testing.T) {
	ctx := context.Background()
	path, db := dbAtVersion(t, 10)
	if db.Migrator().HasTable("sign_in_failures") {
		t.Fatal("a version 10 database already has sign_in_failures")
	}
	sqlDB, _ := db.DB()
	if err := sqlDB.Close(); err != nil {
		t.Fatal(err)
	}

	s := openTestStore(t, path)
	if v, err := s.SchemaVersion(ctx); err != nil || v < 11 {
		t.Fatalf("SchemaVersion = %d, %v; want at least 11", v, err)
	}
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	if take, err := s.TakeRateEvent(ctx, RateLimit{Scope: SignInScopeAddress, Limit: 5, Window: time.Minute}, "192.0.2.7", at); err != nil || !take.Allowed {
		t.Fatal(take, err)
	}
	if n, oldest, err := s.CountRateEvents(ctx, SignInScopeAddress, "192.0.2.7", at); err != nil || n != 1 || !oldest.Equal(at) {
		t.Errorf("after the upgrade: %d failures, oldest %v, %v; want 1 at %v", n, oldest, err, at)
	}
}

// TestMigration11FrozenTypes checks that the live entity reads and writes
// the columns migration 11 created.
func TestMigration11FrozenTypes(t *testing.T) {
	wantLiveColumns(t, newTestStore(t), "sign_in_failures", &rateEvent{})
}
