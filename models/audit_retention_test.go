package models

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// retentionCutoff splits seedQueryEvents' events: 100 of 200 are older.
var retentionCutoff = queryBase.Add(50 * time.Second)

// deleteAll runs DeleteAuditEventsBefore in batches until it returns 0,
// checking that no call deletes more than its batch, and returns the
// total.
func deleteAll(t *testing.T, s *Store, cutoff time.Time, batch int) int {
	t.Helper()
	total := 0
	for range 1000 {
		n, err := s.DeleteAuditEventsBefore(context.Background(), cutoff, batch)
		if err != nil {
			t.Fatal(err)
		}
		if n > batch {
			t.Fatalf("deleted %d events in a batch of %d", n, batch)
		}
		if n == 0 {
			return total
		}
		total += n
	}
	t.Fatal("retention does not end")
	return 0
}

func TestDeleteAuditEventsBefore(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	all := seedQueryEvents(t, s, 200)
	var keep []uint64
	for _, e := range all {
		if !e.At.Before(retentionCutoff) {
			keep = append(keep, e.ID)
		}
	}
	if n := deleteAll(t, s, retentionCutoff, 7); n != len(all)-len(keep) || n != 100 {
		t.Errorf("deleted %d, want %d", n, len(all)-len(keep))
	}
	if got := ids(allAuditEvents(t, s)); !slices.Equal(got, keep) {
		t.Errorf("left %v, want %v", got, keep)
	}

	// Each writer's checkpoint is its newest deleted event, and the chain
	// verifies from there.
	for _, w := range []string{"gw-1", "gw-2"} {
		var newest AuditEvent
		for _, e := range all { // newest first
			if e.Writer == w && e.At.Before(retentionCutoff) {
				newest = e
				break
			}
		}
		cp, err := getAuditCheckpoint(s.db, w)
		if err != nil || cp.Seq != newest.Seq || cp.Hash != newest.Hash || !cp.DeletedThroughAt.Equal(newest.At) {
			t.Errorf("%s's checkpoint %+v, %v; want seq %d", w, cp, err, newest.Seq)
		}
		st := verifyChains(t, s)[w]
		if !st.OK || st.CheckpointSeq != newest.Seq || st.FirstSeq != newest.Seq+1 || st.Events != 50 ||
			st.CheckpointAt == nil || !st.CheckpointAt.Equal(newest.At) {
			t.Errorf("%s after retention: %+v", w, st)
		}
	}

	// Appending continues the chains; deleting more moves the checkpoints.
	appendEvents(t, s, "gw-1", 0, 3)
	if n := deleteAll(t, s, queryBase.Add(60*time.Second), 1000); n != 20 {
		t.Errorf("second pass deleted %d, want 20", n)
	}
	for w, st := range verifyChains(t, s) {
		if !st.OK {
			t.Errorf("%s after a second pass: %+v", w, st)
		}
	}
	if _, err := s.DeleteAuditEventsBefore(ctx, retentionCutoff, 0); !errors.As(err, new(*ValidationError)) {
		t.Errorf("batch 0: %v", err)
	}
}

// TestDeleteAuditEventsEveryOne deletes all of a writer's events: the
// chain lives on in its checkpoint, and a new process under that name,
// which has no head cached, continues it.
func TestDeleteAuditEventsEveryOne(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	s := openTestStore(t, path)
	old := appendEvents(t, s, "gw", 0, 5) // at 2026-03-01 12:00
	if n := deleteAll(t, s, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), 2); n != 5 {
		t.Fatalf("deleted %d of 5", n)
	}
	st := verifyChains(t, s)["gw"]
	if !st.OK || st.Events != 0 || st.FirstSeq != 0 || st.LastSeq != 5 || st.LastHash != old[4].Hash || st.CheckpointSeq != 5 {
		t.Errorf("a chain with every event deleted: %+v", st)
	}
	restarted := openTestStore(t, path)
	next := appendEvents(t, restarted, "gw", 5, 1)[0]
	if next.Seq != 6 || next.PrevHash != old[4].Hash {
		t.Errorf("after the checkpoint: seq %d prev %s, want 6 and %s", next.Seq, next.PrevHash, old[4].Hash)
	}
	if st := verifyChains(t, s)["gw"]; !st.OK || st.Events != 1 || st.FirstSeq != 6 {
		t.Errorf("continued chain: %+v", st)
	}
}

