package policy

import "testing"

// TestPPLExamples parses policies as Pomerium's documentation writes them
// and checks they decide as documented.
func TestPPLExamples(t *testing.T) {
	type msg struct {
		email, tool string
		groups      []string
		want        bool
	}
	for _, tc := range []struct {
		name   string
		policy string
		msgs   []msg
	}{
		{
			name: "MCP: deny tools by prefix",
			policy: `allow:
  and:
    - domain:
        is: example.com
deny:
  and:
    - mcp_tool:
        starts_with: "db_"
`,
			msgs: []msg{
				{email: "u@example.com", tool: "search", want: true},
				{email: "u@example.com", tool: "db_drop", want: false},
				{email: "u@example.com", want: true}, // tools/list is not a tool call
				{email: "u@other.com", tool: "search", want: false},
			},
		},
		{
			name: "MCP: allow a user some tools",
			policy: `allow:
  and:
    - email:
        is: user@example.com
    - mcp_tool:
        in: ["list_tables", "read_table"]
`,
			msgs: []msg{
				{email: "user@example.com", tool: "read_table", want: true},
				{email: "user@example.com", tool: "drop_table", want: false},
				{email: "other@example.com", tool: "read_table", want: false},
				// Documented consequence: mcp_tool under allow refuses non-tool messages.
				{email: "user@example.com", want: false},
			},
		},
		{
			name: "MCP: allowlist under deny",
			policy: `allow:
  and:
    - groups:
        has: analysts
deny:
  and:
    - mcp_tool:
        not_in: ["query", "list_tables"]
`,
			msgs: []msg{
				{groups: []string{"analysts"}, tool: "query", want: true},
				{groups: []string{"analysts"}, tool: "drop", want: false},
				{groups: []string{"analysts"}, want: true},
				{groups: []string{"sales"}, tool: "query", want: false},
			},
		},
		{
			name: "MCP: block one tool",
			policy: `allow:
  and:
    - domain:
        is: company.com
deny:
  and:
    - mcp_tool:
        is: drop_table
`,
			msgs: []msg{
				{email: "a@company.com", tool: "drop_table", want: false},
				{email: "a@company.com", tool: "select", want: true},
			},
		},
		{
			name: "PPL at a glance",
			policy: `allow:
  and:
    - domain:
        is: example.com
deny:
  or:
    - email:
        is: user2@example.com
    - email:
        is: user3@example.com
`,
			msgs: []msg{
				{email: "user1@example.com", want: true},
				{email: "user2@example.com", want: false},
				{email: "user3@example.com", want: false},
				{email: "user1@other.com", want: false},
			},
		},
		{
			name: "older PPL: bare values and claims",
			policy: `allow:
  and:
    - domain: example.com
    - claim/groups: admin
deny:
  or:
    - user: user1@example.com
`,
			msgs: []msg{
				{email: "boss@example.com", groups: []string{"admin"}, want: true},
				{email: "boss@example.com", groups: []string{"staff"}, want: false},
				{email: "user1@example.com", groups: []string{"admin"}, want: false},
			},
		},
		{
			name:   "JSON on one line",
			policy: `{"allow": {"or": [{"email": {"is": "a@example.com"}}, {"groups": {"has": "admin"}}]}}`,
			msgs: []msg{
				{email: "a@example.com", want: true},
				{email: "b@example.com", groups: []string{"admin"}, want: true},
				{email: "b@example.com", want: false},
			},
		},
		{
			name: "a list of rules, and accept",
			policy: `- allow:
    or:
      - accept: true
- deny:
    or:
      - email:
          is: blocked@example.com
`,
			msgs: []msg{
				{email: "a@example.com", want: true},
				{email: "blocked@example.com", want: false},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := parse(t, tc.policy)
			for _, m := range tc.msgs {
				in := &Input{Authenticated: true, Email: m.email, Groups: m.groups,
					Claims: map[string]any{"groups": m.groups}, MCPMethod: "tools/list"}
				if m.tool != "" {
					in.MCPMethod, in.MCPTool = "tools/call", m.tool
				}
				if d := p.Evaluate(in); d.Allow != m.want {
					t.Errorf("%+v: %v", m, d)
				}
			}
		})
	}
}
