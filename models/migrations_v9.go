package models

import "gorm.io/gorm"

// The type below is the schema as migration 9 created it: what each
// recorded verification found in each writer's chain, so that the console
// shows it after a reload, not only in the flash that followed Verify
// now. It is frozen: the live entities may change, this may not.

// auditVerificationChainV9 is one writer's chain as one verification
// found it (see AuditChainStatus). A verification has one row per writer,
// so (verification_id, writer) is the key, and its rows go with it
// (CASCADE) when old verifications are pruned. The key's columns are NOT
// NULL explicitly: SQLite would otherwise let a composite primary key
// hold NULLs.
//
// broken_event_id and broken_seq are NULL unless a link is broken at a
// known event. broken_event_id is no foreign key: the event may later be
// deleted by retention, or by whoever broke the chain, and the record of
// what was found must outlive it.
type auditVerificationChainV9 struct {
	VerificationID uint64              `gorm:"primaryKey;autoIncrement:false;not null"`
	Writer         string              `gorm:"primaryKey;size:128;not null"`
	Verification   auditVerificationV8 `gorm:"constraint:OnDelete:CASCADE"`
	Events         int64               `gorm:"not null"`
	FirstSeq       uint64              `gorm:"not null"`
	LastSeq        uint64              `gorm:"not null"`
	LastHash       string              `gorm:"size:64;not null"`
	CheckpointSeq  uint64              `gorm:"not null"`
	OK             bool                `gorm:"column:ok;not null"`
	Problem        string              `gorm:"type:text;not null"`
	BrokenEventID  *uint64
	BrokenSeq      *uint64
}

func (auditVerificationChainV9) TableName() string { return "audit_verification_chains" }

func migrate9(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&auditVerificationChainV9{})
}
