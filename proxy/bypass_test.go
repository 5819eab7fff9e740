package proxy_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestBypassCatalogue lists requests that try to get a denied tool call,
// or an unreadable body, past the gateway. Each must be refused with the
// status given, and nothing of it may reach the upstream.
func TestBypassCatalogue(t *testing.T) {
	g := newGateway(t)
	route := g.route("Tools", "tools.localhost", openPolicy)
	bearer, _ := g.token(route.From)
	call := func(tool string) string {
		return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":{"text":"x"}}}`
	}
	pad := strings.Repeat("a", 1<<20)
	cases := []struct {
		name    string
		body    string
		headers map[string]string
		status  int
	}{
		{"denied tool", call("admin_reset"), nil, http.StatusForbidden},
		{"batch hiding a denied call", "[" + call("echo") + "," + strings.Replace(call("admin_reset"), `"id":1`, `"id":2`, 1) + "]",
			map[string]string{"MCP-Protocol-Version": "2025-03-26"}, http.StatusForbidden},
		{"denied call in a notification", `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"admin_reset","arguments":{}}}`, nil, http.StatusForbidden},
		{"duplicate name keys", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"admin_reset","arguments":{}}}`, nil, http.StatusBadRequest},
		{"name beside Name", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","Name":"admin_reset","arguments":{}}}`, nil, http.StatusBadRequest},
		{"Method beside method", `{"jsonrpc":"2.0","id":1,"method":"tools/list","Method":"tools/call","params":{"name":"admin_reset"}}`, nil, http.StatusBadRequest},
		{"escaped key", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"n\u0061me":"admin_reset","arguments":{}}}`, nil, http.StatusBadRequest},
		{"look-alike tool name", call("admin_rеset"), nil, http.StatusBadRequest}, // Cyrillic е
		{"tool name with a trailing space", call("admin_reset "), nil, http.StatusBadRequest},
		{"method with a trailing space", `{"jsonrpc":"2.0","id":1,"method":"tools/call ","params":{"name":"admin_reset"}}`, nil, http.StatusBadRequest},
		{"Mcp-Name naming an allowed tool over a denied call", call("admin_reset"),
			map[string]string{"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "echo"}, http.StatusBadRequest},
		{"denied call after a megabyte of padding", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{"text":"` + pad + `"},"name":"admin_reset"}}`,
			nil, http.StatusForbidden},
		{"oversize body", call("echo")[:len(call("echo"))-1] + `,"pad":"` + strings.Repeat("a", 5<<20) + `"}`, nil, http.StatusRequestEntityTooLarge},
		{"wrong content type", call("echo"), map[string]string{"Content-Type": "text/plain"}, http.StatusUnsupportedMediaType},
		{"trailing data", call("echo") + call("admin_reset"), nil, http.StatusBadRequest},
		{"wrong jsonrpc version", strings.Replace(call("echo"), `"2.0"`, `"1.0"`, 1), nil, http.StatusBadRequest},
		{"invalid UTF-8", strings.Replace(call("echo"), `"x"`, "\"\xff\"", 1), nil, http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(g.upstream.headers())
			req, _ := http.NewRequest(http.MethodPost, route.From, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("MCP-Protocol-Version", "2025-06-18")
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, err := g.httpClient(bearer).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d; body %.200s", resp.StatusCode, tc.status, body)
			}
			if !strings.Contains(string(body), `"error"`) {
				t.Errorf("the refusal is not a JSON-RPC error: %.200s", body)
			}
			if after := len(g.upstream.headers()); after != before {
				t.Errorf("%d request(s) reached the upstream", after-before)
			}
		})
	}
}
