package models

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// TestEachAuditEvent checks that an export holds what paging through
// the log shows, in the same order, for every filter.
func TestEachAuditEvent(t *testing.T) {
	s := newTestStore(t)
	all := seedQueryEvents(t, s, 300)
	for name, f := range queryFilters() {
		var got []uint64
		err := s.EachAuditEvent(context.Background(), f, func(e *AuditEvent) error {
			got = append(got, e.ID)
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if pages := pageAll(t, s, f, 13); !slices.Equal(got, pages) || !slices.Equal(got, expectedIDs(all, f)) {
			t.Errorf("%s: export %v\npages %v", name, got, pages)
		}
	}
}

// TestEachAuditEventBatches checks that the export reads in batches of
// its size whatever the total (so memory stays flat), without a scan
// bound, and that the full events come through.
func TestEachAuditEventBatches(t *testing.T) {
	s := newTestStore(t)
	all := seedQueryEvents(t, s, 100)
	for _, f := range []AuditFilter{{}, {Text: "needle"}, {ToolPrefix: "admin_"}, {UserID: ptr(uint(3)), Decision: AuditAllow}} {
		want := expectedIDs(all, f)
		var sizes []int
		var got []AuditEvent
		err := s.eachAuditBatch(context.Background(), f, 7, func(batch []AuditEvent) error {
			sizes = append(sizes, len(batch))
			got = append(got, batch...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), want) {
			t.Errorf("%+v: %v, want %v", f, ids(got), want)
		}
		for i, n := range sizes {
			if n != 7 && (i != len(sizes)-1 || n > 7) {
				t.Errorf("%+v: batch sizes %v, want 7 but the last", f, sizes)
				break
			}
		}
	}
	// The events are whole: outcome and all.
	var first *AuditEvent
	err := s.EachAuditEvent(context.Background(), AuditFilter{Outcome: AuditOutcomeRPCError}, func(e *AuditEvent) error {
		if first == nil {
			c := *e
			first = &c
		}
		return nil
	})
	if err != nil || first == nil || first.RPCErrorCode == nil || first.Hash == "" || first.Arguments == "" {
		t.Errorf("exported event %+v, %v", first, err)
	}
}

func TestEachAuditEventStops(t *testing.T) {
	s := newTestStore(t)
	seedQueryEvents(t, s, 2500)
	stop := errors.New("stop")
	calls := 0
	err := s.EachAuditEvent(context.Background(), AuditFilter{}, func(*AuditEvent) error {
		if calls++; calls == 1500 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 1500 {
		t.Errorf("fn's error: %v after %d calls", err, calls)
	}

	ctx, cancel := context.WithCancel(context.Background())
	calls = 0
	err = s.EachAuditEvent(ctx, AuditFilter{}, func(*AuditEvent) error {
		if calls++; calls == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls != 10 {
		t.Errorf("cancelled: %v after %d calls", err, calls)
	}
}
