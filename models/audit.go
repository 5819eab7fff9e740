package models

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Kinds of AuditEvent.
const (
	// AuditKindMCP is one MCP request message through the gateway.
	AuditKindMCP = "mcp"
	// The authorization server's and the console's events.
	AuditKindSignIn     = "sign_in"
	AuditKindConsent    = "consent"
	AuditKindToken      = "token"
	AuditKindRevocation = "revocation"
	AuditKindRefused    = "refused"
	// AuditKindConnection is a user connecting or disconnecting an
	// upstream account, or the upstream refusing a saved one.
	AuditKindConnection = "connection"
	// AuditKindExport is someone exporting the audit log: reading it is
	// itself audited.
	AuditKindExport = "export"
)

// AuditKinds lists every kind an AuditEvent may have.
var AuditKinds = []string{AuditKindMCP, AuditKindSignIn, AuditKindConsent, AuditKindToken, AuditKindRevocation, AuditKindRefused, AuditKindConnection, AuditKindExport}

// Decisions an AuditEvent records.
const (
	AuditAllow = "allow"
	AuditDeny  = "deny"
	AuditError = "error" // neither: the request could not be decided or served
)

// AuditEvent is one recorded event: for kind "mcp", one MCP request
// message through the gateway, written before the message is forwarded.
//
// Everything but ID and the outcome is fixed when the event is appended,
// and covered by Hash: see audit_chain.go.
type AuditEvent struct {
	ID        uint64    `json:"id"`
	At        time.Time `json:"at"`
	Kind      string    `json:"kind"`       // one of AuditKinds
	RequestID string    `json:"request_id"` // the HTTP request's id
	// Writer is the process that appended the event, and Seq its place in
	// that writer's chain, from 1. PrevHash is the hash of the writer's
	// previous event ("" for its first), Hash this event's: hex SHA-256.
	// AppendAuditEvents sets all four.
	Writer   string `json:"writer"`
	Seq      uint64 `json:"seq"`
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`

	UserID         *uint  `json:"user_id,omitempty"`
	UserEmail      string `json:"user_email"`
	ServiceAccount string `json:"service_account,omitempty"`
	ClientID       string `json:"client_id,omitempty"`
	RouteID        *uint  `json:"route_id,omitempty"`
	RouteName      string `json:"route_name,omitempty"`
	HTTPMethod     string `gorm:"column:http_method" json:"http_method,omitempty"`
	MCPMethod      string `gorm:"column:mcp_method" json:"mcp_method,omitempty"`
	Tool           string `json:"tool,omitempty"`
	// Arguments is JSON text, already redacted and capped by the caller,
	// or "" when the message had none.
	Arguments string `json:"arguments,omitempty"`
	Decision  string `json:"decision"` // AuditAllow, AuditDeny or AuditError
	// Reasons is a JSON array: why the decision was what it was.
	Reasons string `json:"reasons"`
	// ConfigVersion is the configuration the decision was made under.
	ConfigVersion int64  `json:"config_version"`
	SourceIP      string `gorm:"column:source_ip" json:"source_ip,omitempty"`

	// The outcome, filled after the answer by RecordAuditOutcomes; nil
	// until then, and for good if the process stopped first.
	Status         *int       `json:"status,omitempty"`
	RPCErrorCode   *int       `gorm:"column:rpc_error_code" json:"rpc_error_code,omitempty"`
	IsError        *bool      `json:"is_error,omitempty"`
	DurationMicros *int64     `json:"duration_micros,omitempty"`
	ResponseBytes  *int64     `json:"response_bytes,omitempty"`
	OutcomeAt      *time.Time `json:"outcome_at,omitempty"`
}

// TableName is the table AuditEvent reads from.
func (AuditEvent) TableName() string { return "audit_events" }

// maxWriterLen is the size of the writer column.
const maxWriterLen = 128

// Validate reports what AppendAuditEvents would refuse in e: a kind or
// decision it does not know, and arguments or reasons that are not JSON.
// A writer calls it before queueing e, so that one bad event cannot fail
// the batch it would have shared with others.
func (e *AuditEvent) Validate() error {
	v := &ValidationError{}
	if !slices.Contains(AuditKinds, e.Kind) {
		v.Add("kind", fmt.Sprintf("%q is not an audit event kind", e.Kind))
	}
	switch e.Decision {
	case AuditAllow, AuditDeny, AuditError:
	default:
		v.Add("decision", fmt.Sprintf("%q is not allow, deny or error", e.Decision))
	}
	if e.Arguments != "" && !json.Valid([]byte(e.Arguments)) {
		v.Add("arguments", "not JSON")
	}
	if e.Reasons != "" && (!json.Valid([]byte(e.Reasons)) || strings.TrimSpace(e.Reasons)[0] != '[') {
		v.Add("reasons", "not a JSON array")
	}
	return v.Err()
}

// normalize brings e's values to what the database will hand back, so
// that the hash computed now is the hash recomputed from the row later:
// time in UTC microseconds, text valid UTF-8 without NUL (PostgreSQL
// stores neither) and within its column's size.
func (e *AuditEvent) normalize() {
	if e.At.IsZero() {
		e.At = now()
	} else {
		e.At = dbTime(e.At)
	}
	if e.Reasons == "" {
		e.Reasons = "[]"
	}
	// The sizes are the columns' in migration 5.
	for _, f := range []struct {
		p   *string
		max int
	}{
		{&e.Kind, 32}, {&e.RequestID, 128}, {&e.UserEmail, 320}, {&e.ServiceAccount, 200},
		{&e.ClientID, 2048}, {&e.RouteName, 200}, {&e.HTTPMethod, 16}, {&e.MCPMethod, 255},
		{&e.Tool, 255}, {&e.Decision, 16}, {&e.SourceIP, 64},
	} {
		*f.p = truncate(cleanText(*f.p), f.max)
	}
	e.Arguments, e.Reasons = cleanText(e.Arguments), cleanText(e.Reasons)
}

// cleanText replaces invalid UTF-8 and NUL bytes with U+FFFD. Inside JSON
// text both can only occur within strings, so JSON stays JSON.
func cleanText(s string) string {
	if utf8.ValidString(s) && !strings.Contains(s, "\x00") {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// validWriter checks a writer name: it identifies a chain, so it must
// read back exactly as given.
func validWriter(w string) error {
	if w == "" || len(w) > maxWriterLen || cleanText(w) != w {
		return &ValidationError{Fields: []FieldError{{Field: "writer", Message: "must be 1 to 128 bytes of UTF-8 text"}}}
	}
	return nil
}

// auditSelectColumns are every column, in the order scanAuditEvent reads
// them.
const auditSelectColumns = "id, " + auditInsertColumns +
	", status, rpc_error_code, is_error, duration_micros, response_bytes, outcome_at"

// scanAuditEvent reads a row of auditSelectColumns into e.
func scanAuditEvent(row interface{ Scan(...any) error }, e *AuditEvent) error {
	return row.Scan(&e.ID, &e.At, &e.Kind, &e.RequestID, &e.Writer, &e.Seq, &e.PrevHash, &e.Hash,
		&e.UserID, &e.UserEmail, &e.ServiceAccount, &e.ClientID, &e.RouteID, &e.RouteName,
		&e.HTTPMethod, &e.MCPMethod, &e.Tool, &e.Arguments, &e.Decision, &e.Reasons,
		&e.ConfigVersion, &e.SourceIP,
		&e.Status, &e.RPCErrorCode, &e.IsError, &e.DurationMicros, &e.ResponseBytes, &e.OutcomeAt)
}

// GetAuditEvent returns the event with id, outcome included, or
// ErrNotFound.
func (s *Store) GetAuditEvent(ctx context.Context, id uint64) (*AuditEvent, error) {
	if err := s.settleAuditJournal(ctx); err != nil {
		return nil, fmt.Errorf("models: get audit event %d: %w", id, err)
	}
	row := s.db.WithContext(ctx).Raw("SELECT "+auditSelectColumns+" FROM audit_events WHERE id = ?", id).Row()
	var e AuditEvent
	if err := scanAuditEvent(row, &e); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			err = ErrNotFound
		}
		return nil, fmt.Errorf("models: get audit event %d: %w", id, err)
	}
	return &e, nil
}
