package models

import (
	"time"

	"gorm.io/gorm"
)

// auditJournalV12 is the audit journal as migration 12 created it (see
// audit_journal.go). Only SQLite writes it; PostgreSQL has the table too,
// always empty, so that both engines keep one schema. Frozen: the live
// journal may change, this may not.
//
// Its columns are audit_events' as AppendAuditEvents writes them: no
// outcome, which is written after the event has settled. id is INTEGER
// PRIMARY KEY AUTOINCREMENT, and the journal's counter starts where
// audit_events' stands, so that from here on every event id comes from
// it: an event keeps its id when it settles. (writer, seq) is unique, as
// in audit_events, and finds a writer's head.
type auditJournalV12 struct {
	ID             uint64    `gorm:"primaryKey"`
	At             time.Time `gorm:"not null"`
	Kind           string    `gorm:"size:32;not null"`
	RequestID      string    `gorm:"column:request_id;size:128;not null"`
	Writer         string    `gorm:"size:128;not null;uniqueIndex:idx_audit_journal_writer_seq,priority:1"`
	Seq            uint64    `gorm:"not null;uniqueIndex:idx_audit_journal_writer_seq,priority:2"`
	PrevHash       string    `gorm:"column:prev_hash;size:64;not null"`
	Hash           string    `gorm:"size:64;not null"`
	UserID         *uint     `gorm:"column:user_id"`
	UserEmail      string    `gorm:"column:user_email;size:320;not null"`
	ServiceAccount string    `gorm:"column:service_account;size:200;not null"`
	ClientID       string    `gorm:"column:client_id;size:2048;not null"`
	RouteID        *uint     `gorm:"column:route_id"`
	RouteName      string    `gorm:"column:route_name;size:200;not null"`
	HTTPMethod     string    `gorm:"column:http_method;size:16;not null"`
	MCPMethod      string    `gorm:"column:mcp_method;size:255;not null"`
	Tool           string    `gorm:"size:255;not null"`
	Arguments      string    `gorm:"type:text;not null"`
	Decision       string    `gorm:"size:16;not null"`
	Reasons        string    `gorm:"type:text;not null"`
	ConfigVersion  int64     `gorm:"column:config_version;not null"`
	SourceIP       string    `gorm:"column:source_ip;size:64;not null"`
}

func (auditJournalV12) TableName() string { return "audit_journal" }

func migrate12(tx *gorm.DB) error {
	if err := tx.Migrator().CreateTable(&auditJournalV12{}); err != nil {
		return err
	}
	if isPostgres(tx) {
		return nil
	}
	return tx.Exec(`INSERT INTO sqlite_sequence (name, seq)
		SELECT 'audit_journal', seq FROM sqlite_sequence WHERE name = 'audit_events'`).Error
}
