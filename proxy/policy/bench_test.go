package policy

import (
	"encoding/json"
	"testing"
)

// twentyRules is a realistic policy of 20 criteria: identity, network and
// time in allow, tool and argument restrictions in deny.
const twentyRules = `allow:
  and:
    - authenticated_user: true
    - domain: {is: company.com}
    - groups: {has_any: [engineering, sre, data]}
    - claim/role: {in: [admin, developer, analyst]}
    - source_ip: [10.0.0.0/8, 192.168.0.0/16, "2001:db8::/32"]
    - time_of_day: {between: ["06:00", "22:00"], timezone: Europe/Paris}
    - day_of_week: {not_in: [sun]}
    - http_method: {in: [GET, POST, DELETE]}
    - http_path: {starts_with: /mcp}
    - client: {not_in: [untrusted-app]}
    - service_account: false
    - email: {not: intern@company.com}
deny:
  or:
    - mcp_tool: {starts_with: admin_}
    - mcp_tool: {in: [delete_repo, drop_table, truncate, rm_rf, format_disk, shutdown, reboot, wipe]}
    - mcp_tool: {matches: "(?:.*_)?danger(?:_.*)?"}
    - mcp_argument/repo: {in: [secrets, infra-prod]}
    - mcp_argument/force: true
    - user: {in: [banned@company.com, u-666]}
    - groups: {has: contractors}
    - mcp_method: {is: sampling/createMessage}
`

func benchInput() *Input {
	in := alice()
	in.Arguments = json.RawMessage(`{"repo":"drawbridge","query":"select 1"}`)
	return in
}

// BenchmarkEvaluate20Rules evaluates an allowed call with its reasons; the
// Input (and so its decoded arguments) is reused, as for one message
// checked against several policies.
func BenchmarkEvaluate20Rules(b *testing.B) {
	p := parse(b, twentyRules)
	in := benchInput()
	if !p.Evaluate(in).Allow {
		b.Fatal("benchmark input is denied")
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Evaluate(in)
	}
}

// BenchmarkAllowed20Rules is the reason-free fast path, e.g. for filtering
// tools/list.
func BenchmarkAllowed20Rules(b *testing.B) {
	p := parse(b, twentyRules)
	in := benchInput()
	if !p.Allowed(in) {
		b.Fatal("benchmark input is denied")
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Allowed(in)
	}
}

// BenchmarkEvaluate20RulesDenied stops at the first deny rule.
func BenchmarkEvaluate20RulesDenied(b *testing.B) {
	p := parse(b, twentyRules)
	in := benchInput()
	in.MCPTool = "admin_users"
	b.ReportAllocs()
	for b.Loop() {
		p.Evaluate(in)
	}
}

// BenchmarkEvaluateNewMessage includes decoding the arguments of a fresh
// message, as the proxy does once per tools/call.
func BenchmarkEvaluateNewMessage(b *testing.B) {
	p := parse(b, twentyRules)
	base := benchInput()
	b.ReportAllocs()
	for b.Loop() {
		in := *base
		in.args = argCache{}
		p.Evaluate(&in)
	}
}

// BenchmarkAllowedToolsList filters 50 tools of a tools/list answer.
func BenchmarkAllowedToolsList(b *testing.B) {
	p := parse(b, twentyRules)
	in := benchInput()
	in.Arguments = nil
	tools := make([]string, 50)
	for i := range tools {
		tools[i] = "tool_" + string(rune('a'+i%26)) + "_x"
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, tool := range tools {
			in.MCPTool = tool
			p.Allowed(in)
		}
	}
}

func BenchmarkParse20Rules(b *testing.B) {
	src := []byte(twentyRules)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("bench", src); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAllowedDoesNotAllocate guards the zero-allocation fast path.
func TestAllowedDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	p := parse(t, twentyRules)
	in := benchInput()
	p.Allowed(in) // decode the arguments once
	if n := testing.AllocsPerRun(100, func() { p.Allowed(in) }); n != 0 {
		t.Errorf("Allowed allocates %v times per call", n)
	}
	policies := []*Policy{p, p}
	if n := testing.AllocsPerRun(100, func() { Allowed(policies, in) }); n != 0 {
		t.Errorf("Allowed(policies) allocates %v times per call", n)
	}
}
