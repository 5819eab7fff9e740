package models

import (
	"time"

	"gorm.io/gorm"
)

// The types below are the schema as migration 8 changed it, for the audit
// log's readers: the auditor role, the checkpoints retention leaves, and
// the record of each verification. They are frozen: the live entities
// may change, these may not.

// userV8 is the column migration 8 adds to users. It has a DEFAULT, unlike
// migration 1's columns, because ALTER TABLE must fill the existing rows:
// false, no one is an auditor until made one.
type userV8 struct {
	IsAuditor bool `gorm:"not null;default:false"`
}

func (userV8) TableName() string { return "users" }

// auditCheckpointV8 is where retention left one writer's chain: the seq
// and hash of the newest event it deleted, so that the oldest remaining
// event, whose prev_hash is that hash, still verifies. One row per writer,
// moved forward by every deletion.
type auditCheckpointV8 struct {
	Writer           string    `gorm:"primaryKey;size:128;not null"`
	Seq              uint64    `gorm:"not null"`
	Hash             string    `gorm:"size:64;not null"`
	DeletedThroughAt time.Time `gorm:"not null"` // the at of that newest deleted event
	UpdatedAt        time.Time `gorm:"not null"`
}

func (auditCheckpointV8) TableName() string { return "audit_checkpoints" }

// auditVerificationV8 is one run of the chains' verification: when, by
// whom (an email, or "system" for the CLI and background jobs), and
// whether every chain held.
type auditVerificationV8 struct {
	ID    uint64    `gorm:"primaryKey"`
	At    time.Time `gorm:"not null;index:idx_audit_verifications_at"`
	Actor string    `gorm:"size:320;not null"`
	OK    bool      `gorm:"column:ok;not null"`
}

func (auditVerificationV8) TableName() string { return "audit_verifications" }

// auditFailedSQL is the condition of idx_audit_events_failed. A query
// must repeat it word for word for SQLite to use that partial index.
const auditFailedSQL = "(status >= 400 OR rpc_error_code IS NOT NULL OR is_error)"

// auditIndexesV8 serve the dashboard (see AuditDashboard), which counts
// over a week of events at a time: every count must walk an index alone,
// never the table, and never sort (SQLite groups by sorting, about
// 0.3 µs a row: a second for a million).
//
//   - calls: tools/call events in (user, route, tool) order, for the top
//     users, the top tools and the calls per route, all counted in one
//     walk. It is not partial on tools/call, which would spare the other
//     methods its cost, because SQLite then prefers (mcp_method, id) and
//     a sort: the query's mcp_method = ? makes that index look as good.
//     One more B-tree entry per event: the one full-cost index here.
//     The list's pages keep to their (column, id) indexes beside it
//     (TestAuditQueryPlans).
//   - refused: the events that were not allowed (5% in the benchmark),
//     for the denials per time bucket. Partial, so that an allowed event,
//     the common case, pays nothing.
//   - failed: the events whose outcome is a failure (an HTTP error, a
//     JSON-RPC error, or isError), for the errors per route and the
//     list's outcome filter. Partial: an entry is written when an outcome
//     says the call failed, a few percent of outcomes, and never for the
//     others. It holds the outcome columns so that SQLite need not read
//     the row to check the condition.
//
// The partial indexes lead with id, so each is its rows in id order: a
// time bucket, or a page below a cursor, is an id range of it.
var auditIndexesV8 = []string{
	"CREATE INDEX idx_audit_events_calls ON audit_events (mcp_method, user_id, route_id, tool, id)",
	"CREATE INDEX idx_audit_events_refused ON audit_events (id, mcp_method, decision) WHERE decision <> 'allow'",
	"CREATE INDEX idx_audit_events_failed ON audit_events (id, mcp_method, route_id, status, rpc_error_code, is_error) WHERE " + auditFailedSQL,
}

func migrate8(tx *gorm.DB) error {
	if err := tx.Migrator().AddColumn(&userV8{}, "IsAuditor"); err != nil {
		return err
	}
	if err := tx.Migrator().CreateTable(&auditCheckpointV8{}, &auditVerificationV8{}); err != nil {
		return err
	}
	for _, stmt := range auditIndexesV8 {
		if err := tx.Exec(stmt).Error; err != nil {
			return err
		}
	}
	return nil
}
