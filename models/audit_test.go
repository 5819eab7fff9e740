package models

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// testAuditEvent returns a valid tools/call event, numbered n so that
// events differ.
func testAuditEvent(n int) *AuditEvent {
	user, route := uint(7), uint(3)
	return &AuditEvent{
		At:             time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.FixedZone("CET", 3600)).Add(time.Duration(n) * time.Millisecond),
		Kind:           AuditKindMCP,
		RequestID:      fmt.Sprintf("req-%08d", n), // rising, as the gateway's
		UserID:         &user,
		UserEmail:      "alice@example.com",
		ClientID:       "https://client.example.com/meta.json",
		RouteID:        &route,
		RouteName:      "GitHub",
		HTTPMethod:     "POST",
		MCPMethod:      "tools/call",
		Tool:           "create_issue",
		Arguments:      fmt.Sprintf(`{"repo":"acme/app","title":"Issue %d","token":"[redacted]"}`, n),
		Decision:       AuditAllow,
		Reasons:        `[{"policy":"company-only","block":"allow"}]`,
		ConfigVersion:  42,
		SourceIP:       "192.0.2.10",
		ServiceAccount: "",
	}
}

// appendEvents appends n test events for writer in one batch, numbering
// them from first, settles them into audit_events, where tests alter
// them, and returns them.
func appendEvents(t *testing.T, s *Store, writer string, first, n int) []*AuditEvent {
	t.Helper()
	evs := make([]*AuditEvent, n)
	for i := range evs {
		evs[i] = testAuditEvent(first + i)
	}
	if err := s.AppendAuditEvents(context.Background(), writer, evs); err != nil {
		t.Fatalf("append %d events for %s: %v", n, writer, err)
	}
	if err := s.settleAuditJournal(context.Background()); err != nil {
		t.Fatal(err)
	}
	return evs
}

// verifyChains runs VerifyAuditChains, failing the test on error, and
// returns its result by writer.
func verifyChains(t *testing.T, s *Store) map[string]AuditChainStatus {
	t.Helper()
	list, err := s.VerifyAuditChains(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]AuditChainStatus{}
	for _, st := range list {
		out[st.Writer] = st
	}
	return out
}

// auditCount counts the rows of audit_events.
func auditCount(t *testing.T, s *Store) int64 {
	t.Helper()
	if err := s.settleAuditJournal(context.Background()); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := s.db.Table("audit_events").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAppendAuditEventsChain(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	var all []*AuditEvent
	for _, n := range []int{1, 5, 3} {
		all = append(all, appendEvents(t, s, "gw-1", len(all), n)...)
	}
	prevHash, prevID := "", uint64(0)
	for i, e := range all {
		if e.Writer != "gw-1" || e.Seq != uint64(i+1) || e.PrevHash != prevHash || len(e.Hash) != 64 || e.ID <= prevID {
			t.Fatalf("event %d: writer %q seq %d prev %q hash %q id %d; want gw-1, %d, %q, 64 hex digits, id above %d",
				i, e.Writer, e.Seq, e.PrevHash, e.Hash, e.ID, i+1, prevHash, prevID)
		}
		prevHash, prevID = e.Hash, e.ID
	}

	// What was appended reads back as it was, normalized: the time in UTC
	// microseconds.
	want := *all[4]
	got, err := s.GetAuditEvent(ctx, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.At.Equal(testAuditEvent(4).At.Truncate(time.Microsecond)) || got.At.Nanosecond()%1000 != 0 {
		t.Errorf("at = %v, want %v in microseconds", got.At, testAuditEvent(4).At)
	}
	got.At, want.At = got.At.UTC(), want.At.UTC()
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("read back\n%+v\nwant\n%+v", *got, want)
	}
	if _, err := s.GetAuditEvent(ctx, prevID+1); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetAuditEvent of a missing id = %v, want ErrNotFound", err)
	}

	st := verifyChains(t, s)
	if len(st) != 1 || st["gw-1"].Break != nil || st["gw-1"].Events != 9 ||
		st["gw-1"].LastSeq != 9 || st["gw-1"].LastHash != all[8].Hash {
		t.Errorf("VerifyAuditChains = %+v, want gw-1 intact with 9 events ending at %s", st, all[8].Hash)
	}
}

