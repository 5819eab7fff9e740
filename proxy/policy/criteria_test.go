package policy

import (
	"net/netip"
	"testing"
	"time"
)

// criterionCase is one rule evaluated against alice(), changed by edit.
type criterionCase struct {
	rule string
	edit func(*Input)
	want bool
}

func runCriterionCases(t *testing.T, cases []criterionCase) {
	t.Helper()
	for _, tc := range cases {
		name := tc.rule
		if tc.edit != nil {
			name += " (edited input)"
		}
		t.Run(name, func(t *testing.T) {
			p := parse(t, rule(tc.rule))
			in := alice()
			if tc.edit != nil {
				tc.edit(in)
			}
			if got := p.Evaluate(in).Allow; got != tc.want {
				t.Errorf("Evaluate = %v, want %v", got, tc.want)
			}
			if got := p.Allowed(in); got != tc.want {
				t.Errorf("Allowed = %v, want %v", got, tc.want)
			}
			// Explain must agree with Evaluate.
			if got := p.Explain(in).Steps[1].Matched; got != tc.want {
				t.Errorf("Explain step matched = %v, want %v", got, tc.want)
			}
		})
	}
}

func anonymous(in *Input) { in.Authenticated = false }

func TestIdentityCriteria(t *testing.T) {
	runCriterionCases(t, []criterionCase{
		{rule: "accept: true", want: true},
		{rule: "accept: true", edit: anonymous, want: true},

		{rule: "authenticated_user: true", want: true},
		{rule: "authenticated_user: true", edit: anonymous, want: false},
		{rule: "authenticated_user: false", edit: anonymous, want: true},
		{rule: "authenticated_user: false", want: false},

		{rule: "email: alice@company.com", want: true}, // case-insensitive
		{rule: "email: {is: ALICE@COMPANY.COM}", want: true},
		{rule: "email: {is: bob@company.com}", want: false},
		{rule: "email: {is: alice@company.com}", edit: anonymous, want: false},
		{rule: "email: {not: bob@company.com}", edit: anonymous, want: false},
		{rule: "email: {not: bob@company.com}", edit: func(in *Input) { in.Email = "" }, want: false},

		{rule: "domain: {is: company.com}", want: true},
		{rule: "domain: {is: COMPANY.com}", want: true},
		{rule: "domain: {is: other.com}", want: false},
		{rule: "domain: {ends_with: .com}", want: true},
		{rule: "domain: {is: company.com}", edit: func(in *Input) { in.Email = "alice@evil.com@company.com" }, want: true},
		{rule: "domain: {is: company.com}", edit: func(in *Input) { in.Email = "alice@company.com.evil.com" }, want: false},
		{rule: "domain: {is: company.com}", edit: func(in *Input) { in.Email = "no-at-sign" }, want: false},
		{rule: "domain: {is: company.com}", edit: anonymous, want: false},

		{rule: "user: u-123", want: true},
		{rule: "user: U-123", want: false}, // ids are exact
		{rule: "user: alice@COMPANY.com", want: true},
		{rule: "user: {not: bob@company.com}", want: true},
		{rule: "user: {not: u-123}", want: false},             // must hold for id and email
		{rule: "user: {not: alice@company.com}", want: false}, // likewise
		{rule: "user: {not_in: [x, alice@company.com]}", want: false},
		{rule: "user: {in: [x, u-123]}", want: true},
		{rule: "user: {starts_with: u-, ends_with: 23}", want: true},
		{rule: "user: {starts_with: u-, ends_with: .com}", want: false}, // one value must satisfy both
		{rule: "user: u-123", edit: anonymous, want: false},

		{rule: "groups: engineering", want: true},
		{rule: "groups: {has: engineering}", want: true},
		{rule: "groups: {has: Engineering}", want: false},
		{rule: "groups: {has: sales}", want: false},
		{rule: "groups: {has_any: [sales, oncall]}", want: true},
		{rule: "groups: {has_any: [sales, legal]}", want: false},
		{rule: "groups: {has_all: [engineering, oncall]}", want: true},
		{rule: "groups: {has_all: [engineering, sales]}", want: false},
		{rule: "groups: {exclude: contractors}", want: true},
		{rule: "groups: {exclude: [contractors, oncall]}", want: false},
		{rule: "groups: {exclude: contractors}", edit: func(in *Input) { in.Groups = nil }, want: true},
		{rule: "groups: {exclude: contractors}", edit: anonymous, want: false},
		{rule: "groups: {is: engineering}", want: false},
		{rule: "groups: {is: engineering}", edit: func(in *Input) { in.Groups = []string{"engineering"} }, want: true},
		{rule: "groups: {has: engineering, exclude: oncall}", want: false},

		{rule: "service_account: true", want: false},
		{rule: "service_account: false", want: true},
		{rule: "service_account: false", edit: anonymous, want: false},
		{rule: "service_account: true", edit: func(in *Input) { in.ServiceAccount = "ci-bot" }, want: true},
		{rule: "service_account: ci-bot", edit: func(in *Input) { in.ServiceAccount = "ci-bot" }, want: true},
		{rule: "service_account: {starts_with: ci-}", edit: func(in *Input) { in.ServiceAccount = "ci-bot" }, want: true},
		{rule: "service_account: {is: CI-BOT}", edit: func(in *Input) { in.ServiceAccount = "ci-bot" }, want: false},
		{rule: "service_account: {not: ci-bot}", want: false}, // a person has no service account name
		{rule: `service_account: "true"`, edit: func(in *Input) { in.ServiceAccount = "true" }, want: true},

		{rule: "client: client-1", want: true},
		{rule: "client: Claude Code", want: true},
		{rule: "client: claude code", want: false},
		{rule: "client: {in: [Cursor, Claude Code]}", want: true},
		{rule: "client: {not: Cursor}", want: true},
		{rule: "client: {not: client-1}", want: false},
		{rule: "client: client-1", edit: func(in *Input) { in.ClientID, in.ClientName = "", "" }, want: false},
	})
}

