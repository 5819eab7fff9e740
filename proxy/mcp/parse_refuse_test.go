package mcp

import (
	"net/http"
	"strings"
	"testing"
)

// msg wraps params in a tools/call request with id 1.
func msg(params string) string {
	return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":` + params + `}`
}

func TestParseRefuses(t *testing.T) {
	const bad, inv, par, hdr = CodeParseError, CodeInvalidRequest, CodeInvalidParams, CodeHeaderMismatch
	deep := strings.Repeat(`{"a":`, 130) + "1" + strings.Repeat("}", 130)
	tests := []struct {
		name   string
		body   string
		h      http.Header
		status int
		code   int
		id     string // the id the reply must name; "" for null
	}{
		// Content type and coding.
		{"no content type", call, http.Header{}, 415, inv, ""},
		{"text/plain", call, http.Header{"Content-Type": {"text/plain"}}, 415, inv, ""},
		{"json lookalike type", call, http.Header{"Content-Type": {"application/jsonx"}}, 415, inv, ""},
		{"utf-16 charset", call, http.Header{"Content-Type": {"application/json; charset=utf-16"}}, 415, inv, ""},
		{"two content types", call, http.Header{"Content-Type": {"application/json", "text/plain"}}, 415, inv, ""},
		{"gzip coding", call, headers("Content-Encoding", "gzip"), 415, inv, ""},

		// JSON that cannot be read for sure.
		{"empty", "", nil, 400, bad, ""},
		{"only whitespace", " \n", nil, 400, bad, ""},
		{"byte order mark", "\xEF\xBB\xBF" + call, nil, 400, bad, ""},
		{"invalid UTF-8 in a value", msg(`{"name":"t","arguments":{"q":"\xff"}}`), nil, 400, bad, ""},
		{"invalid UTF-8 in a key", msg(`{"name":"t","arguments":{"\xc3":1}}`), nil, 400, bad, ""},
		{"overlong UTF-8", msg(`{"name":"t","arguments":{"q":"\xc0\xaf"}}`), nil, 400, bad, ""},
		{"UTF-8 surrogate", msg(`{"name":"t","arguments":{"q":"\xed\xa0\x80"}}`), nil, 400, bad, ""},
		{"lone high surrogate escape", msg(`{"name":"t","arguments":{"q":"\ud800"}}`), nil, 400, bad, ""},
		{"lone low surrogate escape", msg(`{"name":"t","arguments":{"q":"\udc00x"}}`), nil, 400, bad, ""},
		{"high surrogate then non-surrogate", msg(`{"name":"t","arguments":{"q":"\ud800\u0041"}}`), nil, 400, bad, ""},
		{"raw control character", msg("{\"name\":\"t\",\"arguments\":{\"q\":\"a\tb\"}}"), nil, 400, bad, ""},
		{"bad escape", msg(`{"name":"t","arguments":{"q":"\x"}}`), nil, 400, bad, ""},
		{"second value", call + call, nil, 400, bad, ""},
		{"trailing garbage", call + " x", nil, 400, bad, ""},
		{"truncated", call[:len(call)-1], nil, 400, bad, ""},
		{"missing comma", `{"jsonrpc":"2.0"x"id":1,"method":"ping"}`, nil, 400, bad, ""},
		{"missing comma in an array", msg(`{"name":"t","arguments":{"a":[1x2]}}`), nil, 400, bad, ""},
		{"too deep in arrays", msg(`{"name":"t","arguments":{"a":` + strings.Repeat("[", 130) + strings.Repeat("]", 130) + `}}`), nil, 400, bad, ""},
		{"trailing comma", `{"jsonrpc":"2.0","id":1,"method":"ping",}`, nil, 400, bad, ""},
		{"leading zero", `{"jsonrpc":"2.0","id":01,"method":"ping"}`, nil, 400, bad, ""},
		{"NaN", msg(`{"name":"t","arguments":{"q":NaN}}`), nil, 400, bad, ""},
		{"single quotes", `{'jsonrpc':'2.0'}`, nil, 400, bad, ""},
		{"comment", `{"jsonrpc":"2.0",/**/"id":1,"method":"ping"}`, nil, 400, bad, ""},
		{"too deep", msg(`{"name":"t","arguments":` + deep + `}`), nil, 400, bad, ""},

		// Keys: duplicates and variants, at every depth.
		{"duplicate method", `{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call"}`, nil, 400, inv, ""},
		{"duplicate id", `{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}`, nil, 400, inv, ""},
		{"duplicate deep in arguments", msg(`{"name":"t","arguments":{"a":[{"b":{"c":1,"c":2}}]}}`), nil, 400, inv, ""},
		{"case variants in arguments", msg(`{"name":"t","arguments":{"path":"/tmp","PATH":"/etc"}}`), nil, 400, inv, ""},
		{"long s folds to s", msg(`{"name":"t","arguments":{"s":1,"ſ":2}}`), nil, 400, inv, ""},
		{"Kelvin sign folds to k", msg(`{"name":"t","arguments":{"k":1,"\u212a":2}}`), nil, 400, inv, ""},
		{"escaped duplicate in arguments", msg(`{"name":"t","arguments":{"q":1,"\u0071":2}}`), nil, 400, inv, ""},
		{"case variant among many keys", msg(`{"name":"t","arguments":{` + manyArgs(40) + `,"K07":0}}`), nil, 400, inv, ""},
		{"NUL in a key", msg(`{"name":"t","arguments":{"a\u0000":1}}`), nil, 400, inv, ""},
		{"ID spelt in capitals", `{"jsonrpc":"2.0","ID":1,"method":"ping"}`, nil, 400, inv, ""},
		{"Method alone", `{"jsonrpc":"2.0","id":1,"Method":"ping"}`, nil, 400, inv, ""},
		{"params with a dash", `{"jsonrpc":"2.0","id":1,"method":"ping","par-ams":{}}`, nil, 400, inv, ""},
		{"non-ASCII envelope key", `{"jsonrpc":"2.0","id":1,"method":"ping","mé":1}`, nil, 400, inv, ""},
		{"escaped envelope key", `{"jsonrpc":"2.0","\u0069d":1,"method":"ping"}`, nil, 400, inv, ""},
		{"escaped params key", msg(`{"n\u0061me":"t"}`), nil, 400, inv, ""},
		{"non-ASCII params key", msg(`{"name":"t","ñ":1}`), nil, 400, inv, ""},
		{"underscored name", msg(`{"name":"t","na_me":"u"}`), nil, 400, inv, ""},
		{"name behind a long run of separators", msg(`{"name":"t","n` + strings.Repeat("_", 40) + `a-m` + strings.Repeat("-", 40) + `e":"u"}`), nil, 400, inv, ""},
		{"meta without underscore", msg(`{"name":"t","meta":{}}`), nil, 400, inv, ""},

		// The envelope.
		{"unknown member", `{"jsonrpc":"2.0","id":1,"method":"ping","extra":1}`, nil, 400, inv, "1"},
		{"jsonrpc 1.0", `{"jsonrpc":"1.0","id":1,"method":"ping"}`, nil, 400, inv, "1"},
		{"jsonrpc missing", `{"id":1,"method":"ping"}`, nil, 400, inv, "1"},
		{"jsonrpc number", `{"jsonrpc":2.0,"id":1,"method":"ping"}`, nil, 400, inv, "1"},
		{"method number", `{"jsonrpc":"2.0","id":1,"method":1}`, nil, 400, inv, "1"},
		{"method null", `{"jsonrpc":"2.0","id":1,"method":null}`, nil, 400, inv, "1"},
		{"method with trailing space", `{"jsonrpc":"2.0","id":1,"method":"tools/call ","params":{"name":"t"}}`, nil, 400, inv, "1"},
		{"method with escaped tab", `{"jsonrpc":"2.0","id":1,"method":"ping\t"}`, nil, 400, inv, "1"},
		{"tools/call in capitals", `{"jsonrpc":"2.0","id":1,"method":"Tools/Call","params":{"name":"t"}}`, nil, 400, inv, "1"},
		{"resources/read in other case", `{"jsonrpc":"2.0","id":1,"method":"resources/READ","params":{"uri":"file:///x"}}`, nil, 400, inv, "1"},
		{"resources/subscribe in other case", `{"jsonrpc":"2.0","id":1,"method":"Resources/Subscribe","params":{"uri":"file:///x"}}`, nil, 400, inv, "1"},
		{"logging/setLevel in other case", `{"jsonrpc":"2.0","id":1,"method":"logging/setlevel","params":{"level":"debug"}}`, nil, 400, inv, "1"},
		{"initialize in capitals", `{"jsonrpc":"2.0","id":1,"method":"INITIALIZE","params":{}}`, nil, 400, inv, "1"},
		{"a notification in other case", `{"jsonrpc":"2.0","method":"Notifications/Initialized"}`, nil, 400, inv, ""},
		{"empty method", `{"jsonrpc":"2.0","id":1,"method":""}`, nil, 400, inv, "1"},
		{"params array", `{"jsonrpc":"2.0","id":1,"method":"ping","params":[]}`, nil, 400, inv, "1"},
		{"params string", `{"jsonrpc":"2.0","id":1,"method":"ping","params":"x"}`, nil, 400, inv, "1"},
		{"request with result", `{"jsonrpc":"2.0","id":1,"method":"ping","result":{}}`, nil, 400, inv, "1"},
		{"id null", `{"jsonrpc":"2.0","id":null,"method":"ping"}`, nil, 400, inv, ""},
		{"id true", `{"jsonrpc":"2.0","id":true,"method":"ping"}`, nil, 400, inv, ""},
		{"id fraction", `{"jsonrpc":"2.0","id":1.5,"method":"ping"}`, nil, 400, inv, ""},
		{"id exponent", `{"jsonrpc":"2.0","id":1e3,"method":"ping"}`, nil, 400, inv, ""},
		{"id object", `{"jsonrpc":"2.0","id":{},"method":"ping"}`, nil, 400, inv, ""},
		{"id array", `{"jsonrpc":"2.0","id":[1],"method":"ping"}`, nil, 400, inv, ""},
		{"id beyond int64", `{"jsonrpc":"2.0","id":9223372036854775808,"method":"ping"}`, nil, 400, inv, ""},
		{"nothing to do", `{"jsonrpc":"2.0","id":1}`, nil, 400, inv, "1"},
		{"response without id", `{"jsonrpc":"2.0","result":{}}`, nil, 400, inv, ""},
		{"response with result and error", `{"jsonrpc":"2.0","id":1,"result":{},"error":{}}`, nil, 400, inv, "1"},
		{"response with params", `{"jsonrpc":"2.0","id":1,"result":{},"params":{}}`, nil, 400, inv, "1"},
		{"result not an object", `{"jsonrpc":"2.0","id":1,"result":[]}`, nil, 400, inv, "1"},
		{"error not an object", `{"jsonrpc":"2.0","id":1,"error":"x"}`, nil, 400, inv, "1"},
		{"a number", `1`, nil, 400, inv, ""},
		{"a string", `"tools/call"`, nil, 400, inv, ""},

		// Named methods.
		{"tools/call without params", `{"jsonrpc":"2.0","id":1,"method":"tools/call"}`, nil, 400, par, "1"},
		{"tools/call without name", msg(`{"arguments":{}}`), nil, 400, par, "1"},
		{"tool name a number", msg(`{"name":5}`), nil, 400, par, "1"},
		{"tool name with a space", msg(`{"name":"delete "}`), nil, 400, par, "1"},
		{"tool name with NUL", msg(`{"name":"delete\u0000"}`), nil, 400, par, "1"},
		{"tool name with a slash", msg(`{"name":"a/b"}`), nil, 400, par, "1"},
		{"empty tool name", msg(`{"name":""}`), nil, 400, par, "1"},
		{"tool name of 129", msg(`{"name":"` + strings.Repeat("a", 129) + `"}`), nil, 400, par, "1"},
		{"arguments an array", msg(`{"name":"t","arguments":[]}`), nil, 400, par, "1"},
		{"arguments null", msg(`{"name":"t","arguments":null}`), nil, 400, par, "1"},
		{"prompts/get without name", `{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{}}`, nil, 400, par, "1"},
		{"resources/read uri with a newline", `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"a\nb"}}`, nil, 400, par, "1"},
		{"_meta not an object", msg(`{"name":"t","_meta":1}`), nil, 400, par, "1"},

		// Batches.
		{"batch on 2025-06-18", "[" + call + "]", headers("MCP-Protocol-Version", Revision20250618), 400, inv, ""},
		{"batch on 2025-11-25", "[" + call + "]", headers("MCP-Protocol-Version", Revision20251125), 400, inv, ""},
		{"batch on 2026-07-28", "[" + call + "]", headers("MCP-Protocol-Version", Revision20260728), 400, inv, ""},
		{"empty batch", "[]", nil, 400, inv, ""},
		{"batch of a number", "[1]", nil, 400, inv, ""},
		{"batch with a number", "[1," + call + "]", nil, 400, inv, ""},
		{"nested batch", "[[" + call + "]]", nil, 400, inv, ""},
		{"same id twice", "[" + call + "," + call + "]", nil, 400, inv, ""},
		{"string and number id", `[{"jsonrpc":"2.0","id":"1","method":"ping"},{"jsonrpc":"2.0","id":1,"method":"ping"}]`, nil, 400, inv, ""},
		{"ids one float64 apart", `[{"jsonrpc":"2.0","id":9007199254740992,"method":"ping"},{"jsonrpc":"2.0","id":9007199254740993,"method":"ping"}]`, nil, 400, inv, ""},
		{"bad message in a batch", `[{"jsonrpc":"2.0","id":1,"method":"ping","x":1}]`, nil, 400, inv, ""},

		// Revisions and mirrored headers.
		{"unknown revision", call, headers("MCP-Protocol-Version", "2024-01-01"), 400, inv, ""},
		{"two revisions", call, headers("MCP-Protocol-Version", Revision20250618, "MCP-Protocol-Version", Revision20250618), 400, inv, ""},
		{"2026 without Mcp-Method", call, headers("MCP-Protocol-Version", Revision20260728, "Mcp-Name", "search"), 400, hdr, "7"},
		{"2026 without Mcp-Name", call, v26("tools/call", ""), 400, hdr, "7"},
		{"2026 method mismatch", call, v26("tools/list", "search"), 400, hdr, "7"},
		{"2026 method differs in case", call, v26("Tools/call", "search"), 400, hdr, "7"},
		{"2026 name mismatch", call, v26("tools/call", "other"), 400, hdr, "7"},
		{"2026 notification without Mcp-Method", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, headers("MCP-Protocol-Version", Revision20260728), 400, hdr, ""},
		{"base64 where plain is due", call, v26("tools/call", "=?base64?c2VhcmNo?="), 400, hdr, "7"},
		{"base64 of another name", `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///é"}}`, v26("resources/read", "=?base64?ZmlsZTovLy9l?="), 400, hdr, "1"},
		{"plain where base64 is due", `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///é"}}`, v26("resources/read", "file:///é"), 400, hdr, "1"},
		{"empty Mcp-Name for an unnamed method", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, headers("Mcp-Name", ""), 400, hdr, "1"},
		{"Mcp-Name for an unnamed method", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, v26("ping", "x"), 400, hdr, "1"},
		{"Mcp-Method on a response", `{"jsonrpc":"2.0","id":1,"result":{}}`, headers("Mcp-Method", "ping"), 400, hdr, "1"},
		{"old revision, method mismatch", call, headers("Mcp-Method", "ping"), 400, hdr, "7"},
		{"old revision, name mismatch", call, headers("MCP-Protocol-Version", Revision20251125, "Mcp-Name", "other"), 400, hdr, "7"},
		{"two Mcp-Method headers", call, headers("Mcp-Method", "tools/call", "Mcp-Method", "tools/call"), 400, hdr, ""},
		{"mirror on a batch", "[" + call + "]", headers("Mcp-Method", "tools/call"), 400, hdr, ""},
		{"_meta revision differs", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2025-11-25"}}}`, v26("tools/list", ""), 400, hdr, "1"},
		{"_meta revision without header", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2025-03-26"}}}`, nil, 400, hdr, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.h
			if h == nil {
				h = headers()
			}
			req, err := Parse([]byte(tt.body), h)
			if err == nil {
				t.Fatalf("accepted: %+v", req.Messages)
			}
			e := wantRefused(t, err, tt.status, tt.code)
			if string(e.ID) != tt.id {
				t.Errorf("reply id %q, want %q", e.ID, tt.id)
			}
		})
	}
}

// manyArgs returns n distinct members "k0".."k<n-1>".
func manyArgs(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k` + string(rune('0'+i/10)) + string(rune('0'+i%10)) + `":0`)
	}
	return b.String()
}

// Refusals say why, so that each check is seen to be the one that refused.
func TestParseRefusalReasons(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"jsonrpc":"2.0","id":1,"method":1}`, "method must be a string"},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":5}}`, "needs params.name as a string"},
		{`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":[]}}`, "needs params.uri as a string"},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":" x"}}`, "is not 1-128 of"},
		{`[1,{"jsonrpc":"2.0","id":1,"method":"ping"}]`, "every element of a batch"},
		{`{"jsonrpc":"2.0","id":1.0,"method":"ping"}`, "id must be a string or an integer"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.body), headers())
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%s) = %v, want %q", tt.body, err, tt.want)
		}
	}
}
