package mcp

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestErrorResponse(t *testing.T) {
	tests := []struct {
		name string
		id   json.RawMessage
		data any
		want string
	}{
		{"number id", json.RawMessage("7"), nil, `{"jsonrpc":"2.0","id":7,"error":{"code":-32600,"message":"no \u003cb\u003e"}}`},
		{"string id", json.RawMessage(`"a"`), nil, `{"jsonrpc":"2.0","id":"a","error":{"code":-32600,"message":"no \u003cb\u003e"}}`},
		{"nil id", nil, nil, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"no \u003cb\u003e"}}`},
		{"id that is not an id", json.RawMessage(`1,"x":2`), nil, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"no \u003cb\u003e"}}`},
		{"float id", json.RawMessage(`1.5`), nil, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"no \u003cb\u003e"}}`},
		{"with data", json.RawMessage("1"), map[string]string{"policy": "p"}, `{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"no \u003cb\u003e","data":{"policy":"p"}}}`},
		{"data that cannot encode", json.RawMessage("1"), func() {}, `{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"no \u003cb\u003e"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ErrorResponse(tt.id, CodeInvalidRequest, "no <b>", tt.data)
			if strings.TrimSpace(string(got)) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("not JSON: %s", got)
			}
		})
	}
}

func TestWriteError(t *testing.T) {
	_, err := Parse([]byte(`{"jsonrpc":"2.0","id":"r1","method":"tools/call ","params":{"name":"t"}}`), headers())
	e := wantRefused(t, err, 400, CodeInvalidRequest)
	w := httptest.NewRecorder()
	WriteError(w, e)
	if w.Code != 400 || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, type %q", w.Code, w.Header().Get("Content-Type"))
	}
	var reply struct {
		ID    string `json:"id"`
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &reply); err != nil {
		t.Fatal(err)
	}
	if reply.ID != "r1" || reply.Error.Code != CodeInvalidRequest || !strings.Contains(reply.Error.Message, `"tools/call "`) {
		t.Errorf("reply %s", w.Body.Bytes())
	}
	if !strings.HasPrefix(e.Error(), "mcp: 400: ") {
		t.Errorf("Error() = %q", e.Error())
	}
}

// A refusal quotes little of the client's bytes, and nothing that is markup
// or control characters.
func TestMessagesAreSanitised(t *testing.T) {
	key := "<script>&" + strings.Repeat("x", 500)
	_, err := Parse([]byte(`{"jsonrpc":"2.0","id":1,"method":"ping","`+key+`":1}`), headers())
	e := wantRefused(t, err, 400, CodeInvalidRequest)
	if len(e.Message) > 100 || strings.ContainsAny(e.Message, "<>&") {
		t.Errorf("message %q", e.Message)
	}
}
