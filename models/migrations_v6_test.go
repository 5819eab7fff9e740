package models

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"
)

// TestMigration6Schema checks the vault's tables as the database holds
// them: their foreign keys, their indexes and which columns may be NULL.
func TestMigration6Schema(t *testing.T) {
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
			table:       "upstream_connections",
			foreignKeys: []string{"app_id → upstream_apps.id CASCADE", "user_id → users.id CASCADE"},
			indexes:     []string{"idx_upstream_connections_app (app_id)", "idx_upstream_connections_user_app unique (user_id,app_id)"},
			nullable:    []string{"expires_at", "id", "last_refreshed_at", "last_used_at", "refresh_lease_until"},
		},
		{
			table: "upstream_auth_states",
			foreignKeys: []string{"app_id → upstream_apps.id CASCADE", "route_id → routes.id SET NULL",
				"user_id → users.id CASCADE"},
			indexes:  []string{"idx_upstream_auth_states_expires (expires_at)", "idx_upstream_auth_states_state_hash unique (state_hash)"},
			nullable: []string{"id", "route_id"},
		},
		{
			table:       "route_sign_ins",
			foreignKeys: []string{"route_id → routes.id CASCADE", "user_id → users.id CASCADE"},
			indexes:     []string{"idx_route_sign_ins_code_hash unique (code_hash)", "idx_route_sign_ins_expires (expires_at)"},
			nullable:    []string{"id"},
		},
	}
	for _, tt := range tests {
		fks := query(`SELECT "from" || ' → ' || "table" || '.' || "to" || ' ' || on_delete FROM pragma_foreign_key_list(?)`, tt.table)
		if !slices.Equal(fks, tt.foreignKeys) {
			t.Errorf("%s's foreign keys = %q, want %q", tt.table, fks, tt.foreignKeys)
		}
		indexes := query(`SELECT il.name || CASE WHEN il."unique" THEN ' unique' ELSE '' END ||
				' (' || (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(il.name) ORDER BY seqno)) || ')'
			FROM pragma_index_list(?) il WHERE il.origin = 'c'`, tt.table)
		if !slices.Equal(indexes, tt.indexes) {
			t.Errorf("%s's indexes = %q, want %q", tt.table, indexes, tt.indexes)
		}
		nullable := query(`SELECT name FROM pragma_table_info(?) WHERE NOT "notnull"`, tt.table)
		if !slices.Equal(nullable, tt.nullable) {
			t.Errorf("%s's nullable columns = %q, want %q", tt.table, nullable, tt.nullable)
		}
	}
}

