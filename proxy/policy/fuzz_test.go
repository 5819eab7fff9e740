package policy

import (
	"encoding/json"
	"net/netip"
	"testing"
)

// FuzzParse checks that no policy text makes Parse panic, that every
// failure is a non-empty Errors, and that a policy that parses can be
// evaluated on assorted inputs without panicking, Allowed agreeing with
// Evaluate. Seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(twentyRules))
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := Parse("fuzz", src)
		if err != nil {
			errs, ok := err.(Errors)
			if !ok || len(errs) == 0 {
				t.Fatalf("Parse error %T %v is not a non-empty Errors", err, err)
			}
			_ = errs.Error()
			return
		}
		if p.Source() != string(src) {
			t.Fatal("Source changed")
		}
		for _, in := range fuzzInputs() {
			d := p.Evaluate(in)
			if len(d.Reasons) == 0 {
				t.Fatal("a decision without reasons")
			}
			if p.Allowed(in) != d.Allow {
				t.Fatalf("Allowed = %v, Evaluate = %v", !d.Allow, d)
			}
			if e := p.Explain(in); e.Decision.Allow != d.Allow {
				t.Fatal("Explain and Evaluate disagree")
			}
			_ = d.String()
		}
	})
}

func fuzzInputs() []*Input {
	tool := alice()
	list := alice()
	list.MCPMethod, list.MCPTool, list.Arguments = "tools/list", "", nil
	anon := &Input{MCPMethod: "initialize", SourceIP: netip.MustParseAddr("2001:db8::1")}
	odd := alice()
	odd.Arguments = json.RawMessage(`[1, {"a": [null, true, 2.5e10]}, "x"]`)
	odd.Claims = map[string]any{"role": []any{1, nil, map[string]any{}}, "n": uint32(7)}
	bad := alice()
	bad.Arguments = json.RawMessage(`{"a":1,"A":2}`)
	return []*Input{tool, list, anon, odd, bad}
}
