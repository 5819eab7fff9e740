package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/views"
)

// Portal is the page every signed-in user lands on: the MCP servers they
// may use (filled in with Connect), and the apps acting for them.
type Portal struct {
	Base
	// Authorizations lists the apps acting for the user.
	Authorizations *Authorizations
}

// ShowPortal renders the portal.
func (h *Portal) ShowPortal(c echo.Context) error {
	apps, err := h.Authorizations.Section(c, "/")
	if err != nil {
		return err
	}
	props := views.PortalProps{Page: h.Page(c, "Your MCP servers", views.SectionPortal)}
	// The portal lists authorized apps when there are some; the empty
	// state lives on /authorizations, not under the servers' own.
	if len(apps.Apps) > 0 {
		props.AuthorizedApps = &apps
	}
	return Render(c, http.StatusOK, views.PortalPage(props))
}
