package models

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"
)

// TestMigration9Schema checks audit_verification_chains as the database
// holds it: its key, its foreign key and which columns may be NULL.
func TestMigration9Schema(t *testing.T) {
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
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	const table = "audit_verification_chains"
	if got := query(`SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk`, table); !slices.Equal(got, []string{"verification_id", "writer"}) {
		t.Errorf("key = %v, want (verification_id, writer)", got)
	}
	if got := query(`SELECT "from" || ' → ' || "table" || '.' || "to" || ' ' || on_delete FROM pragma_foreign_key_list(?)`, table); !slices.Equal(got, []string{"verification_id → audit_verifications.id CASCADE"}) {
		t.Errorf("foreign keys = %q", got)
	}
	if got := query(`SELECT name FROM pragma_table_info(?) WHERE NOT "notnull" ORDER BY name`, table); !slices.Equal(got, []string{"broken_event_id", "broken_seq"}) {
		t.Errorf("nullable columns = %q, want broken_event_id and broken_seq only", got)
	}
}

// TestUpgradeFromV8ThroughMigration9 builds a database as migration 8
// left it, with a recorded verification, and opens it with this build:
// the old verification reads back with no chains, and a new one records
// its chains beside it.
func TestUpgradeFromV8ThroughMigration9(t *testing.T) {
	ctx := context.Background()
	path, db := dbAtVersion(t, 8)
	if err := db.Exec(`INSERT INTO audit_verifications (at, actor, ok) VALUES ('2026-01-01 09:00:00+00:00', 'cli', false)`).Error; err != nil {
		t.Fatal(err)
	}
	if db.Migrator().HasTable("audit_verification_chains") {
		t.Fatal("a version 8 database already has audit_verification_chains")
	}
	sqlDB, _ := db.DB()
	if err := sqlDB.Close(); err != nil {
		t.Fatal(err)
	}

	s := openTestStore(t, path)
	if v, err := s.SchemaVersion(ctx); err != nil || v < 9 {
		t.Fatalf("SchemaVersion = %d, %v; want at least 9", v, err)
	}
	old, err := s.LastAuditVerification(ctx)
	if want := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC); err != nil || !old.At.Equal(want) || old.By != "cli" || old.OK || len(old.Chains) != 0 {
		t.Errorf("the version 8 verification after the upgrade: %+v, %v", old, err)
	}
	chains := []AuditChainResult{{Writer: "gw", Events: 2, FirstSeq: 1, LastSeq: 2, LastHash: "ab", OK: true}}
	if err := s.RecordAuditVerification(ctx, time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC), chains); err != nil {
		t.Fatal(err)
	}
	if last, err := s.LastAuditVerification(ctx); err != nil || !last.OK || !reflect.DeepEqual(last.Chains, chains) {
		t.Errorf("a verification after the upgrade: %+v, %v", last, err)
	}
	// Deleting a verification takes its chains with it.
	if err := s.db.Exec("DELETE FROM audit_verifications").Error; err != nil {
		t.Fatal(err)
	}
	if n := rowCount(t, s, "audit_verification_chains"); n != 0 {
		t.Errorf("%d chains outlived their verification", n)
	}
}

// TestMigration9FrozenTypes checks that the live entity reads and writes
// the columns migration 9 created.
func TestMigration9FrozenTypes(t *testing.T) {
	wantLiveColumns(t, newTestStore(t), "audit_verification_chains", &auditVerificationChain{})
}
