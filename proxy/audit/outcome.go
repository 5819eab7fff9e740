package audit

import (
	"context"
	"time"

	"github.com/drawbridge/drawbridge/models"
)

// Outcome queues what became of the request whose event has o.ID; it is
// written in a batch within Options.OutcomeFlushInterval, and never
// waited for.
//
// Outcome never blocks: when the queue is full (the database has fallen
// far behind), the outcome is dropped, counted in
// drawbridge_audit_outcomes_dropped_total, and logged. That is the
// tradeoff: a request is never slowed or refused for its outcome's sake,
// and its event, already committed, says what was decided and let
// through; what is lost is the status and timing of the answer. An
// outcome given after Close is dropped too.
func (w *Writer) Outcome(o models.AuditOutcome) {
	select {
	case <-w.quit:
		w.m.outcomesDropped.Inc()
		return
	default:
	}
	if o.At.IsZero() {
		o.At = time.Now()
	}
	select {
	case w.outcomes <- o:
	default:
		w.m.outcomesDropped.Inc()
		w.dropped.Add(1)
	}
}

// flushOutcomes writes the queued outcomes in one transaction. A batch
// that fails is dropped, not retried: outcomes are the expendable part,
// and a retry would hold memory while the database stays down.
func (w *Writer) flushOutcomes() {
	if d := w.dropped.Swap(0); d > 0 {
		w.log.Warn("audit: outcome queue full; outcomes dropped", "writer", w.name, "dropped", d)
	}
	n := len(w.outcomes)
	if n == 0 {
		return
	}
	batch := make([]models.AuditOutcome, n)
	for i := range batch {
		batch[i] = <-w.outcomes
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	start := time.Now()
	err := w.store.RecordAuditOutcomes(ctx, batch)
	w.m.commitSeconds.WithLabelValues("outcomes").Observe(time.Since(start).Seconds())
	if err == nil && w.stream != nil {
		w.stream.outcomes(batch)
	}
	if err != nil {
		w.m.failures.WithLabelValues("outcomes").Inc()
		w.log.Error("audit: outcomes not recorded", "writer", w.name, "outcomes", n, "error", err)
	}
}
