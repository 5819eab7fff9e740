package models

import (
	"context"
	"testing"
	"time"
)

// An event is stamped when its request starts and committed when its
// body has been read: a slow client commits it late, after events stamped
// later. Time filters must still find it, and the events around it.
func TestTimeFilterFindsEventsCommittedLate(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	base := time.Now().Add(-time.Hour).Truncate(time.Minute)
	ev := func(at time.Time) *AuditEvent {
		return &AuditEvent{At: at, Kind: AuditKindMCP, MCPMethod: "tools/call", Decision: AuditAllow, Reasons: "[]"}
	}
	var onTime []*AuditEvent
	for i := range 10 {
		onTime = append(onTime, ev(base.Add(time.Duration(i)*time.Second)))
	}
	// Stamped 50 s before base, committed after every event above.
	late := ev(base.Add(-50 * time.Second))
	// Stamped 5 minutes in, committed after an event of 6.5 minutes in:
	// late, but within the slack the gateway's read timeout keeps it to.
	lateInside := ev(base.Add(5 * time.Minute))
	for _, batch := range [][]*AuditEvent{{ev(base.Add(-10 * time.Minute))}, onTime, {late}, {ev(base.Add(390 * time.Second)), lateInside}, {ev(base.Add(15 * time.Minute))}} {
		if err := s.AppendAuditEvents(ctx, "late-test", batch); err != nil {
			t.Fatal(err)
		}
	}
	count := func(from, to time.Time) int {
		t.Helper()
		page, err := s.ListAuditEvents(ctx, AuditFilter{From: from, To: to, MCPMethod: "tools/call"}, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Events)
	}
	if n := count(base, base.Add(time.Minute)); n != 10 {
		t.Errorf("[base, +1m): %d events, want the 10 on time despite one committed late before them", n)
	}
	if n := count(base.Add(4*time.Minute), base.Add(6*time.Minute)); n != 1 {
		t.Errorf("[+4m, +6m): %d events, want the one committed late", n)
	}
	if n := count(base.Add(-time.Minute), base); n != 1 {
		t.Errorf("[-1m, base): %d events, want the late one stamped -50 s", n)
	}
}
