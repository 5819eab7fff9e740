package policy

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestArgumentCriterion(t *testing.T) {
	notATool := func(in *Input) { in.MCPMethod, in.MCPTool = "tools/list", "" }
	noArgs := func(in *Input) { in.Arguments = nil }
	nullArgs := func(in *Input) { in.Arguments = json.RawMessage(" null ") }
	runCriterionCases(t, []criterionCase{
		{rule: "mcp_argument/repo: drawbridge", want: true},
		{rule: "mcp_argument/repo: {is: Drawbridge}", want: false},
		{rule: "mcp_argument/repo: {not: secrets}", want: true},
		{rule: "mcp_argument/repo: {starts_with: draw}", want: true},
		{rule: "mcp_argument/repo: {in: [a, drawbridge]}", want: true},
		{rule: "mcp_argument/repo: {not_in: [a, drawbridge]}", want: false},
		{rule: `mcp_argument/repo: {matches: "draw.*"}`, want: true},
		{rule: `mcp_argument/repo: {matches: "draw"}`, want: false},
		{rule: "mcp_argument/count: 5", want: true},
		{rule: `mcp_argument/count: {is: "5"}`, want: true},
		{rule: "mcp_argument/force: true", want: true},
		{rule: "mcp_argument/force: {is: false}", want: false},
		{rule: "mcp_argument/ratio: {is: 1.50}", want: true}, // JSON text as sent
		{rule: "mcp_argument/ratio: {is: 1.5}", want: false},
		{rule: "mcp_argument/filter/0/name: x", want: true},
		{rule: "mcp_argument/filter/1/name: x", want: false},
		{rule: "mcp_argument/filter/1/name: y", want: true},
		{rule: "mcp_argument/filter/2/name: {exists: false}", want: true},
		{rule: "mcp_argument/filter/01/name: {exists: true}", want: false}, // leading zero: not an index
		{rule: "mcp_argument/filter/-/name: {exists: true}", want: false},
		{rule: "mcp_argument/filter/x: {exists: true}", want: false},
		{rule: "mcp_argument/repo/x: {exists: true}", want: false}, // into a string
		{rule: "mcp_argument/a~1b: slash", want: true},             // ~1 is /
		{rule: "mcp_argument/m~0n: tilde", want: true},             // ~0 is ~
		{rule: "mcp_argument/a/b: {exists: true}", want: false},    // not the key "a/b"
		{rule: "mcp_argument//: {exists: true}", want: false},      // key "" then ""
		{rule: "mcp_argument/labels: {has: bug}", want: true},
		{rule: "mcp_argument/labels: {has_all: [bug, p1]}", want: true},
		{rule: "mcp_argument/labels: {has_any: [p0]}", want: false},
		{rule: "mcp_argument/labels: {exclude: wontfix}", want: true},
		{rule: "mcp_argument/labels/1: p1", want: true},
		{rule: "mcp_argument/labels: {is: bug}", want: false},
		{rule: "mcp_argument/one: {is: solo}", want: true},
		{rule: "mcp_argument/nothing: {exists: true}", want: true},
		{rule: "mcp_argument/nothing: {not: x}", want: false},
		{rule: "mcp_argument/obj: {exists: true}", want: true},
		{rule: "mcp_argument/obj/k: v", want: true},
		{rule: "mcp_argument/obj: {is: x}", want: false},
		{rule: "mcp_argument/missing: {exists: false}", want: true},
		{rule: "mcp_argument/missing: {exists: true}", want: false},
		{rule: "mcp_argument/missing: {not: x}", want: false},
		{rule: "mcp_argument/missing: {not_in: [x]}", want: false},
		{rule: "mcp_argument/missing: {exclude: x}", want: false},
		{rule: "mcp_argument/repo: {exists: true}", edit: noArgs, want: false},
		{rule: "mcp_argument/repo: {exists: false}", edit: noArgs, want: true},
		{rule: "mcp_argument/repo: {exists: false}", edit: nullArgs, want: true},
		{rule: "mcp_argument/repo: {exists: false}", edit: notATool, want: false},
		{rule: "mcp_argument/repo: {not: x}", edit: notATool, want: false},
		// A Go upstream reads {"REPO": …} as repo: so does the rule.
		{rule: "mcp_argument/repo: secrets", edit: upperRepo, want: true},
		{rule: "mcp_argument/Repo: drawbridge", want: true},
	})
}

