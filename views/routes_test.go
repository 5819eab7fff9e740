package views

import (
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

func routeRowByID(t *testing.T, doc *goquery.Document, id string) *goquery.Selection {
	t.Helper()
	return mustOne(t, doc, testid("route-row")+`[data-route-id="`+id+`"]`)
}

func TestRoutesTableRows(t *testing.T) {
	doc, _ := render(t, RoutesPage(RoutesProps{
		Page: page(SectionRoutes, adminViewer()), Routes: sampleRoutes(),
		Pagination: Pagination{Page: 1, PerPage: 25, Total: 5},
	}))
	mustOne(t, doc, testid("routes-table"))
	if n := doc.Find(testid("route-row")).Length(); n != 5 {
		t.Fatalf("%d rows, want 5", n)
	}
	tests := []struct {
		id, name, kind, from, to, policies, app, status string
		muted                                           bool
	}{
		{"1", "GitHub", "MCP server", "http://github.localhost:8080", "http://127.0.0.1:9001/mcp", "company-only no-admin-tools", "github", "enabled", false},
		{"2", "Chat", "MCP client", "http://chat.localhost:8080", "http://127.0.0.1:3000", "company-only", "—", "enabled", false},
		{"3", "Grafana", "HTTP", "http://grafana.localhost:8080", "http://10.0.0.7:3000", "oncall", "—", "disabled", true},
	}
	for _, tt := range tests {
		row := routeRowByID(t, doc, tt.id)
		name := row.Find("a" + testid("route-name"))
		if got := text(name); got != tt.name {
			t.Errorf("route %s name = %q, want %q", tt.id, got, tt.name)
		}
		if href, _ := name.Attr("href"); href != "/admin/routes/"+tt.id {
			t.Errorf("route %s links to %q", tt.id, href)
		}
		for id, want := range map[string]string{"route-kind": tt.kind, "route-from": tt.from, "route-to": tt.to, "route-app": tt.app, "route-status": tt.status} {
			if got := text(row.Find(testid(id))); got != want {
				t.Errorf("route %s %s = %q, want %q", tt.id, id, got, want)
			}
		}
		if got := items(row.Find(testid("route-policies"))); got != tt.policies {
			t.Errorf("route %s policies = %q, want %q", tt.id, got, tt.policies)
		}
		if got := row.HasClass("row-muted"); got != tt.muted {
			t.Errorf("route %s muted = %v, want %v", tt.id, got, tt.muted)
		}
	}
	// A route without a policy lets nobody in, and the list says so.
	orders := routeRowByID(t, doc, "4")
	if orders.Find(testid("route-policies")).Length() != 0 {
		t.Error("empty policy list rendered")
	}
	if got := text(orders.Find(testid("route-no-policy"))); !strings.Contains(got, "denies all") {
		t.Errorf("no-policy note = %q", got)
	}
	if got := text(mustOne(t, doc, testid("pagination-text"))); got != "Showing 1–5 of 5" {
		t.Errorf("pagination = %q", got)
	}
}

func TestRoutesSearchAndNewButton(t *testing.T) {
	doc, _ := render(t, RoutesPage(RoutesProps{Page: page(SectionRoutes, adminViewer()), Query: "git", Routes: sampleRoutes()[:1]}))
	form := mustOne(t, doc, testid("route-search"))
	if m, _ := form.Attr("method"); m != "get" {
		t.Errorf("search method = %q", m)
	}
	if a, _ := form.Attr("action"); a != "/admin/routes" {
		t.Errorf("search action = %q", a)
	}
	q := form.Find(`input[name="q"]`)
	if v, _ := q.Attr("value"); v != "git" {
		t.Errorf("query kept as %q", v)
	}
	id, _ := q.Attr("id")
	mustOne(t, doc, `label[for="`+id+`"]`)
	if href, _ := mustOne(t, doc, testid("new-route-button")).Attr("href"); href != "/admin/routes/new" {
		t.Errorf("new route href = %q", href)
	}
}

func TestRoutesEmptyStates(t *testing.T) {
	t.Run("no routes", func(t *testing.T) {
		doc, _ := render(t, RoutesPage(RoutesProps{Page: page(SectionRoutes, adminViewer())}))
		empty := mustOne(t, doc, testid("empty-state"))
		for _, want := range []string{"No routes yet", "A route puts an MCP server behind Drawbridge:"} {
			if !strings.Contains(text(empty), want) {
				t.Errorf("empty state %q lacks %q", text(empty), want)
			}
		}
		if href, _ := mustOne(t, doc, testid("empty-new-route")).Attr("href"); href != "/admin/routes/new" {
			t.Errorf("empty state button links to %q", href)
		}
		// Nothing to search yet.
		if doc.Find(testid("route-search")+", "+testid("routes-table")).Length() != 0 {
			t.Error("search or table shown with no routes")
		}
	})
	t.Run("no match", func(t *testing.T) {
		doc, _ := render(t, RoutesPage(RoutesProps{Page: page(SectionRoutes, adminViewer()), Query: "jira"}))
		if got := text(mustOne(t, doc, testid("empty-state"))); !strings.Contains(got, "No routes match “jira”") {
			t.Errorf("empty state = %q", got)
		}
		if href, _ := mustOne(t, doc, testid("clear-search-empty")).Attr("href"); href != "/admin/routes" {
			t.Errorf("clear search href = %q", href)
		}
		mustOne(t, doc, testid("route-search"))
	})
}

func newRouteProps() RouteFormProps {
	return RouteFormProps{
		Page: page(SectionRoutes, adminViewer()), IsNew: true,
		Form:  RouteForm{Kind: "mcp_client", Enabled: true, TimeoutSeconds: "30"},
		Kinds: sampleKinds(), Policies: samplePolicyOptions(), Apps: sampleAppOptions(),
	}
}

func TestRouteFormNew(t *testing.T) {
	doc, _ := render(t, RouteFormPage(newRouteProps()))
	form := mustOne(t, doc, testid("route-form"))
	if a, _ := form.Attr("action"); a != "/admin/routes" {
		t.Errorf("action = %q", a)
	}
	if m, _ := form.Attr("method"); m != "post" {
		t.Errorf("method = %q", m)
	}
	for name, placeholder := range map[string]string{"from": "http://github.localhost:8080", "to": "http://127.0.0.1:9001/mcp"} {
		if p, _ := mustOne(t, doc, `input[name="`+name+`"]`).Attr("placeholder"); p != placeholder {
			t.Errorf("%s placeholder = %q, want %q", name, p, placeholder)
		}
	}
	if got := text(mustOne(t, doc, "#from-hint")); got != "scheme://host[:port][/path] people and MCP clients use" {
		t.Errorf("from hint = %q", got)
	}
	// Kind: one radio per kind, the form's own checked, each with its hint.
	radios := doc.Find(`input[type="radio"][name="kind"]`)
	if radios.Length() != 3 {
		t.Fatalf("%d kind radios, want 3", radios.Length())
	}
	if v, _ := doc.Find(`input[name="kind"][checked]`).Attr("value"); v != "mcp_client" {
		t.Errorf("checked kind = %q, want mcp_client", v)
	}
	if got := text(mustOne(t, doc, "#kind-http-hint")); got != "A plain web app behind identity-aware access" {
		t.Errorf("http hint = %q", got)
	}
	// Policies: checkboxes valued by ID, the route's ticked.
	boxes := doc.Find(testid("policy-choices") + ` input[type="checkbox"][name="policies"]`)
	if boxes.Length() != 3 {
		t.Fatalf("%d policy checkboxes, want 3", boxes.Length())
	}
	boxes.Each(func(i int, b *goquery.Selection) {
		v, _ := b.Attr("value")
		_, checked := b.Attr("checked")
		if want := []string{"1", "2", "3"}[i]; v != want {
			t.Errorf("policy %d value = %q, want %q", i, v, want)
		}
		if checked != (i == 0) {
			t.Errorf("policy %d checked = %v", i, checked)
		}
		id, _ := b.Attr("id")
		mustOne(t, doc, `label[for="`+id+`"]`)
	})
	// Upstream app: "None" first, valued "", then every app.
	opts := mustOne(t, doc, `select[name="upstream_app"]`).Find("option")
	if v, _ := opts.First().Attr("value"); v != "" || text(opts.First()) != "None" {
		t.Errorf("first app option = %q %q, want None with value \"\"", v, text(opts.First()))
	}
	if v, _ := opts.Filter("[selected]").Attr("value"); v != "2" {
		t.Errorf("selected app = %q, want 2", v)
	}
	if href, _ := mustOne(t, doc, testid("new-app-link")).Attr("href"); href != "/admin/apps/new" {
		t.Errorf("new app link = %q", href)
	}
	// Advanced settings start folded, with their values in place.
	adv := mustOne(t, doc, "details"+testid("section-advanced"))
	if _, open := adv.Attr("open"); open {
		t.Error("advanced settings open without an error in them")
	}
	if v, _ := adv.Find(`input[name="timeout_seconds"]`).Attr("value"); v != "30" {
		t.Errorf("timeout = %q", v)
	}
	adv.Find(`input[name="max_request_bytes"]`).Each(func(_ int, in *goquery.Selection) {
		if m, _ := in.Attr("inputmode"); m != "numeric" {
			t.Errorf("max_request_bytes inputmode = %q", m)
		}
	})
	for name, checked := range map[string]bool{"enabled": true, "pass_upstream_token": false} {
		box := adv.Find(`input[type="checkbox"][name="` + name + `"]`)
		if v, _ := box.Attr("value"); box.Length() != 1 || v != "true" {
			t.Errorf("%s checkbox missing or valued %q", name, v)
		}
		if _, got := box.Attr("checked"); got != checked {
			t.Errorf("%s checked = %v, want %v", name, got, checked)
		}
	}
	// A new route has nothing to test, show or delete yet.
	for _, id := range []string{"test-form", "danger-zone", "recent-changes", "client-url"} {
		if doc.Find(testid(id)).Length() != 0 {
			t.Errorf("new route shows %s", id)
		}
	}
}

func TestRouteFormWithoutPolicies(t *testing.T) {
	p := newRouteProps()
	p.Policies = nil
	doc, _ := render(t, RouteFormPage(p))
	note := mustOne(t, doc, testid("no-policies"))
	if href, _ := note.Find(testid("new-policy-link")).Attr("href"); href != "/admin/policies/new" {
		t.Errorf("no-policies note links to %q", href)
	}
	if doc.Find(`input[name="policies"]`).Length() != 0 {
		t.Error("policy checkboxes without policies")
	}
}

func TestRouteFormFieldErrors(t *testing.T) {
	p := newRouteProps()
	p.Form.Errors = map[string]string{
		"from":            "From must be a URL.",
		"kind":            "Choose a kind.",
		"policies":        "A policy no longer exists.",
		"timeout_seconds": "Timeout must be a whole number of seconds.",
	}
	doc, _ := render(t, RouteFormPage(p))
	from := mustOne(t, doc, `input[name="from"]`)
	if inv, _ := from.Attr("aria-invalid"); inv != "true" {
		t.Error("from not aria-invalid")
	}
	if d, _ := from.Attr("aria-describedby"); d != "from-error" {
		t.Errorf("from aria-describedby = %q", d)
	}
	if doc.Find("#from-hint").Length() != 0 {
		t.Error("from hint shown as well as its error")
	}
	for field, msg := range p.Form.Errors {
		if got := text(mustOne(t, doc, "#"+field+"-error"+testid("field-error-"+field))); got != msg {
			t.Errorf("%s error = %q, want %q", field, got, msg)
		}
	}
	for _, sel := range []string{"fieldset:has(input[name=kind])", "fieldset:has(input[name=policies])"} {
		if d, _ := mustOne(t, doc, sel).Attr("aria-describedby"); !strings.HasSuffix(d, "-error") {
			t.Errorf("%s aria-describedby = %q", sel, d)
		}
	}
	// An error inside Advanced opens it, so the error is seen.
	if _, open := mustOne(t, doc, "details"+testid("section-advanced")).Attr("open"); !open {
		t.Error("advanced settings stay folded over an error")
	}
	if _, bad := mustOne(t, doc, `input[name="name"]`).Attr("aria-invalid"); bad {
		t.Error("valid name marked invalid")
	}
}

func editRouteProps() RouteFormProps {
	return RouteFormProps{
		Page: page(SectionRoutes, adminViewer()), ID: 7,
		Form:  RouteForm{Name: "GitHub", From: "http://github.localhost:8080", To: "http://127.0.0.1:9001/mcp", Kind: "mcp_server", Enabled: true},
		Kinds: sampleKinds(), History: sampleHistory(),
	}
}

func TestRouteFormEdit(t *testing.T) {
	doc, _ := render(t, RouteFormPage(editRouteProps()))
	if a, _ := mustOne(t, doc, testid("route-form")).Attr("action"); a != "/admin/routes/7" {
		t.Errorf("action = %q", a)
	}
	if got := text(mustOne(t, doc, "h1")); got != "GitHub" {
		t.Errorf("heading = %q", got)
	}
	test := mustOne(t, doc, "form"+testid("test-form"))
	if a, _ := test.Attr("action"); strings.Split(a, "#")[0] != "/admin/routes/7/test" {
		t.Errorf("test action = %q", a)
	}
	if m, _ := test.Attr("method"); m != "post" {
		t.Errorf("test method = %q", m)
	}
	if doc.Find(testid("test-result")).Length() != 0 {
		t.Error("test result shown before a test ran")
	}
	// Delete asks first, in a closed disclosure.
	del := mustOne(t, doc, testid("danger-zone")+" details"+testid("confirm-delete"))
	if _, open := del.Attr("open"); open {
		t.Error("delete confirmation starts open")
	}
	if q, _ := del.Attr("data-confirm"); q != "Delete GitHub?" {
		t.Errorf("confirmation = %q", q)
	}
	if a, _ := del.Find("form").Attr("action"); a != "/admin/routes/7/delete" {
		t.Errorf("delete action = %q", a)
	}
	if del.Find(`button[type="submit"][data-confirm-submit]`).Length() != 1 {
		t.Error("delete has no submit button")
	}
	// Recent changes link to each change.
	changes := doc.Find(testid("recent-change") + " a")
	if changes.Length() != 2 {
		t.Fatalf("%d recent changes, want 2", changes.Length())
	}
	if href, _ := changes.First().Attr("href"); href != "/admin/history/41" {
		t.Errorf("first change links to %q", href)
	}
	if href, _ := mustOne(t, doc, testid("all-changes")).Attr("href"); href != "/admin/history?q=GitHub&resource=route" {
		t.Errorf("all changes link = %q", href)
	}
	// An MCP server's clients need its URL, with a copy button.
	if got := text(mustOne(t, doc, testid("client-url"))); got != "http://github.localhost:8080" {
		t.Errorf("client URL = %q", got)
	}
	mustOne(t, doc, `button[data-copy][data-copy-target="client-url"]`)
}

func TestRouteFormEditOtherKinds(t *testing.T) {
	p := editRouteProps()
	p.Form.Kind = "http"
	doc, _ := render(t, RouteFormPage(p))
	// Neither the MCP client URL nor an MCP connection test means anything
	// for a plain HTTP app.
	for _, id := range []string{"client-url", "test-form"} {
		if doc.Find(testid(id)).Length() != 0 {
			t.Errorf("http route shows %s", id)
		}
	}
	mustOne(t, doc, testid("confirm-delete"))
}

func TestConnectionTestResult(t *testing.T) {
	t.Run("ok", func(t *testing.T) {
		p := editRouteProps()
		p.Test = &ConnectionTest{OK: true, ServerName: "github-mcp", ServerVersion: "v0.9.2", ProtocolVersion: "2025-06-18", Duration: 142 * time.Millisecond,
			Tools: []ToolInfo{{Name: "search_repositories", Description: "Search repos."}, {Name: "admin_reset"}}}
		doc, _ := render(t, RouteFormPage(p))
		res := mustOne(t, doc, testid("connection-test")+" "+testid("test-result"))
		if ok, _ := res.Attr("data-ok"); ok != "true" {
			t.Errorf("data-ok = %q", ok)
		}
		if !strings.Contains(text(res), "Connected in 142 ms") {
			t.Errorf("result = %q", text(res))
		}
		for id, want := range map[string]string{"test-server": "github-mcp v0.9.2", "test-protocol": "2025-06-18"} {
			if got := text(res.Find(testid(id))); got != want {
				t.Errorf("%s = %q, want %q", id, got, want)
			}
		}
		tools := res.Find(testid("test-tool"))
		if tools.Length() != 2 {
			t.Fatalf("%d tools, want 2", tools.Length())
		}
		if got := text(tools.First()); got != "search_repositories Search repos." {
			t.Errorf("first tool = %q", got)
		}
	})
	t.Run("error", func(t *testing.T) {
		p := editRouteProps()
		p.Test = &ConnectionTest{Error: "connection refused", Duration: 3 * time.Millisecond}
		doc, _ := render(t, RouteFormPage(p))
		res := mustOne(t, doc, testid("test-result"))
		if role, _ := res.Attr("role"); role != "alert" {
			t.Errorf("failed test role = %q, want alert", role)
		}
		if got := text(res.Find(testid("test-error"))); got != "connection refused" {
			t.Errorf("error = %q", got)
		}
		if res.Find(testid("test-tools")).Length() != 0 {
			t.Error("failed test lists tools")
		}
	})
}
