package models

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// journalCounts is how many events the journal and audit_events hold,
// read as they are: without settling.
func journalCounts(t *testing.T, s *Store) (journal, settled int) {
	t.Helper()
	if err := s.sqlDB.QueryRow("SELECT (SELECT COUNT(*) FROM audit_journal), (SELECT COUNT(*) FROM audit_events)").
		Scan(&journal, &settled); err != nil {
		t.Fatal(err)
	}
	return journal, settled
}

// appendUnsettled appends n test events for writer, numbered from first,
// and leaves them where AppendAuditEvents put them.
func appendUnsettled(t *testing.T, s *Store, writer string, first, n int) []*AuditEvent {
	t.Helper()
	evs := make([]*AuditEvent, n)
	for i := range evs {
		evs[i] = testAuditEvent(first + i)
	}
	if err := s.AppendAuditEvents(context.Background(), writer, evs); err != nil {
		t.Fatal(err)
	}
	return evs
}

// TestAuditJournalSettlesBeforeEveryRead: on SQLite an append commits to
// the journal alone, and each reader of the audit log finds the events
// settled in audit_events, under the ids the append returned, with the
// chain continuing across the journal's events and the settled ones.
func TestAuditJournalSettlesBeforeEveryRead(t *testing.T) {
	sqliteOnly(t, "PostgreSQL appends to audit_events directly")
	ctx := context.Background()
	for _, read := range []struct {
		name string
		read func(s *Store, evs []*AuditEvent) error
	}{
		{"get", func(s *Store, evs []*AuditEvent) error { _, err := s.GetAuditEvent(ctx, evs[0].ID); return err }},
		{"list", func(s *Store, _ []*AuditEvent) error {
			_, err := s.ListAuditEvents(ctx, AuditFilter{}, 0, 10)
			return err
		}},
		{"live tail", func(s *Store, _ []*AuditEvent) error {
			_, err := s.AuditEventsAfter(ctx, AuditFilter{}, 0, 10)
			return err
		}},
		{"export", func(s *Store, _ []*AuditEvent) error {
			return s.EachAuditEvent(ctx, AuditFilter{}, func(*AuditEvent) error { return nil })
		}},
		{"tools", func(s *Store, _ []*AuditEvent) error { _, err := s.AuditToolsWithPrefix(ctx, "c", 10); return err }},
		{"verify", func(s *Store, _ []*AuditEvent) error { _, err := s.VerifyAuditChains(ctx); return err }},
		{"last used", func(s *Store, _ []*AuditEvent) error { _, err := s.LastUsedRoutes(ctx, 7); return err }},
		{"dashboard", func(s *Store, evs []*AuditEvent) error {
			_, err := s.AuditDashboard(ctx, evs[0].At.Add(-1), 60e9, evs[0].At.Add(3600e9))
			return err
		}},
		{"retention", func(s *Store, evs []*AuditEvent) error {
			_, err := s.DeleteAuditEventsBefore(ctx, evs[0].At.Add(-3600e9), 100)
			return err
		}},
		{"outcomes", func(s *Store, evs []*AuditEvent) error {
			return s.RecordAuditOutcomes(ctx, []AuditOutcome{{ID: evs[2].ID, Status: 200}})
		}},
	} {
		t.Run(read.name, func(t *testing.T) {
			s := newTestStore(t)
			evs := append(appendUnsettled(t, s, "gw", 0, 2), appendUnsettled(t, s, "gw", 2, 1)...)
			if journal, settled := journalCounts(t, s); journal != 3 || settled != 0 {
				t.Fatalf("after the appends: %d journaled, %d settled; want 3 and 0", journal, settled)
			}
			if err := read.read(s, evs); err != nil {
				t.Fatal(err)
			}
			if journal, settled := journalCounts(t, s); journal != 0 || settled != 3 {
				t.Fatalf("after reading: %d journaled, %d settled; want 0 and 3", journal, settled)
			}
			for i, e := range evs {
				got, err := s.GetAuditEvent(ctx, e.ID)
				if err != nil || got.Hash != e.Hash || got.Seq != uint64(i+1) {
					t.Errorf("event %d: %+v, %v; want seq %d, hash %s", i, got, err, i+1, e.Hash)
				}
			}
			if st := verifyChains(t, s)["gw"]; !st.OK || st.Events != 3 {
				t.Errorf("chain: %+v", st)
			}
		})
	}
}

