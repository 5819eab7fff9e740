package views

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func TestPoliciesTableRows(t *testing.T) {
	doc, _ := render(t, configPages()["policies"])
	rows := doc.Find(testid("policies-table") + " " + testid("policy-row"))
	if rows.Length() != 3 {
		t.Fatalf("%d rows, want 3", rows.Length())
	}
	first := rows.First()
	if href, _ := first.Find("a" + testid("policy-name")).Attr("href"); href != "/admin/policies/1" {
		t.Errorf("policy links to %q", href)
	}
	if got := text(first.Find(testid("policy-description"))); got != "Anyone at company.com" {
		t.Errorf("description = %q", got)
	}
	if got := items(first.Find(testid("policy-routes"))); got != "GitHub Chat" {
		t.Errorf("routes = %q", got)
	}
	if dt, _ := first.Find("time").Attr("datetime"); dt != "2026-03-01T12:30:00Z" {
		t.Errorf("updated datetime = %q", dt)
	}
	if got := text(first.Find("time")); got != "1 Mar 2026 12:30 UTC" {
		t.Errorf("updated = %q", got)
	}
	if got := text(rows.Eq(1).Find(testid("policy-routes"))); got != "Not used" {
		t.Errorf("unused policy routes = %q", got)
	}
	for id, href := range map[string]string{"simulator-button": "/admin/policies/simulate", "new-policy-button": "/admin/policies/new"} {
		if got, _ := mustOne(t, doc, testid(id)).Attr("href"); got != href {
			t.Errorf("%s links to %q, want %q", id, got, href)
		}
	}
	mustOne(t, doc, testid("policy-search"))
	mustOne(t, doc, testid("pagination"))
}

func TestPoliciesEmptyStates(t *testing.T) {
	doc, _ := render(t, PoliciesPage(PoliciesProps{Page: page(SectionPolicies, adminViewer())}))
	empty := mustOne(t, doc, testid("empty-state"))
	if !strings.Contains(text(empty), "No policies yet") {
		t.Errorf("empty state = %q", text(empty))
	}
	if href, _ := empty.Find(testid("empty-new-policy")).Attr("href"); href != "/admin/policies/new" {
		t.Errorf("empty state links to %q", href)
	}
	// The simulator is still one click away.
	mustOne(t, doc, testid("simulator-button"))

	doc, _ = render(t, PoliciesPage(PoliciesProps{Page: page(SectionPolicies, adminViewer()), Query: "zed"}))
	if got := text(mustOne(t, doc, testid("empty-state"))); !strings.Contains(got, "No policies match “zed”") {
		t.Errorf("no-match state = %q", got)
	}
}

func policyEditProps(source string, errs ...SourceError) PolicyFormProps {
	return PolicyFormProps{
		Page: page(SectionPolicies, adminViewer()), ID: 3,
		Form: PolicyForm{Name: "no-admin-tools", Source: source, SourceErrors: errs},
	}
}

