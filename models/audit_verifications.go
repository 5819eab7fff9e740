package models

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// auditVerificationsKept is how many recorded verifications are kept: each
// RecordAuditVerification deletes those older than the newest this many,
// so that a Verify button pressed every minute cannot grow the database
// without bound. A hundred is weeks of daily checks, enough to see who
// checked when and what they found.
const auditVerificationsKept = 100

// AuditVerification is one recorded run of VerifyAuditChains, for the
// console's "last verified at … by …" and its table of chains, which must
// survive a reload.
type AuditVerification struct {
	At time.Time `json:"at"`
	// By is who ran it: the actor of the context RecordAuditVerification
	// was given (see WithActor), or ActorSystem for the CLI and
	// background jobs.
	By string `json:"by"`
	OK bool   `json:"ok"` // every chain verified
	// Chains is what the run found in each writer's chain, in writer
	// order; empty when the log held no events.
	Chains []AuditChainResult `json:"chains"`
}

// AuditChainResult is one writer's chain as a recorded verification found
// it: an AuditChainStatus as stored, with the break, if any, flattened.
// CheckpointAt is not kept: the checkpoint's seq places the chain's start.
type AuditChainResult struct {
	Writer        string `json:"writer"`
	Events        int64  `json:"events"`
	FirstSeq      uint64 `json:"first_seq"`
	LastSeq       uint64 `json:"last_seq"`
	LastHash      string `json:"last_hash"`
	CheckpointSeq uint64 `json:"checkpoint_seq,omitempty"`
	OK            bool   `json:"ok"`
	// Problem says what is wrong when !OK: the first broken link's
	// description, or a finding of the caller's that names no event (the
	// console flags a checkpoint left while retention is off).
	Problem string `json:"problem,omitempty"`
	// BrokenID and BrokenSeq are the event at the first broken link; 0
	// when the chain verifies or Problem names no event. Event ids start
	// at 1, so 0 is never one.
	BrokenID  uint64 `json:"broken_id,omitempty"`
	BrokenSeq uint64 `json:"broken_seq,omitempty"`
}

// Result is st as a verification records it, given the retention in
// days set when it ran. A chain that starts from a checkpoint while
// retention is off is not OK: only retention deletes old events and
// leaves one, so something else removed them. A break, which names an
// event, is the problem kept when there are both.
func (st AuditChainStatus) Result(retentionDays int) AuditChainResult {
	r := AuditChainResult{
		Writer: st.Writer, Events: st.Events, FirstSeq: st.FirstSeq, LastSeq: st.LastSeq, LastHash: st.LastHash,
		CheckpointSeq: st.CheckpointSeq, OK: st.OK,
	}
	switch {
	case st.Break != nil:
		r.OK, r.Problem, r.BrokenID, r.BrokenSeq = false, st.Break.Problem, st.Break.ID, st.Break.Seq
	case st.CheckpointSeq != 0 && retentionDays == 0:
		r.OK, r.Problem = false, st.CheckpointProblem()
	}
	return r
}

// CheckpointProblem says why a chain that starts from a checkpoint while
// retention is off is suspect.
func (st AuditChainStatus) CheckpointProblem() string {
	return "starts from a retention checkpoint (seq " + strconv.FormatUint(st.CheckpointSeq, 10) +
		"), but retention is off: its older events were deleted by something else"
}

// auditVerification is a row of audit_verifications (auditVerificationV8).
type auditVerification struct {
	ID    uint64
	At    time.Time
	Actor string
	OK    bool `gorm:"column:ok"`
}

func (auditVerification) TableName() string { return "audit_verifications" }

// auditVerificationChain is a row of audit_verification_chains
// (auditVerificationChainV9).
type auditVerificationChain struct {
	VerificationID uint64 `gorm:"primaryKey;autoIncrement:false"`
	Writer         string `gorm:"primaryKey"`
	Events         int64
	FirstSeq       uint64
	LastSeq        uint64
	LastHash       string
	CheckpointSeq  uint64
	OK             bool `gorm:"column:ok"`
	Problem        string
	BrokenEventID  *uint64
	BrokenSeq      *uint64
}

func (auditVerificationChain) TableName() string { return "audit_verification_chains" }

// RecordAuditVerification records that the chains were verified at at,
// by the actor in ctx, and what was found in each; the run is OK when
// every chain is. Each run is a row of its own, kept with its chains:
// a short history of who checked when, pruned to the newest
// auditVerificationsKept in the same transaction.
func (s *Store) RecordAuditVerification(ctx context.Context, at time.Time, chains []AuditChainResult) error {
	row := auditVerification{At: dbTime(at), Actor: truncate(actorOf(ctx), maxActorLen), OK: true}
	for _, c := range chains {
		row.OK = row.OK && c.OK
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if len(chains) > 0 {
			rows := make([]auditVerificationChain, len(chains))
			for i, c := range chains {
				rows[i] = auditVerificationChain{
					VerificationID: row.ID, Writer: c.Writer, Events: c.Events, FirstSeq: c.FirstSeq, LastSeq: c.LastSeq,
					LastHash: c.LastHash, CheckpointSeq: c.CheckpointSeq, OK: c.OK, Problem: c.Problem,
					BrokenEventID: nullIfZero(c.BrokenID), BrokenSeq: nullIfZero(c.BrokenSeq),
				}
			}
			// Eleven columns a row: batches of 500 stay far below SQLite's
			// limit on a statement's parameters.
			if err := tx.CreateInBatches(rows, 500).Error; err != nil {
				return err
			}
		}
		// Their chains go with them (ON DELETE CASCADE). The order is
		// LastAuditVerification's, so the newest is never the one pruned.
		return tx.Exec(`DELETE FROM audit_verifications WHERE id NOT IN
			(SELECT id FROM audit_verifications ORDER BY at DESC, id DESC LIMIT ?)`, auditVerificationsKept).Error
	})
	if err != nil {
		return fmt.Errorf("models: record audit verification: %w", err)
	}
	return nil
}

// LastAuditVerification returns the newest recorded verification with
// what it found in each chain, or ErrNotFound when none was ever
// recorded.
func (s *Store) LastAuditVerification(ctx context.Context) (AuditVerification, error) {
	db := s.db.WithContext(ctx)
	var row auditVerification
	if err := db.Order("at DESC, id DESC").Take(&row).Error; err != nil {
		return AuditVerification{}, fmt.Errorf("models: last audit verification: %w", dbError(err))
	}
	var rows []auditVerificationChain
	if err := db.Where("verification_id = ?", row.ID).Order("writer").Find(&rows).Error; err != nil {
		return AuditVerification{}, fmt.Errorf("models: last audit verification's chains: %w", err)
	}
	v := AuditVerification{At: row.At, By: row.Actor, OK: row.OK, Chains: make([]AuditChainResult, len(rows))}
	for i, r := range rows {
		v.Chains[i] = AuditChainResult{
			Writer: r.Writer, Events: r.Events, FirstSeq: r.FirstSeq, LastSeq: r.LastSeq, LastHash: r.LastHash,
			CheckpointSeq: r.CheckpointSeq, OK: r.OK, Problem: r.Problem,
			BrokenID: zeroIfNull(r.BrokenEventID), BrokenSeq: zeroIfNull(r.BrokenSeq),
		}
	}
	return v, nil
}

// nullIfZero is v as a nullable column: NULL for 0.
func nullIfZero(v uint64) *uint64 {
	if v == 0 {
		return nil
	}
	return &v
}

// zeroIfNull reads a nullable column nullIfZero wrote.
func zeroIfNull(p *uint64) uint64 {
	if p == nil {
		return 0
	}
	return *p
}
