package models

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"gorm.io/gorm"
)

// TestMigration4Schema checks the settings table as the database holds
// it: name is the key, and the live type reads what the frozen one wrote.
func TestMigration4Schema(t *testing.T) {
	sqliteOnly(t, "reads SQLite's catalog; TestSchemaSameOnBothEngines holds PostgreSQL to it")
	s := newTestStore(t)
	type column struct {
		name, typ     string
		notNull, pkey bool
	}
	rows, err := s.sqlDB.Query(`SELECT name, lower(type), "notnull", pk FROM pragma_table_info('settings') ORDER BY cid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.typ, &c.notNull, &c.pkey); err != nil {
			t.Fatal(err)
		}
		got = append(got, c)
	}
	want := []column{
		{"name", "text", false, true},
		{"value", "text", true, false},
		{"updated_at", "datetime", true, false},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("settings columns = %+v, want %+v", got, want)
	}

	now := time.Now()
	row := &settingV4{Name: "registration_enabled", Value: "false", UpdatedAt: now}
	if err := s.db.Create(row).Error; err != nil {
		t.Fatal(err)
	}
	dup := &settingV4{Name: "registration_enabled", Value: "true", UpdatedAt: now}
	if err := s.db.Create(dup).Error; !errors.Is(err, gorm.ErrDuplicatedKey) {
		t.Errorf("a second row for one name = %v, want gorm.ErrDuplicatedKey", err)
	}
	if st := getSettings(t, s); st.RegistrationEnabled {
		t.Error("the live type did not read the row the frozen one wrote")
	}
}

// TestUpgradeFromV1ThroughMigration4 opens the version 1 fixture, finds
// the default settings, and changes them.
func TestUpgradeFromV1ThroughMigration4(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	v1Database(t, path)
	s := openTestStore(t, path)
	if v, err := s.SchemaVersion(ctx); err != nil || v < 4 {
		t.Fatalf("SchemaVersion = %d, %v; want at least 4", v, err)
	}
	if st := getSettings(t, s); !reflect.DeepEqual(st, DefaultSettings()) {
		t.Errorf("settings after the upgrade = %+v, want the defaults", st)
	}
	v0 := configVersionOf(t, s)
	if err := s.UpdateSettings(ctx, Settings{MetadataDocumentsEnabled: true}); err != nil {
		t.Fatal(err)
	}
	if v := configVersionOf(t, s); v != v0+1 {
		t.Errorf("ConfigVersion = %d, want %d", v, v0+1)
	}
	if st := getSettings(t, s); st.RegistrationEnabled {
		t.Errorf("settings after the update = %+v", st)
	}
}
