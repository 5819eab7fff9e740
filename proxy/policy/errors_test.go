package policy

import (
	"strings"
	"testing"
)

func TestErrorExample(t *testing.T) {
	src := "allow:\n  and:\n    - mcp_tool:\n        frobnicate: x\n"
	_, err := Parse("eng", []byte(src))
	want := "policy \"eng\": unknown matcher `frobnicate` for `mcp_tool` at line 4, column 9; " +
		"expected one of is, not, starts_with, ends_with, contains, in, not_in, matches"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	errs := err.(Errors)
	if e := errs[0]; e.Policy != "eng" || e.Line != 4 || e.Column != 9 ||
		e.Message != "unknown matcher `frobnicate` for `mcp_tool`" {
		t.Errorf("fields = %+v", e)
	}
}

// TestErrorKinds checks each kind of error: its line, column and message.
func TestErrorKinds(t *testing.T) {
	for _, tc := range []struct {
		src       string
		line, col int
		message   string // a part of Error()
	}{
		{"allow:\n  and:\n    - emial: x\n", 3, 7, "unknown criterion `emial` at line 3, column 7; did you mean `email`?"},
		{"allow:\n  and:\n    - claims/groups: x\n", 3, 7, "did you mean `claim/groups`?"},
		{"allow: {and: [{frob: 1}]}", 1, 16, "unknown criterion `frob` at line 1, column 16; expected one of accept, authenticated_user,"},
		{"alow:\n  and: []\n", 1, 1, "unknown key `alow` at line 1, column 1; did you mean `allow`?"},
		{"allow: {adn: [{accept: true}]}", 1, 9, "unknown operator `adn` at line 1, column 9; expected one of and, or, not, nor"},
		{"allow: {email: x}", 1, 9, "criterion `email` directly under `allow`"},
		{"allow: [ {email: x} ]", 1, 8, "`allow` holds a bare list of rules"},
		{"deny:\n  - mcp_tool: x\n", 2, 3, "`deny` holds a bare list of rules"},
		{"allow:\n  and: []", 2, 3, "`and` has an empty list"},
		{"allow:\n  or: {email: x}", 2, 7, "`or` needs a list of rules, not a mapping"},
		{"allow:", 1, 1, "`allow` needs an operator"},
		{"allow: {}", 1, 1, "`allow` needs an operator"},
		{"allow: {and: [email]}", 1, 15, "expected a criterion or an operator, not a single value"},
		{"allow: {and: [{}]}", 1, 15, "empty rule"},
		{"allow:\n  and:\n    - mcp_tool: {matches: \"a(\"}\n", 3, 27, "invalid regular expression for `mcp_tool`: missing closing ): `a(`"},
		{"allow:\n  and:\n    - source_ip: 10.0.0.0/33\n", 3, 18, "invalid CIDR `10.0.0.0/33` for `source_ip`"},
		{"allow: {and: [{source_ip: {in: [10.0.0.0/8, nope]}}]}", 1, 45, "invalid CIDR `nope`"},
		{"allow: {and: [{source_ip: fe80::1%eth0}]}", 1, 27, "zones are not allowed"},
		{"allow: {and: [{source_ip: {within: 10.0.0.0/8}}]}", 1, 28, "unknown matcher `within` for `source_ip`"},
		{"allow: {and: [{time_of_day: {between: [\"25:00\", \"10:00\"]}}]}", 1, 40, "invalid time `25:00` for `time_of_day`"},
		{"allow: {and: [{time_of_day: {between: [\"9:00\", \"10:00\"]}}]}", 1, 40, "invalid time `9:00`"},
		{"allow: {and: [{time_of_day: {between: [\"24:00\", \"10:00\"]}}]}", 1, 40, "invalid time `24:00`"},
		{"allow: {and: [{time_of_day: {between: [\"10:00\", \"24:01\"]}}]}", 1, 49, "invalid time `24:01`"},
		{"allow: {and: [{time_of_day: {between: [\"10:00\"]}}]}", 1, 39, "needs exactly two times, not 1"},
		{"allow: {and: [{time_of_day: {between: [\"10:00\", \"10:00\"]}}]}", 1, 39, "is an empty range"},
		{"allow: {and: [{time_of_day: {between: [\"10:00\", \"11:00\"], timezone: Mars/Olympus}}]}", 1, 69, "unknown time zone `Mars/Olympus`"},
		{"allow: {and: [{time_of_day: {timezone: UTC}}]}", 1, 29, "`time_of_day` needs `between`"},
		{"allow: {and: [{time_of_day: \"09:00\"}]}", 1, 29, "`time_of_day` needs a mapping"},
		{"allow: {and: [{time_of_day: {from: x}}]}", 1, 30, "unknown matcher `from` for `time_of_day`"},
		{"allow: {and: [{day_of_week: {is: funday}}]}", 1, 34, "unknown day `funday`"},
		{"allow: {and: [{day_of_week: {timezone: UTC}}]}", 1, 29, "`day_of_week` needs days"},
		{"allow: {and: [{day_of_week: {on: mon}}]}", 1, 30, "unknown matcher `on` for `day_of_week`"},
		{"allow:\n  and:\n    - mcp_tool: {in: x}\n", 3, 22, "`in` for `mcp_tool` needs a list, not a single value"},
		{"allow: {and: [{mcp_tool: {in: []}}]}", 1, 31, "`in` for `mcp_tool` has an empty list"},
		{"allow: {and: [{mcp_tool: {is: [a]}}]}", 1, 31, "`is` for `mcp_tool` needs a value, not a list"},
		{"allow: {and: [{mcp_tool: {is: ''}}]}", 1, 31, "needs a non-empty value"},
		{"allow: {and: [{mcp_tool: ~}]}", 1, 26, "`mcp_tool` needs a value, not null"},
		{"allow: {and: [{mcp_tool: {in: [a, {b: c}]}}]}", 1, 35, "each item of `in` for `mcp_tool` needs a value, not a mapping"},
		{"allow: {and: [{email: {}}]}", 1, 23, "`email` needs a matcher"},
		{"allow: {and: [{groups: [a, b]}]}", 1, 24, "`groups` takes a matcher, not a bare list"},
		{"allow: {and: [{groups: {matches: x}}]}", 1, 25, "unknown matcher `matches` for `groups` at line 1, column 25; expected one of has, has_any, has_all, exclude, is"},
		{"allow: {and: [{groups: {has_any: x}}]}", 1, 34, "`has_any` for `groups` needs a list"},
		{"allow: {and: [{claim/x: {exists: false, is: y}}]}", 1, 25, "`exists: false` cannot be combined"},
		{"allow: {and: [{claim/x: {exists: maybe}}]}", 1, 34, "takes a boolean"},
		{"allow: {and: [{claim/x: {hass: y}}]}", 1, 26, "did you mean `has`?"},
		{"allow: {and: [{mcp_argument/a~2: x}]}", 1, 16, "invalid JSON pointer in `mcp_argument/a~2`"},
		{"allow: {and: [{claim: x}]}", 1, 16, "`claim` needs a name after the slash"},
		{"allow: {and: [{mcp_argument/: x}]}", 1, 16, "`mcp_argument` needs a name after the slash"},
		{"allow: {and: [{email/x: x}]}", 1, 16, "`email` takes no `/…` suffix"},
		{"allow: {and: [{accept: false}]}", 1, 24, "`accept` only takes `true`"},
		{"allow: {and: [{accept: yes please}]}", 1, 24, "`accept` takes a boolean"},
		{"allow: {and: [{authenticated_user: {is: true}}]}", 1, 36, "`authenticated_user` takes a boolean, not a mapping"},
		{"allow: {and: [{email: x, domain: y}]}", 1, 15, "a rule holds exactly one criterion or operator; found 2: `email`, `domain`"},
		{"allow: {and: [{accept: true}]}\nallow: {}", 2, 1, "duplicate key `allow` at line 2, column 1; first given at line 1"},
		{"allow: {and: [{mcp_tool: {is: a, is: b}}]}", 1, 34, "duplicate key `is`"},
		{"allow: {and: [{[a]: x}]}", 1, 16, "expected a name, not a list"},
		{"a: &x 1\nallow: {and: [*x]}", 2, 15, "YAML aliases (`*x`) are not supported"},
		{"allow:\n  and:\n  - x: [\n", 3, 0, "invalid YAML: did not find expected node content at line 3"},
		{"allow: {and: [{x: \"a\tb}]}", 0, 0, "invalid YAML: found unexpected end of stream"},
		{"", 0, 0, "empty policy"},
		{"# only a comment\n", 0, 0, "empty policy"},
		{"~", 1, 1, "empty policy"},
		{"42", 1, 1, "a policy cannot be a single value"},
		{"[]", 1, 1, "a policy cannot be a list"},
		{"- 1", 1, 3, "expected a rule with `allow` or `deny`"},
		{"---\nallow: {and: [{accept: true}]}\n---\ndeny: {}\n", 3, 1, "a second YAML document"},
		{"deny: {and: [{mcp_tool: x}]}\nfoo: 1", 2, 1, "unknown key `foo`"},
	} {
		errs := parseErrors(t, tc.src)
		found := false
		for _, e := range errs {
			if e.Policy != "test" {
				t.Errorf("%q: Policy = %q", tc.src, e.Policy)
			}
			found = found || e.Line == tc.line && e.Column == tc.col && strings.Contains(e.Error(), tc.message)
		}
		if !found {
			t.Errorf("%q:\n  got  %v\n  want %d:%d …%s…", tc.src, errs, tc.line, tc.col, tc.message)
		}
	}
}

