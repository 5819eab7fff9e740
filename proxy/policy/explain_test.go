package policy

import (
	"reflect"
	"testing"
)

func TestExplain(t *testing.T) {
	p := parse(t, `deny:
  or:
    - mcp_tool: {starts_with: admin_}
    - mcp_argument/repo: secrets
allow:
  and:
    - domain: {is: company.com}
    - or:
        - groups: {has: sales}
        - claim/role: admin
  nor:
    - email: {is: x@y.z}
`)
	in := alice()
	got := p.Explain(in)
	want := []Step{
		{Block: "deny", Path: "deny.or", Depth: 0, Operator: true, Name: "or", Line: 2, Column: 3, Matched: false},
		{Block: "deny", Path: "deny.or[0].mcp_tool", Depth: 1, Name: "mcp_tool", Line: 3, Column: 7, Value: "db_query"},
		{Block: "deny", Path: "deny.or[1].mcp_argument/repo", Depth: 1, Name: "mcp_argument/repo", Line: 4, Column: 7, Value: "drawbridge"},
		{Block: "allow", Path: "allow.and", Depth: 0, Operator: true, Name: "and", Line: 6, Column: 3, Matched: true},
		{Block: "allow", Path: "allow.and[0].domain", Depth: 1, Name: "domain", Line: 7, Column: 7, Matched: true, Value: "Company.com"},
		{Block: "allow", Path: "allow.and[1].or", Depth: 1, Operator: true, Name: "or", Line: 8, Column: 7, Matched: true},
		{Block: "allow", Path: "allow.and[1].or[0].groups", Depth: 2, Name: "groups", Line: 9, Column: 11, Value: "[engineering, oncall]"},
		{Block: "allow", Path: "allow.and[1].or[1].claim/role", Depth: 2, Name: "claim/role", Line: 10, Column: 11, Matched: true, Value: "admin"},
		{Block: "allow", Path: "allow.nor", Depth: 0, Operator: true, Name: "nor", Line: 11, Column: 3, Matched: true},
		{Block: "allow", Path: "allow.nor[0].email", Depth: 1, Name: "email", Line: 12, Column: 7, Value: "Alice@Company.com"},
	}
	if !reflect.DeepEqual(got.Steps, want) {
		for i := range max(len(got.Steps), len(want)) {
			var g, w Step
			if i < len(got.Steps) {
				g = got.Steps[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if g != w {
				t.Errorf("step %d:\n  got  %+v\n  want %+v", i, g, w)
			}
		}
	}
	if !got.Decision.Allow || len(got.Decision.Reasons) != 2 {
		t.Errorf("Decision = %v", got.Decision)
	}

	in.MCPTool, in.MCPMethod = "", "tools/list"
	got = p.Explain(in)
	if v := got.Steps[1].Value; v != missing {
		t.Errorf("mcp_tool value for tools/list = %q, want %q", v, missing)
	}
	if v := got.Steps[2].Value; v != missing {
		t.Errorf("argument value for tools/list = %q, want %q", v, missing)
	}
}
