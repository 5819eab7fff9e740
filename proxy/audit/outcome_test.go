package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/audit"
)

// TestOutcomesBatchedOnClose queues outcomes that no flush interval
// reaches: Close writes them, in one transaction.
func TestOutcomesBatchedOnClose(t *testing.T) {
	store := newCountingStore(t)
	w := audit.New(store, audit.Options{OutcomeFlushInterval: time.Hour})
	ctx := context.Background()
	var ids []uint64
	for range 10 {
		id, err := w.Record(ctx, event(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	code := -32602
	for i, id := range ids {
		o := models.AuditOutcome{ID: id, Status: 200, Duration: time.Duration(i+1) * time.Millisecond, ResponseBytes: int64(100 + i)}
		if i == 3 {
			o.RPCErrorCode = &code
		}
		w.Outcome(o)
	}
	if n := store.outcomeCalls.Load(); n != 0 {
		t.Fatalf("outcomes written before their interval: %d calls", n)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := store.outcomeCalls.Load(); n != 1 {
		t.Errorf("10 outcomes took %d transactions, want 1", n)
	}
	for i, id := range ids {
		ev, err := store.GetAuditEvent(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Status == nil || *ev.Status != 200 || *ev.DurationMicros != int64(i+1)*1000 || *ev.ResponseBytes != int64(100+i) ||
			(i == 3) != (ev.RPCErrorCode != nil) || ev.OutcomeAt == nil {
			t.Errorf("event %d's outcome: %+v", i, ev)
		}
	}
}

func TestOutcomesFlushedOnInterval(t *testing.T) {
	store := newCountingStore(t)
	w := newWriter(t, store, audit.Options{OutcomeFlushInterval: 5 * time.Millisecond})
	ctx := context.Background()
	id, err := w.Record(ctx, event(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	isError := true
	w.Outcome(models.AuditOutcome{ID: id, Status: 200, IsError: &isError})
	eventually(t, "the outcome is written", func() bool {
		ev, err := store.GetAuditEvent(ctx, id)
		return err == nil && ev.IsError != nil && *ev.IsError
	})
}

// TestOutcomeQueueFullDrops fills the outcome queue with no flush due:
// the excess is dropped and counted, and Outcome never blocks.
func TestOutcomeQueueFullDrops(t *testing.T) {
	store := newCountingStore(t)
	reg := prometheus.NewRegistry()
	w := newWriter(t, store, audit.Options{OutcomeFlushInterval: time.Hour, Metrics: reg})
	const queue = 1 << 14 // the writer's bound
	for i := range queue + 25 {
		w.Outcome(models.AuditOutcome{ID: uint64(i + 1), Status: 200})
	}
	if got := metricValue(t, reg, "drawbridge_audit_outcomes_dropped_total"); got != 25 {
		t.Errorf("dropped = %v, want 25", got)
	}
	if got := metricValue(t, reg, "drawbridge_audit_outcome_queue_depth"); got != queue {
		t.Errorf("outcome queue depth = %v, want %d", got, queue)
	}
}
