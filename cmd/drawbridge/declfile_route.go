package main

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/drawbridge/drawbridge/models"
)

// routeKeys are the keys of a route in Drawbridge's format. Pomerium's
// are read too: policy, allow_any_authenticated_user and timeout are
// translated, the rest ignored or refused (pomerium.go).
var routeKeys = []string{"name", "description", "from", "to", "mcp", "policies", "timeout_seconds", "max_request_bytes", "enabled"}

// routeInline holds what a route defines inline, in Pomerium's manner,
// that becomes objects of its own once the route's name is known.
type routeInline struct {
	app, policy *yaml.Node // mcp.server.upstream_oauth2, policy
	anyUser     *yaml.Node // allow_any_authenticated_user: true
}

// readRoute reads an entry of routes (or of Pomerium's policy).
func (d *declFile) readRoute(n *yaml.Node) {
	obj, m := d.newObject(n, "routes", len(d.routes))
	if m == nil {
		return
	}
	r := models.BundleRoute{Route: models.Route{Kind: models.KindHTTP, Enabled: true}}
	r.Name = peekName(m)
	if _, named := m.vals["name"]; !named {
		// Pomerium's routes need no name: the host is one.
		if from := deref(m.vals["from"]); from != nil && from.Kind == yaml.ScalarNode {
			r.Name = nameFromURL(from.Value)
		}
	}
	if r.Name != "" {
		obj.label = fmt.Sprintf("route %q", r.Name)
	}
	var inl routeInline
	var timeoutKey *yaml.Node
	for _, k := range m.keys {
		v := m.vals[k.Value]
		switch k.Value {
		case "name", "description", "from", "to", "enabled", "max_request_bytes":
			obj.fields[k.Value] = at(k)
		}
		switch k.Value {
		case "name":
			r.Name = d.str(v, k.Value, obj)
		case "description":
			r.Description = d.str(v, k.Value, obj)
		case "from":
			r.From = d.str(v, k.Value, obj)
		case "to":
			r.To = d.readTo(v, obj)
		case "mcp":
			d.readMCP(k, v, obj, &r, &inl)
		case "policies":
			obj.fields["policies"] = at(k)
			r.PolicyNames = append(r.PolicyNames, d.strList(v, k.Value, obj)...)
		case "policy":
			if _, ok := obj.fields["policies"]; !ok {
				obj.fields["policies"] = at(k)
			}
			inl.policy = v
		case "allow_any_authenticated_user":
			if yes, _ := d.boolean(v, k.Value, obj); yes {
				inl.anyUser = k
			}
		case "timeout_seconds", "timeout":
			if timeoutKey != nil {
				d.fieldProblem(obj, "timeout_seconds", at(k), "give timeout_seconds or Pomerium's timeout, not both")
				continue
			}
			timeoutKey = k
			obj.fields["timeout_seconds"] = at(k)
			r.TimeoutSeconds = d.readTimeout(k, v, obj)
		case "max_request_bytes":
			r.MaxRequestBytes, _ = d.integer(v, k.Value, obj)
		case "enabled":
			r.Enabled, _ = d.boolean(v, k.Value, obj)
		default:
			d.pomeriumRouteKey(obj, k)
		}
	}
	d.needKeys(obj, m, obj.at, "from", "to")
	d.addInline(&r, obj, inl)
	if len(r.PolicyNames) == 0 && !obj.bad {
		d.warn(obj, obj.at, "no policy: nobody will be let through until one is attached")
	}
	d.bundle.Routes = append(d.bundle.Routes, r)
	d.routes = append(d.routes, obj)
}

// readMCP reads a route's mcp: its kind, and what goes with it.
func (d *declFile) readMCP(key, n *yaml.Node, obj *objectPos, r *models.BundleRoute, inl *routeInline) {
	obj.fields["kind"] = at(key)
	m := d.readMapping(n, "mcp", obj)
	if m == nil {
		return
	}
	var server, client *yaml.Node
	for _, k := range m.keys {
		v := m.vals[k.Value]
		switch k.Value {
		case "server":
			server = v
		case "client":
			client = v
		case "pass_upstream_access_token":
			obj.fields["pass_upstream_token"] = at(k)
			r.PassUpstreamToken, _ = d.boolean(v, k.Value, obj)
		default:
			d.unknownKey(obj, k, "mcp", []string{"server", "client", "pass_upstream_access_token"})
		}
	}
	switch {
	case server != nil && client != nil:
		d.fieldProblem(obj, "kind", at(key), "mcp holds `server` (an MCP server) or `client` (an app that receives users' tokens), not both")
	case server != nil:
		r.Kind = models.KindMCPServer
		d.readMCPServer(server, obj, r, inl)
	case client != nil:
		r.Kind = models.KindMCPClient
		d.readMCPClient(client, obj, r)
	default:
		d.fieldProblem(obj, "kind", at(key), "mcp needs `server: {…}` (an MCP server) or `client: {}` (an app that receives users' tokens)")
	}
}

func (d *declFile) readMCPServer(n *yaml.Node, obj *objectPos, r *models.BundleRoute, inl *routeInline) {
	if isNull(n) {
		return
	}
	m := d.readMapping(n, "mcp.server", obj)
	if m == nil {
		return
	}
	for _, k := range m.keys {
		v := m.vals[k.Value]
		switch k.Value {
		case "upstream_oauth_app":
			obj.fields["upstream_app"] = at(k)
			r.App = d.str(v, k.Value, obj)
		case "upstream_oauth2":
			if _, ok := obj.fields["upstream_app"]; !ok {
				obj.fields["upstream_app"] = at(k)
			}
			inl.app = v
		case "max_request_bytes":
			obj.fields["max_request_bytes"] = at(k)
			r.MaxRequestBytes, _ = d.integer(v, k.Value, obj)
		default:
			d.unknownKey(obj, k, "mcp.server", []string{"upstream_oauth_app", "upstream_oauth2", "max_request_bytes"})
		}
	}
	if r.App != "" && inl.app != nil {
		d.fieldProblem(obj, "upstream_app", at(n), "mcp.server names an upstream_oauth_app and defines upstream_oauth2: keep one")
	}
}

func (d *declFile) readMCPClient(n *yaml.Node, obj *objectPos, r *models.BundleRoute) {
	if isNull(n) {
		return
	}
	m := d.readMapping(n, "mcp.client", obj)
	if m == nil {
		return
	}
	for _, k := range m.keys {
		if k.Value != "pass_upstream_access_token" {
			d.unknownKey(obj, k, "mcp.client", []string{"pass_upstream_access_token"})
			continue
		}
		obj.fields["pass_upstream_token"] = at(k)
		r.PassUpstreamToken, _ = d.boolean(m.vals[k.Value], k.Value, obj)
	}
}

// readTo reads a route's upstream: a URL, or Pomerium's list of them
// holding one.
func (d *declFile) readTo(n *yaml.Node, obj *objectPos) string {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return d.str(n, "to", obj)
	}
	switch len(n.Content) {
	case 1:
		return d.str(n.Content[0], "to", obj)
	case 0:
		d.fieldProblem(obj, "to", at(n), "to lists no upstream URL")
	default:
		d.fieldProblem(obj, "to", at(n), "to lists %d upstream URLs; Drawbridge sends each route to one upstream (no load balancing): keep one, or make one route per upstream", len(n.Content))
	}
	return ""
}
