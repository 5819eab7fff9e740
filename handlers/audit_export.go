package handlers

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

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

// Export streams the filtered events as CSV (?format=csv) or JSON Lines
// (?format=jsonl), newest first, in constant memory; the export is itself
// an audit event.
func (h *AuditLog) Export(c echo.Context) error {
	ctx := c.Request().Context()
	now := time.Now()
	_, f, problems, err := readAuditFilter(ctx, c, h.Store, now)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return echo.NewHTTPError(http.StatusBadRequest, "The filter is not valid: fix it on the audit log page first.")
	}
	if err := f.Validate(); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The filter is not valid: "+err.Error())
	}
	format := c.QueryParam("format")
	if format != "csv" && format != "jsonl" {
		return echo.NewHTTPError(http.StatusBadRequest, "format must be csv or jsonl.")
	}
	// Every export is an audit event, and it is recorded before anything
	// is read: an export that cannot be recorded does not happen.
	if h.Audit != nil {
		uid, email := userRef(UserFrom(c))
		ev := &models.AuditEvent{
			Kind: models.AuditKindExport, UserID: uid, UserEmail: email, Decision: models.AuditAllow,
			RequestID: c.Response().Header().Get(echo.HeaderXRequestID), SourceIP: c.RealIP(), HTTPMethod: c.Request().Method,
		}
		reasons, _ := json.Marshal([]map[string]string{{"detail": "exported the audit log as " + format + " with filter " + c.QueryString()}})
		ev.Reasons = string(reasons)
		if _, err := h.Audit.Record(ctx, ev); err != nil {
			h.Logger.Error("audit: an export could not be recorded, so it was refused", "error", err)
			return echo.NewHTTPError(http.StatusServiceUnavailable, "The export could not be recorded in the audit log, so it was not made. Try again in a moment.")
		}
	}

	resp := c.Response()
	name := "drawbridge-audit-" + now.UTC().Format("20060102-150405") + "." + format
	resp.Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	resp.Header().Set("Cache-Control", "no-store")
	if format == "csv" {
		resp.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	} else {
		resp.Header().Set(echo.HeaderContentType, "application/x-ndjson")
	}
	resp.WriteHeader(http.StatusOK)
	buf := bufio.NewWriterSize(resp, 64<<10)
	var write func(e *models.AuditEvent) error
	if format == "csv" {
		w := csv.NewWriter(buf)
		if err := w.Write(auditCSVHeader); err != nil {
			return err
		}
		row := make([]string, 0, len(auditCSVHeader))
		write = func(e *models.AuditEvent) error {
			row = auditCSVRecord(e, row)
			if err := w.Write(row); err != nil {
				return err
			}
			w.Flush()
			return w.Error()
		}
	} else {
		enc := json.NewEncoder(buf)
		write = func(e *models.AuditEvent) error { return enc.Encode(e) }
	}
	n := 0
	err = h.Store.EachAuditEvent(ctx, f, func(e *models.AuditEvent) error {
		if err := write(e); err != nil {
			return err
		}
		if n++; n%1000 == 0 {
			if err := buf.Flush(); err != nil {
				return err
			}
			resp.Flush()
		}
		return nil
	})
	if err == nil {
		err = buf.Flush()
	}
	if err != nil {
		// The status is sent: break the connection, so the download
		// fails visibly rather than end as a short file.
		h.Logger.Warn("audit: export stopped", "rows", n, "error", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}
