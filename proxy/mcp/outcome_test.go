package mcp

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

func TestReadOutcome(t *testing.T) {
	code := func(n int) *int { return &n }
	flag := func(b bool) *bool { return &b }
	for _, tc := range []struct {
		name    string
		msg     string
		ok      bool
		id      string
		code    *int
		isError *bool
	}{
		{"tool result", `{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"hi"}],"isError":false}}`, true, `7`, nil, flag(false)},
		{"failed tool", ` {"result":{"isError":true},"id":"a\"b","jsonrpc":"2.0"} `, true, `"a\"b"`, nil, flag(true)},
		{"result without isError", `{"jsonrpc":"2.0","id":1,"result":{}}`, true, `1`, nil, nil},
		{"error", `{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"bad"}}`, true, `1`, code(-32602), nil},
		{"error without code", `{"jsonrpc":"2.0","id":1,"error":{"message":"bad"}}`, true, `1`, nil, nil},
		{"fractional code", `{"jsonrpc":"2.0","id":1,"error":{"code":1.5}}`, true, `1`, nil, nil},
		{"code past int", `{"jsonrpc":"2.0","id":1,"error":{"code":99999999999999999999}}`, true, `1`, nil, nil},
		{"string isError", `{"jsonrpc":"2.0","id":1,"result":{"isError":"true"}}`, true, `1`, nil, nil},
		{"isError deeper down", `{"jsonrpc":"2.0","id":1,"result":{"content":[{"isError":true}],"meta":{"isError":true}}}`, true, `1`, nil, nil},
		{"null result and error", `{"jsonrpc":"2.0","id":1,"result":null,"error":null}`, true, `1`, nil, nil},
		{"null id", `{"jsonrpc":"2.0","id":null,"error":{"code":-32700}}`, true, ``, code(-32700), nil},
		{"unknown member", `{"jsonrpc":"2.0","id":1,"result":{"isError":true},"extra":[1,{"a":2}]}`, true, `1`, nil, flag(true)},
		// Spelt otherwise, a member is not the one a client reads.
		{"ID and IsError", `{"jsonrpc":"2.0","ID":1,"result":{"IsError":true}}`, true, ``, nil, nil},

		{"duplicate isError", `{"jsonrpc":"2.0","id":1,"result":{"isError":false,"isError":true}}`, false, ``, nil, nil},
		{"isError beside ISERROR", `{"jsonrpc":"2.0","id":1,"result":{"isError":false,"ISERROR":true}}`, false, ``, nil, nil},
		{"duplicate id", `{"jsonrpc":"2.0","id":1,"id":2,"result":{}}`, false, ``, nil, nil},
		{"a request", `{"jsonrpc":"2.0","id":1,"method":"tools/call"}`, false, ``, nil, nil},
		{"a batch", `[{"jsonrpc":"2.0","id":1,"result":{"isError":true}}]`, false, ``, nil, nil},
		{"trailing data", `{"jsonrpc":"2.0","id":1,"result":{"isError":true}} {}`, false, ``, nil, nil},
		{"truncated", `{"jsonrpc":"2.0","id":1,"result":{"isError":true}`, false, ``, nil, nil},
		{"invalid UTF-8", "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"x\":\"\xff\"}}", false, ``, nil, nil},
		{"empty", ``, false, ``, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, ok := ReadOutcome([]byte(tc.msg))
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if string(o.ID) != tc.id {
				t.Errorf("id = %q, want %q", o.ID, tc.id)
			}
			if !samePtr(o.ErrorCode, tc.code) {
				t.Errorf("error code = %v, want %v", show(o.ErrorCode), show(tc.code))
			}
			if !samePtr(o.IsError, tc.isError) {
				t.Errorf("isError = %v, want %v", show(o.IsError), show(tc.isError))
			}
		})
	}
}

func samePtr[T comparable](a, b *T) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func show[T any](p *T) any {
	if p == nil {
		return "none"
	}
	return *p
}

// FuzzReadOutcome holds ReadOutcome to what a client that decodes the
// answer with exact member names would read: whenever it reads a
// message, encoding/json reads it too, to the same id, code and isError.
func FuzzReadOutcome(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"hi"}],"isError":false}}`,
		`{"jsonrpc":"2.0","id":"x","error":{"code":-32602,"message":"bad","data":{"a":[1,2]}}}`,
		`{"jsonrpc":"2.0","id":1,"result":{"isError":true,"structuredContent":{"isError":false}}}`,
		`{"jsonrpc":"2.0","id":1,"error":{"code":1e3}}`,
		`{"jsonrpc":"2.0","id":1,"result":{"isError":false,"IsError":true}}`,
		`{"id":"\u00e9","result":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		o, ok := ReadOutcome(msg)
		if !ok {
			if o.ID != nil || o.ErrorCode != nil || o.IsError != nil {
				t.Fatalf("refused, yet read %+v", o)
			}
			return
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(msg, &m); err != nil {
			t.Fatalf("read, but encoding/json refuses it: %v", err)
		}
		if _, isRequest := m["method"]; isRequest {
			t.Fatal("read a message with a method")
		}
		var id []byte
		if raw := bytes.TrimSpace(m["id"]); len(raw) > 0 && (raw[0] == '"' || raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
			var n json.Number
			if raw[0] == '"' || json.Unmarshal(raw, &n) == nil && !bytes.ContainsAny(raw, ".eE") {
				id = raw
			}
		}
		if !bytes.Equal(o.ID, id) {
			t.Fatalf("id = %q, encoding/json reads %q", o.ID, id)
		}
		var wantCode *int
		if n, ok := member(t, m["error"], "code").(json.Number); ok && !bytes.ContainsAny([]byte(n), ".eE") {
			if i, err := n.Int64(); err == nil && i >= math.MinInt && i <= math.MaxInt {
				c := int(i)
				wantCode = &c
			}
		}
		if !samePtr(o.ErrorCode, wantCode) {
			t.Fatalf("error code = %v, encoding/json reads %v", show(o.ErrorCode), show(wantCode))
		}
		var wantIsError *bool
		if b, ok := member(t, m["result"], "isError").(bool); ok {
			wantIsError = &b
		}
		if !samePtr(o.IsError, wantIsError) {
			t.Fatalf("isError = %v, encoding/json reads %v", show(o.IsError), show(wantIsError))
		}
	})
}

// member is obj's member name, decoded (numbers as json.Number), when obj
// is an object that has it; nil otherwise.
func member(t *testing.T, obj json.RawMessage, name string) any {
	obj = bytes.TrimSpace(obj)
	if len(obj) == 0 || obj[0] != '{' {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		t.Fatalf("encoding/json refuses a member: %v", err)
	}
	raw, ok := m[name]
	if !ok {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("encoding/json refuses %s: %v", name, err)
	}
	return v
}
