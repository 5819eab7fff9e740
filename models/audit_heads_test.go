package models

import (
	"context"
	"errors"
	"testing"
)

// TestAuditStaleHeadIsReadAgain appends under one writer name from two
// stores, as two processes misconfigured with one name would: the first
// store's remembered head goes stale, the unique (writer, seq) index
// refuses its next batch, and the batch is retried from the head read in
// the transaction. The retry happens only for that conflict, so the
// driver's unique violation must come out as ErrConflict on each engine.
func TestAuditStaleHeadIsReadAgain(t *testing.T) {
	stores := twoStores(t)
	appendEvents(t, stores[0], "gw", 0, 2)
	appendEvents(t, stores[1], "gw", 2, 1)
	evs := appendEvents(t, stores[0], "gw", 3, 2)
	if evs[0].Seq != 4 || evs[1].Seq != 5 {
		t.Errorf("after a stale head: seqs %d, %d; want 4, 5", evs[0].Seq, evs[1].Seq)
	}
	if st := verifyChains(t, stores[0])["gw"]; st.Break != nil || st.Events != 5 {
		t.Errorf("chain after a stale head: %+v", st)
	}
}

// TestTranslateUniqueViolation checks translate on a statement run past
// gorm: a duplicate (writer, seq) is ErrConflict, other errors are not.
func TestTranslateUniqueViolation(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	e := appendEvents(t, s, "gw", 0, 1)[0]
	_, err := s.sqlDB.ExecContext(ctx, "INSERT INTO audit_events ("+auditInsertColumns+") SELECT "+
		auditInsertColumns+" FROM audit_events WHERE id = $1", e.ID)
	if err == nil {
		t.Fatal("a second event with the same writer and seq was stored")
	}
	if got := s.translate(err); !errors.Is(got, ErrConflict) {
		t.Errorf("translate(%v) = %v, want ErrConflict", err, got)
	}
	_, err = s.sqlDB.ExecContext(ctx, `INSERT INTO no_such_table (x) VALUES (1)`)
	if got := s.translate(err); err == nil || errors.Is(got, ErrConflict) {
		t.Errorf("translate(%v) = %v, want the error unchanged", err, got)
	}
}
