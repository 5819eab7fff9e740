package policy

import (
	"reflect"
	"testing"
)

// In these policies T is a rule that matches alice() and F one that does not.
const (
	T = "{accept: true}"
	F = "{mcp_tool: nope}"
)

func TestOperators(t *testing.T) {
	for _, tc := range []struct {
		policy string
		want   bool
	}{
		{"allow: {and: [" + T + ", " + T + "]}", true},
		{"allow: {and: [" + T + ", " + F + "]}", false},
		{"allow: {or: [" + F + ", " + T + "]}", true},
		{"allow: {or: [" + F + ", " + F + "]}", false},
		// PPL: not is "none of" (¬A ∧ ¬B).
		{"allow: {not: [" + F + ", " + F + "]}", true},
		{"allow: {not: [" + F + ", " + T + "]}", false},
		{"allow: {not: [" + T + ", " + T + "]}", false},
		// PPL: nor is "not all of" (¬A ∨ ¬B).
		{"allow: {nor: [" + T + ", " + F + "]}", true},
		{"allow: {nor: [" + F + ", " + F + "]}", true},
		{"allow: {nor: [" + T + ", " + T + "]}", false},
		// Nesting.
		{"allow: {and: [" + T + ", {or: [" + F + ", " + T + "]}]}", true},
		{"allow: {and: [" + T + ", {or: [" + F + ", " + F + "]}]}", false},
		{"allow: {or: [{and: [" + T + ", " + F + "]}, {not: [" + F + "]}]}", true},
		{"allow: {and: [{not: [{and: [" + T + ", " + F + "]}]}]}", true},
		{"allow: {and: [{nor: [{or: [" + T + "]}]}]}", false},
		// Several operators in one block are alternatives, as in PPL.
		{"allow: {and: [" + F + "], or: [" + T + "]}", true},
		{"allow: {and: [" + F + "], not: [" + T + "]}", false},
		// A top-level list of rules adds up, as in PPL.
		{"- allow: {and: [" + F + "]}\n- allow: {and: [" + T + "]}", true},
		{"- allow: {and: [" + T + "]}\n- deny: {and: [" + T + "]}", false},
		// Deny wins.
		{"allow: {and: [" + T + "]}\ndeny: {and: [" + T + "]}", false},
		{"allow: {and: [" + T + "]}\ndeny: {and: [" + F + "]}", true},
		{"deny: {and: [" + F + "]}", false}, // no allow at all
		{"allow: {or: [" + T + "]}\ndeny: {not: [" + T + "]}", true},
	} {
		p := parse(t, tc.policy)
		if got := p.Evaluate(alice()); got.Allow != tc.want {
			t.Errorf("%s\n  = %v, want %v", tc.policy, got, tc.want)
		}
		if got := p.Allowed(alice()); got != tc.want {
			t.Errorf("%s\n  Allowed = %v, want %v", tc.policy, got, tc.want)
		}
	}
}

