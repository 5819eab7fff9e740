package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/proxy"
)

// RouteSignIn hands the console's sign-in to a route host: an mcp_client
// or http route sends browsers here, and gets them back signed in.
type RouteSignIn struct {
	Store    proxy.SignInStore
	Gateway  Gateway
	Sessions Sessions
}

// Start answers /login/route?route=ID&return=/path for a signed-in user
// with a redirect to the route host carrying a one-use code.
func (h *RouteSignIn) Start(c echo.Context) error {
	snap := h.Gateway.Snapshot()
	if snap == nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "Drawbridge is starting; try again in a moment.")
	}
	route := snap.RouteByID(formID(c.QueryParam("route")))
	if route == nil {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such route, or it is disabled.")
	}
	u := UserFrom(c)
	if !proxy.MayUse(route, identityOf(u), realIP(c)) {
		return echo.NewHTTPError(http.StatusForbidden, "Your access policies do not include "+route.Name+".")
	}
	to, err := proxy.StartRouteSignIn(c.Request().Context(), h.Store, route, u.ID, h.Sessions.SessionHash(c),
		c.QueryParam("return"), c.QueryParam("state"))
	if errors.Is(err, proxy.ErrSignInState) {
		return echo.NewHTTPError(http.StatusBadRequest, "This sign-in link did not come from "+route.Name+"'s own page. Open "+route.From+" again.")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusFound, to)
}