func TestPolicyEditor(t *testing.T) {
	const source = "allow:\n  and:\n    - grups: {has: eng}\n"
	doc, _ := render(t, PolicyFormPage(policyEditProps(source,
		SourceError{Line: 3, Column: 7, Message: `unknown criterion "grups"`},
		SourceError{Line: 3, Column: 14, Message: "second problem on the same line"},
		SourceError{Message: "no deny block"},
	)))
	form := mustOne(t, doc, testid("policy-form"))
	if a, _ := form.Attr("action"); a != "/admin/policies/3" {
		t.Errorf("action = %q", a)
	}
	src := mustOne(t, doc, "textarea"+testid("policy-source"))
	for attr, want := range map[string]string{"name": "source", "id": "source", "spellcheck": "false", "rows": "18", "wrap": "off", "aria-invalid": "true", "aria-describedby": "source-errors"} {
		if got, _ := src.Attr(attr); got != want {
			t.Errorf("source %s = %q, want %q", attr, got, want)
		}
	}
	if !src.HasClass("textarea-mono") {
		t.Error("source is not monospace")
	}
	if got := src.Text(); got != source {
		t.Errorf("source text = %q, want %q", got, source)
	}
	mustOne(t, doc, `label[for="source"]`)

	errs := doc.Find("#source-errors " + testid("source-error"))
	if errs.Length() != 3 {
		t.Fatalf("%d source errors, want 3", errs.Length())
	}
	want := []struct{ text, line, column string }{
		{`Line 3, column 7: unknown criterion "grups"`, "3", "7"},
		{"Line 3, column 14: second problem on the same line", "3", "14"},
		{"no deny block", "0", "0"},
	}
	errs.Each(func(i int, e *goquery.Selection) {
		if got := text(e); got != want[i].text {
			t.Errorf("error %d = %q, want %q", i, got, want[i].text)
		}
		if l, _ := e.Attr("data-line"); l != want[i].line {
			t.Errorf("error %d data-line = %q", i, l)
		}
		if c, _ := e.Attr("data-column"); c != want[i].column {
			t.Errorf("error %d data-column = %q", i, c)
		}
	})
	// Each placed error links to the source; app.js moves the cursor there.
	if href, _ := errs.First().Find("a[data-goto-line]").Attr("href"); href != "#source" {
		t.Errorf("error links to %q", href)
	}
	if errs.Last().Find("a").Length() != 0 {
		t.Error("an error without a line links somewhere")
	}
	// The editor marks each bad line once.
	editor := mustOne(t, doc, "[data-code-editor]")
	if lines, _ := editor.Attr("data-error-lines"); lines != "3" {
		t.Errorf("data-error-lines = %q, want 3", lines)
	}
	// The gutter is the script's to show: without it, a plain textarea.
	for _, sel := range []string{"[data-code-gutter]", "[data-code-backdrop]"} {
		el := mustOne(t, doc, sel)
		if _, hidden := el.Attr("hidden"); !hidden {
			t.Errorf("%s shown before app.js runs", sel)
		}
		if h, _ := el.Attr("aria-hidden"); h != "true" {
			t.Errorf("%s not hidden from assistive tech", sel)
		}
	}
}

func TestPolicyEditorClean(t *testing.T) {
	doc, _ := render(t, PolicyFormPage(PolicyFormProps{Page: page(SectionPolicies, adminViewer()), IsNew: true}))
	if a, _ := mustOne(t, doc, testid("policy-form")).Attr("action"); a != "/admin/policies" {
		t.Errorf("action = %q", a)
	}
	src := mustOne(t, doc, testid("policy-source"))
	if _, bad := src.Attr("aria-invalid"); bad {
		t.Error("fresh source marked invalid")
	}
	if d, _ := src.Attr("aria-describedby"); d != "source-hint" {
		t.Errorf("aria-describedby = %q", d)
	}
	if doc.Find(testid("source-error")).Length() != 0 {
		t.Error("errors on a fresh form")
	}
	for _, id := range []string{"danger-zone", "used-by", "recent-changes"} {
		if doc.Find(testid(id)).Length() != 0 {
			t.Errorf("new policy shows %s", id)
		}
	}
}

// A policy's source is whatever an admin typed: it stays inside the
// textarea, as text.
func TestPolicySourceIsEscaped(t *testing.T) {
	const source = "allow:\n</textarea><script>alert(1)</script>\n"
	doc, html := render(t, PolicyFormPage(policyEditProps(source)))
	if n := doc.Find("script").Length(); n != 1 {
		t.Errorf("%d <script> elements, want only app.js", n)
	}
	if got := mustOne(t, doc, testid("policy-source")).Text(); got != source {
		t.Errorf("source text = %q, want %q", got, source)
	}
	if !strings.Contains(html, "&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("source not escaped in the markup")
	}
}

