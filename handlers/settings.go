package handlers

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/views"
)

// SettingsStore is what the settings page needs of the store.
type SettingsStore interface {
	ConfigVersion(ctx context.Context) (int64, error)
}

// Settings shows the configuration the server runs with. It is read-only:
// these values come from the configuration file and environment.
type Settings struct {
	Base
	Store SettingsStore
	View  views.SettingsProps // everything but Page and ConfigVersion
}

// ShowSettings renders the settings page.
func (h *Settings) ShowSettings(c echo.Context) error {
	v, err := h.Store.ConfigVersion(c.Request().Context())
	if err != nil {
		return err
	}
	props := h.View
	props.Page = h.Page(c, "Settings", views.SectionSettings)
	props.ConfigVersion = v
	return Render(c, http.StatusOK, views.SettingsPage(props))
}
