package web

import (
	"context"
	"log/slog"
	"time"

	"github.com/drawbridge/drawbridge/models"
)

// Retention's pace: how often it looks for old events, how many it
// deletes in one transaction, and the pause between two, so that the
// gateway's audit writes are never held back for long.
const (
	retentionEvery = 10 * time.Minute
	retentionBatch = 500
	retentionPause = 50 * time.Millisecond
)

// rateEventsKeep is how long rate events (failed sign-ins, client
// registrations) stay for the throttles to count: longer than the longest
// window (sign-in's 15 minutes; registration's is one), which is all they
// look back on.
const rateEventsKeep = time.Hour

// retentionStore is what the retention job needs.
type retentionStore interface {
	GetSettings(ctx context.Context) (models.Settings, error)
	DeleteAuditEventsBefore(ctx context.Context, cutoff time.Time, batch int) (int, error)
	DeleteRateEventsBefore(ctx context.Context, t time.Time) (int64, error)
}

// runRetention deletes audit events older than the retention setting,
// in small batches, and the rate events the throttles no longer count,
// until ctx ends. A checkpoint per writer keeps the chains
// verifiable from where the deleted events stopped.
func runRetention(ctx context.Context, store retentionStore, log *slog.Logger) {
	t := time.NewTicker(retentionEvery)
	defer t.Stop()
	for {
		if n, err := pruneAudit(ctx, store, time.Now()); err != nil && ctx.Err() == nil {
			log.Warn("audit retention", "error", err)
		} else if n > 0 {
			log.Info("audit retention: deleted old events", "events", n)
		}
		if n, err := pruneRateEvents(ctx, store, time.Now()); err != nil && ctx.Err() == nil {
			log.Warn("rate event retention", "error", err)
		} else if n > 0 {
			log.Debug("rate event retention: deleted old events", "events", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pruneAudit deletes every event older than the retention setting, as of
// now, and returns how many.
func pruneAudit(ctx context.Context, store retentionStore, now time.Time) (int, error) {
	st, err := store.GetSettings(ctx)
	if err != nil || st.AuditRetentionDays <= 0 {
		return 0, err
	}
	cutoff := now.Add(-time.Duration(st.AuditRetentionDays) * 24 * time.Hour)
	total := 0
	for {
		n, err := store.DeleteAuditEventsBefore(ctx, cutoff, retentionBatch)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(retentionPause):
		}
	}
}

// pruneRateEvents deletes the rate events of every scope older than
// rateEventsKeep, as of now, and returns how many. Every replica sweeps;
// the deletion is one indexed range of at, and a second sweep finds
// nothing left.
func pruneRateEvents(ctx context.Context, store retentionStore, now time.Time) (int64, error) {
	return store.DeleteRateEventsBefore(ctx, now.Add(-rateEventsKeep))
}
