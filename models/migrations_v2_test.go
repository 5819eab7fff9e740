package models

import (
	"errors"
	"maps"
	"testing"
	"time"

	"gorm.io/gorm"
)

// TestMigration2Constraints checks what the database itself enforces,
// whatever a future write path forgets to check.
func TestMigration2Constraints(t *testing.T) {
	s := newTestStore(t)
	foreignKeys := func(table string) map[string]string {
		t.Helper()
		rows, err := s.sqlDB.Query("SELECT \"table\", on_delete FROM pragma_foreign_key_list(?)", table)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]string{}
		for rows.Next() {
			var parent, onDelete string
			if err := rows.Scan(&parent, &onDelete); err != nil {
				t.Fatal(err)
			}
			out[parent] = onDelete
		}
		return out
	}
	// SQLite's catalog; TestSchemaSameOnBothEngines holds PostgreSQL to it.
	if !onPostgres {
		if got := foreignKeys("routes"); !maps.Equal(got, map[string]string{"upstream_apps": "RESTRICT"}) {
			t.Errorf("routes' foreign keys = %v", got)
		}
		if got := foreignKeys("route_policies"); !maps.Equal(got, map[string]string{"routes": "CASCADE", "policies": "RESTRICT"}) {
			t.Errorf("route_policies' foreign keys = %v", got)
		}
	}

	// Unique indexes, written to directly, past the store's own checks.
	now := time.Now()
	insert := func(v any) error { return s.db.Create(v).Error }
	if err := insert(&routeV2{Name: "GitHub", From: "http://a.localhost", To: "http://x", Kind: KindHTTP, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		row  any
	}{
		{"route name in another case", &routeV2{Name: "GITHUB", From: "http://b.localhost", To: "http://x", Kind: KindHTTP, CreatedAt: now, UpdatedAt: now}},
		{"route from", &routeV2{Name: "Other", From: "http://a.localhost", To: "http://x", Kind: KindHTTP, CreatedAt: now, UpdatedAt: now}},
		{"policy name", &policyV2{Name: "p", CreatedAt: now, UpdatedAt: now}},
		{"app name", &upstreamAppV2{Name: "a", Scopes: "[]", ExtraAuthParams: "{}", CreatedAt: now, UpdatedAt: now}},
	}
	if err := insert(&policyV2{Name: "p", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := insert(&upstreamAppV2{Name: "a", Scopes: "[]", ExtraAuthParams: "{}", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		if err := insert(tt.row); !errors.Is(err, gorm.ErrDuplicatedKey) {
			t.Errorf("%s: duplicate insert = %v, want gorm.ErrDuplicatedKey", tt.name, err)
		}
	}
	if err := insert(&routePolicyV2{RouteID: 999, PolicyID: 1}); err == nil {
		t.Error("a link to a missing route was stored")
	}
}