func TestAllErrorsAtOnce(t *testing.T) {
	src := `allow:
  and:
    - emial: alice@company.com
    - mcp_tool: {frobnicate: x}
deny:
  or:
    - source_ip: 10.0.0.0/99
`
	errs := parseErrors(t, src)
	if len(errs) != 3 {
		t.Fatalf("got %d errors, want 3:\n%v", len(errs), errs)
	}
	for i, want := range []struct{ line, col int }{{3, 7}, {4, 18}, {7, 18}} {
		if errs[i].Line != want.line || errs[i].Column != want.col {
			t.Errorf("error %d at %d:%d, want %d:%d", i, errs[i].Line, errs[i].Column, want.line, want.col)
		}
	}
	if n := strings.Count(errs.Error(), "\n"); n != 2 {
		t.Errorf("Errors.Error has %d newlines, want 2:\n%v", n, errs)
	}
}

func TestErrorWithoutPolicyName(t *testing.T) {
	e := Error{Message: "boom", Line: 2}
	if got := e.Error(); got != "boom at line 2" {
		t.Errorf("got %q", got)
	}
	if got := (Error{Message: "boom"}).Error(); got != "boom" {
		t.Errorf("got %q", got)
	}
}

func TestClosest(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{"emial", "email"}, {"EMAIL", "email"}, {"mcp_tools", "mcp_tool"}, {"grups", "groups"},
		{"xyz", ""}, {"a", ""}, {"source", ""},
	} {
		if s := closest(tc.got, criterionNames); s != tc.want {
			t.Errorf("closest(%q) = %q, want %q", tc.got, s, tc.want)
		}
	}
}

func TestNestingLimit(t *testing.T) {
	nest := func(levels int) string {
		return "allow: " + strings.Repeat("{and: [", levels) + "{accept: true}" + strings.Repeat("]}", levels)
	}
	parse(t, nest(maxDepth))
	errs := parseErrors(t, nest(maxDepth+1))
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "nested too deeply") {
		t.Errorf("got %v", errs)
	}
}

func TestLocalTimeZoneRefused(t *testing.T) {
	// The server's zone is not something a policy should depend on.
	errs := parseErrors(t, `allow: {and: [{time_of_day: {between: ["09:00", "17:00"], timezone: Local}}]}`)
	if !strings.Contains(errs[0].Message, "unknown time zone `Local`") {
		t.Errorf("got %v", errs)
	}
}
