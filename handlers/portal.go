package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/views"
)

// Portal is the page every signed-in user lands on: the MCP servers they
// may use. Routes arrive with the console's routes work; until then it is
// empty and says what to do next.
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
	return Render(c, http.StatusOK, views.PortalPage(views.PortalProps{
		Page:           h.Page(c, "Your MCP servers", views.SectionPortal),
		AuthorizedApps: &apps,
	}))
}
