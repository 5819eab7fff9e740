package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy"
	"github.com/drawbridge/drawbridge/views"
)

// PortalStore is what the portal reads.
type PortalStore interface {
	ListUpstreamConnections(ctx context.Context, f models.ConnectionFilter) ([]models.UpstreamConnection, error)
	LastUsedRoutes(ctx context.Context, userID uint) (map[uint]time.Time, error)
}

// Portal is the page every signed-in user lands on: the routes they may
// use, with their upstream connections, and the apps acting for them.
type Portal struct {
	Base
	Store   PortalStore
	Gateway Gateway
	// Authorizations lists the apps acting for the user.
	Authorizations *Authorizations
}

// ShowPortal renders the portal.
func (h *Portal) ShowPortal(c echo.Context) error {
	apps, err := h.Authorizations.Section(c, "/")
	if err != nil {
		return err
	}
	servers, err := h.servers(c)
	if err != nil {
		return err
	}
	props := views.PortalProps{Page: h.Page(c, "Your MCP servers", views.SectionPortal), Servers: servers, Now: time.Now()}
	// The portal lists authorized apps when there are some; the empty
	// state lives on /authorizations, not under the servers' own.
	if len(apps.Apps) > 0 {
		props.AuthorizedApps = &apps
	}
	return Render(c, http.StatusOK, views.PortalPage(props))
}

// servers are the viewer's routes as portal cards: MCP servers first,
// then apps, each by name.
func (h *Portal) servers(c echo.Context) ([]views.PortalServer, error) {
	snap := h.Gateway.Snapshot()
	if snap == nil {
		return nil, nil
	}
	u := UserFrom(c)
	ctx := c.Request().Context()
	conns, err := h.Store.ListUpstreamConnections(ctx, models.ConnectionFilter{UserID: u.ID})
	if err != nil {
		return nil, err
	}
	byApp := make(map[uint]*models.UpstreamConnection, len(conns))
	for i := range conns {
		byApp[conns[i].AppID] = &conns[i]
	}
	used, err := h.Store.LastUsedRoutes(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	id, from := identityOf(u), realIP(c)
	var mine []*proxy.Route
	for _, kind := range []string{models.KindMCPServer, models.KindMCPClient, models.KindHTTP} {
		for _, rt := range snap.Routes() {
			if rt.Kind == kind && proxy.MayUse(rt, id, from) {
				mine = append(mine, rt)
			}
		}
	}
	out := make([]views.PortalServer, 0, len(mine))
	for _, rt := range mine {
		s := views.PortalServer{
			RouteID: rt.ID, Name: rt.Name, Description: rt.Description, URL: rt.From, Kind: rt.Kind,
		}
		if t, ok := used[rt.ID]; ok {
			s.LastUsed = &t
		}
		if rt.App != nil {
			s.NeedsOAuth, s.AppName, s.Status = true, appLabel(rt.App), views.ConnectionNotConnected
			s.ConnectURL = proxy.ConsoleConnect + "?" + url.Values{"route": {strconv.FormatUint(uint64(rt.ID), 10)}}.Encode()
			if conn := byApp[rt.App.ID]; conn != nil {
				s.Status, s.Account, s.ExpiresAt = conn.Status, conn.Account, conn.ExpiresAt
			}
			for _, other := range mine {
				if other != rt && other.App != nil && other.App.ID == rt.App.ID {
					s.SharedWith = append(s.SharedWith, other.Name)
				}
			}
		}
		out = append(out, s)
	}
	return out, nil
}
