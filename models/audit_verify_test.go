package models

import (
	"context"
	"strings"
	"testing"
)

// TestVerifyAuditChainsFindsTampering edits a stored event past the
// store, as someone with the database file could, and expects
// VerifyAuditChains to name that event (or, where the edit covered its
// own tracks, the next one).
func TestVerifyAuditChainsFindsTampering(t *testing.T) {
	tests := []struct {
		name    string
		sql     string
		target  int    // which of the 5 events the statement edits
		at      int    // which one the break is named at
		intact  int    // how many verify before it
		problem string // in the break's description
	}{
		{"tool", "UPDATE audit_events SET tool = 'delete_repo' WHERE id = ?", 2, 2, 2, "altered"},
		{"arguments", `UPDATE audit_events SET arguments = '{"repo":"acme/other"}' WHERE id = ?`, 2, 2, 2, "altered"},
		{"decision", "UPDATE audit_events SET decision = 'deny' WHERE id = ?", 2, 2, 2, "altered"},
		{"time", "UPDATE audit_events SET at = datetime(at, '-1 hour') WHERE id = ?", 2, 2, 2, "altered"},
		{"user", "UPDATE audit_events SET user_id = NULL WHERE id = ?", 2, 2, 2, "altered"},
		{"time unparsable", "UPDATE audit_events SET at = 'yesterday' WHERE id = ?", 2, 2, 2, "altered"},
		{"value of another type", "UPDATE audit_events SET config_version = 'abc' WHERE id = ?", 2, 2, 2, "cannot be read"},
		{"hash replaced", "UPDATE audit_events SET hash = 'deadbeef' WHERE id = ?", 2, 2, 2, "altered"},
		{"first event", "UPDATE audit_events SET tool = 'x' WHERE id = ?", 0, 0, 0, "altered"},
		{"last event", "UPDATE audit_events SET arguments = '{}' WHERE id = ?", 4, 4, 4, "altered"},
		{"deleted", "DELETE FROM audit_events WHERE id = ?", 2, 3, 2, "event 3 of the chain is missing"},
		{"first deleted", "DELETE FROM audit_events WHERE id = ?", 0, 1, 0, "event 1 of the chain is missing"},
		{"moved to another writer", "UPDATE audit_events SET writer = 'gw-x' WHERE id = ?", 2, 3, 2, "event 3 of the chain is missing"},
		{"renumbered", "UPDATE audit_events SET id = id + 1000 WHERE id = ?", 2, 3, 3, "renumbered"},
	}
	// The same edits on PostgreSQL, where SQLite's SQL does not apply;
	// "" for one that cannot be made there.
	onPostgresSQL := map[string]string{
		"time":                  "UPDATE audit_events SET at = at - interval '1 hour' WHERE id = ?",
		"value of another type": "",
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if q, ok := onPostgresSQL[tt.name]; ok && onPostgres {
				if q == "" {
					t.Skip("a PostgreSQL column holds values of its type only")
				}
				tt.sql = q
			}
			s := newTestStore(t)
			evs := appendEvents(t, s, "gw", 0, 5)
			target := evs[tt.target]
			if err := s.db.Exec(tt.sql, target.ID).Error; err != nil {
				t.Fatal(err)
			}
			st := verifyChains(t, s)["gw"]
			want := evs[tt.at]
			if st.Break == nil || st.Break.ID != want.ID || st.Break.Seq != want.Seq || !strings.Contains(st.Break.Problem, tt.problem) {
				t.Errorf("break = %+v, want event %d (seq %d): %q", st.Break, want.ID, want.Seq, tt.problem)
			}
			if moved, ok := verifyChains(t, s)["gw-x"]; ok && (moved.Break == nil || moved.Break.ID != target.ID) {
				t.Errorf("the moved event verifies in its new chain: %+v", moved)
			}
			if st.Events != int64(tt.intact) || (tt.intact > 0 && st.LastHash != evs[tt.intact-1].Hash) {
				t.Errorf("intact prefix = %d events ending %s, want %d", st.Events, st.LastHash, tt.intact)
			}
		})
	}
}

// TestVerifyAuditChainsFindsRecomputedEdit edits an event and recomputes
// its hash, as someone who knows the encoding would: the event itself
// verifies, and the next one's link does not.
func TestVerifyAuditChainsFindsRecomputedEdit(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	evs := appendEvents(t, s, "gw", 0, 4)
	forged, err := s.GetAuditEvent(ctx, evs[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	forged.Tool = "delete_repo"
	forged.Hash = forged.chainHash()
	if err := s.db.Exec("UPDATE audit_events SET tool = ?, hash = ? WHERE id = ?", forged.Tool, forged.Hash, forged.ID).Error; err != nil {
		t.Fatal(err)
	}
	st := verifyChains(t, s)["gw"]
	if st.Break == nil || st.Break.ID != evs[2].ID || !strings.Contains(st.Break.Problem, "prev_hash") {
		t.Errorf("break = %+v, want the link of event %d", st.Break, evs[2].ID)
	}
}

// TestVerifyAuditChainsTailDeletion documents what the chain alone cannot
// see: the newest events deleted leave an intact, shorter chain, which
// only a head kept elsewhere (LastSeq, LastHash) shows.
func TestVerifyAuditChainsTailDeletion(t *testing.T) {
	s := newTestStore(t)
	evs := appendEvents(t, s, "gw", 0, 4)
	if err := s.db.Exec("DELETE FROM audit_events WHERE id = ?", evs[3].ID).Error; err != nil {
		t.Fatal(err)
	}
	st := verifyChains(t, s)["gw"]
	if st.Break != nil || st.LastSeq != 3 || st.LastHash != evs[2].Hash {
		t.Errorf("status = %+v, want intact up to seq 3", st)
	}
}

func TestVerifyAuditChainsEmpty(t *testing.T) {
	s := newTestStore(t)
	if st, err := s.VerifyAuditChains(context.Background()); err != nil || len(st) != 0 {
		t.Errorf("VerifyAuditChains on no events = %v, %v", st, err)
	}
}
