package web

import (
	"net/http"
	"strings"
	"testing"
)

// The bypass catalogue, MCP body tricks: JSON-RPC bodies that try to get a
// denied tool call, or a body the gateway cannot read for sure, past the
// whole server to the Tools route's upstream (bypass_mcp_helpers_test.go
// has the world and its policy). Every case asserts the refusal's HTTP
// status and JSON-RPC error code, and that neither upstream received a
// single request. The header tricks are in bypass_mcp_headers_test.go.

// TestBypassMCPBody is the catalogue of body tricks.
func TestBypassMCPBody(t *testing.T) {
	w := newBypassWorld(t)
	const (
		parse, invalid, params = -32700, -32600, -32602
		denied                 = -32001 // a policy denial
	)
	allowed := toolCall("echo", `{"text":"x"}`)
	deny := toolCall("admin_reset", `{}`)
	deny2 := strings.Replace(deny, `"id":1`, `"id":2`, 1)
	withParams := func(params string) string {
		return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":` + params + `}`
	}
	bomb := `{"a":` + strings.Repeat(`[`, 100000) + strings.Repeat(`]`, 100000) + `}`
	huge := strings.Repeat("a", 5<<20)
	chunked := func(r *http.Request) { r.ContentLength = 0 } // unknown length: sent chunked

	w.wantAllowed(t, w.mcpRequest(http.MethodPost, w.tools.From, allowed, nil))
	w.refuseAll(t, []bypassCase{
		// A denied request is answered with its JSON-RPC error, an
		// ordinary response (200); a batch or a notification has no one
		// response to give, and is refused 403.
		{name: "denied tool", body: deny, status: 200, code: denied},

		// Batches: every message is decided, and only 2025-03-26 has them.
		{name: "batch hiding a denied call (2025-03-26)", body: "[" + allowed + "," + deny2 + "]",
			set: map[string]string{"MCP-Protocol-Version": "2025-03-26"}, status: 403, code: denied},
		{name: "batch hiding a denied call, no version header (2025-03-26 assumed)", body: "[" + allowed + "," + deny2 + "]",
			set: map[string]string{"MCP-Protocol-Version": ""}, status: 403, code: denied},
		{name: "batch on 2025-06-18, which has none", body: "[" + allowed + "," + deny2 + "]", status: 400, code: invalid},
		{name: "batch on 2026-07-28, which has none", body: "[" + allowed + "," + deny2 + "]",
			set: map[string]string{"MCP-Protocol-Version": "2026-07-28"}, status: 400, code: invalid},
		{name: "denied call in a notification", body: `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"admin_reset","arguments":{}}}`,
			status: 403, code: denied},

		// Keys the policy and the upstream could read differently.
		{name: "duplicate name keys", body: withParams(`{"name":"echo","name":"admin_reset"}`), status: 400, code: invalid},
		{name: "name beside Name", body: withParams(`{"name":"echo","Name":"admin_reset"}`), status: 400, code: invalid},
		{name: "Name alone", body: withParams(`{"Name":"admin_reset"}`), status: 400, code: invalid},
		{name: "Method beside method", body: `{"jsonrpc":"2.0","id":1,"method":"tools/list","Method":"tools/call","params":{"name":"admin_reset"}}`,
			status: 400, code: invalid},
		{name: `escaped key n\u0061me`, body: withParams(`{"n\u0061me":"admin_reset"}`), status: 400, code: invalid},
		{name: "escaped key beside name", body: withParams(`{"name":"echo","n\u0061me":"admin_reset"}`), status: 400, code: invalid},
		{name: "escaped method key", body: `{"jsonrpc":"2.0","id":1,"m\u0065thod":"tools/call","params":{"name":"admin_reset"}}`,
			status: 400, code: invalid},

		// Names that could be one tool to the policy and another upstream.
		{name: "look-alike tool name (Cyrillic e)", body: toolCall("admin_rеset", `{}`), status: 400, code: params},
		{name: "look-alike tool name (escaped Cyrillic e)", body: toolCall(`admin_r\u0435set`, `{}`), status: 400, code: params},
		{name: "fullwidth letter in the tool name", body: toolCall("ａdmin_reset", `{}`), status: 400, code: params},
		{name: "tool name in NFC", body: toolCall("admin_r\u00e9set", `{}`), status: 400, code: params},
		{name: "tool name in NFD", body: toolCall("admin_re\u0301set", `{}`), status: 400, code: params},
		{name: "trailing space in the tool name", body: toolCall("admin_reset ", `{}`), status: 400, code: params},
		{name: "NUL after the tool name", body: toolCall(`admin_reset\u0000`, `{}`), status: 400, code: params},
		{name: "trailing space in the method", body: strings.Replace(deny, `"tools/call"`, `"tools/call "`, 1), status: 400, code: invalid},
		{name: "method in other letter case", body: strings.Replace(deny, `"tools/call"`, `"Tools/Call"`, 1), status: 400, code: invalid},
		{name: "method not a string", body: strings.Replace(deny, `"tools/call"`, `["tools/call"]`, 1), status: 400, code: invalid},
		{name: "wrong jsonrpc version", body: strings.Replace(deny, `"2.0"`, `"1.0"`, 1), status: 400, code: invalid},
		{name: "id as an object", body: strings.Replace(deny, `"id":1`, `"id":{"a":1}`, 1), status: 400, code: invalid},
		{name: "request carrying a result", body: strings.Replace(deny, `"id":1`, `"id":1,"result":{}`, 1), status: 400, code: invalid},

		// JSON that cannot be read for sure.
		{name: "invalid UTF-8", body: toolCall("echo", "{\"text\":\"\xff\"}"), status: 400, code: parse},
		{name: "trailing data after the object", body: allowed + " x", status: 400, code: parse},
		{name: "a second JSON value", body: allowed + "\n" + deny2, status: 400, code: parse},
		{name: "byte order mark", body: "\xEF\xBB\xBF" + deny, status: 400, code: parse},
		{name: "nested depth bomb", body: toolCall("echo", bomb), status: 400, code: parse},
		{name: "denied call after a megabyte of padding", status: 200, code: denied,
			body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{"text":"` + huge[:1<<20] + `"},"name":"admin_reset"}}`},
		{name: "oversize body", body: toolCall("echo", `{"text":"`+huge+`"}`), status: 413, code: invalid},
		{name: "oversize body, chunked (refused, not cut)", body: toolCall("echo", `{"text":"`+huge+`"}`), edit: chunked, status: 413, code: invalid},

		// Arguments, which the policy matches with mcp_argument rules.
		{name: "arguments as a string", body: toolCall("echo", `"{\"stack\":\"prod\"}"`), status: 400, code: params},
		{name: "arguments as an array", body: toolCall("echo", `[{"stack":"prod"}]`), status: 400, code: params},
		{name: "argument key twice", body: toolCall("echo", `{"stack":"dev","stack":"prod"}`), status: 400, code: invalid},
		{name: "argument key twice, in two cases", body: toolCall("echo", `{"stack":"dev","STACK":"prod"}`), status: 400, code: invalid},
		{name: "argument key in capitals", body: toolCall("echo", `{"Stack":"prod"}`), status: 200, code: denied},
		{name: "argument key with a long s", body: toolCall("echo", `{"ſtack":"prod"}`), status: 200, code: denied},
		{name: "argument key with a Kelvin sign", body: toolCall("echo", `{"stac\u212a":"prod"}`), status: 200, code: denied},
		{name: "argument key escaped", body: toolCall("echo", `{"st\u0061ck":"prod"}`), status: 200, code: denied},
		{name: "argument value escaped", body: toolCall("echo", `{"stack":"pro\u0064"}`), status: 200, code: denied},
		{name: "pointer ~1: the key as written", body: toolCall("echo", `{"file/path":"/etc/shadow"}`), status: 200, code: denied},
		{name: `pointer ~1: the slash escaped as \/`, body: toolCall("echo", `{"file\/path":"/etc/shadow"}`), status: 200, code: denied},
		{name: `pointer ~1: the slash escaped as \u002f`, body: toolCall("echo", `{"file\u002fpath":"\/etc/shadow"}`), status: 200, code: denied},
	})
}