// TestAuditJournalSettlesAtOpen: events a process journaled and never
// settled (it was killed) are settled when the database is next opened,
// and the outcome of one still journaled is written, not skipped.
func TestAuditJournalSettlesAtOpen(t *testing.T) {
	sqliteOnly(t, "PostgreSQL appends to audit_events directly")
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	s := openTestStore(t, path)
	evs := appendUnsettled(t, s, "gw", 0, 2)
	s.Close()
	s = openTestStore(t, path)
	if journal, settled := journalCounts(t, s); journal != 0 || settled != 2 {
		t.Fatalf("after reopening: %d journaled, %d settled; want 0 and 2", journal, settled)
	}
	more := appendUnsettled(t, s, "gw", 2, 1)
	if more[0].ID <= evs[1].ID || more[0].Seq != 3 || more[0].PrevHash != evs[1].Hash {
		t.Errorf("after reopening, the next event is id %d seq %d, want an id above %d continuing the chain", more[0].ID, more[0].Seq, evs[1].ID)
	}
	if err := s.RecordAuditOutcomes(context.Background(), []AuditOutcome{{ID: more[0].ID, Status: 502}}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetAuditEvent(context.Background(), more[0].ID); err != nil || got.Status == nil || *got.Status != 502 {
		t.Errorf("the journaled event's outcome: %+v, %v; want status 502", got, err)
	}
}

// TestAuditJournalNeverReusesAnID: ids come from the journal's counter,
// which starts where audit_events' stood (migration 12) and never goes
// back, even when the newest settled events are deleted.
func TestAuditJournalNeverReusesAnID(t *testing.T) {
	sqliteOnly(t, "PostgreSQL appends to audit_events directly")
	s := newTestStore(t)
	evs := appendEvents(t, s, "gw", 0, 3)
	if _, err := s.sqlDB.Exec("DELETE FROM audit_events WHERE id = ?", evs[2].ID); err != nil {
		t.Fatal(err)
	}
	next := appendUnsettled(t, s, "other", 3, 1)[0]
	if next.ID <= evs[2].ID {
		t.Errorf("the next event got id %d, want one above the deleted %d", next.ID, evs[2].ID)
	}
}

// TestAuditHeadQueryPlan: every append reads the log's tail (its chain's
// newest seq, the next id), and sometimes its chain's head, so each part
// of either must be one seek down an index, not a scan.
func TestAuditHeadQueryPlan(t *testing.T) {
	sqliteOnly(t, "checks SQLite's query plans")
	s := newTestStore(t)
	plan := explain(t, s, auditHeadSQL(false), "gw", "gw", "gw") + "; " + explain(t, s, auditTailSQL, "gw", "gw")
	for _, want := range []string{
		"SEARCH audit_journal USING INDEX idx_audit_journal_writer_seq (writer=?)",
		"SEARCH audit_events USING INDEX idx_audit_events_writer_seq (writer=?)",
		"SEARCH audit_checkpoints USING INDEX",
		"SEARCH audit_journal USING COVERING INDEX idx_audit_journal_writer_seq (writer=?)",
		"SEARCH audit_events USING COVERING INDEX idx_audit_events_writer_seq (writer=?)",
	} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan %q lacks %q", plan, want)
		}
	}
	if strings.Contains(plan, "SCAN audit_") {
		t.Errorf("plan %q scans a table", plan)
	}
}

// TestAuditSettleQueryPlan: a settle walks the journal once, finds each
// event's outcome in the batch and each outcome's event in the journal by
// id, and seeks audit_events only for the outcomes left, by id.
func TestAuditSettleQueryPlan(t *testing.T) {
	sqliteOnly(t, "checks SQLite's query plans")
	s := newTestStore(t)
	conn, err := s.sqlDB.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range auditOutcomeBatchSQL {
		if _, err := conn.ExecContext(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	var plans []string
	for _, q := range auditSettleSQL[:2] {
		plans = append(plans, explainOn(t, conn, q))
	}
	plan := strings.Join(plans, "; ")
	t.Log(plan)
	for _, want := range []string{
		"SCAN j", // the journal, in id order: no sort
		"SEARCH o USING INTEGER PRIMARY KEY (rowid=?)",
		"SCAN b",
		"SEARCH j USING INTEGER PRIMARY KEY (rowid=?)",
		"SEARCH audit_events USING INTEGER PRIMARY KEY (rowid=?)",
	} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan %q lacks %q", plan, want)
		}
	}
	for _, bad := range []string{"SCAN audit_events", "TEMP B-TREE"} {
		if strings.Contains(plan, bad) {
			t.Errorf("plan %q has %q", plan, bad)
		}
	}
}

