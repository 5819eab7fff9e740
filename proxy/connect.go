package proxy

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/policy"
	"github.com/drawbridge/drawbridge/proxy/vault"
)

// The gateway's own paths on every route host (DESIGN.md).
const (
	pathRoutes     = "/.drawbridge/mcp/routes"
	pathConnect    = "/.drawbridge/mcp/connect"
	pathDisconnect = "/.drawbridge/mcp/disconnect"
	// ConsoleConnect is where the console starts Connect.
	ConsoleConnect = "/connect"
)

// serveGateway answers the /.drawbridge/ paths of a route host. It
// reports whether path was one of them.
func (e *Engine) serveGateway(w http.ResponseWriter, r *http.Request, snap *Snapshot, host, path string) bool {
	if path == authCallback {
		e.finishSignIn(w, r, snap, host)
		return true
	}
	route := snap.hostRoute(host)
	switch {
	case path != pathRoutes && path != pathConnect && path != pathDisconnect:
		return false
	case route == nil:
		gatewayPage(w, http.StatusNotFound, "This address serves several routes; use the portal at "+e.issuerURL+" instead.")
	case path == pathRoutes:
		e.serveRoutes(w, r, snap, route)
	case path == pathConnect:
		e.startConnect(w, r, route)
	default:
		e.disconnect(w, r, snap, route)
	}
	return true
}

// identify authenticates a call to the gateway's paths: an access token
// valid here, or this host's browser session. It answers 401 and returns
// nil when there is neither.
func (e *Engine) identify(w http.ResponseWriter, r *http.Request, snap *Snapshot, route *Route) *Identity {
	if r.Header.Get("Authorization") == "" {
		if id := e.browserIdentity(r, snap); id != nil {
			return id
		}
	}
	id, ok := e.authenticate(w, r, snap, route)
	if !ok {
		return nil
	}
	return id
}

// serverInfo is one entry of the routes list.
type serverInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	URL         string `json:"url"`
	Connected   bool   `json:"connected"`
	NeedsOAuth  bool   `json:"needs_oauth"`
}

// serveRoutes lists the MCP servers the caller's policies allow, and
// whether the caller has connected each one's upstream app.
func (e *Engine) serveRoutes(w http.ResponseWriter, r *http.Request, snap *Snapshot, route *Route) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		gatewayPage(w, http.StatusMethodNotAllowed, "Use GET.")
		return
	}
	id := e.identify(w, r, snap, route)
	if id == nil {
		return
	}
	uid, _ := strconv.ParseUint(id.UserID, 10, 64)
	conns, err := e.store.ListUpstreamConnections(r.Context(), models.ConnectionFilter{UserID: uint(uid)})
	if err != nil {
		e.log.Error("proxy: list connections", "error", err)
		writeRPCError(w, http.StatusServiceUnavailable, errorBody(codeUpstream, "Drawbridge could not read your connections."))
		return
	}
	connected := map[uint]bool{}
	for _, c := range conns {
		connected[c.AppID] = c.Status == models.ConnectionConnected
	}
	servers := []serverInfo{}
	for _, rt := range snap.AllowedServers(id, e.clientIP.Of(r)) {
		s := serverInfo{Name: rt.Name, Description: rt.Description, URL: rt.From, Connected: true}
		if rt.App != nil {
			s.NeedsOAuth, s.Connected = true, connected[rt.App.ID]
		}
		servers = append(servers, s)
	}
	body, _ := json.Marshal(map[string]any{"servers": servers})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}

// AllowedServers are the MCP server routes id may use, by name: what
// the portal and the routes list show.
func (s *Snapshot) AllowedServers(id *Identity, from netip.Addr) []*Route {
	var out []*Route
	for _, rt := range s.routes {
		if isMCP(rt.Kind) && MayUse(rt, id, from) {
			out = append(out, rt)
		}
	}
	return out
}

// MayUse reports whether route's policies let id start an MCP session
// there (an initialize) or, on other routes, load its front page.
func MayUse(route *Route, id *Identity, from netip.Addr) bool {
	if id.Routes != nil && !id.Routes[route.ID] {
		return false
	}
	in := policy.Input{
		Authenticated: true, UserID: id.UserID, Email: id.Email, Groups: id.Groups, ClientID: id.ClientID,
		ServiceAccount: id.ServiceAccount, SourceIP: from, HTTPMethod: http.MethodGet, HTTPPath: "/", Now: time.Now(),
	}
	if isMCP(route.Kind) {
		in.HTTPMethod, in.MCPMethod = http.MethodPost, "initialize"
	}
	return policy.Allowed(route.Policies, &in)
}

// startConnect sends the browser to the console, which signs the user in
// if need be, checks redirect_url and runs the upstream OAuth flow.
func (e *Engine) startConnect(w http.ResponseWriter, r *http.Request, route *Route) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET")
		gatewayPage(w, http.StatusMethodNotAllowed, "Open this address in a browser.")
		return
	}
	q := url.Values{"route": {strconv.FormatUint(uint64(route.ID), 10)}}
	if back := r.URL.Query().Get("redirect_url"); back != "" {
		q.Set("redirect_url", back)
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, e.issuerURL+ConsoleConnect+"?"+q.Encode(), http.StatusFound)
}

// disconnect forgets the caller's upstream token for the route's app and
// revokes it upstream. A browser must post from this host's own pages.
func (e *Engine) disconnect(w http.ResponseWriter, r *http.Request, snap *Snapshot, route *Route) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		gatewayPage(w, http.StatusMethodNotAllowed, "Use POST.")
		return
	}
	if r.Header.Get("Authorization") == "" && !sameOrigin(r, route) {
		gatewayPage(w, http.StatusForbidden, "Disconnect from the portal, or from a page of this site.")
		return
	}
	id := e.identify(w, r, snap, route)
	if id == nil {
		return
	}
	if id.ServiceAccount != "" {
		// An account uses its user's connections; only the user ends them.
		writeJSON(w, http.StatusForbidden, map[string]any{"error": "a service account cannot disconnect its user's upstream account; the user can, in the portal"})
		return
	}
	if route.App == nil || e.vault == nil {
		writeJSON(w, http.StatusOK, map[string]any{"disconnected": false, "reason": "this route uses no upstream account"})
		return
	}
	uid, _ := strconv.ParseUint(id.UserID, 10, 64)
	err := e.vault.Disconnect(r.Context(), uint(uid), route.App)
	if err != nil && !errors.Is(err, vault.ErrNotConnected) {
		e.log.Error("proxy: disconnect", "route", route.Name, "error", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "Drawbridge could not disconnect you; try again."})
		return
	}
	if back := r.URL.Query().Get("redirect_url"); back != "" {
		if u, origin, err := ParseRedirect(back); err == nil && snap.RedirectAllowed(route, origin, e.consoleOrigin) {
			http.Redirect(w, r, u.String(), http.StatusSeeOther)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"disconnected": err == nil})
}

// sameOrigin reports whether a browser request came from the route's own
// pages: what CSRF protection needs of a cookie-authenticated POST.
func sameOrigin(r *http.Request, route *Route) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin":
		return true
	case "":
	default:
		return false
	}
	origin := r.Header.Get("Origin")
	return origin != "" && strings.EqualFold(origin, routeOrigin(route))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
