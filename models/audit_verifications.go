package models

import (
	"context"
	"fmt"
	"time"
)

// AuditVerification is one recorded run of VerifyAuditChains, for the
// console's "last verified at … by …: OK".
type AuditVerification struct {
	At time.Time `json:"at"`
	// By is who ran it: the actor of the context RecordAuditVerification
	// was given (see WithActor), or ActorSystem for the CLI and
	// background jobs.
	By string `json:"by"`
	OK bool   `json:"ok"` // every chain verified
}

// auditVerification is a row of audit_verifications (auditVerificationV8).
type auditVerification struct {
	ID    uint64
	At    time.Time
	Actor string
	OK    bool `gorm:"column:ok"`
}

func (auditVerification) TableName() string { return "audit_verifications" }

// RecordAuditVerification records that the chains were verified at at,
// by the actor in ctx, and whether they all held. Each run is a row of
// its own, kept: a short history of who checked when.
func (s *Store) RecordAuditVerification(ctx context.Context, at time.Time, ok bool) error {
	row := auditVerification{At: dbTime(at), Actor: actorOf(ctx), OK: ok}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("models: record audit verification: %w", err)
	}
	return nil
}

// LastAuditVerification returns the newest recorded verification, or
// ErrNotFound when none was ever recorded.
func (s *Store) LastAuditVerification(ctx context.Context) (AuditVerification, error) {
	var row auditVerification
	if err := s.db.WithContext(ctx).Order("at DESC, id DESC").Take(&row).Error; err != nil {
		return AuditVerification{}, fmt.Errorf("models: last audit verification: %w", dbError(err))
	}
	return AuditVerification{At: row.At, By: row.Actor, OK: row.OK}, nil
}
