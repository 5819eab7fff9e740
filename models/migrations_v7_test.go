package models

import (
	"context"
	"slices"
	"testing"
)

// TestMigration7Schema checks the service accounts' tables as the
// database holds them: their foreign keys, their indexes and which
// columns may be NULL.
func TestMigration7Schema(t *testing.T) {
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
		slices.Sort(out)
		return out
	}
	tests := []struct {
		table             string
		foreignKeys       []string
		indexes, nullable []string
	}{
		{
			table:       "service_accounts",
			foreignKeys: []string{"user_id → users.id CASCADE"},
			indexes: []string{"idx_service_accounts_name unique (<expression>)", "idx_service_accounts_token_hash unique (token_hash)",
				"idx_service_accounts_user (user_id)"},
			nullable: []string{"expires_at", "id", "last_used_at", "previous_valid_until", "revoked_at"},
		},
		{
			table:       "service_account_routes",
			foreignKeys: []string{"route_id → routes.id CASCADE", "service_account_id → service_accounts.id CASCADE"},
			indexes:     []string{"idx_service_account_routes_route (route_id)"},
			nullable:    nil,
		},
	}
	for _, tt := range tests {
		fks := query(`SELECT "from" || ' → ' || "table" || '.' || "to" || ' ' || on_delete FROM pragma_foreign_key_list(?)`, tt.table)
		if !slices.Equal(fks, tt.foreignKeys) {
			t.Errorf("%s's foreign keys = %q, want %q", tt.table, fks, tt.foreignKeys)
		}
		indexes := query(`SELECT il.name || CASE WHEN il."unique" THEN ' unique' ELSE '' END || ' (' ||
				(SELECT group_concat(n, ',') FROM (SELECT coalesce(name, '<expression>') AS n FROM pragma_index_info(il.name) ORDER BY seqno)) || ')'
			FROM pragma_index_list(?) il WHERE il.origin = 'c'`, tt.table)
		if !slices.Equal(indexes, tt.indexes) {
			t.Errorf("%s's indexes = %q, want %q", tt.table, indexes, tt.indexes)
		}
		nullable := query(`SELECT name FROM pragma_table_info(?) WHERE NOT "notnull"`, tt.table)
		if !slices.Equal(nullable, tt.nullable) {
			t.Errorf("%s's nullable columns = %q, want %q", tt.table, nullable, tt.nullable)
		}
	}
	// The name index is on lower(name), so case cannot repeat a name even
	// in a row written around the store.
	var ddl string
	if err := s.sqlDB.QueryRow(`SELECT sql FROM sqlite_master WHERE name = 'idx_service_accounts_name'`).Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	if want := "CREATE UNIQUE INDEX `idx_service_accounts_name` ON `service_accounts`(lower(name))"; ddl != want {
		t.Errorf("name index:\n%s\nwant:\n%s", ddl, want)
	}
}

// TestUpgradeFromV6ThroughMigration7 builds a database as migration 6
// left it, with a user, a route, a setting and a change in it, and opens
// it with this build: the old rows stay, and service accounts can then
// name them and go with them.
func TestUpgradeFromV6ThroughMigration7(t *testing.T) {
	ctx := context.Background()
	path, db := dbAtVersion(t, 6)
	const at = "'2026-01-01 00:00:00+00:00'"
	for _, stmt := range []string{
		`INSERT INTO users (email, name, password_hash, is_admin, disabled, provider, subject, groups, session_epoch, created_at, updated_at)
			VALUES ('alice@example.com', 'Alice', '', true, false, 'local', '', '[]', 1, ` + at + `, ` + at + `)`,
		`INSERT INTO routes (name, description, from_url, to_url, kind, upstream_app_id, timeout_seconds, max_request_bytes,
			pass_upstream_token, enabled, created_at, updated_at)
			VALUES ('tools', '', 'https://tools.example.com', 'http://127.0.0.1:9001/', 'http', NULL, 0, 0, false, true, ` + at + `, ` + at + `)`,
		`INSERT INTO settings (name, value, updated_at) VALUES ('audit_fail_open', 'true', ` + at + `)`,
		`INSERT INTO changes (at, actor, resource, resource_id, resource_name, action, before, after)
			VALUES (` + at + `, 'alice@example.com', 'route', 1, 'tools', 'create', '', 'name: tools\n')`,
		`UPDATE config_versions SET version = 42`,
	} {
		if err := db.Exec(stmt).Error; err != nil {
			t.Fatal(err)
		}
	}
	if db.Migrator().HasTable("service_accounts") {
		t.Fatal("a version 6 database already has service_accounts")
	}
	sqlDB, _ := db.DB()
	if err := sqlDB.Close(); err != nil {
		t.Fatal(err)
	}

	s := openTestStore(t, path)
	if v, err := s.SchemaVersion(ctx); err != nil || v < 7 {
		t.Fatalf("SchemaVersion = %d, %v; want at least 7", v, err)
	}
	alice, err := s.GetUserByEmail(ctx, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	route, err := s.GetRouteByName(ctx, "tools")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := s.GetSettings(ctx); err != nil || !st.AuditFailOpen || st.UserServiceAccounts {
		t.Errorf("settings after the upgrade: %+v, %v", st, err)
	}
	if v := configVersionOf(t, s); v != 42 {
		t.Errorf("config version after the upgrade = %d, want 42", v)
	}
	if n := changeCount(t, s); n != 1 {
		t.Errorf("history after the upgrade has %d changes, want 1", n)
	}
	for _, table := range []string{"service_accounts", "service_account_routes"} {
		if n := rowCount(t, s, table); n != 0 {
			t.Errorf("upgraded database has %d rows in %s", n, table)
		}
	}

	// An account limited to the old route loses the link with the route,
	// and goes with the old user.
	a := createServiceAccount(t, s, "ci", alice.ID, route.ID)
	if got := getServiceAccount(t, s, a.ID); !slices.Equal(got.RouteIDs, []uint{route.ID}) || got.UserEmail != "alice@example.com" {
		t.Errorf("account on the upgraded database: %+v", got)
	}
	if err := s.DeleteRoute(ctx, route.ID); err != nil {
		t.Fatal(err)
	}
	if n := rowCount(t, s, "service_account_routes"); n != 0 {
		t.Errorf("%d route links outlived their route", n)
	}
	if err := s.db.Exec("DELETE FROM users WHERE id = ?", alice.ID).Error; err != nil {
		t.Fatal(err)
	}
	if n := rowCount(t, s, "service_accounts"); n != 0 {
		t.Errorf("%d service accounts outlived their user", n)
	}
}

// TestMigration7FrozenTypes checks that the live entities read and write
// the columns migration 7 created: a field the live types renamed would
// be a column GORM cannot find.
func TestMigration7FrozenTypes(t *testing.T) {
	s := newTestStore(t)
	wantLiveColumns(t, s, "service_accounts", &ServiceAccount{})
	wantLiveColumns(t, s, "service_account_routes", &serviceAccountRoute{})
}