func TestReasons(t *testing.T) {
	src := `allow:
  and:
    - domain: {is: company.com}
    - groups: {has: engineering}
deny:
  or:
    - mcp_tool: {starts_with: admin_}
    - mcp_tool: {in: [delete_repo, drop_table]}
`
	p, err := Parse("eng", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	in := alice()

	in.MCPTool = "drop_table"
	want := Decision{Reasons: []Reason{{Policy: "eng", Block: "deny", Rule: "deny.or[1].mcp_tool",
		Criterion: "mcp_tool", Matched: "drop_table", Line: 8, Column: 7}}}
	if got := p.Evaluate(in); !reflect.DeepEqual(got, want) {
		t.Errorf("deny: got %+v\nwant %+v", got, want)
	}

	in.MCPTool = "db_query"
	want = Decision{Allow: true, Reasons: []Reason{
		{Policy: "eng", Block: "allow", Rule: "allow.and[0].domain", Criterion: "domain", Matched: "Company.com", Line: 3, Column: 7},
		{Policy: "eng", Block: "allow", Rule: "allow.and[1].groups", Criterion: "groups", Matched: "engineering", Line: 4, Column: 7},
	}}
	if got := p.Evaluate(in); !reflect.DeepEqual(got, want) {
		t.Errorf("allow: got %+v\nwant %+v", got, want)
	}

	in.Email = "mallory@elsewhere.org"
	want = Decision{Reasons: []Reason{{Policy: "eng", Block: "default", Note: NoteNoAllow}}}
	if got := p.Evaluate(in); !reflect.DeepEqual(got, want) {
		t.Errorf("default: got %+v\nwant %+v", got, want)
	}
	if got, want := p.Evaluate(in).String(), `deny: policy "eng" no allow rule matched`; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}

func TestReasonsOfOperators(t *testing.T) {
	p := parse(t, `allow:
  or:
    - mcp_tool: nope
    - not:
        - email: bob@company.com
deny:
  nor:
    - accept: true
    - http_method: GET
`)
	got := p.Evaluate(alice())
	want := []Reason{{Policy: "test", Block: "deny", Rule: "deny.nor", Criterion: "nor", Line: 7, Column: 3}}
	if !reflect.DeepEqual(got.Reasons, want) {
		t.Errorf("nor reasons = %+v, want %+v", got.Reasons, want)
	}
	if s := got.String(); s != `deny: policy "test" deny.nor (line 7) matched` {
		t.Errorf("String = %q", s)
	}

	p = parse(t, `allow:
  or:
    - mcp_tool: nope
    - not:
        - email: bob@company.com
`)
	got = p.Evaluate(alice())
	want = []Reason{{Policy: "test", Block: "allow", Rule: "allow.or[1].not", Criterion: "not", Line: 4, Column: 7}}
	if !got.Allow || !reflect.DeepEqual(got.Reasons, want) {
		t.Errorf("not reasons = %+v, want %+v", got, want)
	}
}

func TestSeveralPolicies(t *testing.T) {
	allowEng := MustParse("eng", "allow: {and: [{groups: engineering}]}")
	allowSales := MustParse("sales", "allow: {and: [{groups: sales}]}")
	denyAdmin := MustParse("no-admin", "deny: {or: [{mcp_tool: {starts_with: admin_}}]}")
	denyDB := MustParse("no-db", "deny: {or: [{mcp_tool: {starts_with: db_}}]}")

	for _, tc := range []struct {
		name     string
		policies []*Policy
		want     bool
		reasons  []string // Policy/Block of each reason
	}{
		{"none", nil, false, []string{"/default"}},
		{"one allows", []*Policy{allowSales, allowEng}, true, []string{"eng/allow"}},
		{"none allows", []*Policy{allowSales}, false, []string{"sales/default"}},
		{"allow and unrelated deny", []*Policy{allowEng, denyAdmin}, true, []string{"eng/allow"}},
		{"deny wins", []*Policy{allowEng, denyDB}, false, []string{"no-db/deny"}},
		{"deny-only", []*Policy{denyAdmin}, false, []string{"no-admin/default"}},
		{"every denier", []*Policy{denyDB, allowEng, denyDB}, false, []string{"no-db/deny", "no-db/deny"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Evaluate(tc.policies, alice())
			if d.Allow != tc.want {
				t.Errorf("Allow = %v, want %v", d.Allow, tc.want)
			}
			if got := Allowed(tc.policies, alice()); got != tc.want {
				t.Errorf("Allowed = %v, want %v", got, tc.want)
			}
			var got []string
			for _, r := range d.Reasons {
				got = append(got, r.Policy+"/"+r.Block)
			}
			if !reflect.DeepEqual(got, tc.reasons) {
				t.Errorf("reasons = %v, want %v", got, tc.reasons)
			}
		})
	}
	if s := Evaluate(nil, alice()).String(); s != "deny: no policy allows" {
		t.Errorf("String = %q", s)
	}
}

func TestPolicyAccessors(t *testing.T) {
	src := "allow: {and: [{accept: true}]}\n"
	p, err := Parse("open", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != "open" || p.Source() != src {
		t.Errorf("Name, Source = %q, %q", p.Name(), p.Source())
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParse did not panic")
		}
	}()
	MustParse("bad", "allow: 1")
}
