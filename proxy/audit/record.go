package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/drawbridge/drawbridge/models"
)

// Record commits ev durably and returns its ID: the request it describes
// may then be forwarded. It redacts and caps a copy of ev's Arguments
// first (see Redact); ev itself is not changed.
//
// An error means the event is not known to be stored: the caller must
// refuse the request (fail closed). That includes ctx ending before the
// commit: Record then returns ctx.Err() at once, but the event stays
// queued and may still be committed, leaving an event for a request that
// was refused, never the reverse. A commit that failed stored nothing.
func (w *Writer) Record(ctx context.Context, ev *models.AuditEvent) (uint64, error) {
	ids, err := w.RecordAll(ctx, []*models.AuditEvent{ev})
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

// RecordAll is Record for the messages of one JSON-RPC batch: all of evs
// are committed in one transaction, or none, and their IDs returned in
// order.
func (w *Writer) RecordAll(ctx context.Context, evs []*models.AuditEvent) ([]uint64, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	p := &pending{events: make([]*models.AuditEvent, len(evs)), done: make(chan error, 1)}
	for i, ev := range evs {
		cp := *ev
		cp.Arguments = redact([]byte(ev.Arguments), w.redactKeys, w.maxArgs)
		// Refused here, a bad event cannot fail the batch it would share.
		if err := cp.Validate(); err != nil {
			return nil, fmt.Errorf("audit: record: %w", err)
		}
		p.events[i] = &cp
	}
	if err := w.enqueue(ctx, p); err != nil {
		return nil, err
	}
	var err error
	select {
	case err = <-p.done:
	case <-ctx.Done():
		select {
		case err = <-p.done: // committed (or failed) just as ctx ended
		default:
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("audit: record: %w", err)
	}
	ids := make([]uint64, len(p.events))
	for i, e := range p.events {
		ids[i] = e.ID
	}
	return ids, nil
}

// enqueue hands p to the writing goroutine, waiting while the queue is
// full for as long as ctx allows.
func (w *Writer) enqueue(ctx context.Context, p *pending) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return ErrClosed
	}
	w.queued.Add(int64(len(p.events)))
	select {
	case w.records <- p:
		return nil
	case <-ctx.Done():
		w.queued.Add(-int64(len(p.events)))
		return ctx.Err()
	case <-w.quit:
		w.queued.Add(-int64(len(p.events)))
		return ErrClosed
	}
}

// run is the writing goroutine: it commits what is queued, batch after
// batch, and writes outcomes between.
// When Close closes the queue it commits what is left, writes the last
// outcomes, and ends.
func (w *Writer) run() {
	defer close(w.done)
	tick := time.NewTicker(w.flushEvery)
	defer tick.Stop()
	var (
		next   *pending // taken from the queue, left for the next batch
		policy lingerPolicy
	)
	open := true
	for open || next != nil {
		first := next
		next = nil
		if first == nil {
			select {
			case p, ok := <-w.records:
				if !ok {
					open = false
					continue
				}
				first = p
			case <-tick.C:
				w.flushOutcomes()
				continue
			}
		}
		batch, n := []*pending{first}, len(first.events)
		// When the queue runs dry while other requests are in flight,
		// linger a moment for them (see linger.go).
		var (
			timer    *time.Timer
			linger   <-chan time.Time
			lingered bool // started to linger
			gathered bool // and got a request for it
		)
	gather:
		for n < w.maxBatch {
			var p *pending
			var ok bool
			select {
			case p, ok = <-w.records:
			default:
				if !w.othersInFlight(len(batch)) || (!lingered && (w.linger <= 0 || !policy.try())) {
					break gather
				}
				if !lingered {
					lingered = true
					timer = time.NewTimer(w.linger)
					linger = timer.C
				}
				select {
				case p, ok = <-w.records:
					gathered = ok
				case <-linger:
					break gather
				}
			}
			if !ok {
				open = false
				break gather
			}
			if n+len(p.events) > w.maxBatch {
				next = p
				break gather
			}
			batch, n = append(batch, p), n+len(p.events)
		}
		if lingered {
			timer.Stop()
			policy.result(gathered)
		}
		w.commit(batch, n)
		if len(w.outcomes) >= outcomeBatch {
			w.flushOutcomes()
		}
	}
	w.flushOutcomes()
}

// commit appends the events of batch, n in all, in one transaction and
// tells each waiting Record how it went.
func (w *Writer) commit(batch []*pending, n int) {
	events := make([]*models.AuditEvent, 0, n)
	for _, p := range batch {
		events = append(events, p.events...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	start := time.Now()
	err := w.store.AppendAuditEvents(ctx, w.name, events)
	cancel()
	w.queued.Add(-int64(n))
	w.m.commitSeconds.WithLabelValues("events").Observe(time.Since(start).Seconds())
	if err != nil {
		w.m.failures.WithLabelValues("events").Inc()
		w.log.Error("audit: events not recorded; their requests are refused", "writer", w.name, "events", n, "error", err)
	} else {
		w.m.events.Add(float64(n))
		w.m.batchEvents.Observe(float64(n))
		w.checkChain(events)
		if w.stream != nil {
			w.stream.events(events)
		}
	}
	for _, p := range batch {
		p.done <- err
	}
}

// checkChain compares where the committed events continued the chain
// with where this writer left it. Nothing else appends to this writer's
// chain, so a difference means its newest events were deleted (which
// the chain alone would not show, as these events now continue from
// what remained) or another process runs under the same name.
func (w *Writer) checkChain(events []*models.AuditEvent) {
	first, last := events[0], events[len(events)-1]
	if w.lastSeq != 0 && (first.Seq != w.lastSeq+1 || first.PrevHash != w.lastHash) {
		w.m.chainGaps.Inc()
		w.log.Error("audit: the chain did not continue where this writer left it: events were deleted, or another process writes under this name",
			"writer", w.name, "expected_seq", w.lastSeq+1, "expected_prev_hash", w.lastHash,
			"seq", first.Seq, "prev_hash", first.PrevHash)
	}
	w.lastSeq, w.lastHash = last.Seq, last.Hash
}
