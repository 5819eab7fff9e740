package handlers

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/drawbridge/drawbridge/models"
)

// RouteLister is what resolving a resource needs: every route.
type RouteLister interface {
	ListRoutes(ctx context.Context, f models.RouteFilter) ([]models.Route, int64, error)
}

// resolveResource finds the MCP server route a resource indicator (RFC
// 8707) names. Clients send the URL they were given: the route's from, or
// a URL under it (its MCP endpoint path, a trailing slash). The match is
// by origin, then the longest path prefix, as the proxy matches requests;
// the token is then bound to the route's from, the one spelling the proxy
// checks audiences against.
//
// The error reads as an error_description: it says what is wrong and
// which resources exist only in general terms.
func resolveResource(ctx context.Context, routes RouteLister, resource string) (*models.Route, error) {
	switch {
	case resource == "":
		return nil, errors.New("resource is required: the URL of the MCP server (route) the token is for (RFC 8707)")
	case len(resource) > maxRedirectURILen:
		return nil, errors.New("resource is longer than 2048 bytes")
	case strings.ContainsAny(resource, "#"):
		return nil, errors.New("resource must not have a fragment")
	}
	u, err := url.Parse(resource)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Opaque != "" {
		return nil, errors.New("resource must be an absolute http(s) URL of an MCP server behind this Drawbridge")
	}
	if u.RawQuery != "" || u.ForceQuery {
		return nil, errors.New("resource must not have a query")
	}
	origin, err := models.NormalizeFrom(u.Scheme + "://" + u.Host)
	if err != nil {
		return nil, errors.New("resource " + err.Error())
	}
	path := u.EscapedPath()
	all, _, err := routes.ListRoutes(ctx, models.RouteFilter{})
	if err != nil {
		return nil, err
	}
	var best *models.Route
	bestLen := -1
	for i := range all {
		r := &all[i]
		if !r.Enabled || r.Kind != models.KindMCPServer || !strings.HasPrefix(r.From, origin) {
			continue
		}
		prefix := r.From[len(origin):]
		if prefix != "" && prefix[0] != '/' { // origin matched only part of the host or port
			continue
		}
		if models.UnderPrefix(path, prefix) && len(prefix) > bestLen {
			best, bestLen = r, len(prefix)
		}
	}
	if best == nil {
		return nil, errors.New("resource is not an MCP server behind this Drawbridge (or the route is turned off)")
	}
	return best, nil
}
