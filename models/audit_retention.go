package models

import (
	"context"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// auditCheckpoint is where retention left a writer's chain: the seq,
// hash and time of the newest event it deleted. See auditCheckpointV8.
type auditCheckpoint struct {
	Writer           string
	Seq              uint64
	Hash             string
	DeletedThroughAt time.Time
	UpdatedAt        time.Time
}

func (auditCheckpoint) TableName() string { return "audit_checkpoints" }

// maxAuditDeleteBatch caps DeleteAuditEventsBefore's batch: one batch is
// one write transaction, which the gateway's appends wait for.
const maxAuditDeleteBatch = 10_000

// DeleteAuditEventsBefore deletes at most batch (1 to 10,000) of the
// oldest events with at < cutoff, in one short write transaction, and
// returns how many it deleted: 0 once there are no more. A background
// job calls it in a loop with small batches and pauses between calls, so
// that the gateway's appends never wait long.
//
// Each writer's chain loses a prefix: its events go in seq order and
// stop at the first one at or after cutoff (an old event committed after
// a recent one waits for it). The writer's checkpoint moves to the
// newest event deleted, whose seq and hash the oldest remaining event
// follows, so VerifyAuditChains still verifies what remains, and
// AppendAuditEvents continues the chain from the checkpoint should every
// event of a writer go.
//
// Only what verifies is deleted: each event is checked as
// VerifyAuditChains would (its hash, its link to the checkpoint or to
// the event before it), and a writer's deletion stops at the first one
// that does not. Retention never erases the evidence of tampering; that
// writer's old events stay until the break is dealt with, and verify
// keeps naming it.
func (s *Store) DeleteAuditEventsBefore(ctx context.Context, cutoff time.Time, batch int) (int, error) {
	if batch < 1 || batch > maxAuditDeleteBatch {
		return 0, &ValidationError{Fields: []FieldError{{Field: "batch", Message: fmt.Sprintf("must be 1 to %d", maxAuditDeleteBatch)}}}
	}
	if err := s.settleAuditJournal(ctx); err != nil {
		return 0, fmt.Errorf("models: delete audit events before %s: %w", cutoff.UTC().Format(time.RFC3339), err)
	}
	deleted := 0
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Appends wait, as on SQLite, so that what is read of a chain
		// here, and the checkpoint that moves past it, stay true until
		// the commit; and so does another replica's retention job.
		if err := lockExclusive(tx, lockAudit); err != nil {
			return err
		}
		writers, err := auditWriters(tx)
		if err != nil {
			return err
		}
		for _, w := range writers {
			if deleted >= batch {
				break
			}
			n, err := deleteAuditPrefix(tx, w, cutoff, batch-deleted)
			if err != nil {
				return fmt.Errorf("writer %s: %w", w, err)
			}
			deleted += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("models: delete audit events before %s: %w", cutoff.UTC().Format(time.RFC3339), err)
	}
	return deleted, nil
}

// deleteAuditPrefix deletes up to max of writer's oldest events, those
// before cutoff that verify, and moves its checkpoint past them.
func deleteAuditPrefix(tx *gorm.DB, writer string, cutoff time.Time, max int) (int, error) {
	cp, err := getAuditCheckpoint(tx, writer)
	if err != nil {
		return 0, err
	}
	rows, err := tx.Raw("SELECT "+auditSelectColumns+" FROM audit_events WHERE writer = ? ORDER BY seq LIMIT ?", writer, max).Rows()
	if err != nil {
		return 0, err
	}
	var last AuditEvent
	n, prevSeq, prevHash, prevID := 0, cp.Seq, cp.Hash, uint64(0)
	for rows.Next() {
		var e AuditEvent
		if err := scanAuditEvent(rows, &e); err != nil || !e.At.Before(cutoff) || auditLinkProblem(&e, prevSeq, prevHash, prevID) != "" {
			break // unreadable, recent, or a broken link: keep it and what follows
		}
		last, n = e, n+1
		prevSeq, prevHash, prevID = e.Seq, e.Hash, e.ID
	}
	rows.Close()
	if err := rows.Err(); err != nil || n == 0 {
		return 0, err
	}
	res := tx.Exec("DELETE FROM audit_events WHERE writer = ? AND seq <= ?", writer, last.Seq)
	if res.Error != nil {
		return 0, res.Error
	}
	if res.RowsAffected != int64(n) {
		return 0, fmt.Errorf("deleted %d events through seq %d, expected %d", res.RowsAffected, last.Seq, n)
	}
	err = tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "writer"}},
		DoUpdates: clause.AssignmentColumns([]string{"seq", "hash", "deleted_through_at", "updated_at"}),
	}).Create(&auditCheckpoint{Writer: writer, Seq: last.Seq, Hash: last.Hash, DeletedThroughAt: last.At, UpdatedAt: now()}).Error
	return n, err
}

// getAuditCheckpoint returns writer's checkpoint, or the zero one (seq 0,
// hash "": the chain's start) when retention never deleted any of its
// events.
func getAuditCheckpoint(db *gorm.DB, writer string) (auditCheckpoint, error) {
	var cps []auditCheckpoint
	if err := db.Where("writer = ?", writer).Limit(1).Find(&cps).Error; err != nil || len(cps) == 0 {
		return auditCheckpoint{Writer: writer}, err
	}
	return cps[0], nil
}

// auditWriters returns, in name order, every writer with events or a
// checkpoint. The events' writers are found by seeks on the (writer,
// seq) index, one per writer, not by reading every entry.
func auditWriters(db *gorm.DB) ([]string, error) {
	var writers []string
	if err := db.Model(&auditCheckpoint{}).Order("writer").Pluck("writer", &writers).Error; err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, w := range writers {
		seen[w] = true
	}
	for last, op := "", ">="; ; op = ">" {
		var next []string
		if err := db.Raw("SELECT writer FROM audit_events WHERE writer "+op+" ? ORDER BY writer LIMIT 1", last).Scan(&next).Error; err != nil {
			return nil, err
		}
		if len(next) == 0 {
			break
		}
		if last = next[0]; !seen[last] {
			writers, seen[last] = append(writers, last), true
		}
	}
	slices.Sort(writers)
	return writers, nil
}
