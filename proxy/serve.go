package proxy

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/drawbridge/drawbridge/proxy/mcp"
	"github.com/drawbridge/drawbridge/proxy/policy"
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
	if ambiguousPath(path) {
		// Policies decide on the path; an upstream must not read it
		// otherwise than they did.
		http.Error(w, "This address has dot segments, encoded slashes or backslashes, which Drawbridge does not forward.", http.StatusBadRequest)
		return
	}
	if strings.HasPrefix(path, "/.well-known/") && e.serveWellKnown(w, r, snap, host, path) {
		return
	}
	if strings.HasPrefix(path, "/.drawbridge/") && e.serveGateway(w, r, snap, host, path) {
		return
	}
	route := snap.Match(host, path)
	if route == nil {
		http.Error(w, "Drawbridge has no route for this address. The console is at "+e.issuerURL, http.StatusNotFound)
		return
	}
	if !isMCP(route.Kind) {
		e.serveBrowserRoute(w, r, snap, route, start)
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
	if e.audit != nil && r.Method == http.MethodPost {
		// Tell the audit writer, whose group commit may wait for it.
		// Not a GET: its stream may stay open for hours, long after its
		// one event.
		e.audit.Expect(1)
		defer e.audit.Expect(-1)
	}
	x := &exchange{e: e, w: w, r: r, snap: snap, route: route, id: id, start: start, requestID: NewRequestID()}
	w.Header().Set("X-Request-Id", x.requestID)
	x.in = policy.Input{
		Authenticated: true, UserID: id.UserID, Email: id.Email, Groups: id.Groups, ClientID: id.ClientID,
		ServiceAccount: id.ServiceAccount, SourceIP: e.clientIP.Of(r),
		HTTPMethod: r.Method, HTTPPath: r.URL.Path, Now: start,
	}
	if x.decide() {
		x.forward()
	}
}

// ambiguousPath reports whether an escaped request path could be read
// two ways: dot segments (plain or percent-encoded), which servers
// resolve and Go does not, encoded slashes and backslashes, which some
// servers decode into separators, backslashes, and empty segments.
func ambiguousPath(p string) bool {
	lower := strings.ToLower(p)
	if strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") || strings.Contains(p, "\\") || strings.Contains(p, "//") {
		return true
	}
	lower = strings.ReplaceAll(lower, "%2e", ".")
	for seg := range strings.SplitSeq(lower, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// bodyReadTimeout bounds the reading of an MCP request body.
const bodyReadTimeout = 30 * time.Second

// codeForbidden is the JSON-RPC error code of a policy denial: in the
// range JSON-RPC leaves to implementations.
const codeForbidden = -32001

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

// readBody reads and checks an MCP POST body, and puts the exact bytes
// read back for the upstream: what was decided on is what it gets.
func readBody(w http.ResponseWriter, r *http.Request, max int64) (*mcp.Request, error) {
	// The audit event is stamped when the request starts and committed
	// once the body is read: a body trickled in for minutes would land
	// out of order in the log's time ranges. A body is small; it has a
	// while to arrive, no more.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(bodyReadTimeout))
	defer func() { _ = rc.SetReadDeadline(time.Time{}) }()
	req, err := mcp.Read(r, max)
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(req.Body))
	r.ContentLength = int64(len(req.Body))
	return req, nil
}

// carriesBody reports whether a request that must have no body (a GET
// stream, a DELETE of a session) has one. A declared length answers at
// once; a body of unknown length (chunked, or HTTP/2 without a length)
// is read for one byte, within the body deadline, since some clients
// send an empty one that way. An empty body is replaced by none.
func carriesBody(w http.ResponseWriter, r *http.Request) bool {
	switch {
	case r.ContentLength > 0:
		return true
	case r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody:
		return false
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(bodyReadTimeout))
	defer func() { _ = rc.SetReadDeadline(time.Time{}) }()
	var one [1]byte
	n, err := io.ReadFull(r.Body, one[:])
	if n > 0 || (err != nil && err != io.EOF) {
		return true // data, or a body that could not be read to its end
	}
	r.Body, r.ContentLength = http.NoBody, 0
	return false
}

// routeOrigin is the web origin of route: scheme://host[:port].
func routeOrigin(route *Route) string {
	return route.From[:len(route.From)-len(route.Prefix)]
}