func TestAppendAuditEventsNormalizes(t *testing.T) {
	s := newTestStore(t)
	e := testAuditEvent(0)
	e.At = time.Time{}
	e.Tool = strings.Repeat("t", 300)
	e.UserEmail = "bad\xffbyte\x00@example.com"
	e.Reasons = ""
	before := time.Now().Add(-time.Second)
	if err := s.AppendAuditEvents(context.Background(), "gw", []*AuditEvent{e}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetAuditEvent(context.Background(), e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.At.Before(before) || len(got.Tool) != 255 || got.UserEmail != "bad\uFFFDbyte\uFFFD@example.com" || got.Reasons != "[]" {
		t.Errorf("stored at %v, tool of %d bytes, email %q, reasons %q", got.At, len(got.Tool), got.UserEmail, got.Reasons)
	}
	if st := verifyChains(t, s)["gw"]; st.Break != nil {
		t.Errorf("normalized event does not verify: %+v", st.Break)
	}
}

func TestAppendAuditEventsRefusesInvalid(t *testing.T) {
	s := newTestStore(t)
	tests := []struct {
		name   string
		writer string
		edit   func(*AuditEvent)
		field  string
	}{
		{"unknown kind", "gw", func(e *AuditEvent) { e.Kind = "coffee" }, "kind"},
		{"unknown decision", "gw", func(e *AuditEvent) { e.Decision = "maybe" }, "decision"},
		{"arguments not JSON", "gw", func(e *AuditEvent) { e.Arguments = `{"a":` }, "arguments"},
		{"reasons not an array", "gw", func(e *AuditEvent) { e.Reasons = `{"a":1}` }, "reasons"},
		{"no writer", "", func(*AuditEvent) {}, "writer"},
		{"writer too long", strings.Repeat("w", 129), func(*AuditEvent) {}, "writer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good, bad := testAuditEvent(1), testAuditEvent(2)
			tt.edit(bad)
			err := s.AppendAuditEvents(context.Background(), tt.writer, []*AuditEvent{good, bad})
			if got := invalidFields(t, err); len(got) != 1 || got[0] != tt.field {
				t.Errorf("error %v names %v, want [%s]", err, got, tt.field)
			}
		})
	}
	if n := auditCount(t, s); n != 0 {
		t.Errorf("%d events stored from refused batches", n)
	}
}

// TestAppendAuditEventsIsAtomic fails one event of a batch inside the
// database, past validation: none of the batch is stored, and the chain
// carries on from where it was.
func TestAppendAuditEventsIsAtomic(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	first := appendEvents(t, s, "gw", 0, 2)
	// On SQLite, AppendAuditEvents writes the journal (audit_journal.go).
	trigger := []string{`CREATE TRIGGER refuse_boom BEFORE INSERT ON audit_journal
		WHEN NEW.tool = 'boom' BEGIN SELECT RAISE(ABORT, 'boom refused'); END`}
	if onPostgres {
		trigger = []string{`CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS
			'BEGIN IF NEW.tool = ''boom'' THEN RAISE EXCEPTION ''boom refused''; END IF; RETURN NEW; END'`,
			`CREATE TRIGGER refuse_boom BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_boom()`}
	}
	for _, stmt := range trigger {
		if err := s.db.Exec(stmt).Error; err != nil {
			t.Fatal(err)
		}
	}
	batch := []*AuditEvent{testAuditEvent(2), testAuditEvent(3), testAuditEvent(4)}
	batch[2].Tool = "boom"
	if err := s.AppendAuditEvents(ctx, "gw", batch); err == nil || !strings.Contains(err.Error(), "boom refused") {
		t.Fatalf("append = %v, want the trigger's error", err)
	}
	for i, e := range batch {
		if e.ID != 0 {
			t.Errorf("event %d of the failed batch kept id %d", i, e.ID)
		}
	}
	if n := auditCount(t, s); n != 2 {
		t.Errorf("%d events stored, want the first batch's 2", n)
	}
	next := appendEvents(t, s, "gw", 5, 1)[0]
	if next.Seq != 3 || next.PrevHash != first[1].Hash {
		t.Errorf("after the failed batch: seq %d prev %s, want 3 and %s", next.Seq, next.PrevHash, first[1].Hash)
	}
	if st := verifyChains(t, s)["gw"]; st.Break != nil || st.Events != 3 {
		t.Errorf("chain after a failed batch: %+v", st)
	}
}

func TestAuditTwoWritersInterleaved(t *testing.T) {
	s := newTestStore(t)
	var a, b []*AuditEvent
	for i := range 6 {
		a = append(a, appendEvents(t, s, "gw-a", 10*i, 2)...)
		b = append(b, appendEvents(t, s, "gw-b", 10*i+5, 1+i%2)...)
	}
	if a[2].ID < b[0].ID {
		t.Fatalf("writers did not interleave: a's third id %d, b's first %d", a[2].ID, b[0].ID)
	}
	for _, chain := range [][]*AuditEvent{a, b} {
		for i, e := range chain {
			if e.Seq != uint64(i+1) || (i > 0 && e.PrevHash != chain[i-1].Hash) {
				t.Fatalf("%s event %d: seq %d, prev %s", e.Writer, i, e.Seq, e.PrevHash)
			}
		}
	}
	st := verifyChains(t, s)
	if len(st) != 2 || st["gw-a"].Events != 12 || st["gw-a"].Break != nil || st["gw-b"].Events != 9 || st["gw-b"].Break != nil {
		t.Errorf("VerifyAuditChains = %+v", st)
	}
}

func TestRecordAuditOutcomes(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	evs := appendEvents(t, s, "gw", 0, 3)
	code, isErr := -32603, true
	at := time.Date(2026, 3, 1, 12, 0, 1, 500, time.UTC)
	err := s.RecordAuditOutcomes(ctx, []AuditOutcome{
		{ID: evs[0].ID, Status: 200, IsError: &isErr, Duration: 1500 * time.Microsecond, ResponseBytes: 321, At: at},
		{ID: evs[1].ID, Status: 502, RPCErrorCode: &code, Duration: time.Second, ResponseBytes: 90},
		{ID: evs[2].ID + 100, Status: 200}, // no such event: skipped
	})
	if err != nil {
		t.Fatal(err)
	}
	// An outcome is written once.
	if err := s.RecordAuditOutcomes(ctx, []AuditOutcome{{ID: evs[0].ID, Status: 500}}); err != nil {
		t.Fatal(err)
	}

	got, err := s.GetAuditEvent(ctx, evs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status == nil || *got.Status != 200 || got.RPCErrorCode != nil || got.IsError == nil || !*got.IsError ||
		got.DurationMicros == nil || *got.DurationMicros != 1500 || got.ResponseBytes == nil || *got.ResponseBytes != 321 ||
		got.OutcomeAt == nil || !got.OutcomeAt.Equal(at.Truncate(time.Microsecond)) {
		t.Errorf("first outcome stored as %+v", got)
	}
	got, err = s.GetAuditEvent(ctx, evs[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status == nil || *got.Status != 502 || got.RPCErrorCode == nil || *got.RPCErrorCode != code ||
		got.IsError != nil || got.OutcomeAt == nil || *got.DurationMicros != 1e6 {
		t.Errorf("second outcome stored as %+v", got)
	}
	if got, _ := s.GetAuditEvent(ctx, evs[2].ID); got.Status != nil || got.OutcomeAt != nil {
		t.Errorf("an event without an outcome has one: %+v", got)
	}
	if st := verifyChains(t, s)["gw"]; st.Break != nil || st.Events != 3 {
		t.Errorf("chain after outcomes: %+v (outcomes are outside the hash)", st)
	}
}
