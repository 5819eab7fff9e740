package policy

import "testing"

// TestStringMatchers runs every string matcher, matching and not, on an
// exact field (mcp_tool = "db_query") and a case-insensitive one
// (email = "Alice@Company.com").
func TestStringMatchers(t *testing.T) {
	runCriterionCases(t, []criterionCase{
		{rule: "mcp_tool: {is: db_query}", want: true},
		{rule: "mcp_tool: {is: db_quer}", want: false},
		{rule: "mcp_tool: {not: admin}", want: true},
		{rule: "mcp_tool: {not: db_query}", want: false},
		{rule: "mcp_tool: {starts_with: db_}", want: true},
		{rule: "mcp_tool: {starts_with: DB_}", want: false},
		{rule: "mcp_tool: {ends_with: _query}", want: true},
		{rule: "mcp_tool: {ends_with: _querY}", want: false},
		{rule: "mcp_tool: {contains: b_q}", want: true},
		{rule: "mcp_tool: {contains: bq}", want: false},
		{rule: "mcp_tool: {in: [list_tables, db_query]}", want: true},
		{rule: "mcp_tool: {in: [list_tables, read_table]}", want: false},
		{rule: "mcp_tool: {not_in: [list_tables, read_table]}", want: true},
		{rule: "mcp_tool: {not_in: [list_tables, db_query]}", want: false},
		{rule: `mcp_tool: {matches: "db_[a-z]+"}`, want: true},
		{rule: `mcp_tool: {matches: "db_"}`, want: false},       // whole value, not a substring
		{rule: `mcp_tool: {matches: "query"}`, want: false},     // likewise
		{rule: `mcp_tool: {matches: "db_query|x"}`, want: true}, // alternation stays inside the anchors
		{rule: `mcp_tool: {matches: "x|db_"}`, want: false},
		{rule: `mcp_tool: {matches: "(?i)DB_QUERY"}`, want: true},
		{rule: "mcp_tool: [a, db_query]", want: true}, // bare list is in
		{rule: "mcp_tool: [a, b]", want: false},
		{rule: "mcp_tool: {starts_with: db_, not: db_query}", want: false}, // all keys must hold
		{rule: "mcp_tool: {starts_with: db_, not: db_drop}", want: true},
		{rule: "mcp_tool: {in: [a, b, c, d, e, f, g, db_query, i]}", want: true}, // long list: set
		{rule: "mcp_tool: {in: [a, b, c, d, e, f, g, DB_QUERY, i]}", want: false},
		{rule: "mcp_tool: {not_in: [a, b, c, d, e, f, g, db_query, i]}", want: false},
		{rule: "mcp_tool: {not_in: [a, b, c, d, e, f, g, h, i]}", want: true},
		{rule: "mcp_argument/count: {is: 5}", want: true},

		{rule: "email: {is: alice@company.com}", want: true},
		{rule: "email: {is: alice@company.org}", want: false},
		{rule: "email: {not: ALICE@company.com}", want: false},
		{rule: "email: {not: bob@company.com}", want: true},
		{rule: "email: {starts_with: ALICE@}", want: true},
		{rule: "email: {starts_with: bob@}", want: false},
		{rule: `email: {ends_with: "@COMPANY.COM"}`, want: true},
		{rule: `email: {ends_with: "@company.org"}`, want: false},
		{rule: "email: {contains: E@cO}", want: true},
		{rule: "email: {contains: bob}", want: false},
		{rule: "email: {in: [bob@company.com, alice@company.com]}", want: true},
		{rule: "email: {in: [bob@company.com]}", want: false},
		{rule: "email: {not_in: [bob@company.com, ALICE@company.com]}", want: false},
		{rule: "email: {not_in: [bob@company.com]}", want: true},
		{rule: `email: {matches: "alice@.*\\.com"}`, want: true},
		{rule: `email: {matches: "alice"}`, want: false},
		{rule: "email: {in: [a, b, c, d, e, f, g, h, ALICE@company.COM]}", want: true}, // long list, folded
		{rule: "email: {in: [a, b, c, d, e, f, g, h, i]}", want: false},
		{rule: "email: {not_in: [a, b, c, d, e, f, g, h, alice@company.com]}", want: false},
		{rule: "email: [x@y.z, alice@company.com]", want: true},
	})
}

func TestContainsFoldEdges(t *testing.T) {
	k := strCheck{kind: ckContains, s: "abc"}
	for _, tc := range []struct {
		v    string
		want bool
	}{{"abc", true}, {"xxABC", true}, {"ABx", false}, {"", false}, {"aBcd", true}} {
		if got := k.test(tc.v, true); got != tc.want {
			t.Errorf("contains fold %q = %v, want %v", tc.v, got, tc.want)
		}
	}
}
