package mcp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
)

// smallCall is a typical tools/call: about 300 bytes, five arguments.
const smallCall = `{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"search_issues",` +
	`"arguments":{"repo":"drawbridge/drawbridge","query":"is:open label:bug sort:updated","limit":25,` +
	`"include_closed":false,"fields":["title","state","assignee","labels"]},` +
	`"_meta":{"progressToken":"c0ffee-1234"}}}`

func bigBody() string {
	var b strings.Builder
	b.WriteString(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"write_file","arguments":{"path":"/tmp/x","rows":[`)
	for i := 0; b.Len() < 64<<10-200; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"row %d","tags":["a","b"],"score":%d.5,"note":"caf\u00e9 \"quoted\""}`, i, i, i)
	}
	b.WriteString(`]}}}`)
	return b.String()
}

func batchBody(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = strings.Replace(smallCall, `"id":42`, fmt.Sprintf(`"id":%d`, i), 1)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func BenchmarkParse(b *testing.B) {
	h := headers()
	for _, bc := range []struct{ name, body string }{
		{"small_tools_call", smallCall},
		{"64KiB", bigBody()},
		{"batch_50", batchBody(50)},
	} {
		body := []byte(bc.body)
		if _, err := Parse(body, h); err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(body, h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func toolsListBody(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"jsonrpc":"2.0","id":3,"result":{"tools":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"tool_%d","description":"Does thing %d with care.","inputSchema":{"type":"object",`+
			`"properties":{"path":{"type":"string"},"limit":{"type":"integer"}},"required":["path"]}}`, i, i)
	}
	b.WriteString(`],"nextCursor":"abc"}}`)
	return b.Bytes()
}

func BenchmarkFilterToolsList(b *testing.B) {
	body := toolsListBody(500)
	allow := func(name string) bool { return (name[len(name)-1]-'0')%2 == 0 } // keeps half
	if _, n, err := FilterToolsList(body, allow); err != nil || n < 200 || n > 300 {
		b.Fatalf("removed %d, %v", n, err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := FilterToolsList(body, allow); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFilterAnswer is FilterToolsList as the proxy calls it: through
// FilterAnswer, which first finds out whether the answer is to a
// tools/list request.
func BenchmarkFilterAnswer(b *testing.B) {
	body := toolsListBody(500)
	ids := []json.RawMessage{json.RawMessage("3")}
	allow := func(name string) bool { return (name[len(name)-1]-'0')%2 == 0 } // keeps half
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, n, err := FilterAnswer(body, ids, allow); err != nil || n == 0 {
			b.Fatal(n, err)
		}
	}
}

func BenchmarkFilterSSE(b *testing.B) {
	var stream bytes.Buffer
	for i := range 100 {
		fmt.Fprintf(&stream, "id: %d\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":%d}}\n\n", i, i)
	}
	ids := []json.RawMessage{json.RawMessage("1")}
	filter := func(d []byte) ([]byte, error) {
		out, _, err := FilterAnswer(d, ids, func(string) bool { return true })
		return out, err
	}
	b.SetBytes(int64(stream.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if err := FilterSSE(io.Discard, bytes.NewReader(stream.Bytes()), filter); err != nil {
			b.Fatal(err)
		}
	}
}
