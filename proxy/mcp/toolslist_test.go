package mcp

import (
	"encoding/json"
	"strings"
	"testing"
)

func allowOnly(names ...string) func(string) bool {
	return func(tool string) bool {
		for _, n := range names {
			if n == tool {
				return true
			}
		}
		return false
	}
}

const list = `{"jsonrpc":"2.0","id":1,"result":{ "tools" : [ {"name":"a","inputSchema":{"type":"object"}}, {"name":"b"},
{"name":"c","title":"C"} ],
  "nextCursor":"n1",  "_meta":{"x": [1, 2]} }}`

func TestFilterToolsList(t *testing.T) {
	out, n, err := FilterToolsList([]byte(list), allowOnly("a", "c"))
	if err != nil || n != 1 {
		t.Fatalf("removed %d, err %v", n, err)
	}
	want := `{"jsonrpc":"2.0","id":1,"result":{ "tools" : [{"name":"a","inputSchema":{"type":"object"}},{"name":"c","title":"C"}],
  "nextCursor":"n1",  "_meta":{"x": [1, 2]} }}`
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}

	out, n, err = FilterToolsList([]byte(list), allowOnly())
	if err != nil || n != 3 || !strings.Contains(string(out), `"tools" : [],`) {
		t.Errorf("remove all: %s, %d, %v", out, n, err)
	}
}

func TestFilterToolsListUnchanged(t *testing.T) {
	body := []byte(list)
	out, n, err := FilterToolsList(body, allowOnly("a", "b", "c"))
	if err != nil || n != 0 || &out[0] != &body[0] || len(out) != len(body) {
		t.Errorf("nothing removed should return body itself: %d, %v", n, err)
	}
	errResp := []byte(`{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}}`)
	out, n, err = FilterToolsList(errResp, allowOnly())
	if err != nil || n != 0 || string(out) != string(errResp) {
		t.Errorf("error response: %s, %d, %v", out, n, err)
	}
}

// Tools whose name is missing, not a string, or not a valid tool name are
// removed whatever allow says.
func TestFilterToolsListRemovesUnnamed(t *testing.T) {
	body := `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"title":"x"},{"name":5},{"name":"b c"},{"name":"ok"},7,{"name":"d\u0435l"},{"name":"o\u006b2"}]}}`
	out, n, err := FilterToolsList([]byte(body), func(string) bool { return true })
	if err != nil || n != 5 {
		t.Fatalf("removed %d, err %v", n, err)
	}
	if want := `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"ok"},{"name":"o\u006b2"}]}}`; string(out) != want {
		t.Errorf("got %s", out)
	}
}

