package handlers

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/views"
)

// DashboardStore is what the dashboard needs of the store.
type DashboardStore interface {
	CountUsers(ctx context.Context) (models.UserCounts, error)
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
	return Render(c, http.StatusOK, views.DashboardPage(views.DashboardProps{
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
