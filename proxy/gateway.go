package proxy

import (
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

// serveWellKnown answers the gateway's /.well-known/ paths on a route
// host. It reports whether path was one of them.
func (e *Engine) serveWellKnown(w http.ResponseWriter, r *http.Request, snap *Snapshot, host, path string) bool {
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

// errorBody is a JSON-RPC error reply that answers no particular request.
func errorBody(code int, message string) []byte {
	return mcp.ErrorResponse(nil, code, message, nil)
}
