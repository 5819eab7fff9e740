package views

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func simulatorProps(result *SimulationResult) SimulatorProps {
	return SimulatorProps{
		Page:   page(SectionPolicies, adminViewer()),
		Users:  []Option{{Value: "1", Label: "Alice"}, {Value: "2", Label: "Bob"}},
		Routes: []Option{{Value: "1", Label: "GitHub"}, {Value: "2", Label: "Linear"}},
		Form:   SimulatorForm{UserID: "2", RouteID: "2", MCPMethod: "tools/call", Tool: "admin_reset", Arguments: `{"repo":"acme/api"}`},
		Result: result,
	}
}

func TestSimulatorForm(t *testing.T) {
	doc, _ := render(t, SimulatorPage(simulatorProps(nil)))
	form := mustOne(t, doc, testid("sim-form"))
	if a, _ := form.Attr("action"); strings.Split(a, "#")[0] != "/admin/policies/simulate" {
		t.Errorf("action = %q", a)
	}
	if m, _ := form.Attr("method"); m != "post" {
		t.Errorf("method = %q", m)
	}
	user := mustOne(t, doc, `select[name="user"]`).Find("option")
	if v, _ := user.First().Attr("value"); v != "" || text(user.First()) != "Type an identity…" {
		t.Errorf("first user option = %q %q", v, text(user.First()))
	}
	if v, _ := user.Filter("[selected]").Attr("value"); v != "2" {
		t.Errorf("selected user = %q", v)
	}
	if v, _ := mustOne(t, doc, `select[name="route"] option[selected]`).Attr("value"); v != "2" {
		t.Errorf("selected route = %q", v)
	}
	for _, name := range []string{"email", "groups", "tool"} {
		mustOne(t, doc, `input[name="`+name+`"]`)
	}
	// The HTTP method defaults to POST, as MCP messages are sent.
	if v, _ := mustOne(t, doc, `input[name="http_method"]`).Attr("value"); v != "POST" {
		t.Errorf("http_method = %q, want POST", v)
	}
	method := mustOne(t, doc, `input[name="mcp_method"]`)
	if v, _ := method.Attr("value"); v != "tools/call" {
		t.Errorf("mcp_method = %q", v)
	}
	list, _ := method.Attr("list")
	var suggested []string
	mustOne(t, doc, "datalist#"+list).Find("option").Each(func(_ int, o *goquery.Selection) {
		v, _ := o.Attr("value")
		suggested = append(suggested, v)
	})
	if got := strings.Join(suggested, " "); got != "tools/call tools/list initialize resources/read prompts/get" {
		t.Errorf("suggested MCP methods = %q", got)
	}
	if got := mustOne(t, doc, `textarea[name="arguments"]`).Text(); got != `{"repo":"acme/api"}` {
		t.Errorf("arguments = %q", got)
	}
	if got := text(mustOne(t, doc, testid("simulate-button"))); got != "Simulate" {
		t.Errorf("submit = %q", got)
	}
	// Before the first run, the result column says what will show there.
	mustOne(t, doc, testid("sim-waiting"))
	if doc.Find(testid("sim-result")).Length() != 0 {
		t.Error("result shown before a run")
	}
}

func TestSimulatorFieldErrors(t *testing.T) {
	p := simulatorProps(nil)
	p.Form.Errors = map[string]string{"arguments": "Arguments must be a JSON object.", "route": "Choose a route."}
	doc, _ := render(t, SimulatorPage(p))
	for field, sel := range map[string]string{"arguments": "textarea", "route": "select"} {
		el := mustOne(t, doc, sel+`[name="`+field+`"]`)
		if inv, _ := el.Attr("aria-invalid"); inv != "true" {
			t.Errorf("%s not aria-invalid", field)
		}
		if d, _ := el.Attr("aria-describedby"); d != field+"-error" {
			t.Errorf("%s aria-describedby = %q", field, d)
		}
		if got := text(mustOne(t, doc, testid("field-error-"+field))); got != p.Form.Errors[field] {
			t.Errorf("%s error = %q", field, got)
		}
	}
}