func TestFilterToolsListRefuses(t *testing.T) {
	tests := []struct{ name, body string }{
		{"not JSON", `{"jsonrpc":"2.0",`},
		{"an array", `[]`},
		{"trailing data", list + "{}"},
		{"no tools", `{"jsonrpc":"2.0","id":1,"result":{}}`},
		{"tools an object", `{"jsonrpc":"2.0","id":1,"result":{"tools":{}}}`},
		{"result an array", `{"jsonrpc":"2.0","id":1,"result":[]}`},
		{"result and error", `{"jsonrpc":"2.0","id":1,"result":{"tools":[]},"error":{}}`},
		{"neither", `{"jsonrpc":"2.0","id":1}`},
		{"jsonrpc 1.0", `{"jsonrpc":"1.0","id":1,"result":{"tools":[]}}`},
		{"unknown member", `{"jsonrpc":"2.0","id":1,"x":1,"result":{"tools":[]}}`},
		{"Result beside error", `{"jsonrpc":"2.0","id":1,"Result":{"tools":[{"name":"secret"}]},"error":{}}`},
		{"Tools beside tools", `{"jsonrpc":"2.0","id":1,"result":{"tools":[],"Tools":[{"name":"secret"}]}}`},
		{"tool\u017f for tools", `{"jsonrpc":"2.0","id":1,"result":{"tools":[],"tool\u017f":[{"name":"secret"}]}}`},
		{"to_ols beside tools", `{"jsonrpc":"2.0","id":1,"result":{"tools":[],"to_ols":[{"name":"secret"}]}}`},
		{"jsonrpc missing", `{"id":1,"result":{"tools":[{"name":"b"}]}}`},
		{"duplicate name in a tool", `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"a","name":"secret"}]}}`},
		{"Name in a tool", `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"Name":"secret","name":"a"}]}}`},
		{"na_me in a tool", `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"na_me":"secret","name":"a"}]}}`},
		{"name behind a long run of separators", `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"n` + strings.Repeat("_", 40) + `ame":"secret","name":"a"}]}}`},
		{"invalid UTF-8", `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"a","d":"` + "\xff" + `"}]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := FilterToolsList([]byte(tt.body), allowOnly("a"))
			if err == nil {
				t.Errorf("accepted, gave %s", out)
			}
		})
	}
}

func TestFilterAnswer(t *testing.T) {
	ids := []json.RawMessage{nil, json.RawMessage("1"), json.RawMessage(`"L"`), json.RawMessage(`1.5`)}
	allow := allowOnly("a")
	tests := []struct {
		name, data, want string
		removed          int
	}{
		{"a tools/list answer", list, `"tools" : [{"name":"a","inputSchema":{"type":"object"}}]`, 2},
		{"id as a string matches the number", strings.Replace(list, `"id":1`, `"id":"1"`, 1), `"tools" : [{"name":"a",`, 2},
		{"another request's answer", strings.Replace(list, `"id":1`, `"id":2`, 1), `{"name":"b"}`, 0},
		{"the id after the result", `{"jsonrpc":"2.0","result":{"tools":[{"name":"a"},{"name":"b"}]},"id":1}`, `[{"name":"a"}]`, 1},
		{"a server request with the same id", `{"jsonrpc":"2.0","id":1,"method":"sampling/createMessage","params":{}}`, `sampling`, 0},
		{"a notification", `{"jsonrpc":"2.0","method":"notifications/progress","params":{}}`, `progress`, 0},
		{"priming event", ``, ``, 0},
		{"a batch answer", `[{"jsonrpc":"2.0","id":9,"result":{}}, ` + strings.Replace(list, `"id":1`, `"id":"L"`, 1) + ` ]`,
			`[{"jsonrpc":"2.0","id":9,"result":{}}, {"jsonrpc":"2.0","id":"L","result":{ "tools" : [{"name":"a"`, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, n, err := FilterAnswer([]byte(tt.data), ids, allow)
			if err != nil || n != tt.removed || !strings.Contains(string(out), tt.want) {
				t.Errorf("got %s, %d, %v", out, n, err)
			}
			if n == 0 && string(out) != tt.data {
				t.Errorf("changed without removing: %s", out)
			}
			if n > 0 && !json.Valid(out) {
				t.Errorf("not JSON: %s", out)
			}
		})
	}
	for _, bad := range []string{`{"jsonrpc":"2.0","ID":1,"result":{"tools":[{"name":"b"}]}}`, `not json`, `{"id":1}{}`, `[{"id":1},]`, `"x"`} {
		if out, _, err := FilterAnswer([]byte(bad), ids, allow); err == nil {
			t.Errorf("FilterAnswer(%s) = %s, want an error", bad, out)
		}
		if out, _, err := FilterAnswer([]byte(bad), nil, allow); err == nil && json.Valid([]byte(bad)) == false {
			t.Errorf("FilterAnswer(%s) without ids = %s, want an error", bad, out)
		}
	}
}

func TestFilterToolsListTruncated(t *testing.T) {
	for _, body := range []string{`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"a"},`, `{"jsonrpc":"2.0","id":1,"result":{"tools":[`} {
		if _, _, err := FilterToolsList([]byte(body), allowOnly("a")); err == nil {
			t.Errorf("accepted %s", body)
		}
	}
}

// allow is asked about each validly named tool, in order, once the whole
// answer is known to be well formed; about none of an answer refused.
func TestFilterToolsListAsksOnce(t *testing.T) {
	var asked []string
	allow := func(tool string) bool { asked = append(asked, tool); return tool != "b" }
	body := `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"a"},{"name":"b c"},{"name":"b"},{"name":"a\u002e1"}]}}`
	if _, n, err := FilterToolsList([]byte(body), allow); err != nil || n != 2 {
		t.Fatalf("removed %d, err %v", n, err)
	}
	if got := strings.Join(asked, " "); got != "a b a.1" {
		t.Errorf("asked about %q, want a b a.1", got)
	}
	asked = nil
	if _, _, err := FilterToolsList([]byte(strings.TrimSuffix(body, "}")+`,"x":1}`), allow); err == nil || len(asked) > 0 {
		t.Errorf("refused answer: err %v, asked about %q", err, asked)
	}
}
