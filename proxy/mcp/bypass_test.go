package mcp

import (
	"net/http"
	"strings"
	"testing"
)

// The ways a client could try to have the policy judge one call while the
// upstream runs another.

func TestBypassBatchExposesEveryMessage(t *testing.T) {
	body := `[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file"}},
	          {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"delete_repo","arguments":{"r":"x"}}}]`
	req := mustParse(t, body, nil)
	if len(req.Messages) != 2 {
		t.Fatalf("%d messages, want 2", len(req.Messages))
	}
	if req.Messages[0].Tool != "read_file" || req.Messages[1].Tool != "delete_repo" {
		t.Errorf("tools %q, %q", req.Messages[0].Tool, req.Messages[1].Tool)
	}
	if string(req.Messages[1].Arguments) != `{"r":"x"}` || string(req.Messages[1].ID) != "2" {
		t.Errorf("second message %+v", req.Messages[1])
	}
}

func TestBypassNotificationCall(t *testing.T) {
	m := mustParse(t, `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"delete_repo","arguments":{}}}`, nil).Messages[0]
	if !m.IsNotification || m.Tool != "delete_repo" || string(m.Arguments) != "{}" {
		t.Errorf("notification read as %+v", m)
	}
}

func TestBypassRefused(t *testing.T) {
	tests := []struct {
		name string
		body string
		h    http.Header
		code int
	}{
		{"duplicate name in params", msg(`{"name":"read_file","name":"delete_repo"}`), nil, CodeInvalidRequest},
		{"name beside Name", msg(`{"name":"read_file","Name":"delete_repo"}`), nil, CodeInvalidRequest},
		{"Name alone", msg(`{"Name":"delete_repo"}`), nil, CodeInvalidRequest},
		{"name with a Cyrillic e", msg(`{"name":"d\u0435lete_repo"}`), nil, CodeInvalidParams},
		{"name with a raw Cyrillic e", msg(`{"name":"dеlete_repo"}`), nil, CodeInvalidParams},
		{"name with a fullwidth letter", msg(`{"name":"ｄelete_repo"}`), nil, CodeInvalidParams},
		{"method with a trailing space", `{"jsonrpc":"2.0","id":1,"method":"tools/call ","params":{"name":"delete_repo"}}`, nil, CodeInvalidRequest},
		{"Method beside method", `{"jsonrpc":"2.0","id":1,"method":"tools/list","Method":"tools/call","params":{"name":"delete_repo"}}`, nil, CodeInvalidRequest},
		{"Mcp-Name names an allowed tool", msg(`{"name":"delete_repo"}`), v26("tools/call", "read_file"), CodeHeaderMismatch},
		{"escaped key duplicates name", msg(`{"name":"read_file","n\u0061me":"delete_repo"}`), nil, CodeInvalidRequest},
		{"escaped key alone", msg(`{"n\u0061me":"delete_repo"}`), nil, CodeInvalidRequest},
		{"escaped method key", `{"jsonrpc":"2.0","id":1,"m\u0065thod":"tools/call","params":{"name":"delete_repo"}}`, nil, CodeInvalidRequest},
		{"duplicate arguments", msg(`{"name":"t","arguments":{"path":"/tmp"},"arguments":{"path":"/etc"}}`), nil, CodeInvalidRequest},
		{"batch on a later revision", "[" + msg(`{"name":"delete_repo"}`) + "]", headers("MCP-Protocol-Version", Revision20251125), CodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.h
			if h == nil {
				h = headers()
			}
			_, err := Parse([]byte(tt.body), h)
			wantRefused(t, err, 400, tt.code)
		})
	}
}

// The escaped key is refused at the envelope and params levels (no client
// writes one there); inside arguments it is decoded, as the upstream will.
func TestEscapedArgumentKeyIsDecoded(t *testing.T) {
	_, err := Parse([]byte(msg(`{"name":"t","arguments":{"path":"/tmp","p\u0061th":"/etc"}}`)), headers())
	wantRefused(t, err, 400, CodeInvalidRequest)
	m := mustParse(t, msg(`{"name":"t","arguments":{"p\u0061th":"/etc"}}`), nil).Messages[0]
	if string(m.Arguments) != `{"p\u0061th":"/etc"}` {
		t.Errorf("arguments %s", m.Arguments)
	}
}

// The call placed after a huge argument is still read, whatever the order.
func TestNameAfterHugeArgument(t *testing.T) {
	huge := strings.Repeat("A", 3<<20)
	body := `{"jsonrpc":"2.0","params":{"arguments":{"blob":"` + huge + `"},"name":"delete_repo"},"id":9,"method":"tools/call"}`
	m := mustParse(t, body, nil).Messages[0]
	if m.Tool != "delete_repo" || m.Method != "tools/call" || string(m.ID) != "9" || len(m.Arguments) != len(huge)+11 {
		t.Errorf("read tool %q method %q id %s, %d bytes of arguments", m.Tool, m.Method, m.ID, len(m.Arguments))
	}
}
