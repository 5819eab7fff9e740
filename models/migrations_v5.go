package models

import (
	"time"

	"gorm.io/gorm"
)

// auditEventV5 is the audit trail as migration 5 created it. Frozen: the
// live AuditEvent may change, this may not.
//
// The table is append-only but for the outcome columns, which are written
// once, after the answer. It has no foreign keys on purpose: the trail
// outlives the users, routes and clients it names, and keeps their names
// as they were (user_email, route_name).
//
// id is INTEGER PRIMARY KEY AUTOINCREMENT: the rowid itself, so every
// index entry already ends with it, and never reused, even after the
// newest rows are deleted, so an id names one event forever.
// (writer, seq) is unique: one place per event in its writer's hash chain,
// and two processes that claimed the same writer name cannot fork it.
type auditEventV5 struct {
	ID             uint64    `gorm:"primaryKey"`
	At             time.Time `gorm:"not null"`
	Kind           string    `gorm:"size:32;not null"`
	RequestID      string    `gorm:"column:request_id;size:128;not null"`
	Writer         string    `gorm:"size:128;not null"`
	Seq            uint64    `gorm:"not null"`
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
	Arguments      string    `gorm:"type:text;not null"` // JSON, or "" for none
	Decision       string    `gorm:"size:16;not null"`
	Reasons        string    `gorm:"type:text;not null"` // JSON array
	ConfigVersion  int64     `gorm:"column:config_version;not null"`
	SourceIP       string    `gorm:"column:source_ip;size:64;not null"`
	Status         *int
	RPCErrorCode   *int   `gorm:"column:rpc_error_code"`
	IsError        *bool  `gorm:"column:is_error"`
	DurationMicros *int64 `gorm:"column:duration_micros"`
	ResponseBytes  *int64 `gorm:"column:response_bytes"`
	OutcomeAt      *time.Time
}

func (auditEventV5) TableName() string { return "audit_events" }

// auditIndexesV5 serve the audit log's filters, each with keyset
// pagination newest first: WHERE <filter> AND id < :last ORDER BY id DESC
// LIMIT n walks one index backwards from the cursor and stops after n
// rows, however deep the page. Every filter index is (column, id) so that
// it reads so on PostgreSQL too; on SQLite, which appends the rowid to
// every index entry anyway, the id costs a few bytes.
//
//   - at: a time range. Ids rise with time (each is assigned at commit,
//     at is the request's time, moments before), so the console turns
//     the range into an id range with two lookups here and pages on id.
//   - tool: a prefix is a range, tool >= 'admin_' AND tool < 'admin`'
//     (LIKE ignores case, and could not use the index). A range cannot
//     also come out in id order, so the console finds the few distinct
//     tools in it (one seek each: the next tool after the last one
//     found), pages each as tool = ? like any other filter, and merges.
//   - user_id, not user_email: the id survives a change of address; the
//     console finds a user's ids by email in the users table.
//   - decision and kind are low-cardinality, but the rare values (deny,
//     error; sign_in, refused) are the ones looked for.
//
// Each index costs every commit: one more B-tree page written to the WAL,
// and again at checkpoint (about 15 µs per index for a one-event commit
// in BenchmarkAppendAuditEvents; group commit shares it, and since
// migration 12 SQLite pays it when events settle, hundreds at a time:
// see audit_journal.go). Hence what is deliberately not indexed:
// user_email (above); the outcome columns, written after the row (an
// index there would cost every answer a second index write, for a
// filter that combines with others); and arguments, whose free-text
// search scans rows newest first within the other filters. A full-text
// index is a later migration's choice, if that proves too slow.
var auditIndexesV5 = []string{
	"CREATE UNIQUE INDEX idx_audit_events_writer_seq ON audit_events (writer, seq)",
	"CREATE INDEX idx_audit_events_at ON audit_events (at)",
	"CREATE INDEX idx_audit_events_request ON audit_events (request_id, id)",
	"CREATE INDEX idx_audit_events_user ON audit_events (user_id, id)",
	"CREATE INDEX idx_audit_events_service_account ON audit_events (service_account, id)",
	"CREATE INDEX idx_audit_events_client ON audit_events (client_id, id)",
	"CREATE INDEX idx_audit_events_route ON audit_events (route_id, id)",
	"CREATE INDEX idx_audit_events_mcp_method ON audit_events (mcp_method, id)",
	"CREATE INDEX idx_audit_events_tool ON audit_events (tool, id)",
	"CREATE INDEX idx_audit_events_decision ON audit_events (decision, id)",
	"CREATE INDEX idx_audit_events_kind ON audit_events (kind, id)",
}

// auditToolCollationV5 is PostgreSQL's one change to the table GORM
// creates from auditEventV5 (bigserial id, bigint for the uint64s,
// timestamptz, boolean: the types SQLite's stand for). The tool filters
// are byte ranges (see above); SQLite compares text byte by byte, while
// PostgreSQL compares by the database's collation, under which, in
// en_US say, "admin_x" need not lie between "admin_" and "admin`". The
// column compares as SQLite's does, and its index serves the ranges.
const auditToolCollationV5 = `ALTER TABLE audit_events ALTER COLUMN tool TYPE varchar(255) COLLATE "C"`

func migrate5(tx *gorm.DB) error {
	if err := tx.Migrator().CreateTable(&auditEventV5{}); err != nil {
		return err
	}
	if isPostgres(tx) {
		if err := tx.Exec(auditToolCollationV5).Error; err != nil {
			return err
		}
	}
	for _, stmt := range auditIndexesV5 {
		if err := tx.Exec(stmt).Error; err != nil {
			return err
		}
	}
	return nil
}
