package models

import (
	"time"

	"gorm.io/gorm"
)

// auditJournalV13 is the audit journal as migration 13 rebuilt it (see
// audit_journal.go). Frozen: the live journal may change, this may not.
//
// Two changes from migration 12's, each measured on the gateway's hot
// path (BenchmarkAppendAuditEvents):
//
//   - id is a plain INTEGER PRIMARY KEY, no longer AUTOINCREMENT: each
//     row inserted into an AUTOINCREMENT table also rewrites its row of
//     sqlite_sequence, one more B-tree update per event and one more page
//     per commit. The append now assigns ids itself, in the transaction
//     that holds the write lock: one above the journal's newest and above
//     audit_events' counter, which remembers even deleted events' ids.
//   - it has audit_events' outcome columns: an outcome that arrives while
//     its event is journaled is written there, and the event settles
//     whole, instead of being updated in audit_events, index entries and
//     all, after it settled.
//
// The journal holds no events across the migration: it settles them
// first, as Open does.
type auditJournalV13 struct {
	ID             uint64    `gorm:"primaryKey;autoIncrement:false"`
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
	Status         *int
	RPCErrorCode   *int   `gorm:"column:rpc_error_code"`
	IsError        *bool  `gorm:"column:is_error"`
	DurationMicros *int64 `gorm:"column:duration_micros"`
	ResponseBytes  *int64 `gorm:"column:response_bytes"`
	OutcomeAt      *time.Time
}

func (auditJournalV13) TableName() string { return "audit_journal" }

// journalColumnsV12 are the columns of migration 12's journal, which this
// migration settles before it drops the table.
const journalColumnsV12 = "id, at, kind, request_id, writer, seq, prev_hash, hash, user_id, user_email, " +
	"service_account, client_id, route_id, route_name, http_method, mcp_method, tool, arguments, " +
	"decision, reasons, config_version, source_ip"

func migrate13(tx *gorm.DB) error {
	if !isPostgres(tx) {
		for _, q := range []string{
			"INSERT INTO audit_events (" + journalColumnsV12 + ") SELECT " + journalColumnsV12 + " FROM audit_journal ORDER BY id",
			// audit_events' counter takes over from the journal's, which
			// may have gone further (an event journaled, then deleted).
			`INSERT INTO sqlite_sequence (name, seq) SELECT 'audit_events', 0
				WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'audit_events')`,
			`UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'audit_journal'), 0))
				WHERE name = 'audit_events'`,
		} {
			if err := tx.Exec(q).Error; err != nil {
				return err
			}
		}
	}
	if err := tx.Migrator().DropTable("audit_journal"); err != nil {
		return err
	}
	return tx.Migrator().CreateTable(&auditJournalV13{})
}
