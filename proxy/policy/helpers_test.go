package policy

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// parse compiles src or fails the test.
func parse(t testing.TB, src string) *Policy {
	t.Helper()
	p, err := Parse("test", []byte(src))
	if err != nil {
		t.Fatalf("Parse(%q):\n%v", src, err)
	}
	return p
}

// parseErrors compiles src, which must fail, and returns its Errors.
func parseErrors(t *testing.T, src string) Errors {
	t.Helper()
	p, err := Parse("test", []byte(src))
	if err == nil {
		t.Fatalf("Parse(%q) = %v, want an error", src, p)
	}
	errs, ok := err.(Errors)
	if !ok {
		t.Fatalf("Parse error is %T, want Errors", err)
	}
	return errs
}

// wednesday is 2026-03-04 10:30 UTC, a Wednesday.
var wednesday = time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC)

// alice is a signed-in person calling a tool.
func alice() *Input {
	return &Input{
		Authenticated: true,
		UserID:        "u-123",
		Email:         "Alice@Company.com",
		Groups:        []string{"engineering", "oncall"},
		Claims: map[string]any{
			"role":                      "admin",
			"teams":                     []any{"a", "b"},
			"solo":                      []any{"only"},
			"level":                     float64(3),
			"ratio":                     json.Number("2.50"),
			"verified":                  true,
			"tags":                      []string{"x", "y"},
			"obj":                       map[string]any{"k": "v"},
			"nothing":                   nil,
			"https://example.com/roles": []string{"reader"},
		},
		ClientID:   "client-1",
		ClientName: "Claude Code",
		SourceIP:   netip.MustParseAddr("10.1.2.3"),
		HTTPMethod: "POST",
		HTTPPath:   "/mcp",
		MCPMethod:  "tools/call",
		MCPTool:    "db_query",
		Arguments: json.RawMessage(`{"repo":"drawbridge","count":5,"force":true,"ratio":1.50,
			"filter":[{"name":"x"},{"name":"y"}],"a/b":"slash","m~n":"tilde","":"empty",
			"labels":["bug","p1"],"one":["solo"],"nothing":null,"obj":{"k":"v"}}`),
		Now: wednesday,
	}
}

// rule builds a policy allowing on one rule.
func rule(r string) string {
	return "allow:\n  and:\n    - " + strings.ReplaceAll(r, "\n", "\n      ") + "\n"
}
