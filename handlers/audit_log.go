package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/views"
)

// AuditStore is what the audit log pages need.
type AuditStore interface {
	ListAuditEvents(ctx context.Context, f models.AuditFilter, before uint64, limit int) (models.AuditPage, error)
	AuditEventsAfter(ctx context.Context, f models.AuditFilter, after uint64, limit int) ([]models.AuditEvent, error)
	EachAuditEvent(ctx context.Context, f models.AuditFilter, fn func(*models.AuditEvent) error) error
	GetAuditEvent(ctx context.Context, id uint64) (*models.AuditEvent, error)
	VerifyAuditChains(ctx context.Context) ([]models.AuditChainStatus, error)
	RecordAuditVerification(ctx context.Context, at time.Time, chains []models.AuditChainResult) error
	LastAuditVerification(ctx context.Context) (models.AuditVerification, error)
	GetUserByEmail(ctx context.Context, email string) (*models.User, error)
	GetUser(ctx context.Context, id uint) (*models.User, error)
	ListRoutes(ctx context.Context, f models.RouteFilter) ([]models.Route, int64, error)
	ChangeBefore(ctx context.Context, at time.Time) (*models.Change, error)
	GetSettings(ctx context.Context) (models.Settings, error)
}

// AuditLog is the audit log for security teams: browse, filter, export,
// live tail, integrity.
type AuditLog struct {
	Base
	Store AuditStore
	// ConsoleURL is the console's base URL, for telling its own pages
	// from others'.
	ConsoleURL string
	Audit      Auditor
	Logger     *slog.Logger

	// verifying is held while Verify walks the chains: a walk reads every
	// event, so one at a time per process, however often it is pressed.
	verifying sync.Mutex
}

const auditPageSize = 50

// List shows a page of events, newest first, filtered by the query. A
// parameter it cannot read is refused (readAuditParams), never dropped:
// the page would show other events than the address asks for.
func (h *AuditLog) List(c echo.Context) error {
	ctx := c.Request().Context()
	now := time.Now()
	params, err := readAuditParams(ctx, c.QueryParams(), h.Store, now)
	if err != nil {
		return err
	}
	form, before := params.Form, params.Before
	props := views.AuditLogProps{
		Page: h.Page(c, "Audit log", views.SectionAudit), Filter: form, Now: now,
		VerifyAction: "/admin/audit/verify",
	}
	q := auditQuery(form)
	props.ExportAction = "/admin/audit/export"
	props.TailURL = "/admin/audit/tail?" + q.Encode()
	if before != 0 {
		props.NewestURL = "/admin/audit?" + q.Encode()
	}
	if props.Routes, err = h.routeOptions(ctx, form.Route); err != nil {
		return err
	}
	page, err := h.Store.ListAuditEvents(ctx, params.Filter, before, auditPageSize)
	var verr *models.ValidationError
	switch {
	case errors.As(err, &verr):
		return badParams(verr)
	case err != nil:
		return err
	}
	for i := range page.Events {
		props.Events = append(props.Events, auditRow(&page.Events[i]))
	}
	if before == 0 && len(page.Events) > 0 {
		// The tail starts after the newest row shown, so nothing
		// recorded since the page was made is missed.
		props.TailURL = "/admin/audit/tail?" + withParam(q, "after", strconv.FormatUint(page.Events[0].ID, 10))
	}
	if page.Next != 0 {
		props.OlderURL = "/admin/audit?" + withParam(q, "before", strconv.FormatUint(page.Next, 10))
	}
	props.Truncated = page.Truncated
	last, err := h.Store.LastAuditVerification(ctx)
	switch {
	case err == nil:
		props.LastVerified = &views.AuditVerification{At: last.At, By: last.By, OK: last.OK}
		props.Chains = auditChainRows(last.Chains)
	case !errors.Is(err, models.ErrNotFound):
		return err
	}
	return Render(c, http.StatusOK, views.AuditLogPage(props))
}

// withParam is q with k set to v, encoded.
func withParam(q url.Values, k, v string) string {
	cp := make(url.Values, len(q)+1)
	for key, vals := range q {
		cp[key] = vals
	}
	cp.Set(k, v)
	return cp.Encode()
}

