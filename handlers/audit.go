package handlers

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
)

// Auditor records events in the audit log the gateway writes too.
// proxy/audit's Writer is one; Record returns once the event is durable.
type Auditor interface {
	Record(ctx context.Context, ev *models.AuditEvent) (uint64, error)
}

// audit records what happened at a sign-in or authorization-server
// endpoint: kind, who, which client, allowed or refused, and a detail. A
// failure to record is logged; these endpoints do not fail closed on it,
// since nothing passes through them to an upstream.
func audit(c echo.Context, a Auditor, log *slog.Logger, ev *models.AuditEvent, detail string) {
	if a == nil {
		return
	}
	r := c.Request()
	ev.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
	ev.SourceIP = c.RealIP()
	ev.HTTPMethod = r.Method
	if ev.Decision == "" {
		ev.Decision = models.AuditAllow
	}
	reasons, _ := json.Marshal([]map[string]string{{"detail": detail}})
	ev.Reasons = string(reasons)
	if _, err := a.Record(r.Context(), ev); err != nil && log != nil {
		log.Error("audit: could not record an event", "kind", ev.Kind, "error", err)
	}
}

// userRef is the audit log's reference to u.
func userRef(u *models.User) (*uint, string) {
	if u == nil {
		return nil, ""
	}
	id := u.ID
	return &id, u.Email
}
