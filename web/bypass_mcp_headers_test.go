package web

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The bypass catalogue, MCP header tricks: requests to the Tools route
// whose body is a denied (or allowed) tool call, and whose headers, HTTP
// method or host try to have it decided as something else, read
// otherwise upstream, or let through without a credential. Every case
// asserts the refusal's HTTP status and JSON-RPC error code, and that
// neither upstream received a single request.

// TestBypassMCPHeaders is the catalogue of header tricks.
func TestBypassMCPHeaders(t *testing.T) {
	w := newBypassWorld(t)
	const (
		invalid, mismatch = -32600, -32020
		denied, noAuth    = -32001, -32002
	)
	allowed := toolCall("echo", `{"text":"x"}`)
	deny := toolCall("admin_reset", `{}`)
	v26 := func(method, name string) map[string]string {
		return map[string]string{"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": method, "Mcp-Name": name}
	}
	openHost := strings.TrimPrefix(w.open.From, "http://")
	asOpen := map[string]string{"Authorization": "Bearer " + w.openToken}
	method := func(m string) func(*http.Request) { return func(r *http.Request) { r.Method = m } }
	noCredential := func(m string) func(*http.Request) {
		return func(r *http.Request) {
			r.Method, r.Body, r.ContentLength = m, nil, 0
			r.Header.Del("Authorization")
			r.Header.Set("Mcp-Session-Id", "a-session-someone-else-opened")
		}
	}
	absolute := &http.Client{Transport: absoluteURI{addr: strings.TrimPrefix(w.app.URL, "http://")}}

	// The control: with its mirrors right, an allowed call on 2026-07-28
	// goes through; so the refusals below are the mirrors'.
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`
	allowed26 := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"},` + meta + `}}`
	w.wantAllowed(t, w.mcpRequest(http.MethodPost, w.tools.From, allowed26, v26("tools/call", "echo")))

	// The control for bodies on other methods: a DELETE ending a session
	// reaches the upstream with no body, and with an empty chunked one,
	// as some clients send it.
	for _, chunked := range []bool{false, true} {
		req := w.mcpRequest(http.MethodDelete, w.tools.From, "", map[string]string{"Mcp-Session-Id": "s-1"})
		if chunked {
			req.Body, req.ContentLength, req.TransferEncoding = io.NopCloser(strings.NewReader("")), -1, []string{"chunked"}
		}
		before := w.toolsUp.count()
		if resp, body := w.send(t, req); w.toolsUp.count() == before {
			t.Errorf("a DELETE without a body (chunked: %v) never reached the upstream: %d %s", chunked, resp.StatusCode, body)
		}
	}

	w.refuseAll(t, []bypassCase{
		// Content type and coding: what the upstream decodes must be the
		// bytes the gateway read.
		{name: "no content type", body: allowed, set: map[string]string{"Content-Type": ""}, status: 415, code: invalid},
		{name: "text/plain", body: allowed, set: map[string]string{"Content-Type": "text/plain"}, status: 415, code: invalid},
		{name: "JSON look-alike type", body: allowed, set: map[string]string{"Content-Type": "application/json-seq"}, status: 415, code: invalid},
		{name: "charset utf-16", body: allowed, set: map[string]string{"Content-Type": "application/json; charset=utf-16"}, status: 415, code: invalid},
		{name: "charset utf-7, quoted", body: allowed, set: map[string]string{"Content-Type": `application/json; charset="utf-7"`}, status: 415, code: invalid},
		{name: "charset given twice", body: allowed, set: map[string]string{"Content-Type": "application/json; charset=utf-8; charset=utf-16"}, status: 415, code: invalid},
		{name: "two content types", body: allowed, edit: func(r *http.Request) { r.Header.Add("Content-Type", "text/plain") }, status: 415, code: invalid},
		{name: "gzip content coding", body: allowed, set: map[string]string{"Content-Encoding": "gzip"}, status: 415, code: invalid},

		// Revisions and the headers that mirror the body.
		{name: "unknown protocol version", body: allowed, set: map[string]string{"MCP-Protocol-Version": "2024-01-01"}, status: 400, code: invalid},
		{name: "two protocol versions", body: allowed, edit: func(r *http.Request) { r.Header.Add("MCP-Protocol-Version", "2025-03-26") }, status: 400, code: invalid},
		{name: "Mcp-Name naming an allowed tool over a denied call (2026-07-28)", body: deny, set: v26("tools/call", "echo"), status: 400, code: mismatch},
		{name: "Mcp-Method naming tools/list over a call (2026-07-28)", body: deny, set: v26("tools/list", "admin_reset"), status: 400, code: mismatch},
		{name: "Mcp-Method missing (2026-07-28)", body: allowed, set: v26("", "echo"), status: 400, code: mismatch},
		{name: "Mcp-Name missing (2026-07-28)", body: allowed, set: v26("tools/call", ""), status: 400, code: mismatch},
		{name: "Mcp-Name naming an allowed tool on 2025-06-18", body: deny, set: map[string]string{"Mcp-Name": "echo"}, status: 400, code: mismatch},

		// Browsers, and methods without a message to decide.
		{name: "Origin of another site", body: allowed, set: map[string]string{"Origin": "http://evil.example"}, status: 403, code: denied},
		{name: "Origin null", body: allowed, set: map[string]string{"Origin": "null"}, status: 403, code: denied},
		{name: "Origin of a sibling route host", body: allowed, set: map[string]string{"Origin": w.open.From}, status: 403, code: denied},
		{name: "GET with a session id and no credential", edit: noCredential(http.MethodGet), status: 401, code: noAuth},
		{name: "DELETE with a session id and no credential", edit: noCredential(http.MethodDelete), status: 401, code: noAuth},
		{name: "GET carrying a denied call", body: deny, edit: method(http.MethodGet), status: 400, code: invalid},
		{name: "DELETE carrying a denied call", body: deny, edit: method(http.MethodDelete), status: 400, code: invalid},
		{name: "DELETE carrying a denied call, chunked", body: deny, status: 400, code: invalid,
			edit: func(r *http.Request) {
				r.Method, r.ContentLength, r.TransferEncoding = http.MethodDelete, -1, []string{"chunked"}
			}},
		{name: "PUT carrying a denied call", body: deny, edit: method(http.MethodPut), status: 400, code: invalid},
		{name: "GET with a method override carrying a denied call", body: deny, edit: method(http.MethodGet),
			set: map[string]string{"X-HTTP-Method-Override": "POST"}, status: 400, code: invalid},

		// Hosts: the call is decided by the route that serves it.
		{name: "the open route's token on the guarded host", body: deny, set: asOpen, status: 401, code: noAuth},
		{name: "X-Forwarded-Host naming the open route", body: deny, status: 401, code: noAuth,
			edit: func(r *http.Request) {
				r.Header.Set("Authorization", "Bearer "+w.openToken)
				r.Header.Set("X-Forwarded-Host", openHost)
			}},
		{name: "absolute URI of the guarded host, Host header of the open route", body: deny, client: absolute, status: 401, code: noAuth,
			edit: func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+w.openToken); r.Host = openHost }},
		{name: "guarded host in capitals", body: deny, edit: func(r *http.Request) { r.Host = strings.ToUpper(r.Host) }, status: 200, code: denied},
	})
}

// absoluteURI sends a request as a client talking to a proxy would, to
// addr: the request line names r.URL in absolute form, and the Host
// header names r.Host, which may be another host. net/http's own client
// never lets the two differ.
type absoluteURI struct{ addr string }

func (a absoluteURI) RoundTrip(r *http.Request) (*http.Response, error) {
	conn, err := net.DialTimeout("tcp", a.addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second)) // a bound, not an assertion
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
	}
	var head bytes.Buffer
	head.WriteString(r.Method + " " + r.URL.String() + " HTTP/1.1\r\nHost: " + r.Host + "\r\nConnection: close\r\n")
	r.Header.Write(&head)
	head.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	if _, err := conn.Write(append(head.Bytes(), body...)); err != nil {
		conn.Close()
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), r)
	if err != nil {
		conn.Close()
		return nil, err
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{resp.Body, conn}
	return resp, nil
}
