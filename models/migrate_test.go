package models

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
)

// update regenerates testdata/schema-v1.db, a database exactly as migration
// set 1 left it, with two users in it:
//
//	go test ./models -run TestUpgradeFromV1 -args -update
//
// The fixture stands for databases already in the field, so it should only
// ever need regenerating if it is lost; commit the result.
var update = flag.Bool("update", false, "regenerate testdata/schema-v1.db")

const (
	v1Fixture         = "testdata/schema-v1.db"
	v1FixturePassword = "fixture password one"
)

var discardLog = slog.New(slog.DiscardHandler)

func TestMigrationsAreNumberedInOrder(t *testing.T) {
	names := map[string]bool{}
	for i, m := range migrations {
		if m.version != i+1 {
			t.Errorf("migrations[%d] has version %d, want %d", i, m.version, i+1)
		}
		if m.name == "" || names[m.name] {
			t.Errorf("migration %d: name %q is empty or repeated", m.version, m.name)
		}
		names[m.name] = true
		if m.up == nil {
			t.Errorf("migration %d has no up function", m.version)
		}
	}
}

func TestUpgradeFromV1(t *testing.T) {
	if *update {
		writeV1Fixture(t)
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	v1Database(t, path)
	if v := rawSchemaVersion(t, path); v != 1 {
		t.Fatalf("fixture is at schema version %d, want 1", v)
	}

	s := openTestStore(t, path)
	if v, err := s.SchemaVersion(ctx); err != nil || v != len(migrations) {
		t.Errorf("SchemaVersion = %d, %v; want %d", v, err, len(migrations))
	}
	if v := configVersionOf(t, s); v != 3 {
		t.Errorf("ConfigVersion = %d, want the fixture's 3", v)
	}
	alice, err := s.GetUserByEmail(ctx, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !alice.IsAdmin || alice.Provider != ProviderLocal || alice.Name != "Alice Admin" ||
		len(alice.Groups) != 0 || alice.SessionEpoch != 2 || !CheckPassword(alice.PasswordHash, v1FixturePassword) {
		t.Errorf("alice after upgrade: %+v", alice)
	}
	bob, err := s.GetUserByEmail(ctx, "BOB@corp.example")
	if err != nil {
		t.Fatal(err)
	}
	signedIn := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	if bob.Provider != "corp" || bob.Subject != "bob-sub" || !bob.Disabled || bob.PasswordHash != "" ||
		len(bob.Groups) != 2 || bob.Groups[0] != "eng" || bob.LastSignInAt == nil || !bob.LastSignInAt.Equal(signedIn) {
		t.Errorf("bob after upgrade: %+v", bob)
	}

	// The old rows still take part in the constraints and lookups.
	if u, err := s.UpsertOIDCUser(ctx, OIDCIdentity{Provider: "corp", Subject: "bob-sub", Email: "bob@corp.example"}); err != nil || u.ID != bob.ID {
		t.Errorf("OIDC sign-in as bob = %+v, %v; want user %d", u, err, bob.ID)
	}
	if err := s.CreateUser(ctx, &User{Email: "Alice@Example.com", Provider: ProviderLocal}); !errors.Is(err, ErrConflict) {
		t.Errorf("duplicate of a fixture email: err = %v, want ErrConflict", err)
	}
	if _, total, err := s.ListUsers(ctx, UserFilter{}); err != nil || total != 2 {
		t.Errorf("ListUsers total = %d, %v; want 2", total, err)
	}

	// Migration 2's tables work beside the old rows, and writes to those
	// rows now leave history.
	// (Bob's sign-in above dropped his groups: one change.)
	if n := changeCount(t, s); n != 1 {
		t.Errorf("upgraded database has %d changes, want 1", n)
	}
	p := createPolicy(t, s, "staff")
	createRoute(t, s, "Wiki", "http://wiki.localhost:8080", p.ID)
	if err := s.SetAdmin(WithActor(ctx, "alice@example.com"), bob.ID, true); err != nil {
		t.Fatal(err)
	}
	if c := lastChange(t, s); c.ResourceName != "bob@corp.example" || c.Actor != "alice@example.com" || !strings.Contains(c.After, "\nis_admin: true\n") {
		t.Errorf("change to a fixture user recorded as %+v", c)
	}
	if v := configVersionOf(t, s); v != 7 {
		t.Errorf("ConfigVersion = %d, want the fixture's 3 plus four writes", v)
	}
}

// v1Database puts at path a database as migration set 1 left it, with
// the fixture's users: on SQLite, a copy of the fixture file, a database
// from the field; on PostgreSQL, where none is older than this build,
// the same rows written as the fixture's were.
func v1Database(t *testing.T, path string) {
	t.Helper()
	if !onPostgres {
		copyFile(t, v1Fixture, path)
		return
	}
	db, err := openTestDB(t, path)
	if err != nil {
		t.Fatal(err)
	}
	fillV1(t, db)
	sqlDB, _ := db.DB()
	if err := sqlDB.Close(); err != nil {
		t.Fatal(err)
	}
}

// writeV1Fixture builds v1Fixture with migration 1 and its frozen types
// only, so it keeps meaning "a version 1 database" as the code moves on.
func writeV1Fixture(t *testing.T) {
	t.Helper()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(v1Fixture + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	db, err := openSQLite(context.Background(), v1Fixture, discardLog)
	if err != nil {
		t.Fatal(err)
	}
	fillV1(t, db)
	// Leave one self-contained file: no -wal beside it to commit.
	if err := db.Exec("PRAGMA journal_mode=DELETE").Error; err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	if err := sqlDB.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", v1Fixture)
}

// fillV1 applies migration 1 to the empty database db and writes the
// fixture's rows.
func fillV1(t *testing.T, db *gorm.DB) {
	t.Helper()
	ctx := context.Background()
	if err := migrate(ctx, db, migrations[:1], discardLog); err != nil {
		t.Fatal(err)
	}
	hash, err := HashPassword(v1FixturePassword)
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	signedIn := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	users := []userV1{
		{Email: "alice@example.com", Name: "Alice Admin", PasswordHash: hash, IsAdmin: true,
			Provider: "local", Groups: "[]", SessionEpoch: 2, CreatedAt: created, UpdatedAt: created},
		{Email: "bob@corp.example", Name: "Bob", Disabled: true, Provider: "corp", Subject: "bob-sub",
			Groups: `["eng","ops"]`, LastSignInAt: &signedIn, CreatedAt: created, UpdatedAt: signedIn},
	}
	if err := db.Create(&users).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Model(&configVersionV1{}).Where("id = 1").Update("version", 3).Error; err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "future.db")
	s := openTestStore(t, path)
	future := schemaMigration{Version: len(migrations) + 1, Name: "from the future", AppliedAt: time.Now()}
	if err := s.db.Create(&future).Error; err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), testOptions(t, path))
	if !errors.Is(err, errSchemaTooNew) {
		t.Errorf("Open = %v, want errSchemaTooNew", err)
	}
}

func TestReopenAppliesNothingTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "again.db")
	first := openTestStore(t, path)
	version := configVersionOf(t, first)
	second := openTestStore(t, path)
	var applied int64
	if err := second.db.Model(&schemaMigration{}).Count(&applied).Error; err != nil {
		t.Fatal(err)
	}
	if applied != int64(len(migrations)) {
		t.Errorf("schema_migrations has %d rows, want %d", applied, len(migrations))
	}
	if got := configVersionOf(t, second); got != version {
		t.Errorf("config version went from %d to %d on reopen", version, got)
	}
}

// TestOpenConcurrentlyMigratesOnce races several Opens of one unmigrated
// database, as when two processes start on a fresh data directory.
func TestOpenConcurrentlyMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "race.db")
	// Switching a new file to WAL is the one step SQLite may refuse with
	// SQLITE_BUSY instead of waiting, so that is done first; the race under
	// test is between the migrations.
	db, err := openTestDB(t, path)
	if err != nil {
		t.Fatal(err)
	}
	if sqlDB, err := db.DB(); err != nil || sqlDB.Close() != nil {
		t.Fatal("closing the prepared database failed")
	}
	opts := testOptions(t, path)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := Open(context.Background(), opts)
			if err != nil {
				t.Error(err)
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	if v := rawSchemaVersion(t, path); v != len(migrations) {
		t.Errorf("schema version = %d, want %d", v, len(migrations))
	}
}

func TestFailedMigrationRollsBack(t *testing.T) {
	ctx := context.Background()
	db, err := openTestDB(t, filepath.Join(t.TempDir(), "fail.db"))
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	defer sqlDB.Close()
	type halfDone struct{ ID uint }
	list := append(migrations[:1:1], migration{version: 2, name: "breaks halfway", up: func(tx *gorm.DB) error {
		if err := tx.Migrator().CreateTable(&halfDone{}); err != nil {
			return err
		}
		return errors.New("boom")
	}})
	if err := migrate(ctx, db, list, discardLog); err == nil {
		t.Fatal("migrate succeeded, want the migration's error")
	}
	if v, err := schemaVersion(db); err != nil || v != 1 {
		t.Errorf("schema version = %d, %v; want 1", v, err)
	}
	if db.Migrator().HasTable(&halfDone{}) {
		t.Error("the failed migration's table survived")
	}
}

func rawSchemaVersion(t *testing.T, path string) int {
	t.Helper()
	db, err := openTestDB(t, path)
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	defer sqlDB.Close()
	v, err := schemaVersion(db)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
