package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/views"
)

// AuthorizationStore is what the Authorized apps section needs of the
// store.
type AuthorizationStore interface {
	ListConsents(ctx context.Context, userID uint) ([]models.ConsentView, error)
	WithdrawConsent(ctx context.Context, userID uint, clientID string, now time.Time) error
	GetOAuthClient(ctx context.Context, clientID string) (*models.OAuthClient, error)
	ListRoutes(ctx context.Context, f models.RouteFilter) ([]models.Route, int64, error)
}

// Authorizations lets every signed-in user see the MCP clients they let
// act for them, and take that back.
type Authorizations struct {
	Base
	Store AuthorizationStore
	Now   func() time.Time // time.Now when nil
}

// NewAuthorizations builds the Authorized apps handlers.
func NewAuthorizations(base Base, store AuthorizationStore) *Authorizations {
	return &Authorizations{Base: base, Store: store, Now: time.Now}
}

// authorizationsPath is the Authorized apps page, and where a revoke
// returns to unless the form names another page.
const authorizationsPath = "/authorizations"

func (h *Authorizations) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

// ListAuthorizations shows the viewer's authorized apps on a page of
// their own.
func (h *Authorizations) ListAuthorizations(c echo.Context) error {
	section, err := h.Section(c, authorizationsPath)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.AuthorizationsPage(views.AuthorizationsProps{
		Page:    h.Page(c, "Authorized apps", views.SectionAuthorizations),
		Section: section,
	}))
}

// Section is the Authorized apps section for the signed-in user, whose
// Revoke buttons come back to returnTo: the portal shows it with "/".
// One row per client, with every resource the user let it reach.
func (h *Authorizations) Section(c echo.Context, returnTo string) (views.AuthorizedAppsSection, error) {
	ctx := c.Request().Context()
	section := views.AuthorizedAppsSection{CSRFToken: h.Sessions.CSRFToken(c), ReturnTo: returnTo}
	consents, err := h.Store.ListConsents(ctx, UserFrom(c).ID)
	if err != nil || len(consents) == 0 {
		return section, err
	}
	routeNames, err := h.routeNames(ctx)
	if err != nil {
		return section, err
	}
	// ListConsents orders by client, so each client's consents are
	// next to each other.
	for _, cv := range consents {
		n := len(section.Apps)
		if n == 0 || section.Apps[n-1].ClientID != cv.ClientID {
			app := views.AuthorizedApp{ClientID: cv.ClientID, Name: cv.ClientName, AuthorizedAt: cv.CreatedAt}
			cl, err := h.Store.GetOAuthClient(ctx, cv.ClientID)
			if err != nil {
				return section, err
			}
			app.Source = cl.Source
			section.Apps = append(section.Apps, app)
			n++
		}
		app := &section.Apps[n-1]
		app.Resources = append(app.Resources, views.AuthorizedResource{Name: routeNames[routeKey(cv.Resource)], URL: cv.Resource})
		if cv.CreatedAt.Before(app.AuthorizedAt) {
			app.AuthorizedAt = cv.CreatedAt
		}
		if cv.LastUsedAt != nil && (app.LastUsedAt == nil || cv.LastUsedAt.After(*app.LastUsedAt)) {
			app.LastUsedAt = cv.LastUsedAt
		}
	}
	return section, nil
}

// routeNames maps each route's from URL to its name, so that a consent's
// resource reads as the route people know.
func (h *Authorizations) routeNames(ctx context.Context) (map[string]string, error) {
	routes, _, err := h.Store.ListRoutes(ctx, models.RouteFilter{})
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(routes))
	for _, r := range routes {
		names[routeKey(r.From)] = r.Name
	}
	return names, nil
}

// routeKey compares a resource with a route's from URL, which the store
// keeps without a trailing slash.
func routeKey(u string) string {
	return strings.TrimSuffix(u, "/")
}

// RevokeAuthorization withdraws the viewer's consent to one client and
// revokes the tokens it holds for them; nobody else's. It returns to the
// page named by the form's return field, when that is a path here.
func (h *Authorizations) RevokeAuthorization(c echo.Context) error {
	ctx := c.Request().Context()
	back := SafeNext(c.FormValue("return"))
	if back == "" {
		back = authorizationsPath
	}
	clientID := c.FormValue("client_id")
	err := h.Store.WithdrawConsent(ctx, UserFrom(c).ID, clientID, h.now())
	if errors.Is(err, models.ErrNotFound) {
		return h.redirectWithFlash(c, back, views.FlashInfo, "That app had no access to take back.")
	} else if err != nil {
		return err
	}
	label := clientID
	if cl, err := h.Store.GetOAuthClient(ctx, clientID); err == nil {
		label = clientLabel(cl)
	} else if !errors.Is(err, models.ErrNotFound) {
		return err
	}
	return h.redirectWithFlash(c, back, views.FlashSuccess,
		fmt.Sprintf("%s can no longer act for you. Its tokens stopped working.", label))
}