// TestVerifyAfterRetentionFindsTampering tampers with what retention
// left, the events or the checkpoint, and expects verification to name
// the place: an edited, a deleted and a reordered event each.
func TestVerifyAfterRetentionFindsTampering(t *testing.T) {
	type event = *AuditEvent
	tests := []struct {
		name string
		// tamper changes the database, given the 5 events retention left
		// (seqs 6 to 10; the checkpoint is seq 5), and returns the id and
		// seq the break must be named at.
		tamper  func(t *testing.T, s *Store, left []event) (uint64, uint64)
		problem string // in the break's description
	}{
		{"edited", func(t *testing.T, s *Store, left []event) (uint64, uint64) {
			execSQL(t, s, "UPDATE audit_events SET arguments = '{}' WHERE id = ?", left[3].ID)
			return left[3].ID, 9
		}, "altered"},
		{"edited oldest", func(t *testing.T, s *Store, left []event) (uint64, uint64) {
			execSQL(t, s, "UPDATE audit_events SET tool = 'x' WHERE id = ?", left[0].ID)
			return left[0].ID, 6
		}, "altered"},
		{"deleted", func(t *testing.T, s *Store, left []event) (uint64, uint64) {
			execSQL(t, s, "DELETE FROM audit_events WHERE id = ?", left[3].ID)
			return left[4].ID, 10
		}, "event 9 of the chain is missing"},
		{"deleted oldest", func(t *testing.T, s *Store, left []event) (uint64, uint64) {
			execSQL(t, s, "DELETE FROM audit_events WHERE id = ?", left[0].ID)
			return left[1].ID, 7
		}, "event 6 of the chain is missing"},
		{"reordered ids", func(t *testing.T, s *Store, left []event) (uint64, uint64) {
			a, b := left[2].ID, left[3].ID // swapped through a free id
			execSQL(t, s, "UPDATE audit_events SET id = 9999 WHERE id = ?", a)
			execSQL(t, s, "UPDATE audit_events SET id = ? WHERE id = ?", a, b)
			execSQL(t, s, "UPDATE audit_events SET id = ? WHERE id = 9999", b)
			return a, 9
		}, "renumbered"},
		{"reordered seqs", func(t *testing.T, s *Store, left []event) (uint64, uint64) {
			execSQL(t, s, "UPDATE audit_events SET seq = 9999 WHERE id = ?", left[2].ID)
			execSQL(t, s, "UPDATE audit_events SET seq = 8 WHERE id = ?", left[3].ID)
			execSQL(t, s, "UPDATE audit_events SET seq = 9 WHERE id = ?", left[2].ID)
			return left[3].ID, 8
		}, "altered"},
		{"checkpoint hash", func(t *testing.T, s *Store, left []event) (uint64, uint64) {
			execSQL(t, s, "UPDATE audit_checkpoints SET hash = 'beef'")
			return left[0].ID, 6
		}, "checkpoint's hash"},
		{"checkpoint back", func(t *testing.T, s *Store, left []event) (uint64, uint64) {
			execSQL(t, s, "UPDATE audit_checkpoints SET seq = 4")
			return left[0].ID, 6
		}, "event 5 of the chain is missing"},
		{"checkpoint on", func(t *testing.T, s *Store, left []event) (uint64, uint64) {
			execSQL(t, s, "UPDATE audit_checkpoints SET seq = 7")
			return left[0].ID, 6
		}, "at or before the checkpoint's 7"},
		{"checkpoint gone", func(t *testing.T, s *Store, left []event) (uint64, uint64) {
			execSQL(t, s, "DELETE FROM audit_checkpoints")
			return left[0].ID, 6
		}, "events 1 to 5 of the chain are missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStore(t)
			evs := appendEvents(t, s, "gw", 0, 10) // 1 ms apart
			if n := deleteAll(t, s, evs[5].At, 2); n != 5 {
				t.Fatalf("deleted %d of 5", n)
			}
			if st := verifyChains(t, s)["gw"]; !st.OK {
				t.Fatalf("before tampering: %+v", st.Break)
			}
			id, seq := tt.tamper(t, s, evs[5:])
			st := verifyChains(t, s)["gw"]
			if st.OK || st.Break == nil || st.Break.ID != id || st.Break.Seq != seq || !strings.Contains(st.Break.Problem, tt.problem) {
				t.Errorf("break %+v; want event %d (seq %d): %q", st.Break, id, seq, tt.problem)
			}
		})
	}
}

func execSQL(t *testing.T, s *Store, q string, args ...any) {
	t.Helper()
	if err := s.db.Exec(q, args...).Error; err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestDeleteAuditEventsKeepsEvidence edits an old event: retention
// deletes up to it and no further, so verify still names it.
func TestDeleteAuditEventsKeepsEvidence(t *testing.T) {
	s := newTestStore(t)
	evs := appendEvents(t, s, "gw", 0, 10)
	execSQL(t, s, "UPDATE audit_events SET tool = 'delete_repo' WHERE id = ?", evs[3].ID)
	if n := deleteAll(t, s, evs[8].At, 100); n != 3 {
		t.Errorf("deleted %d, want the 3 before the edited one", n)
	}
	if st := verifyChains(t, s)["gw"]; st.OK || st.Break == nil || st.Break.ID != evs[3].ID || st.CheckpointSeq != 3 {
		t.Errorf("after retention stopped at the edit: %+v %+v", st, st.Break)
	}
	// A gap stops it too: the event after it stays, and still shows it.
	execSQL(t, s, "UPDATE audit_events SET tool = 'create_issue' WHERE id = ?", evs[3].ID) // undo
	execSQL(t, s, "DELETE FROM audit_events WHERE id = ?", evs[5].ID)
	if n := deleteAll(t, s, evs[8].At, 100); n != 2 {
		t.Errorf("deleted %d, want the 2 before the gap", n)
	}
	if st := verifyChains(t, s)["gw"]; st.Break == nil || st.Break.ID != evs[6].ID || !strings.Contains(st.Break.Problem, "event 6") {
		t.Errorf("after retention stopped at the gap: %+v", st.Break)
	}
}