func TestSimulatorTrace(t *testing.T) {
	doc, _ := render(t, SimulatorPage(simulatorProps(&SimulationResult{
		Allow: false, Summary: "Denied by no-admin-tools: deny.or[0] mcp_tool starts_with admin_", Steps: sampleSteps(),
	})))
	res := mustOne(t, doc, "[data-sim-output] "+testid("sim-result"))
	if a, _ := res.Attr("data-allow"); a != "false" {
		t.Errorf("data-allow = %q", a)
	}
	if got := text(res.Find(testid("sim-verdict"))); got != "Denied" {
		t.Errorf("verdict = %q", got)
	}
	if got := text(res.Find(testid("sim-summary"))); got != "Denied by no-admin-tools: deny.or[0] mcp_tool starts_with admin_" {
		t.Errorf("summary = %q", got)
	}
	steps := res.Find(testid("sim-step"))
	if steps.Length() != 5 {
		t.Fatalf("%d steps, want 5", steps.Length())
	}
	// Depth indents by class, clamped to the deepest the stylesheet has.
	wantDepth := []string{"depth-0", "depth-1", "depth-1", "depth-2", "depth-8"}
	steps.Each(func(i int, s *goquery.Selection) {
		if !s.HasClass(wantDepth[i]) {
			c, _ := s.Attr("class")
			t.Errorf("step %d class = %q, want %s", i, c, wantDepth[i])
		}
		matched := sampleSteps()[i].Matched
		if m, _ := s.Attr("data-matched"); m != map[bool]string{true: "true", false: "false"}[matched] {
			t.Errorf("step %d data-matched = %q", i, m)
		}
		if s.HasClass("is-matched") != matched {
			t.Errorf("step %d is-matched = %v", i, s.HasClass("is-matched"))
		}
		mark := map[bool]string{true: "Matched:", false: "Did not match:"}[matched]
		if got := text(s.Find(".trace-mark")); got != mark {
			t.Errorf("step %d mark = %q, want %q", i, got, mark)
		}
	})
	// One step decided, and it is marked for the eye and in words.
	deciding := res.Find(".is-decider")
	if deciding.Length() != 1 {
		t.Fatalf("%d deciding steps, want 1", deciding.Length())
	}
	if d, _ := deciding.Attr("data-decides"); d != "true" {
		t.Errorf("deciding step data-decides = %q", d)
	}
	if got := text(deciding.Find(testid("sim-decider"))); got != "Decided" {
		t.Errorf("decider label = %q", got)
	}
	if got := text(deciding.Find(".trace-rule")); got != "deny.or[0].mcp_tool" {
		t.Errorf("deciding rule = %q", got)
	}
	if got := text(deciding.Find(".trace-line")); got != "line 7" {
		t.Errorf("deciding line = %q", got)
	}
	// Each policy is named once, above its own steps.
	var policies []string
	res.Find(".trace-policy").Each(func(_ int, p *goquery.Selection) { policies = append(policies, text(p)) })
	if got := strings.Join(policies, ","); got != "company-only,no-admin-tools" {
		t.Errorf("policy groups = %q", got)
	}
	if n := res.Find(".trace-group").Last().Find(testid("sim-step")).Length(); n != 3 {
		t.Errorf("no-admin-tools has %d steps, want 3", n)
	}
}

func TestSimulatorAllowedWithoutSteps(t *testing.T) {
	doc, _ := render(t, SimulatorPage(simulatorProps(&SimulationResult{Allow: true, Summary: "Allowed."})))
	res := mustOne(t, doc, testid("sim-result"))
	if a, _ := res.Attr("data-allow"); a != "true" || !res.HasClass("sim-allow") {
		t.Errorf("data-allow = %q, classes %v", a, res.HasClass("sim-allow"))
	}
	if got := text(res.Find(testid("sim-verdict"))); got != "Allowed" {
		t.Errorf("verdict = %q", got)
	}
	mustOne(t, doc, testid("sim-no-steps"))
}