func (h *AuditLog) routeOptions(ctx context.Context, selected string) ([]views.Option, error) {
	routes, _, err := h.Store.ListRoutes(ctx, models.RouteFilter{})
	if err != nil {
		return nil, err
	}
	out := make([]views.Option, len(routes))
	for i, r := range routes {
		id := strconv.FormatUint(uint64(r.ID), 10)
		out[i] = views.Option{Value: id, Label: r.Name, Selected: id == selected}
	}
	return out, nil
}

// auditRow is an event as the table shows it.
func auditRow(e *models.AuditEvent) views.AuditRow {
	return views.AuditRow{
		ID: e.ID, At: e.At, Kind: e.Kind, UserEmail: e.UserEmail, ServiceAccount: e.ServiceAccount,
		ClientID: e.ClientID, RouteName: e.RouteName, HTTPMethod: e.HTTPMethod, MCPMethod: e.MCPMethod, Tool: e.Tool,
		Decision: e.Decision, Status: e.Status, RPCErrorCode: e.RPCErrorCode, IsError: e.IsError,
		DurationMicros: e.DurationMicros, DetailURL: "/admin/audit/" + strconv.FormatUint(e.ID, 10),
	}
}

// Show is one event in full.
func (h *AuditLog) Show(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such event.")
	}
	e, err := h.Store.GetAuditEvent(ctx, id)
	if err != nil {
		return err
	}
	props := views.AuditEventProps{
		Page: h.Page(c, "Audit event "+strconv.FormatUint(e.ID, 10), views.SectionAudit), Event: auditRow(e),
		RequestID: e.RequestID, Writer: e.Writer, Hash: e.Hash, PrevHash: e.PrevHash, SourceIP: e.SourceIP,
		Seq: e.Seq, ConfigVersion: e.ConfigVersion, ResponseBytes: e.ResponseBytes, OutcomeAt: e.OutcomeAt,
		Arguments: prettyJSON(e.Arguments), Reasons: auditReasons(e.Reasons), BackURL: auditBackURL(c.Request().Referer(), h.ConsoleURL),
	}
	if e.UserID != nil {
		props.UserURL = "/admin/users?q=" + url.QueryEscape(e.UserEmail)
		props.Event.UserEmail = e.UserEmail
	}
	if e.RouteID != nil {
		props.RouteURL = "/admin/routes/" + strconv.FormatUint(uint64(*e.RouteID), 10)
	}
	if e.ClientID != "" && !strings.HasPrefix(e.ClientID, "service-account:") && !strings.Contains(e.ClientID, "://") {
		props.ClientURL = "/admin/clients/" + url.QueryEscape(e.ClientID)
	}
	if e.ServiceAccount != "" {
		props.AccountURL = "/admin/service-accounts?q=" + url.QueryEscape(e.ServiceAccount)
	}
	switch ch, err := h.Store.ChangeBefore(ctx, e.At); {
	case err == nil:
		props.ChangeURL = "/admin/history/" + strconv.FormatUint(uint64(ch.ID), 10)
	case !errors.Is(err, models.ErrNotFound):
		return err
	}
	return Render(c, http.StatusOK, views.AuditEventPage(props))
}

// auditBackURL is where "Back" goes from an event: the filtered log the
// viewer came from, when they came from the console's own audit log;
// the whole log otherwise.
func auditBackURL(referer, consoleURL string) string {
	u, err := url.Parse(referer)
	if err != nil || referer == "" || !strings.HasPrefix(referer, consoleURL+"/") || u.Path != "/admin/audit" {
		return "/admin/audit"
	}
	return "/admin/audit?" + u.Query().Encode()
}

// prettyJSON indents stored JSON for reading; what is not JSON is shown
// as it is.
func prettyJSON(s string) string {
	if s == "" {
		return ""
	}
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(s), "", "  "); err != nil {
		return s
	}
	return b.String()
}

// auditReasons decodes an event's reasons; one that does not decode is
// shown as a detail.
func auditReasons(s string) []views.AuditReason {
	var rs []struct {
		Policy, Block, Rule, Criterion, Matched, Detail string
	}
	if err := json.Unmarshal([]byte(s), &rs); err != nil {
		if s == "" || s == "[]" {
			return nil
		}
		return []views.AuditReason{{Detail: s}}
	}
	out := make([]views.AuditReason, len(rs))
	for i, r := range rs {
		out[i] = views.AuditReason{Policy: r.Policy, Block: r.Block, Rule: r.Rule, Criterion: r.Criterion, Matched: r.Matched, Detail: r.Detail}
	}
	return out
}
