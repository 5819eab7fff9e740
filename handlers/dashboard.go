package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/views"
)

// DashboardStore is what the dashboard needs of the store.
type DashboardStore interface {
	CountUsers(ctx context.Context) (models.UserCounts, error)
	AuditDashboard(ctx context.Context, since time.Time, bucket time.Duration, now time.Time) (models.AuditDashboard, error)
	UpstreamConnectionCounts(ctx context.Context) (map[uint]models.ConnectionCounts, error)
	ListServiceAccounts(ctx context.Context, f models.ServiceAccountFilter) ([]models.ServiceAccount, int64, error)
}

// Dashboard is the console's landing page.
type Dashboard struct {
	Base
	Store      DashboardStore
	ConsoleURL string
}

// NewDashboard builds the dashboard handler.
func NewDashboard(base Base, store DashboardStore, consoleURL string) *Dashboard {
	return &Dashboard{Base: base, Store: store, ConsoleURL: consoleURL}
}

// ShowDashboard renders user counts and the getting-started checklist.
func (h *Dashboard) ShowDashboard(c echo.Context) error {
	counts, err := h.Store.CountUsers(c.Request().Context())
	if err != nil {
		return err
	}
	activity, err := h.activity(c)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.DashboardPage(views.DashboardProps{
		Activity:   activity,
		Now:        time.Now(),
		Page:       h.Page(c, "Dashboard", views.SectionDashboard),
		Users:      int(counts.Total),
		Admins:     int(counts.Admins),
		Disabled:   int(counts.Disabled),
		ConsoleURL: h.ConsoleURL,
		Steps: []views.SetupStep{
			{Title: "Sign in as the first administrator", Body: "You are here.", URL: "/admin", Done: true},
			{Title: "Invite your team", Body: "Create local accounts, or add an OIDC provider to the configuration file.", URL: "/admin/users", Done: counts.Total > 1},
			{Title: "Put an MCP server behind a route", Body: "Routes map a public host to an upstream MCP server.", URL: "/admin/routes"},
			{Title: "Write a policy", Body: "Decide who may call which tools, down to their arguments.", URL: "/admin/policies"},
			{Title: "Connect an MCP client", Body: "Claude Code, Codex, Cursor or any MCP client signs in through Drawbridge.", URL: "/"},
		},
	}))
}

// dashboardWindow is a time window of the dashboard: how far back it
// looks, and how much time each bar of its chart covers.
type dashboardWindow struct{ span, bucket time.Duration }

// dashboardWindows are the dashboard's time windows, by parameter value.
var dashboardWindows = map[string]dashboardWindow{
	"24h": {24 * time.Hour, time.Hour},
	"7d":  {7 * 24 * time.Hour, 6 * time.Hour},
}

// readWindow reads the dashboard's window parameter: "" is 24h, and a
// window the dashboard does not have is a 400 naming the ones it has,
// rather than a page that shows another window than the address asks for.
func readWindow(v string) (string, dashboardWindow, error) {
	if v == "" {
		v = "24h"
	}
	w, ok := dashboardWindows[v]
	if !ok {
		var bad models.ValidationError
		bad.Add("window", "must be 24h or 7d"+got(v))
		return "", w, badParams(&bad)
	}
	return v, w, nil
}

// expiringWithin is how soon a service account's expiry shows.
const expiringWithin = 14 * 24 * time.Hour

// activity sums up the audit log over the chosen window; nil when nothing
// was ever called, so the getting-started checklist shows instead.
func (h *Dashboard) activity(c echo.Context) (*views.DashboardActivity, error) {
	ctx := c.Request().Context()
	window, w, err := readWindow(c.QueryParam("window"))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	since := now.Add(-w.span).Truncate(w.bucket)
	d, err := h.Store.AuditDashboard(ctx, since, w.bucket, now)
	if err != nil {
		return nil, err
	}
	// Denials and errors among the calls, so that their rates are shares
	// of the same thing (the store's Denials also counts refused
	// sign-ins).
	a := &views.DashboardActivity{Window: window, Calls: d.Calls}
	for _, b := range d.Buckets {
		q := url.Values{"range": {"custom"}, "from": {b.Start.UTC().Format(auditFormTime)},
			"to": {b.Start.Add(w.bucket).UTC().Format(auditFormTime)}, "method": {"tools/call"}}
		a.Buckets = append(a.Buckets, views.ActivityBucket{Start: b.Start, Allow: b.Allow, Deny: b.Deny, Error: b.Error, URL: "/admin/audit?" + q.Encode()})
		a.Errors += b.Error
		a.Denials += b.Deny
	}
	for _, t := range d.TopTools {
		a.TopTools = append(a.TopTools, views.RankedCount{Label: t.Key, Count: t.Count,
			URL: "/admin/audit?" + url.Values{"range": {window}, "method": {"tools/call"}, "tool": {t.Key}}.Encode()})
	}
	for _, u := range d.TopUsers {
		label := u.Key
		if label == "" {
			label = "(no user)"
		}
		a.TopUsers = append(a.TopUsers, views.RankedCount{Label: label, Count: u.Count,
			URL: "/admin/audit?" + url.Values{"range": {window}, "method": {"tools/call"}, "user": {u.Key}}.Encode()})
	}
	for _, r := range d.RouteErrors {
		q := url.Values{"range": {window}, "method": {"tools/call"}}
		if r.RouteID != nil {
			q.Set("route", strconv.FormatUint(uint64(*r.RouteID), 10))
		}
		a.RouteErrors = append(a.RouteErrors, views.RouteErrorRow{Route: r.RouteName, Calls: r.Calls, Errors: r.Errors, URL: "/admin/audit?" + q.Encode()})
	}
	conns, err := h.Store.UpstreamConnectionCounts(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range conns {
		a.NeedsReconnect += n.NeedsReconnect
	}
	accounts, _, err := h.Store.ListServiceAccounts(ctx, models.ServiceAccountFilter{Status: models.ServiceAccountActive, Limit: 500})
	if err != nil {
		return nil, err
	}
	admin := UserFrom(c).IsAdmin // auditors get no links to admin pages
	if admin {
		a.AppsURL = "/admin/apps"
	}
	for _, acc := range accounts {
		if acc.ExpiresAt != nil && acc.ExpiresAt.Sub(now) < expiringWithin {
			e := views.ExpiringAccount{Name: acc.Name, UserEmail: acc.UserEmail, ExpiresAt: *acc.ExpiresAt}
			if admin {
				e.URL = "/admin/service-accounts?" + url.Values{"q": {acc.Name}}.Encode()
			}
			a.ExpiringAccounts = append(a.ExpiringAccounts, e)
		}
	}
	if d.Calls == 0 && d.Denials == 0 && a.NeedsReconnect == 0 && len(a.ExpiringAccounts) == 0 {
		return nil, nil
	}
	return a, nil
}