// HTML drops a newline at the very start of a textarea; a source that
// begins with a blank line keeps it, so line numbers match the errors.
func TestTextareasKeepLeadingNewline(t *testing.T) {
	const source = "\n\nallow:\n  accept: true"
	doc, _ := render(t, PolicyFormPage(policyEditProps(source)))
	if got := mustOne(t, doc, testid("policy-source")).Text(); got != source {
		t.Errorf("source = %q, want %q", got, source)
	}
	doc, _ = render(t, SimulatorPage(SimulatorProps{Page: page(SectionPolicies, adminViewer()), Form: SimulatorForm{Arguments: "\n{}"}}))
	if got := mustOne(t, doc, `textarea[name="arguments"]`).Text(); got != "\n{}" {
		t.Errorf("arguments = %q", got)
	}
}

func TestPolicyCheatSheet(t *testing.T) {
	doc, _ := render(t, PolicyFormPage(PolicyFormProps{Page: page(SectionPolicies, adminViewer()), IsNew: true}))
	sheet := mustOne(t, doc, "details"+testid("cheatsheet"))
	if _, open := sheet.Attr("open"); open {
		t.Error("cheat sheet starts open")
	}
	got := text(sheet)
	for _, want := range []string{"allow", "deny", "nor", "mcp_tool", "mcp_argument/<json-pointer>", "claim/<name>", "starts_with", "matches", "has_any", "has_all", "day_of_week"} {
		if !strings.Contains(got, want) {
			t.Errorf("cheat sheet lacks %q", want)
		}
	}
	if ex := mustOne(t, doc, testid("policy-example")).Text(); !strings.Contains(ex, "    - mcp_tool: {starts_with: admin_}\n") {
		t.Errorf("example lost its layout: %q", ex)
	}
}

func TestPolicyFormEditSideColumn(t *testing.T) {
	t.Run("in use", func(t *testing.T) {
		p := policyEditProps("allow: {accept: true}")
		p.Routes = sampleRoutes()[:2]
		p.History = sampleHistory()
		doc, _ := render(t, PolicyFormPage(p))
		used := doc.Find(testid("used-by-route"))
		if used.Length() != 2 {
			t.Fatalf("%d routes listed, want 2", used.Length())
		}
		if href, _ := used.First().Find("a").Attr("href"); href != "/admin/routes/1" {
			t.Errorf("route links to %q", href)
		}
		// A policy in use cannot be deleted: say so instead of offering it.
		zone := mustOne(t, doc, testid("danger-zone"))
		if zone.Find("form, details").Length() != 0 {
			t.Error("delete offered for a policy in use")
		}
		if got := text(zone.Find(testid("delete-blocked"))); !strings.Contains(got, "Used by 2 routes") || !strings.Contains(got, "cannot be deleted") {
			t.Errorf("blocked note = %q", got)
		}
		if doc.Find(testid("recent-change")).Length() != 2 {
			t.Error("recent changes not listed")
		}
		if href, _ := mustOne(t, doc, testid("simulate-link")).Attr("href"); href != "/admin/policies/simulate" {
			t.Errorf("simulate link = %q", href)
		}
	})
	t.Run("unused", func(t *testing.T) {
		doc, _ := render(t, PolicyFormPage(policyEditProps("allow: {accept: true}")))
		if got := text(mustOne(t, doc, testid("used-by-none"))); !strings.Contains(got, "No route uses this policy") {
			t.Errorf("used-by = %q", got)
		}
		del := mustOne(t, doc, "details"+testid("confirm-delete"))
		if a, _ := del.Find(`form[method="post"]`).Attr("action"); a != "/admin/policies/3/delete" {
			t.Errorf("delete action = %q", a)
		}
		if _, open := del.Attr("open"); open {
			t.Error("delete confirmation starts open")
		}
		if !strings.Contains(text(mustOne(t, doc, testid("danger-zone"))), "A policy in use cannot be deleted") {
			t.Error("danger zone does not warn that a policy in use cannot be deleted")
		}
	})
}
