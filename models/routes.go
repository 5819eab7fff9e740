package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Route kinds.
const (
	// KindMCPServer is an MCP server behind the gateway.
	KindMCPServer = "mcp_server"
	// KindMCPClient is an app that receives the signed-in user's access
	// token, such as a chat app.
	KindMCPClient = "mcp_client"
	// KindHTTP is a plain identity-aware HTTP proxy.
	KindHTTP = "http"
)

// Route serves From by proxying to To.
type Route struct {
	ID          uint   `json:"id"`
	Name        string `json:"name"`        // unique ignoring case; 1 to 100 characters
	Description string `json:"description"` // at most 1000 characters
	// From is scheme://host[:port][/path-prefix], unique, stored as
	// NormalizeFrom returns it.
	From string `json:"from" gorm:"column:from_url"`
	To   string `json:"to" gorm:"column:to_url"` // the upstream's URL
	Kind string `json:"kind"`                    // KindMCPServer, KindMCPClient or KindHTTP
	// UpstreamAppID links an mcp_server route to the OAuth app whose
	// tokens the upstream expects; UpstreamApp is loaded with the route.
	UpstreamAppID *uint        `json:"upstream_app_id,omitempty"`
	UpstreamApp   *UpstreamApp `json:"upstream_app,omitempty"`
	// Policies decide who may use the route, by name; reads load each
	// policy's ID and Name only. Writes take policy IDs separately.
	Policies []Policy `json:"policies" gorm:"many2many:route_policies"`
	// TimeoutSeconds caps an upstream request without a streamed answer;
	// 0 means the proxy's default.
	TimeoutSeconds int `json:"timeout_seconds"`
	// MaxRequestBytes caps a request body; 0 means DefaultMaxRequestBytes.
	MaxRequestBytes int64 `json:"max_request_bytes"`
	// PassUpstreamToken is Pomerium's mcp.pass_upstream_access_token, kept
	// as imported; it changes nothing. The app behind an mcp_client route
	// always receives the user's Drawbridge access token (see
	// proxy.serveBrowserRoute), and upstream tokens never leave
	// Drawbridge.
	PassUpstreamToken bool      `json:"pass_upstream_token"`
	Enabled           bool      `json:"enabled"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

// Route limits.
const (
	// DefaultMaxRequestBytes is the body cap of a route whose
	// MaxRequestBytes is 0.
	DefaultMaxRequestBytes = 4 << 20
	// MaxRequestBytesLimit is the largest MaxRequestBytes a route may set.
	MaxRequestBytesLimit = 64 << 20
	// MaxTimeoutSeconds is the largest TimeoutSeconds a route may set.
	MaxTimeoutSeconds = 3600
)

// RouteFilter selects a page of routes for ListRoutes.
type RouteFilter struct {
	// Query, when set, keeps routes whose name, description, from or to
	// contains it, ignoring case.
	Query string
	// Offset skips that many routes; Limit caps the page (0: no cap).
	Offset, Limit int
}

// withRouteRefs loads what a Route refers to: its upstream app and its
// policies' IDs and names, in name order.
func withRouteRefs(db *gorm.DB) *gorm.DB {
	return db.Preload("UpstreamApp").Preload("Policies", func(db *gorm.DB) *gorm.DB {
		return db.Select("id", "name").Order("name")
	})
}

// findRoute returns the one route matching the conditions, loaded with
// its references, or ErrNotFound.
func findRoute(db *gorm.DB, query any, args ...any) (*Route, error) {
	var r Route
	if err := withRouteRefs(db).Where(query, args...).Take(&r).Error; err != nil {
		return nil, dbError(err)
	}
	if err := fillRouteApps(db, []Route{r}); err != nil {
		return nil, err
	}
	return &r, nil
}

// fillRouteApps sets HasSecret on the routes' upstream apps.
func fillRouteApps(db *gorm.DB, routes []Route) error {
	var apps []*UpstreamApp
	for i := range routes {
		if routes[i].UpstreamApp != nil {
			apps = append(apps, routes[i].UpstreamApp)
		}
	}
	return fillHasSecret(db, apps)
}

// GetRoute returns the route with id, or ErrNotFound.
func (s *Store) GetRoute(ctx context.Context, id uint) (*Route, error) {
	r, err := findRoute(s.db.WithContext(ctx), "id = ?", id)
	if err != nil {
		return nil, fmt.Errorf("models: get route %d: %w", id, err)
	}
	return r, nil
}

// GetRouteByName returns the route named name, compared ignoring case and
// surrounding spaces, or ErrNotFound.
func (s *Store) GetRouteByName(ctx context.Context, name string) (*Route, error) {
	key := strings.ToLower(strings.TrimSpace(name))
	r, err := findRoute(s.db.WithContext(ctx), "lower(name) = ?", key)
	if err != nil {
		return nil, fmt.Errorf("models: get route %q: %w", name, err)
	}
	return r, nil
}

// ListRoutes returns one page of the routes matching f, ordered by name,
// and how many routes match f in all.
func (s *Store) ListRoutes(ctx context.Context, f RouteFilter) ([]Route, int64, error) {
	q := whereContains(s.db.WithContext(ctx).Model(&Route{}), f.Query, "name", "description", "from_url", "to_url")
	routes, total, err := listPage[Route](q, "lower(name), id", f.Offset, f.Limit, withRouteRefs)
	if err == nil {
		err = fillRouteApps(s.db.WithContext(ctx), routes)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("models: list routes: %w", err)
	}
	return routes, total, nil
}

// RoutesUsingPolicy returns the routes that policy policyID is attached
// to, ordered by name.
func (s *Store) RoutesUsingPolicy(ctx context.Context, policyID uint) ([]Route, error) {
	routes, err := routesWhere(s.db.WithContext(ctx),
		"id IN (SELECT route_id FROM route_policies WHERE policy_id = ?)", policyID)
	if err != nil {
		return nil, fmt.Errorf("models: routes using policy %d: %w", policyID, err)
	}
	return routes, nil
}

// RoutesUsingApp returns the routes linked to upstream app appID,
// ordered by name.
func (s *Store) RoutesUsingApp(ctx context.Context, appID uint) ([]Route, error) {
	routes, err := routesWhere(s.db.WithContext(ctx), "upstream_app_id = ?", appID)
	if err != nil {
		return nil, fmt.Errorf("models: routes using upstream app %d: %w", appID, err)
	}
	return routes, nil
}

// routesWhere returns every route matching the conditions, ordered by
// name and loaded with its references.
func routesWhere(db *gorm.DB, query any, args ...any) ([]Route, error) {
	routes := []Route{}
	if err := withRouteRefs(db).Where(query, args...).Order("lower(name), id").Find(&routes).Error; err != nil {
		return nil, err
	}
	return routes, fillRouteApps(db, routes)
}

// usedBy says which routes hold on to something that cannot be deleted
// while they do: "used by routes A, B".
func usedBy(routes []Route) string {
	names := make([]string, len(routes))
	for i, r := range routes {
		names[i] = r.Name
	}
	if len(names) == 1 {
		return "used by route " + names[0]
	}
	return "used by routes " + strings.Join(names, ", ")
}
