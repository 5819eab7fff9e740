package models

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestUpgradeFromV13ThroughMigration14 opens, with this build, a database
// as migration 13 left it, with a route sign-in in flight: the sign-in
// comes out with no console session, which route hosts refuse, and
// sessions can be ended.
func TestUpgradeFromV13ThroughMigration14(t *testing.T) {
	ctx := context.Background()
	path, db := dbAtVersion(t, 13)
	now := time.Now().UTC()
	user := userV1{Email: "alice@example.com", CreatedAt: now, UpdatedAt: now}
	route := routeV2{Name: "wiki", From: "https://wiki.example.com", To: "http://127.0.0.1:9", Kind: KindHTTP, CreatedAt: now, UpdatedAt: now}
	for _, row := range []any{&user, &route} {
		if err := db.Create(row).Error; err != nil {
			t.Fatal(err)
		}
	}
	inFlight := routeSignInV6{CodeHash: HashToken("code"), UserID: user.ID, RouteID: route.ID, ReturnPath: "/", ExpiresAt: now.Add(time.Minute), CreatedAt: now}
	if err := db.Create(&inFlight).Error; err != nil {
		t.Fatal(err)
	}
	if sqlDB, err := db.DB(); err != nil || sqlDB.Close() != nil {
		t.Fatal("close the version 13 database", err)
	}

	s := openTestStore(t, path)
	si, err := s.TakeRouteSignIn(ctx, HashToken("code"), now)
	if err != nil || si.UserID != user.ID || si.SessionHash != "" {
		t.Errorf("the sign-in in flight across the upgrade: %+v, %v; want it, with no console session", si, err)
	}
	if err := s.EndSession(ctx, HashToken("session"), now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ended, err := s.EndedSessions(ctx, now); err != nil || !slices.Equal(ended, []string{HashToken("session")}) {
		t.Errorf("EndedSessions after the upgrade: %v, %v", ended, err)
	}
}

// TestMigration14Schema checks ended_sessions and route_sign_ins'
// session_hash as the database holds them, and that the live types read
// and write those columns.
func TestMigration14Schema(t *testing.T) {
	s := newTestStore(t)
	wantLiveColumns(t, s, "ended_sessions", &EndedSession{})
	wantLiveColumns(t, s, "route_sign_ins", &RouteSignIn{})
	sqliteOnly(t, "reads SQLite's catalog; TestSchemaSameOnBothEngines holds PostgreSQL to it")
	indexes := queryStrings(t, s.sqlDB, `SELECT il.name || ' (' ||
			(SELECT group_concat(name, ',') FROM pragma_index_info(il.name)) || ')' || CASE WHEN il."unique" THEN ' unique' ELSE '' END
		FROM pragma_index_list('ended_sessions') il WHERE il.origin = 'c'`)
	slices.Sort(indexes)
	if want := []string{"idx_ended_sessions_expires (expires_at)", "idx_ended_sessions_hash (session_hash) unique"}; !slices.Equal(indexes, want) {
		t.Errorf("indexes = %q, want %q", indexes, want)
	}
	if got := queryStrings(t, s.sqlDB, `SELECT name FROM pragma_table_info('route_sign_ins') WHERE name = 'session_hash' AND "notnull"`); len(got) != 1 {
		t.Errorf("route_sign_ins.session_hash: %q, want a NOT NULL column", got)
	}
}
