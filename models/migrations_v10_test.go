package models

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMigration10Schema checks shared_keys as the database holds it: its
// key, and that no column may be NULL.
func TestMigration10Schema(t *testing.T) {
	sqliteOnly(t, "reads SQLite's catalog; TestSchemaSameOnBothEngines holds PostgreSQL to it")
	s := newTestStore(t)
	if got := queryStrings(t, s.sqlDB, `SELECT name FROM pragma_table_info('shared_keys') WHERE pk > 0`); !slices.Equal(got, []string{"name"}) {
		t.Errorf("key = %v, want (name)", got)
	}
	if got := queryStrings(t, s.sqlDB, `SELECT name FROM pragma_table_info('shared_keys') WHERE NOT "notnull" AND pk = 0`); len(got) != 0 {
		t.Errorf("nullable columns = %q, want none", got)
	}
}

// TestUpgradeFromV9ThroughMigration10 builds a database as migration 9
// left it, with a secret sealed with k1, and opens it with this build:
// a process with other keys may not be the one to write the encryption
// check (it would make its keys the ones every replica must have), and
// the one with k1 writes it, after which other keys are refused on the
// check alone.
func TestUpgradeFromV9ThroughMigration10(t *testing.T) {
	ctx := context.Background()
	path, db := dbAtVersion(t, 9)
	sealed, err := testCipher(t).Encrypt([]byte("s3cret"), clientSecretAAD(1))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	app := upstreamAppV2{ID: 1, Name: "github", ClientID: "abc", ClientSecret: &sealed, AuthURL: "https://github.com/login/oauth/authorize",
		TokenURL: "https://github.com/login/oauth/access_token", Scopes: "[]", AuthStyle: "auto", ExtraAuthParams: "{}", CreatedAt: at, UpdatedAt: at}
	if err := db.Create(&app).Error; err != nil {
		t.Fatal(err)
	}
	if db.Migrator().HasTable("shared_keys") {
		t.Fatal("a version 9 database already has shared_keys")
	}
	sqlDB, _ := db.DB()
	if err := sqlDB.Close(); err != nil {
		t.Fatal(err)
	}

	k2 := testKey("k2", 2)
	if err := openWithKeys(t, path, k2); !errors.Is(err, ErrEncryptionKeys) || !strings.Contains(err.Error(), "upstream_apps 1") {
		t.Fatalf("the first open with other keys than the secrets': %v; want a refusal naming upstream_apps 1", err)
	}

	s := openTestStore(t, path)
	if v, err := s.SchemaVersion(ctx); err != nil || v < 10 {
		t.Fatalf("SchemaVersion = %d, %v; want at least 10", v, err)
	}
	if got, err := s.UpstreamAppSecret(ctx, 1); err != nil || got != "s3cret" {
		t.Errorf("the version 9 secret after the upgrade: %q, %v", got, err)
	}
	if n := rowCount(t, s, "shared_keys"); n != 1 {
		t.Errorf("%d shared keys after the upgrade, want the encryption check alone", n)
	}
	if err := openWithKeys(t, path, k2); !errors.Is(err, ErrEncryptionKeys) {
		t.Errorf("an open with other keys after the upgrade: %v, want ErrEncryptionKeys", err)
	}
}

// TestMigration10FrozenTypes checks that the live entity reads and writes
// the columns migration 10 created.
func TestMigration10FrozenTypes(t *testing.T) {
	wantLiveColumns(t, newTestStore(t), "shared_keys", &sharedKey{})
}