// TestAuditJournalStaleHead: two stores appending under one writer name,
// as two processes misconfigured with one name would. A store's
// remembered head goes stale whether the other's events are still
// journaled or already settled; either way it continues the chain from
// the stored head, so the journal always settles (a duplicate (writer,
// seq) would make every settle fail).
func TestAuditJournalStaleHead(t *testing.T) {
	sqliteOnly(t, "PostgreSQL appends to audit_events directly")
	ctx := context.Background()
	for _, settleBetween := range []bool{false, true} {
		stores := twoStores(t)
		appendUnsettled(t, stores[0], "gw", 0, 2)
		appendUnsettled(t, stores[1], "gw", 2, 1)
		if settleBetween {
			if err := stores[1].settleAuditJournal(ctx); err != nil {
				t.Fatal(err)
			}
		}
		evs := appendUnsettled(t, stores[0], "gw", 3, 2)
		if evs[0].Seq != 4 || evs[1].Seq != 5 {
			t.Errorf("settled between: %v; after a stale head, seqs %d, %d; want 4, 5", settleBetween, evs[0].Seq, evs[1].Seq)
		}
		if st := verifyChains(t, stores[1])["gw"]; st.Break != nil || st.Events != 5 {
			t.Errorf("settled between: %v; chain after a stale head: %+v", settleBetween, st)
		}
	}
}

// TestAuditJournalHoldsOutcomes: the outcome of a journaled event is
// written in the journal, every field as RecordAuditOutcomes writes one in
// audit_events (the time in the driver's own text, so that it sorts and
// compares with the others), and the event settles with it, never
// updated in audit_events; the outcome of an event a reader settled
// meanwhile is written in audit_events. Of two outcomes for one event in
// a batch, the first is written.
func TestAuditJournalHoldsOutcomes(t *testing.T) {
	sqliteOnly(t, "PostgreSQL appends to audit_events directly")
	ctx := context.Background()
	s := newTestStore(t)
	exec := func(q string) {
		t.Helper()
		if _, err := s.sqlDB.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	evs := appendUnsettled(t, s, "gw", 0, 3)
	code, isErr, notErr := -32603, true, false
	exec(`CREATE TRIGGER no_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events updated'); END`)
	err := s.RecordAuditOutcomes(ctx, []AuditOutcome{
		{ID: evs[1].ID, Status: 502, RPCErrorCode: &code, IsError: &notErr, Duration: time.Second, ResponseBytes: 90, At: evs[1].At},
		{ID: evs[0].ID, Status: 200, IsError: &isErr, Duration: 1500 * time.Microsecond, ResponseBytes: 321, At: evs[0].At},
		{ID: evs[0].ID, Status: 500},
		{ID: evs[2].ID + 100, Status: 200}, // no such event: skipped
	})
	if err != nil {
		t.Fatalf("the outcomes of journaled events: %v", err)
	}
	exec(`DROP TRIGGER no_update`)
	if journal, settled := journalCounts(t, s); journal != 0 || settled != 3 {
		t.Fatalf("after the outcomes: %d journaled, %d settled; want 0 and 3", journal, settled)
	}
	if err := s.RecordAuditOutcomes(ctx, []AuditOutcome{{ID: evs[2].ID, Status: 404}, {ID: evs[0].ID, Status: 500}}); err != nil {
		t.Fatal(err)
	}

	got := make([]*AuditEvent, len(evs))
	for i, e := range evs {
		if got[i], err = s.GetAuditEvent(ctx, e.ID); err != nil {
			t.Fatal(err)
		}
	}
	if g := got[0]; g.Status == nil || *g.Status != 200 || g.RPCErrorCode != nil || g.IsError == nil || !*g.IsError ||
		g.DurationMicros == nil || *g.DurationMicros != 1500 || g.ResponseBytes == nil || *g.ResponseBytes != 321 ||
		g.OutcomeAt == nil || !g.OutcomeAt.Equal(evs[0].At) {
		t.Errorf("first outcome stored as %+v", g)
	}
	if g := got[1]; g.Status == nil || *g.Status != 502 || g.RPCErrorCode == nil || *g.RPCErrorCode != code ||
		g.IsError == nil || *g.IsError || g.DurationMicros == nil || *g.DurationMicros != 1e6 {
		t.Errorf("second outcome stored as %+v", g)
	}
	if g := got[2]; g.Status == nil || *g.Status != 404 || g.RPCErrorCode != nil || g.IsError != nil || g.OutcomeAt == nil {
		t.Errorf("the outcome of a settled event stored as %+v", g)
	}
	// The batch is left empty: the outcome of the event that does not
	// exist must not wait there for the event that will take its id.
	var left int
	if err := s.auditConn.conn.QueryRowContext(ctx, "SELECT count(*) FROM temp.audit_outcome_batch").Scan(&left); err != nil || left != 0 {
		t.Errorf("outcome batch after its transaction: %d outcomes left (%v)", left, err)
	}
	if same := queryStrings(t, s.sqlDB, "SELECT typeof(outcome_at) || ' ' || (outcome_at = at) FROM audit_events WHERE id IN (?, ?)",
		evs[0].ID, evs[1].ID); len(same) != 2 || same[0] != "text 1" || same[1] != "text 1" {
		t.Errorf("outcome_at stored unlike at: %v", same)
	}
}
