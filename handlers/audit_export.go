package handlers

import (
	"bufio"
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
)

// Export streams the filtered events as CSV (format=csv) or JSON Lines
// (format=jsonl), newest first, in constant memory; the export is itself
// an audit event. It answers a POST of the audit log page's Export form
// (the filters as fields, checked for the CSRF token like every console
// POST), not a GET: since each export is recorded, a link on another
// site must not be able to make one.
func (h *AuditLog) Export(c echo.Context) error {
	ctx := c.Request().Context()
	now := time.Now()
	if err := c.Request().ParseForm(); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The export form could not be read.")
	}
	// The form's body only: a filter in the URL would be exported
	// without being the one the person saw.
	params := c.Request().PostForm
	read, err := readAuditParams(ctx, params, h.Store, now)
	if err != nil {
		return err
	}
	form, f := read.Form, read.Filter
	format := params.Get("format")
	if format != "csv" && format != "jsonl" {
		var bad models.ValidationError
		bad.Add("format", "must be csv or jsonl"+got(format))
		return badParams(&bad)
	}
	// Every export is an audit event, and it is recorded before anything
	// is read: an export that cannot be recorded does not happen.
	if h.Audit != nil {
		uid, email := userRef(UserFrom(c))
		ev := &models.AuditEvent{
			Kind: models.AuditKindExport, UserID: uid, UserEmail: email, Decision: models.AuditAllow,
			RequestID: c.Response().Header().Get(echo.HeaderXRequestID), SourceIP: c.RealIP(), HTTPMethod: c.Request().Method,
		}
		reasons, _ := json.Marshal([]map[string]string{{"detail": "exported the audit log as " + format + " with filter " + auditQuery(form).Encode()}})
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
		w := newAuditCSVWriter(buf)
		if err := w.WriteHeader(); err != nil {
			return err
		}
		write = w.Write
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
