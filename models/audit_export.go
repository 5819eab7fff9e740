package models

import (
	"context"
	"fmt"
)

// auditExportBatch is how many events EachAuditEvent reads at a time.
const auditExportBatch = 1000

// EachAuditEvent calls fn with every event f selects, newest first, and
// stops at fn's first error, or when ctx ends, returning that error
// wrapped. It reads keyset batches of 1,000 (…AND id < last ORDER BY id
// DESC LIMIT 1000), so memory stays the same however many events there
// are, and no scan bound applies: an export is complete. The event fn
// receives is valid only during the call.
func (s *Store) EachAuditEvent(ctx context.Context, f AuditFilter, fn func(*AuditEvent) error) error {
	if err := s.settleAuditJournal(ctx); err != nil {
		return fmt.Errorf("models: export audit events: %w", err)
	}
	return s.eachAuditBatch(ctx, f, auditExportBatch, func(batch []AuditEvent) error {
		for i := range batch {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(&batch[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// eachAuditBatch is EachAuditEvent by batches of size.
func (s *Store) eachAuditBatch(ctx context.Context, f AuditFilter, size int, fn func([]AuditEvent) error) error {
	err := f.Validate()
	if err == nil {
		err = s.eachAuditBatchValid(ctx, f, size, fn)
	}
	if err != nil {
		return fmt.Errorf("models: export audit events: %w", err)
	}
	return nil
}

func (s *Store) eachAuditBatchValid(ctx context.Context, f AuditFilter, size int, fn func([]AuditEvent) error) error {
	db := s.db.WithContext(ctx)
	p, err := planAudit(db, f)
	if err != nil || p.none {
		return err
	}
	for cur := p.hi; cur > p.lo; {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch, err := p.fetch(db, p.lo, cur, size, true)
		if err != nil || len(batch) == 0 {
			return err
		}
		if err := fn(batch); err != nil || len(batch) < size {
			return err
		}
		cur = int64(batch[len(batch)-1].ID)
	}
	return nil
}
