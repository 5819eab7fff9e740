package models

import (
	"slices"
	"testing"
)

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
