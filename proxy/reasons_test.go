package proxy

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/drawbridge/drawbridge/proxy/policy"
)

// TestReasonsJSON checks the hand-written encoding against what
// encoding/json reads back: every field, the empty ones left out, the
// argument an mcp_argument rule matched dropped, and strings that need
// escaping kept intact.
func TestReasonsJSON(t *testing.T) {
	type reason struct {
		Policy    string `json:"policy,omitempty"`
		Block     string `json:"block"`
		Rule      string `json:"rule,omitempty"`
		Criterion string `json:"criterion,omitempty"`
		Matched   string `json:"matched,omitempty"`
	}
	tests := []struct {
		name string
		in   []policy.Reason
		want []reason
	}{
		{"none", nil, []reason{}},
		{"block alone", []policy.Reason{{Block: "default"}}, []reason{{Block: "default"}}},
		{"every field", []policy.Reason{{Policy: "eng", Block: "allow", Rule: "allow.or[1].group", Criterion: "group", Matched: "staff", Line: 3, Column: 5}},
			[]reason{{Policy: "eng", Block: "allow", Rule: "allow.or[1].group", Criterion: "group", Matched: "staff"}}},
		{"an argument's value is left out", []policy.Reason{{Policy: "p", Block: "deny", Criterion: "mcp_argument/path", Matched: "/etc/shadow"}},
			[]reason{{Policy: "p", Block: "deny", Criterion: "mcp_argument/path"}}},
		{"escapes", []policy.Reason{{Policy: "q\"uote\\", Block: "deny", Matched: "tab\tnl\n\x01<b>&\u2028é"}},
			[]reason{{Policy: "q\"uote\\", Block: "deny", Matched: "tab\tnl\n\x01<b>&\u2028é"}}},
		{"invalid UTF-8 becomes U+FFFD", []policy.Reason{{Block: "deny", Matched: "a\xffb"}}, []reason{{Block: "deny", Matched: "a\ufffdb"}}},
		{"several", []policy.Reason{{Policy: "a", Block: "deny"}, {Policy: "b", Block: "default", Rule: "r"}},
			[]reason{{Policy: "a", Block: "deny"}, {Policy: "b", Block: "default", Rule: "r"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := reasonsJSON(tt.in)
			if !json.Valid([]byte(out)) {
				t.Fatalf("not JSON: %s", out)
			}
			var got []reason
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("reasonsJSON = %s\nread back %+v, want %+v", out, got, tt.want)
			}
			var fields []map[string]any
			if err := json.Unmarshal([]byte(out), &fields); err != nil {
				t.Fatal(err)
			}
			for i, f := range fields {
				for k, v := range f {
					if v == "" {
						t.Errorf("reason %d: empty %s written", i, k)
					}
				}
			}
		})
	}
}
