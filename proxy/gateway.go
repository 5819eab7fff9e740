package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/drawbridge/drawbridge/proxy/mcp"
)

// wellKnownResource is the path of RFC 9728 protected resource metadata.
const wellKnownResource = "/.well-known/oauth-protected-resource"

// resourceMetadata is the document of RFC 9728 section 2.
type resourceMetadata struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers"`
	ScopesSupported        []string `json:"scopes_supported"`
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
	ResourceName           string   `json:"resource_name,omitempty"`
}

// wellKnownServer is where clients of the 2025-03-26 MCP revision look for
// the authorization server: on the MCP server's own origin.
const wellKnownServer = "/.well-known/oauth-authorization-server"

// serveWellKnown answers the gateway's /.well-known/ paths on a route
// host. It reports whether path was one of them.
func (e *Engine) serveWellKnown(w http.ResponseWriter, r *http.Request, snap *Snapshot, host, path string) bool {
	if path == wellKnownServer {
		return e.serveServerMetadata(w, r, snap, host)
	}
	suffix, ok := strings.CutPrefix(path, wellKnownResource)
	if !ok || (suffix != "" && suffix[0] != '/') {
		return false
	}
	var route *Route
	for _, rt := range snap.byHost[host] {
		if rt.Prefix == suffix && isMCP(rt.Kind) {
			route = rt
		}
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET")
		h.Set("Access-Control-Allow-Headers", "MCP-Protocol-Version")
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	if route == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.Error(w, "No MCP server is described at this address.", http.StatusNotFound)
		return true
	}
	body, _ := json.Marshal(resourceMetadata{
		Resource:               route.From,
		AuthorizationServers:   []string{e.issuerURL},
		ScopesSupported:        []string{"mcp"},
		BearerMethodsSupported: []string{"header"},
		ResourceName:           route.Name,
	})
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=60")
	_, _ = w.Write(body)
	return true
}

// serveServerMetadata answers an older client looking for the
// authorization server on the route's origin: the console's metadata,
// with the route's resource carried by the authorization endpoint, since
// such clients send no resource indicator. A host with several MCP routes
// answers for the one at its root.
func (e *Engine) serveServerMetadata(w http.ResponseWriter, r *http.Request, snap *Snapshot, host string) bool {
	var route *Route
	var mcpRoutes int
	for _, rt := range snap.byHost[host] {
		if isMCP(rt.Kind) {
			mcpRoutes++
			if route == nil || rt.Prefix == "" {
				route = rt
			}
		}
	}
	if mcpRoutes > 1 && route.Prefix != "" {
		route = nil
	}
	fn := e.serverMetadata.Load()
	if route == nil || fn == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.Error(w, "No authorization server is described at this address.", http.StatusNotFound)
		return true
	}
	body, err := (*fn)(r.Context(), route.From)
	if err != nil {
		e.log.Error("proxy: authorization server metadata", "error", err)
		http.Error(w, "The authorization server metadata is unavailable.", http.StatusInternalServerError)
		return true
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=60")
	_, _ = w.Write(body)
	return true
}

// SetServerMetadata gives the engine the authorization server's metadata
// for a resource, which route hosts serve to older clients. Call it once
// the authorization server is built.
func (e *Engine) SetServerMetadata(fn func(ctx context.Context, resource string) ([]byte, error)) {
	e.serverMetadata.Store(&fn)
}

// errorBody is a JSON-RPC error reply that answers no particular request.
func errorBody(code int, message string) []byte {
	return mcp.ErrorResponse(nil, code, message, nil)
}
