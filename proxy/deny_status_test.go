package proxy_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestDenialStatus: a denied request is answered with its JSON-RPC error
// as an ordinary response, HTTP 200, so that clients see the error and do
// not take it for a transport failure (or an OAuth step-up, and send it
// again). Where there is no one response to give, a notification or a
// method without a message, the denial is a 403.
func TestDenialStatus(t *testing.T) {
	g := newGateway(t)
	route := g.route("Tools", "tools.localhost", openPolicy+"    - http_method: DELETE\n")
	bearer, _ := g.token(route.From)
	const denied = -32001
	for _, tc := range []struct {
		name, method, body string
		status             int
		id                 string // the id the error answers; "null" for none
	}{
		{name: "denied request", method: http.MethodPost, status: http.StatusOK, id: `"call-1"`,
			body: `{"jsonrpc":"2.0","id":"call-1","method":"tools/call","params":{"name":"admin_reset","arguments":{}}}`},
		{name: "denied notification", method: http.MethodPost, status: http.StatusForbidden, id: "null",
			body: `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"admin_reset","arguments":{}}}`},
		{name: "DELETE denied on its HTTP method", method: http.MethodDelete, status: http.StatusForbidden, id: "null"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(g.upstream.headers())
			resp, body := g.send(tc.method, route.From, bearer, tc.body)
			var reply struct {
				ID    json.RawMessage `json:"id"`
				Error *struct {
					Code int `json:"code"`
				} `json:"error"`
			}
			if err := json.Unmarshal(body, &reply); err != nil || reply.Error == nil || reply.Error.Code != denied || string(reply.ID) != tc.id {
				t.Errorf("answered %s, want the JSON-RPC error %d for id %s", body, denied, tc.id)
			}
			if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("status %d, %s; want %d, application/json", resp.StatusCode, resp.Header.Get("Content-Type"), tc.status)
			}
			if after := len(g.upstream.headers()); after != before {
				t.Errorf("%d request(s) reached the upstream", after-before)
			}
		})
	}
}