func TestClaimCriterion(t *testing.T) {
	runCriterionCases(t, []criterionCase{
		{rule: "claim/role: admin", want: true},
		{rule: "claim/role: {is: admin}", want: true},
		{rule: "claim/role: {is: Admin}", want: false},
		{rule: "claim/role: {not: user}", want: true},
		{rule: "claim/role: {starts_with: adm}", want: true},
		{rule: "claim/role: {ends_with: min}", want: true},
		{rule: "claim/role: {contains: dmi}", want: true},
		{rule: "claim/role: {in: [user, admin]}", want: true},
		{rule: "claim/role: {not_in: [user, admin]}", want: false},
		{rule: `claim/role: {matches: "ad.*"}`, want: true},
		{rule: `claim/role: {matches: "dm"}`, want: false},
		{rule: "claim/role: {has: admin}", want: true},
		{rule: "claim/role: {exclude: admin}", want: false},
		{rule: "claim/role: {exists: true}", want: true},
		{rule: "claim/role: {exists: false}", want: false},
		{rule: "claim/absent: {exists: false}", want: true},
		{rule: "claim/absent: {exists: true}", want: false},
		{rule: "claim/absent: {not: x}", want: false},
		{rule: "claim/absent: {exclude: x}", want: false},
		{rule: "claim/role: admin", edit: anonymous, want: false},

		{rule: "claim/teams: a", want: true},
		{rule: "claim/teams: {has: c}", want: false},
		{rule: "claim/teams: {has_any: [c, b]}", want: true},
		{rule: "claim/teams: {has_all: [a, b]}", want: true},
		{rule: "claim/teams: {has_all: [a, c]}", want: false},
		{rule: "claim/teams: {exclude: c}", want: true},
		{rule: "claim/teams: {is: a}", want: false},  // not a single value
		{rule: "claim/teams: {not: a}", want: false}, // likewise
		{rule: "claim/solo: {is: only}", want: true}, // a list of one is single
		{rule: "claim/solo: {starts_with: on}", want: true},
		{rule: "claim/tags: {has: y}", want: true}, // []string
		{rule: "claim/tags: {in: [x]}", want: false},
		{rule: "claim/https://example.com/roles: reader", want: true},

		{rule: "claim/level: 3", want: true}, // float64 as JSON text
		{rule: "claim/level: {is: 3.0}", want: false},
		{rule: "claim/ratio: {is: 2.50}", want: true}, // json.Number as sent
		{rule: "claim/verified: true", want: true},
		{rule: "claim/verified: {is: false}", want: false},
		{rule: "claim/obj: {exists: true}", want: true},
		{rule: "claim/obj: {is: x}", want: false},
		{rule: "claim/obj: {exclude: x}", want: false},
		{rule: "claim/nothing: {exists: true}", want: true},
		{rule: "claim/nothing: {not: x}", want: false},
	})
}

func TestRequestCriteria(t *testing.T) {
	runCriterionCases(t, []criterionCase{
		{rule: "mcp_method: tools/call", want: true},
		{rule: "mcp_method: {is: tools/list}", want: false},
		{rule: "mcp_method: {starts_with: tools/}", want: true},
		{rule: "mcp_method: {not: tools/call}", edit: func(in *Input) { in.MCPMethod = "" }, want: false},

		{rule: "mcp_tool: db_query", want: true},
		{rule: "mcp_tool: {is: DB_QUERY}", want: false},
		{rule: "mcp_tool: {not_in: [a, b]}", edit: func(in *Input) { in.MCPMethod, in.MCPTool = "tools/list", "" }, want: false},
		{rule: "mcp_tool: {not: x}", edit: func(in *Input) { in.MCPMethod, in.MCPTool = "initialize", "" }, want: false},

		{rule: "http_method: POST", want: true},
		{rule: "http_method: post", want: false},
		{rule: "http_method: {in: [GET, POST]}", want: true},
		{rule: "http_path: /mcp", want: true},
		{rule: "http_path: {starts_with: /admin}", want: false},
		{rule: "http_path: /MCP", want: false},
	})
}

