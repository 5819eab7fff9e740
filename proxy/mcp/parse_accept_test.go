package mcp

import (
	"net/http"
	"strings"
	"testing"
)

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		body string
		h    http.Header
		want Message // Raw is not compared
	}{
		{"tools/call", call, nil,
			Message{ID: []byte("7"), Method: "tools/call", Tool: "search", Name: "search", Arguments: []byte(`{"q":"x"}`)}},
		{"tools/call notification is still read whole", `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"drop_table"}}`, nil,
			Message{Method: "tools/call", IsNotification: true, Tool: "drop_table", Name: "drop_table"}},
		{"string id", `{"jsonrpc":"2.0","id":"a-1","method":"ping"}`, nil,
			Message{ID: []byte(`"a-1"`), Method: "ping"}},
		{"largest int64 id", `{"jsonrpc":"2.0","id":9223372036854775807,"method":"ping"}`, nil,
			Message{ID: []byte(`9223372036854775807`), Method: "ping"}},
		{"escaped slash in method value", `{"jsonrpc":"2.0","id":1,"method":"tools\/call","params":{"name":"a\u002eb"}}`, nil,
			Message{ID: []byte("1"), Method: "tools/call", Tool: "a.b", Name: "a.b"}},
		{"response with result", `{"jsonrpc":"2.0","id":"s1","result":{"action":"accept"}}`, nil,
			Message{ID: []byte(`"s1"`), IsResponse: true}},
		{"response with error", `{"jsonrpc":"2.0","id":3,"error":{"code":-1,"message":"no"}}`, nil,
			Message{ID: []byte(`3`), IsResponse: true}},
		{"whitespace around and inside", " \r\n\t{ \"jsonrpc\" : \"2.0\" , \"id\" : 1 , \"method\" : \"ping\" } \n", nil,
			Message{ID: []byte("1"), Method: "ping"}},
		{"non-ASCII argument keys", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":{"名前":1,"é":{"ß":2}}}}`, nil,
			Message{ID: []byte("1"), Method: "tools/call", Tool: "t", Name: "t", Arguments: []byte(`{"名前":1,"é":{"ß":2}}`)}},
		{"many argument keys", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":{` + manyArgs(40) + `}}}`, nil,
			Message{ID: []byte("1"), Method: "tools/call", Tool: "t", Name: "t", Arguments: []byte(`{` + manyArgs(40) + `}`)}},
		{"unknown params members are kept", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"c","_meta":{"progressToken":1}}}`, nil,
			Message{ID: []byte("1"), Method: "tools/list"}},
		{"prompts/get", `{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"review","arguments":{"a":"b"}}}`, nil,
			Message{ID: []byte("1"), Method: "prompts/get", Name: "review"}},
		{"resources/read", `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///a b"}}`, nil,
			Message{ID: []byte("1"), Method: "resources/read", Name: "file:///a b"}},
		{"charset utf-8, any case", call, http.Header{"Content-Type": {"Application/JSON; charset=UTF-8"}},
			Message{ID: []byte("7"), Method: "tools/call", Tool: "search", Name: "search", Arguments: []byte(`{"q":"x"}`)}},
		{"2026 with matching mirrors", call, v26("tools/call", "search"),
			Message{ID: []byte("7"), Method: "tools/call", Tool: "search", Name: "search", Arguments: []byte(`{"q":"x"}`)}},
		{"2026 non-ASCII name mirrored in base64", `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///é"}}`,
			v26("resources/read", "=?base64?ZmlsZTovLy/DqQ==?="),
			Message{ID: []byte("1"), Method: "resources/read", Name: "file:///é"}},
		{"2026 response needs no mirror", `{"jsonrpc":"2.0","id":1,"result":{}}`, headers("MCP-Protocol-Version", Revision20260728),
			Message{ID: []byte("1"), IsResponse: true}},
		{"2026 _meta revision matching the header", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`,
			v26("tools/list", ""), Message{ID: []byte("1"), Method: "tools/list"}},
		{"older revision, matching mirror", call, headers("MCP-Protocol-Version", Revision20250618, "Mcp-Method", "tools/call", "Mcp-Name", "search"),
			Message{ID: []byte("7"), Method: "tools/call", Tool: "search", Name: "search", Arguments: []byte(`{"q":"x"}`)}},
		{"Content-Encoding identity", call, headers("Content-Encoding", "identity"),
			Message{ID: []byte("7"), Method: "tools/call", Tool: "search", Name: "search", Arguments: []byte(`{"q":"x"}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := mustParse(t, tt.body, tt.h)
			if req.Batch || len(req.Messages) != 1 {
				t.Fatalf("got %d messages, batch %v", len(req.Messages), req.Batch)
			}
			m := req.Messages[0]
			if got := string(m.Raw); got != strings.TrimSpace(tt.body) {
				t.Errorf("Raw = %q", got)
			}
			m.Raw = nil
			if string(m.ID) != string(tt.want.ID) || m.Method != tt.want.Method || m.Tool != tt.want.Tool ||
				m.Name != tt.want.Name || string(m.Arguments) != string(tt.want.Arguments) ||
				m.IsNotification != tt.want.IsNotification || m.IsResponse != tt.want.IsResponse {
				t.Errorf("got %+v\nwant %+v", m, tt.want)
			}
		})
	}
}

func TestParseRevision(t *testing.T) {
	if got := mustParse(t, call, nil).Revision; got != Revision20250326 {
		t.Errorf("no header: revision %q, want %q", got, Revision20250326)
	}
	h := headers("MCP-Protocol-Version", Revision20251125)
	if got := mustParse(t, call, h).Revision; got != Revision20251125 {
		t.Errorf("revision %q", got)
	}
}

func TestParseBatch(t *testing.T) {
	body := `[{"jsonrpc":"2.0","id":1,"method":"tools/list"},
	  {"jsonrpc":"2.0","method":"notifications/initialized"},
	  {"jsonrpc":"2.0","id":"x","result":{}}]`
	for _, h := range []http.Header{headers(), headers("MCP-Protocol-Version", Revision20250326)} {
		req := mustParse(t, body, h)
		if !req.Batch || len(req.Messages) != 3 {
			t.Fatalf("batch %v, %d messages", req.Batch, len(req.Messages))
		}
		if m := req.Messages[1]; !m.IsNotification || m.Method != "notifications/initialized" {
			t.Errorf("second message %+v", m)
		}
		if m := req.Messages[2]; !m.IsResponse || string(m.Raw) != `{"jsonrpc":"2.0","id":"x","result":{}}` {
			t.Errorf("third message %+v", m)
		}
	}
}
