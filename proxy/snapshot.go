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
	// users are every user, by ID, for what a token does not carry:
	// whether the user is still enabled, and their groups.
	users map[uint]*User
	// auditFailOpen lets calls through when the audit log cannot be
	// written; an admin's choice, off by default.
	auditFailOpen bool
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
	Upstream        *url.URL
	Policies        []*policy.Policy
	MaxRequestBytes int64
	forward         *forwarder
}

// User is what the engine knows of a user.
type User struct {
	ID       uint
	Email    string
	Groups   []string
	Disabled bool
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

// index sorts each host's routes longest prefix first.
func (s *Snapshot) index(routes []*Route) {
	s.byHost = map[string][]*Route{}
	for _, r := range routes {
		s.byHost[r.Host] = append(s.byHost[r.Host], r)
	}
	for _, rs := range s.byHost {
		sort.Slice(rs, func(i, j int) bool { return len(rs[i].Prefix) > len(rs[j].Prefix) })
	}
}

// routeKinds that carry MCP and so are read message by message.
func isMCP(kind string) bool { return kind == models.KindMCPServer }