func TestSourceIP(t *testing.T) {
	v6 := func(in *Input) { in.SourceIP = netip.MustParseAddr("2001:db8::1") }
	mapped := func(in *Input) { in.SourceIP = netip.MustParseAddr("::ffff:10.1.2.3") }
	zoned := func(in *Input) { in.SourceIP = netip.MustParseAddr("fe80::1%eth0") }
	runCriterionCases(t, []criterionCase{
		{rule: "source_ip: 10.0.0.0/8", want: true},
		{rule: "source_ip: 10.1.2.3", want: true},
		{rule: "source_ip: 10.1.2.4", want: false},
		{rule: "source_ip: 192.168.0.0/16", want: false},
		{rule: "source_ip: [192.168.0.0/16, 10.1.0.0/16]", want: true},
		{rule: "source_ip: {in: [192.168.0.0/16, 10.1.0.0/16]}", want: true},
		{rule: "source_ip: {in: [192.168.0.0/16]}", want: false},
		{rule: "source_ip: {is: 10.1.2.0/24}", want: true},
		{rule: "source_ip: {not_in: [10.1.0.0/16]}", want: false},
		{rule: "source_ip: {not_in: [192.168.0.0/16]}", want: true},
		{rule: "source_ip: {in: [10.0.0.0/8], not_in: [10.1.0.0/16]}", want: false},
		{rule: "source_ip: 10.1.2.3/8", want: true}, // host bits masked
		{rule: "source_ip: 2001:db8::/32", edit: v6, want: true},
		{rule: "source_ip: 2001:db9::/32", edit: v6, want: false},
		{rule: "source_ip: 10.0.0.0/8", edit: v6, want: false},
		{rule: "source_ip: 10.0.0.0/8", edit: mapped, want: true},
		{rule: "source_ip: ::ffff:10.0.0.0/104", want: true},
		{rule: "source_ip: fe80::/10", edit: zoned, want: true},
		{rule: "source_ip: 10.0.0.0/8", edit: func(in *Input) { in.SourceIP = netip.Addr{} }, want: false},
		{rule: "source_ip: {not_in: [10.0.0.0/8]}", edit: func(in *Input) { in.SourceIP = netip.Addr{} }, want: false},
	})
}

func TestTimeCriteria(t *testing.T) {
	at := func(s string) func(*Input) {
		return func(in *Input) {
			tm, err := time.Parse(time.RFC3339, s)
			if err != nil {
				panic(err)
			}
			in.Now = tm
		}
	}
	runCriterionCases(t, []criterionCase{
		{rule: `time_of_day: {between: ["09:00", "17:30"]}`, want: true}, // 10:30 UTC
		{rule: `time_of_day: {between: ["11:00", "17:30"]}`, want: false},
		{rule: `time_of_day: {between: ["09:00", "10:30"]}`, want: false}, // end excluded
		{rule: `time_of_day: {between: ["10:30", "10:31"]}`, want: true},  // start included
		{rule: `time_of_day: {between: ["10:30:00", "10:30:01"]}`, want: true},
		{rule: `time_of_day: {between: ["09:00", "17:30"], timezone: Europe/Paris}`, want: true}, // 11:30 in Paris
		{rule: `time_of_day: {between: ["09:00", "11:00"], timezone: Europe/Paris}`, want: false},
		{rule: `time_of_day: {between: ["09:00", "11:00"], timezone: America/New_York}`, want: false}, // 05:30
		{rule: `time_of_day: {between: ["22:00", "06:00"]}`, edit: at("2026-03-04T23:15:00Z"), want: true},
		{rule: `time_of_day: {between: ["22:00", "06:00"]}`, edit: at("2026-03-04T05:59:59Z"), want: true},
		{rule: `time_of_day: {between: ["22:00", "06:00"]}`, edit: at("2026-03-04T06:00:00Z"), want: false},
		{rule: `time_of_day: {between: ["22:00", "06:00"]}`, want: false},
		{rule: `time_of_day: {between: ["18:00", "24:00"]}`, edit: at("2026-03-04T23:59:59Z"), want: true},
		{rule: `time_of_day: {between: ["00:00", "12:00"], timezone: Asia/Tokyo}`, edit: at("2026-03-04T16:00:00Z"), want: true}, // 01:00 next day

		{rule: "day_of_week: wed", want: true},
		{rule: "day_of_week: Wednesday", want: true},
		{rule: "day_of_week: {is: sat}", want: false},
		{rule: "day_of_week: [mon, tue, wed, thu, fri]", want: true},
		{rule: "day_of_week: {in: [sat, sun]}", want: false},
		{rule: "day_of_week: {not: wed}", want: false},
		{rule: "day_of_week: {not_in: [sat, sun]}", want: true},
		{rule: "day_of_week: {is: thu, timezone: Asia/Tokyo}", edit: at("2026-03-04T16:00:00Z"), want: true},
		{rule: "day_of_week: {is: wed, timezone: Asia/Tokyo}", edit: at("2026-03-04T16:00:00Z"), want: false},
	})
}

func TestZeroNowUsesClock(t *testing.T) {
	p := parse(t, rule(`time_of_day: {between: ["00:00", "24:00"]}`))
	in := alice()
	in.Now = time.Time{}
	if !p.Allowed(in) {
		t.Error("an all-day range did not match the current time")
	}
}
