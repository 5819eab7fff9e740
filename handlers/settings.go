package handlers

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/views"
)

// SettingsStore is what the settings page needs of the store.
type SettingsStore interface {
	ConfigVersion(ctx context.Context) (int64, error)
	GetSettings(ctx context.Context) (models.Settings, error)
	UpdateSettings(ctx context.Context, next models.Settings) error
}

// Settings shows the configuration the server runs with, read-only (it
// comes from the configuration file and environment), and the one
// setting changed here: what happens when the audit log is down.
type Settings struct {
	Base
	Store SettingsStore
	View  views.SettingsProps // everything but Page and ConfigVersion
}

// ShowSettings renders the settings page.
func (h *Settings) ShowSettings(c echo.Context) error {
	ctx := c.Request().Context()
	v, err := h.Store.ConfigVersion(ctx)
	if err != nil {
		return err
	}
	st, err := h.Store.GetSettings(ctx)
	if err != nil {
		return err
	}
	props := h.View
	props.Page = h.Page(c, "Settings", views.SectionSettings)
	props.ConfigVersion = v
	props.AuditFailOpen, props.SelfServiceAccounts, props.AuditRetentionDays = st.AuditFailOpen, st.UserServiceAccounts, st.AuditRetentionDays
	return Render(c, http.StatusOK, views.SettingsPage(props))
}

// UpdateAuditSettings turns audit fail-open on or off.
func (h *Settings) UpdateAuditSettings(c echo.Context) error {
	ctx := c.Request().Context()
	var failOpen bool
	switch c.FormValue("fail_open") {
	case "true":
		failOpen = true
	case "false":
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "fail_open must be true or false.")
	}
	st, err := h.Store.GetSettings(ctx)
	if err != nil {
		return err
	}
	st.AuditFailOpen = failOpen
	if err := h.Store.UpdateSettings(ctx, st); err != nil {
		return err
	}
	msg := "MCP calls are refused whenever the audit log cannot be written."
	if failOpen {
		msg = "MCP calls now go through, unrecorded, when the audit log cannot be written."
	}
	return h.redirectWithFlash(c, "/admin/settings", views.FlashSuccess, msg)
}

// UpdateAuditRetention sets how many days audit events are kept.
func (h *Settings) UpdateAuditRetention(c echo.Context) error {
	ctx := c.Request().Context()
	days, err := strconv.Atoi(strings.TrimSpace(c.FormValue("days")))
	if err != nil || days < 0 || days > models.MaxAuditRetentionDays {
		return h.redirectWithFlash(c, "/admin/settings", views.FlashError,
			"Keep events for: a whole number of days from 0 (for ever) to "+strconv.Itoa(models.MaxAuditRetentionDays)+".")
	}
	st, err := h.Store.GetSettings(ctx)
	if err != nil {
		return err
	}
	st.AuditRetentionDays = days
	if err := h.Store.UpdateSettings(ctx, st); err != nil {
		return err
	}
	msg := "Audit events are kept for ever."
	if days > 0 {
		msg = "Audit events older than " + strconv.Itoa(days) + " days will be deleted, a few hundred at a time."
	}
	return h.redirectWithFlash(c, "/admin/settings", views.FlashSuccess, msg)
}

// UpdateServiceAccountSettings turns self-service accounts on or off.
func (h *Settings) UpdateServiceAccountSettings(c echo.Context) error {
	ctx := c.Request().Context()
	var on bool
	switch c.FormValue("self_service") {
	case "true":
		on = true
	case "false":
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "self_service must be true or false.")
	}
	st, err := h.Store.GetSettings(ctx)
	if err != nil {
		return err
	}
	st.UserServiceAccounts = on
	if err := h.Store.UpdateSettings(ctx, st); err != nil {
		return err
	}
	msg := "Only administrators issue service accounts now; the ones users made keep working until revoked."
	if on {
		msg = "Every signed-in user may now issue service accounts acting as themselves, from the portal."
	}
	return h.redirectWithFlash(c, "/admin/settings", views.FlashSuccess, msg)
}

// AuditWarning is the console-wide warning while audit fail-open is on,
// or "".
func AuditWarning(store interface {
	GetSettings(ctx context.Context) (models.Settings, error)
}) func(ctx context.Context) string {
	return func(ctx context.Context) string {
		st, err := store.GetSettings(ctx)
		if err != nil || !st.AuditFailOpen {
			return ""
		}
		return "Audit fail-open is on: when the audit log cannot be written, MCP calls go through unrecorded. Turn it off under Settings."
	}
}

// SelfServiceAccounts reports, from the settings, whether users may
// issue their own service accounts.
func SelfServiceAccounts(store interface {
	GetSettings(ctx context.Context) (models.Settings, error)
}) func(ctx context.Context) bool {
	return func(ctx context.Context) bool {
		st, err := store.GetSettings(ctx)
		return err == nil && st.UserServiceAccounts
	}
}
