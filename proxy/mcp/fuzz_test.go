package mcp

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
)

var revisions = []string{"", Revision20250326, Revision20250618, Revision20251125, Revision20260728}

func fuzzHeaders(rev uint8, method, name string) http.Header {
	h := headers()
	if r := revisions[int(rev)%len(revisions)]; r != "" {
		h.Set("MCP-Protocol-Version", r)
	}
	if method != "" {
		h.Set("Mcp-Method", method)
	}
	if name != "" {
		h.Set("Mcp-Name", name)
	}
	return h
}

// envelopeView is how a Go upstream reads a message: case-insensitively.
type envelopeView struct {
	Method *string
	Params struct {
		Name string
		URI  string
	}
}

func FuzzParse(f *testing.F) {
	seeds := []string{call, list, "[" + call + "]",
		msg(`{"name":"t","arguments":{"a":{"b":[1,2.5e3,true,null,"\u00e9\ud83d\ude00"]}}}`),
		`{"jsonrpc":"2.0","method":"tools/call","params":{"name":"x","Name":"y"}}`,
		`{"jsonrpc":"2.0","id":"s","result":{"k":1,"K":2}}`,
		`[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":"1","method":"ping"}]`,
		`{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"p","arguments":{}}}`,
		`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///\u00e9"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`,
		msg(`{"n\u0061me":"t"}`), msg(`{"name":"t","arguments":{"s":1,"ſ":2}}`)}
	for i, s := range seeds {
		f.Add([]byte(s), uint8(i), "", "")
	}
	f.Add([]byte(call), uint8(4), "tools/call", "search")
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":" a"}}`), uint8(4), "resources/read", "=?base64?IGE=?=")
	f.Fuzz(func(t *testing.T, body []byte, rev uint8, method, name string) {
		req, err := Parse(body, fuzzHeaders(rev, method, name))
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		// What was accepted is strict JSON to go-json-experiment too: no
		// duplicate names, valid UTF-8.
		var anyV any
		if err := jsonv2.Unmarshal(bytes.TrimSpace(body), &anyV); err != nil {
			t.Fatalf("accepted, but json v2 says %v", err)
		}
		for _, m := range req.Messages {
			checkAgainstDecoders(t, m)
		}
	})
}

// checkAgainstDecoders reads m.Raw with encoding/json (exact map keys, and
// case-insensitive struct fields) and with go-json-experiment (case- and
// delimiter-insensitive), and requires each to see what Parse reported.
func checkAgainstDecoders(t *testing.T, m Message) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(m.Raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		t.Fatalf("encoding/json cannot read %q: %v", m.Raw, err)
	}
	gotMethod, _ := obj["method"].(string)
	if gotMethod != m.Method {
		t.Fatalf("method %q, encoding/json reads %q", m.Method, gotMethod)
	}
	switch id := obj["id"].(type) {
	case nil:
		if m.ID != nil {
			t.Fatalf("id %s, encoding/json reads none", m.ID)
		}
	case json.Number:
		if string(m.ID) != string(id) {
			t.Fatalf("id %s, encoding/json reads %s", m.ID, id)
		}
	case string:
		var s string
		if err := json.Unmarshal(m.ID, &s); err != nil || s != id {
			t.Fatalf("id %s, encoding/json reads %q", m.ID, id)
		}
	default:
		t.Fatalf("id %s, encoding/json reads %T", m.ID, id)
	}
	params, _ := obj["params"].(map[string]any)
	if m.Tool != "" && params["name"] != m.Tool {
		t.Fatalf("tool %q, encoding/json reads %v", m.Tool, params["name"])
	}
	var v1, v2 envelopeView
	if err := json.Unmarshal(m.Raw, &v1); err != nil {
		t.Fatalf("encoding/json struct: %v", err)
	}
	if err := jsonv2.Unmarshal(m.Raw, &v2, jsonv2.MatchCaseInsensitiveNames(true)); err != nil {
		t.Fatalf("json v2 struct: %v", err)
	}
	for _, v := range []envelopeView{v1, v2} {
		if (v.Method == nil) != (m.Method == "") || (v.Method != nil && *v.Method != m.Method) {
			t.Fatalf("method %q, a case-insensitive decoder reads %v", m.Method, v.Method)
		}
		if m.Tool != "" && v.Params.Name != m.Tool {
			t.Fatalf("tool %q, a case-insensitive decoder reads %q", m.Tool, v.Params.Name)
		}
		if strings.HasPrefix(m.Method, "resources/") && m.Name != "" && v.Params.URI != m.Name {
			t.Fatalf("uri %q, a case-insensitive decoder reads %q", m.Name, v.Params.URI)
		}
	}
}

func FuzzFilterToolsList(f *testing.F) {
	f.Add([]byte(list))
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"x"}}`))
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"o\u006b"},7,{"name":"b","x":{"name":"c"}}],"nextCursor":"x"}}`))
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"Name":"a","name":"b"}]}}`))
	allow := func(name string) bool { return len(name)%2 == 1 }
	f.Fuzz(func(t *testing.T, body []byte) {
		out, n, err := FilterToolsList(body, allow)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("output not JSON: %q", out)
		}
		if n == 0 && !bytes.Equal(out, body) {
			t.Fatalf("nothing removed but output changed")
		}
		again, n2, err := FilterToolsList(out, allow)
		if err != nil || n2 != 0 || !bytes.Equal(again, out) {
			t.Fatalf("filtering the output again: %d removed, %v", n2, err)
		}
		var resp struct {
			Result *struct{ Tools []struct{ Name string } }
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		if resp.Result != nil {
			for _, tool := range resp.Result.Tools {
				if !ValidToolName(tool.Name) || !allow(tool.Name) {
					t.Fatalf("tool %q kept", tool.Name)
				}
			}
		}
	})
}

// FuzzFilterSSE: with a filter that changes nothing, the stream passes byte
// for byte, or FilterSSE refuses it.
func FuzzFilterSSE(f *testing.F) {
	f.Add([]byte("\xEF\xBB\xBF: c\n\nid: 1\r\ndata: {}\r\n\r\ndata\rretry: 1\r\r\n"))
	f.Add([]byte("data: a\ndata: b\n\nevent: x\n"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		var dst bytes.Buffer
		err := FilterSSE(&dst, bytes.NewReader(stream), func(d []byte) ([]byte, error) { return d, nil })
		if err == nil && !bytes.Equal(dst.Bytes(), stream) {
			t.Fatalf("got %q, want %q", dst.Bytes(), stream)
		}
	})
}
