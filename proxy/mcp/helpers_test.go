package mcp

import (
	"errors"
	"net/http"
	"testing"
)

// headers returns JSON request headers plus the given name/value pairs.
func headers(kv ...string) http.Header {
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// v26 returns headers of a 2026-07-28 request with its mirrors.
func v26(method, name string) http.Header {
	h := headers("MCP-Protocol-Version", Revision20260728, "Mcp-Method", method)
	if name != "" {
		h.Set("Mcp-Name", name)
	}
	return h
}

// wantRefused asserts err is an *Error with the status and code.
func wantRefused(t *testing.T, err error, status, code int) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *Error %d/%d", err, status, code)
	}
	if e.Status != status || e.Code != code {
		t.Fatalf("refused with %d/%d (%s), want %d/%d", e.Status, e.Code, e.Message, status, code)
	}
	return e
}

func mustParse(t *testing.T, body string, h http.Header) *Request {
	t.Helper()
	if h == nil {
		h = headers()
	}
	req, err := Parse([]byte(body), h)
	if err != nil {
		t.Fatalf("Parse(%.80q) = %v", body, err)
	}
	return req
}

const call = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"search","arguments":{"q":"x"}}}`