// TestUpgradeFromV5ThroughMigration6 builds a database as migration 5
// left it, with a user, an app and a route in it, and opens it with this
// build: the old rows stay, the vault's tables take rows that name them,
// and deleting what those rows name cascades as the schema says.
func TestUpgradeFromV5ThroughMigration6(t *testing.T) {
	ctx := context.Background()
	path, db := dbAtVersion(t, 5)
	const at = "'2026-01-01 00:00:00+00:00'"
	for _, stmt := range []string{
		`INSERT INTO users (email, name, password_hash, is_admin, disabled, provider, subject, groups, session_epoch, created_at, updated_at)
			VALUES ('alice@example.com', 'Alice', '', true, false, 'local', '', '[]', 1, ` + at + `, ` + at + `)`,
		`INSERT INTO upstream_apps (name, preset, client_id, client_secret, auth_url, token_url, revocation_url, scopes, auth_style,
			extra_auth_params, pkce, created_at, updated_at)
			VALUES ('github', 'github', 'cid', NULL, 'https://github.com/login/oauth/authorize', 'https://github.com/login/oauth/access_token',
			'', '["repo"]', 'auto', '{}', false, ` + at + `, ` + at + `)`,
		`INSERT INTO routes (name, description, from_url, to_url, kind, upstream_app_id, timeout_seconds, max_request_bytes,
			pass_upstream_token, enabled, created_at, updated_at)
			VALUES ('tools', '', 'https://tools.example.com', 'http://127.0.0.1:9001/', 'http', NULL, 0, 0, false, true, ` + at + `, ` + at + `)`,
	} {
		if err := db.Exec(stmt).Error; err != nil {
			t.Fatal(err)
		}
	}
	if db.Migrator().HasTable("upstream_connections") {
		t.Fatal("a version 5 database already has upstream_connections")
	}
	sqlDB, _ := db.DB()
	if err := sqlDB.Close(); err != nil {
		t.Fatal(err)
	}

	s := openTestStore(t, path)
	if v, err := s.SchemaVersion(ctx); err != nil || v < 6 {
		t.Fatalf("SchemaVersion = %d, %v; want at least 6", v, err)
	}
	alice, err := s.GetUserByEmail(ctx, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	github, err := s.GetUpstreamAppByName(ctx, "github")
	if err != nil {
		t.Fatal(err)
	}
	route, err := s.GetRouteByName(ctx, "tools")
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"upstream_connections", "upstream_auth_states", "route_sign_ins"} {
		if n := rowCount(t, s, table); n != 0 {
			t.Errorf("upgraded database has %d rows in %s", n, table)
		}
	}

	// Deleting a route unlinks the flows started from it and drops its
	// sign-ins; the connection, which is the user's, stays.
	saveConnection(t, s, testConnection(alice.ID, github.ID))
	if err := s.CreateUpstreamAuthState(ctx, testAuthState("state", alice.ID, github.ID, &route.ID)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRouteSignIn(ctx, testRouteSignIn("code", alice.ID, route.ID)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRoute(ctx, route.ID); err != nil {
		t.Fatal(err)
	}
	var routeIDs []sql.NullInt64
	if err := s.db.Table("upstream_auth_states").Pluck("route_id", &routeIDs).Error; err != nil {
		t.Fatal(err)
	}
	if len(routeIDs) != 1 || routeIDs[0].Valid {
		t.Errorf("auth states' route ids after the route's deletion = %v, want one NULL", routeIDs)
	}
	if n := rowCount(t, s, "route_sign_ins"); n != 0 {
		t.Errorf("%d sign-ins outlived their route", n)
	}
	getConnection(t, s, alice.ID, github.ID)

	// Deleting the user takes their connections and flows along.
	if err := s.db.Exec("DELETE FROM users WHERE id = ?", alice.ID).Error; err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"upstream_connections", "upstream_auth_states"} {
		if n := rowCount(t, s, table); n != 0 {
			t.Errorf("%s kept %d rows of the deleted user", table, n)
		}
	}

	// Deleting an app takes its connections and flows along.
	bob := createUser(t, s, "bob@example.com")
	route = createRoute(t, s, "tools", "https://tools.example.com")
	saveConnection(t, s, testConnection(bob.ID, github.ID))
	if err := s.CreateUpstreamAuthState(ctx, testAuthState("state", bob.ID, github.ID, nil)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRouteSignIn(ctx, &RouteSignIn{CodeHash: HashToken("code"), UserID: bob.ID, RouteID: route.ID,
		SessionHash: HashToken("session"), ReturnPath: "/", ExpiresAt: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUpstreamApp(ctx, github.ID); err != nil {
		t.Fatal(err)
	}
	for table, want := range map[string]int64{"upstream_connections": 0, "upstream_auth_states": 0, "route_sign_ins": 1} {
		if n := rowCount(t, s, table); n != want {
			t.Errorf("%s has %d rows after the app's deletion, want %d", table, n, want)
		}
	}
	if _, err := s.GetUser(ctx, bob.ID); err != nil {
		t.Errorf("the app's deletion touched its user: %v", err)
	}
}

// TestMigration6FrozenTypes checks that the live entities read and write
// the columns migration 6 created: a field the live types renamed would
// be a column GORM cannot find.
func TestMigration6FrozenTypes(t *testing.T) {
	s := newTestStore(t)
	wantLiveColumns(t, s, "upstream_connections", &connectionRow{})
	wantLiveColumns(t, s, "upstream_auth_states", &authStateRow{})
	wantLiveColumns(t, s, "route_sign_ins", &RouteSignIn{})
}