func upperRepo(in *Input) { in.Arguments = json.RawMessage(`{"REPO":"secrets"}`) }

func TestUnreadableArgumentsAreDenied(t *testing.T) {
	p := parse(t, "allow: {and: [{accept: true}]}\ndeny: {or: [{mcp_argument/repo: secrets}]}")
	plain := parse(t, "allow: {and: [{accept: true}]}")
	for _, raw := range []string{
		`{"repo": "secrets", "repo": "ok"}`, // duplicate
		`{"repo": "secrets", "Repo": "ok"}`, // duplicate but for case
		`{"repo": `,                         // truncated
		`{"repo": "ok"} {}`,                 // trailing value
		`{"a": {"repo": "ok", "REPO": 1}}`,  // nested duplicate
	} {
		in := alice()
		in.Arguments = json.RawMessage(raw)
		d := p.Evaluate(in)
		want := []Reason{{Policy: "test", Block: "default", Criterion: "mcp_argument", Note: NoteBadArgument}}
		if d.Allow || !reflect.DeepEqual(d.Reasons, want) {
			t.Errorf("%s: %v, want deny with %v", raw, d, want)
		}
		if p.Allowed(in) {
			t.Errorf("%s: Allowed", raw)
		}
		if !plain.Allowed(in) {
			t.Errorf("%s: a policy without mcp_argument refused it", raw)
		}
	}
	// Not a tool call: arguments are not looked at.
	in := alice()
	in.MCPTool, in.Arguments = "", json.RawMessage(`{`)
	if !p.Allowed(in) {
		t.Error("a message that is not a tool call was refused for its arguments")
	}
}

func TestArgumentsDecodedOnceAndRefreshed(t *testing.T) {
	p := parse(t, rule("mcp_argument/repo: a"))
	in := alice()
	in.Arguments = json.RawMessage(`{"repo":"a"}`)
	if !p.Allowed(in) {
		t.Fatal("first evaluation")
	}
	first := in.args.root
	if !p.Allowed(in) {
		t.Fatal("second evaluation")
	}
	if reflect.ValueOf(in.args.root).Pointer() != reflect.ValueOf(first).Pointer() {
		t.Error("arguments decoded twice")
	}
	in.Arguments = json.RawMessage(`{"repo":"b"}`)
	if p.Allowed(in) {
		t.Error("new Arguments were not decoded again")
	}
}

func TestParsePointer(t *testing.T) {
	for _, tc := range []struct {
		ptr  string
		want []ptrToken
	}{
		{"/a", []ptrToken{{"a", -1}}},
		{"/a~1b/~0/0/10/01", []ptrToken{{"a/b", -1}, {"~", -1}, {"0", 0}, {"10", 10}, {"01", -1}}},
		{"/~01", []ptrToken{{"~1", -1}}},
		{"/", []ptrToken{{"", -1}}},
		{"/99999999999999999999999", []ptrToken{{"99999999999999999999999", -1}}},
	} {
		got, err := parsePointer(tc.ptr)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parsePointer(%q) = %v, %v; want %v", tc.ptr, got, err, tc.want)
		}
	}
	for _, bad := range []string{"/a~", "/a~2", "/~x"} {
		if _, err := parsePointer(bad); err == nil {
			t.Errorf("parsePointer(%q) accepted", bad)
		}
	}
}

func TestScalarText(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{"s", "s"}, {json.Number("1.0"), "1.0"}, {true, "true"}, {false, "false"},
		{float64(3), "3"}, {2.5, "2.5"}, {1e21, "1e+21"}, {1e-7, "1e-07"}, {float32(0.5), "0.5"},
		{7, "7"}, {int64(-8), "-8"}, {int32(9), "9"}, {uint(1), "1"}, {uint64(2), "2"}, {uint32(3), "3"},
	} {
		if got, ok := scalarText(tc.in); !ok || got != tc.want {
			t.Errorf("scalarText(%#v) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
	if _, ok := scalarText(map[string]any{}); ok {
		t.Error("an object is not a scalar")
	}
}
