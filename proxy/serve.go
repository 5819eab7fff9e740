package proxy

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/drawbridge/drawbridge/proxy/mcp"
	"github.com/drawbridge/drawbridge/proxy/policy"
	"github.com/drawbridge/drawbridge/proxy/token"
)

// ServeHTTP serves a request to a route host: the request path of
// DESIGN.md, steps 1 to 8.
func (e *Engine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	snap := e.snap.Load()
	if snap == nil {
		http.Error(w, "Drawbridge is starting; try again in a moment.", http.StatusServiceUnavailable)
		return
	}
	host, path := canonicalHost(r), r.URL.EscapedPath()
	if strings.HasPrefix(path, "/.well-known/") && e.serveWellKnown(w, r, snap, host, path) {
		return
	}
	route := snap.Match(host, path)
	if route == nil {
		http.Error(w, "Drawbridge has no route for this address. The console is at "+e.issuerURL, http.StatusNotFound)
		return
	}
	if !isMCP(route.Kind) {
		// Browser sign-in for client and http routes arrives with the
		// portal's Connect work; until then they are refused, plainly.
		http.Error(w, "This route needs a browser sign-in, which this Drawbridge does not offer on route hosts yet.", http.StatusNotImplemented)
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && origin != routeOrigin(route) {
		// A page on another site driving a browser at a local MCP server
		// is the DNS rebinding attack the MCP specification warns of.
		e.count(route, "invalid", http.StatusForbidden)
		writeRPCError(w, http.StatusForbidden, errorBody(codeForbidden, "Requests from web pages on other sites are refused."))
		return
	}
	id, ok := e.authenticate(w, r, snap, route)
	if !ok {
		e.count(route, "unauthenticated", http.StatusUnauthorized)
		return
	}
	in := policy.Input{
		Authenticated: true, UserID: id.UserID, Email: id.Email, Groups: id.Groups, ClientID: id.ClientID,
		ServiceAccount: id.ServiceAccount, SourceIP: sourceIP(r),
		HTTPMethod: r.Method, HTTPPath: r.URL.Path, Now: start,
	}
	var listIDs []json.RawMessage
	if r.Method == http.MethodPost {
		req, err := readBody(r, route.MaxRequestBytes)
		if err != nil {
			e.refuseUnreadable(w, route, err)
			return
		}
		if !e.decide(w, route, &in, req) {
			return
		}
		listIDs = toolsListIDs(req)
	} else if !policy.Allowed(route.Policies, &in) {
		e.count(route, "deny", http.StatusForbidden)
		http.Error(w, "Your organisation's policy does not allow this request.", http.StatusForbidden)
		return
	}
	e.metrics.overhead.WithLabelValues(route.Name).Observe(time.Since(start).Seconds())
	st := &forwardState{route: route, input: in, toolsList: listIDs}
	if e.asserter != nil {
		var err error
		st.assertion, err = e.asserter.Sign(token.Assertion{
			Subject: id.UserID, Email: id.Email, Groups: id.Groups, Audience: route.From,
			ServiceAccount: id.ServiceAccount, ClientID: id.ClientID,
		})
		if err != nil {
			e.log.Error("proxy: sign assertion", "error", err)
			writeRPCError(w, http.StatusInternalServerError, errorBody(codeUpstream, "Drawbridge could not sign the request."))
			return
		}
	}
	ctx := withForwardState(r.Context(), st)
	rec := &statusRecorder{ResponseWriter: w}
	route.forward.proxy.ServeHTTP(rec, r.WithContext(ctx))
	e.count(route, "allow", rec.status())
}

// decide evaluates every message of req. One denied message refuses the
// whole request: nothing of it reaches the upstream.
func (e *Engine) decide(w http.ResponseWriter, route *Route, in *policy.Input, req *mcp.Request) bool {
	for _, m := range req.Messages {
		if m.IsResponse {
			continue // an answer to the server's own request: nothing to decide
		}
		in.MCPMethod, in.MCPTool, in.Arguments = m.Method, m.Tool, m.Arguments
		d := policy.Evaluate(route.Policies, in)
		if d.Allow {
			continue
		}
		e.count(route, "deny", http.StatusForbidden)
		e.log.Info("proxy: denied", "route", route.Name, "user", in.Email, "method", m.Method, "tool", m.Tool, "reason", d.String())
		msg := "Drawbridge policy denies " + describeCall(m)
		writeRPCError(w, http.StatusForbidden, mcp.ErrorResponse(m.ID, codeForbidden, msg, nil))
		return false
	}
	return true
}

// codeForbidden is the JSON-RPC error code of a policy denial: in the
// range JSON-RPC leaves to implementations.
const codeForbidden = -32001

func describeCall(m mcp.Message) string {
	if m.Tool != "" {
		return "calling the tool " + m.Tool + "."
	}
	return m.Method + "."
}

// writeRPCError answers with a JSON-RPC error body.
func writeRPCError(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// refuseUnreadable answers a body the reader refused.
func (e *Engine) refuseUnreadable(w http.ResponseWriter, route *Route, err error) {
	me, ok := err.(*mcp.Error)
	if !ok {
		me = &mcp.Error{Status: http.StatusBadRequest, Code: -32700, Message: "the request body could not be read"}
	}
	e.count(route, "invalid", me.Status)
	mcp.WriteError(w, me)
}

// toolsListIDs returns the ids of the tools/list requests in req, whose
// answers must be filtered.
func toolsListIDs(req *mcp.Request) []json.RawMessage {
	var ids []json.RawMessage
	for _, m := range req.Messages {
		if m.Method == "tools/list" && m.ID != nil {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

func (e *Engine) count(route *Route, decision string, status int) {
	e.metrics.requests.WithLabelValues(route.Name, decision, statusText(status)).Inc()
}

// canonicalHost is the request's host as routes store it: lowercase,
// without the default port of its scheme.
func canonicalHost(r *http.Request) string {
	host := strings.ToLower(r.Host)
	if h, port, err := net.SplitHostPort(host); err == nil {
		if (port == "80" && r.TLS == nil) || (port == "443" && r.TLS != nil) {
			return h
		}
	}
	return host
}

// sourceIP is the address the request came from.
func sourceIP(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// readBody reads and checks an MCP POST body, and puts the exact bytes
// read back for the upstream: what was decided on is what it gets.
func readBody(r *http.Request, max int64) (*mcp.Request, error) {
	var seen bytes.Buffer
	orig := r.Body
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.TeeReader(orig, &seen), orig}
	req, err := mcp.Read(r, max)
	r.Body = io.NopCloser(bytes.NewReader(seen.Bytes()))
	r.ContentLength = int64(seen.Len())
	return req, err
}

// routeOrigin is the web origin of route: scheme://host[:port].
func routeOrigin(route *Route) string {
	return route.From[:len(route.From)-len(route.Prefix)]
}
