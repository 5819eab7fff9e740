// Package proxy is Drawbridge's gateway engine. It serves every route
// host: it matches the route, serves the gateway's own paths, checks the
// caller's credential, reads each MCP message strictly, decides it with
// the route's policies, and forwards what is allowed to the upstream.
//
// The configuration it works from is a Snapshot: immutable, compiled from
// the database, swapped atomically when the configuration version moves.
// A request runs from start to end on the snapshot it started with.
package proxy

import (
	"net/url"
	"sort"
	"strings"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/policy"
)

// Snapshot is one compiled configuration. Nothing in it changes after
// Build returns it.
type Snapshot struct {
	// Version is the configuration version it was built from.
	Version int64
	// byHost maps a canonical host[:port] to its routes, longest path
	// prefix first.
	byHost map[string][]*Route
	// revoked holds the jti of every revoked access token that has not
	// expired yet.
	revoked map[string]struct{}
	// ended holds the hash of every console session signed out of that
	// has not expired yet: the route host sessions handed over from it
	// have ended too.
	ended map[string]struct{}
	// users are every user, by ID, for what a token does not carry:
	// whether the user is still enabled, and their groups.
	users map[uint]*User
	// accounts are the service accounts not revoked, by ID.
	accounts map[uint]*account
	// auditFailOpen lets calls through when the audit log cannot be
	// written; an admin's choice, off by default.
	auditFailOpen bool
	// routes are every route, by name; byID indexes them.
	routes []*Route
	byID   map[uint]*Route
	// clientOrigins are the web origins of mcp_client routes, where
	// Connect may send a browser back to; clientAudience accepts, on MCP
	// server routes, the tokens those apps are handed.
	clientOrigins  map[string]*Route
	clientAudience func(aud string) bool
}

// Route is a route as the engine serves it.
type Route struct {
	ID          uint
	Name        string
	Description string
	// From is the canonical scheme://host[:port][/prefix] and the
	// audience of the route's access tokens; Prefix is its path part.
	From   string
	Host   string
	Prefix string
	Kind   string
	// Upstream is the parsed To.
	Upstream *url.URL
	// App is the upstream OAuth app whose user tokens the upstream
	// expects, or nil.
	App             *models.UpstreamApp
	Policies        []*policy.Policy
	MaxRequestBytes int64
	forward         *forwarder
}

// User is what the engine knows of a user.
type User struct {
	ID           uint
	Email        string
	Groups       []string
	Disabled     bool
	SessionEpoch int
}

// Match returns the route serving host and path: the one whose host is
// host and whose prefix is the longest that path falls under. host is
// compared in its canonical form (lowercase, no default port).
func (s *Snapshot) Match(host, path string) *Route {
	for _, r := range s.byHost[host] {
		if models.UnderPrefix(path, r.Prefix) {
			return r
		}
	}
	return nil
}

// Revoked reports whether the access token with this jti was revoked.
func (s *Snapshot) Revoked(jti string) bool {
	_, ok := s.revoked[jti]
	return ok
}

// SessionEnded reports whether the console session whose id hashes to
// sessionHash was signed out of (see models.EndSession).
func (s *Snapshot) SessionEnded(sessionHash string) bool {
	_, ok := s.ended[sessionHash]
	return ok
}

// User returns the user with this ID, or nil.
func (s *Snapshot) User(id uint) *User { return s.users[id] }

// splitFrom splits a canonical from into its host[:port] and prefix.
func splitFrom(from string) (host, prefix string) {
	rest := from[strings.Index(from, "://")+3:]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[:i], rest[i:]
	}
	return rest, ""
}

// Routes returns every route, by name. The slice is shared: do not
// change it.
func (s *Snapshot) Routes() []*Route { return s.routes }

// RouteByID returns the route with id, or nil.
func (s *Snapshot) RouteByID(id uint) *Route { return s.byID[id] }

// hostRoute is the route whose gateway paths a host serves: the one at
// its root, or its only one.
func (s *Snapshot) hostRoute(host string) *Route {
	rs := s.byHost[host]
	for _, r := range rs {
		if r.Prefix == "" {
			return r
		}
	}
	if len(rs) == 1 {
		return rs[0]
	}
	return nil
}

// index sorts each host's routes longest prefix first, and indexes the
// rest.
func (s *Snapshot) index(routes []*Route) {
	sort.Slice(routes, func(i, j int) bool { return routes[i].Name < routes[j].Name })
	s.routes = routes
	s.byHost = map[string][]*Route{}
	s.byID = make(map[uint]*Route, len(routes))
	s.clientOrigins = map[string]*Route{}
	audiences := map[string]bool{}
	for _, r := range routes {
		s.byHost[r.Host] = append(s.byHost[r.Host], r)
		s.byID[r.ID] = r
		if r.Kind == models.KindMCPClient {
			s.clientOrigins[routeOrigin(r)] = r
			audiences[r.From] = true
		}
	}
	for _, rs := range s.byHost {
		sort.Slice(rs, func(i, j int) bool { return len(rs[i].Prefix) > len(rs[j].Prefix) })
	}
	s.clientAudience = func(aud string) bool { return audiences[aud] }
}

// routeKinds that carry MCP and so are read message by message.
func isMCP(kind string) bool { return kind == models.KindMCPServer }
