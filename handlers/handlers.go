// Package handlers holds the HTTP handlers of the console, the portal, the
// sign-in pages and the health endpoints: one small struct per area, each
// with the narrow interfaces it needs.
package handlers

import (
	"context"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/views"
)

// Sessions is what handlers need of the browser session. web implements it
// on top of a signed, encrypted cookie.
type Sessions interface {
	// SignIn starts a fresh session for u, discarding the old one.
	SignIn(c echo.Context, u *models.User) error
	// SignOut ends the session; on error the session is unchanged.
	SignOut(c echo.Context) error
	// SessionHash is the hash of the session's id, "" when signed out:
	// what a route host's session handed over from it remembers.
	SessionHash(c echo.Context) string
	// CSRFToken is the token every state-changing form must carry.
	CSRFToken(c echo.Context) string
	// AddFlash queues a message for the next page shown.
	AddFlash(c echo.Context, f views.Flash)
	// Flashes returns and clears the queued messages.
	Flashes(c echo.Context) []views.Flash
	// Stash keeps a short value in the session until Take reads it.
	Stash(c echo.Context, key, value string)
	// Take returns a stashed value once and forgets it.
	Take(c echo.Context, key string) string
}

const userKey = "drawbridge.user"

// SetUser records the signed-in user for the rest of the request.
func SetUser(c echo.Context, u *models.User) { c.Set(userKey, u) }

// UserFrom returns the signed-in user, or nil.
func UserFrom(c echo.Context) *models.User {
	u, _ := c.Get(userKey).(*models.User)
	return u
}

// Base is what every page-rendering handler shares.
type Base struct {
	Sessions Sessions
	Version  string
	// Warning, when set, says what every console page must warn admins
	// of, or "".
	Warning func(ctx context.Context) string
	// ServiceAccountsInPortal, when set, says whether users may issue
	// their own service accounts, which the portal then links to.
	ServiceAccountsInPortal func(ctx context.Context) bool
}

// Page fills the props every page shares.
func (b Base) Page(c echo.Context, title, section string) views.Page {
	p := views.Page{
		Title:     title,
		Section:   section,
		CSRFToken: b.Sessions.CSRFToken(c),
		Flashes:   b.Sessions.Flashes(c),
		Version:   b.Version,
		RequestID: c.Response().Header().Get(echo.HeaderXRequestID),
	}
	if u := UserFrom(c); u != nil {
		p.Viewer = &views.Viewer{Email: u.Email, Name: u.Name, IsAdmin: u.IsAdmin, IsAuditor: u.IsAuditor}
		if (u.IsAdmin || u.IsAuditor) && b.Warning != nil {
			p.Warning = b.Warning(c.Request().Context())
		}
		if b.ServiceAccountsInPortal != nil {
			p.ServiceAccountsInPortal = b.ServiceAccountsInPortal(c.Request().Context())
		}
	}
	return p
}

// Render writes component as an HTML page with status.
func Render(c echo.Context, status int, component templ.Component) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(status)
	return component.Render(c.Request().Context(), c.Response())
}

// redirectWithFlash queues a flash message and sends the browser to url
// with 303, so a reload never repeats a POST.
func (b Base) redirectWithFlash(c echo.Context, url, kind, message string) error {
	b.Sessions.AddFlash(c, views.Flash{Kind: kind, Message: message})
	return c.Redirect(http.StatusSeeOther, url)
}
