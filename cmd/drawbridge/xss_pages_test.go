package main

// The stored-XSS test's pages, one subtest each: what each shows of the
// payloads xss_seed_test.go put in.

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// reflected is a query parameter holding payloads for field.
func reflected(param, field string) string {
	return param + "=" + url.QueryEscape(xssAll(field))
}

// testSignIn: what the sign-in page echoes (next, the email typed), and
// a javascript: next, which must not be where signing in leads.
func (w *xssWorld) testSignIn(t *testing.T) {
	tb := xssTab(t, nil)
	// A next with a space or a backslash is dropped, so these have none.
	next := "/admin/audit?text=" + strings.Join(append(xssCompact("login-next"), `"><b/data-xss=login-next>`), "")
	visit(t, tb, "sign-in page with a next", w.inst.URL+"/login?next="+url.QueryEscape(next), "login-next")
	status := submitForm(t, tb, `[data-testid="login-form"]`, map[string]string{
		"email": xssPayloads("login-email")[1], "password": "not-the-password"})
	if status < 400 {
		t.Errorf("a failed sign-in answered %d", status)
	}
	check(t, tb, "failed sign-in", "login-email")

	step(t, tb, "open the sign-in page with a javascript: next", chromedp.Navigate(w.inst.URL+"/login?next="+url.QueryEscape("javascript:window.__xss=1")))
	signIn(t, tb, w.inst.URL, w.plain.email, w.plain.password)
	if u := location(t, tb); u.Scheme != "http" || u.Path != "/" {
		t.Errorf("signing in with a javascript: next led to %s; want the portal", u)
	}
	check(t, tb, "portal after a javascript: next")
}

// testPortal: route names and descriptions as a user sees them, then
// Connect, which brings back an account name the upstream provider chose,
// in a flash and on the card.
func (w *xssWorld) testPortal(t *testing.T, plain []*network.CookieParam) {
	tb := xssTab(t, plain)
	visit(t, tb, "portal", w.inst.URL+"/", "route-name", "route-desc")
	wantText(t, tb, "portal", w.routeURL)
	follow(t, tb, "click Connect", testID("connect-button"))
	wantPath(t, tb, "/")
	step(t, tb, "see the flash", chromedp.WaitVisible(testID("flash")))
	check(t, tb, "portal after Connect", "connected-account", "route-name", "route-desc")
}

// testConsent: each registered client asks the user to consent, with a
// state and scope of its choosing; the consent page names the client and
// the route, and carries state and scope back in hidden fields.
func (w *xssWorld) testConsent(t *testing.T, plain []*network.CookieParam) {
	tb := xssTab(t, plain)
	for i, id := range w.clientIDs {
		q := url.Values{
			"response_type": {"code"}, "client_id": {id}, "redirect_uri": {w.callback},
			"state": {xssAll("consent-state")}, "scope": {"mcp " + xssAll("consent-scope")},
			"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"},
			"resource": {w.routeURL},
		}
		step(t, tb, "open the authorization request", chromedp.Navigate(w.inst.URL+"/oauth/authorize?"+q.Encode()))
		step(t, tb, "see the consent page", chromedp.WaitVisible(testID("consent")))
		name := fmt.Sprintf("consent %d", i+1)
		check(t, tb, name, "client-name", "route-name", "consent-state")
		follow(t, tb, "allow", testID("consent-allow"))
		if got := currentURL(tb); !strings.HasPrefix(got, w.callback) {
			t.Errorf("%s: allowing led to %s; want the client's redirect URI", name, got)
		}
	}
	// An authorization request for a client that does not exist.
	visit(t, tb, "authorization error", w.inst.URL+"/oauth/authorize?"+reflected("client_id", "authorize-client-id")+
		"&"+reflected("redirect_uri", "authorize-redirect"))
}

// testRoutes: the list, a route's page, and its connection test, which
// shows what the upstream says of itself and its tools.
func (w *xssWorld) testRoutes(t *testing.T, admin []*network.CookieParam) {
	tb := xssTab(t, admin)
	visit(t, tb, "routes", w.inst.URL+"/admin/routes", "route-name", "route-to")
	wantText(t, tb, "routes", w.routeURL)
	first := hrefOf(t, tb, `[data-testid="route-name"]`, w.routes[0])
	third := hrefOf(t, tb, `[data-testid="route-name"]`, w.routes[2])
	visit(t, tb, "route", first, "route-name", "route-desc")
	confirmDialog(t, tb, "route's delete dialog", "route-name")
	step(t, tb, "reload the route", chromedp.Navigate(first))
	follow(t, tb, "test the connection", chromedp.CSS(`[data-testid="test-form"] button[type="submit"]`))
	step(t, tb, "see the test result", chromedp.WaitVisible(testID("test-result")))
	if got := attr(t, tb, testID("test-result"), "data-ok"); got != "true" {
		t.Errorf("the connection test failed: %s", text(t, tb, testID("test-result")))
	}
	check(t, tb, "route connection test", "tool-name", "tool-desc", "server-name", "server-version")
	visit(t, tb, "route with a payload upstream URL", third, "route-to")
	follow(t, tb, "test that connection", chromedp.CSS(`[data-testid="test-form"] button[type="submit"]`))
	step(t, tb, "see that test's result", chromedp.WaitVisible(testID("test-result")))
	check(t, tb, "route connection test, payload upstream URL", "route-to")
}

// testRouteForm: a new route sent back with errors keeps what was typed;
// saved, its name is in the flash.
func (w *xssWorld) testRouteForm(t *testing.T, admin []*network.CookieParam) {
	tb := xssTab(t, admin)
	visit(t, tb, "new route", w.inst.URL+"/admin/routes/new")
	fields := map[string]string{
		"name": xssPayloads("route-form-name")[1], "description": xssAll("route-form-desc"),
		"from": "http://form.localhost:" + w.inst.port(t) + "/" + xssPayloads("route-form-from")[0],
		"to":   "http://127.0.0.1:1/mcp?" + xssPayloads("route-form-to")[2], "kind": "mcp_server",
	}
	if status := submitForm(t, tb, `[data-testid="route-form"]`, fields); status != 422 {
		t.Errorf("a route with a bad from answered %d; want 422", status)
	}
	check(t, tb, "new route with errors", "route-form-name", "route-form-desc", "route-form-from", "route-form-to")
	fields = map[string]string{"from": "http://form.localhost:" + w.inst.port(t)}
	if status := submitForm(t, tb, `[data-testid="route-form"]`, fields); status != 200 {
		t.Errorf("the fixed route answered %d", status)
	}
	step(t, tb, "see the flash", chromedp.WaitVisible(testID("flash")))
	check(t, tb, "route created", "route-form-name", "route-form-desc")
}

// testPolicies: the list, the editor (the source in a textarea), and a
// new policy sent back with errors that quote what was typed.
func (w *xssWorld) testPolicies(t *testing.T, admin []*network.CookieParam) {
	tb := xssTab(t, admin)
	visit(t, tb, "policies", w.inst.URL+"/admin/policies", "policy-desc")
	visit(t, tb, "policy editor", hrefOf(t, tb, `[data-testid="policy-name"]`, "xss-policy"),
		"policy-desc", "policy-source", "policy-rule", "deny-arg")
	visit(t, tb, "new policy", w.inst.URL+"/admin/policies/new")
	source := "# " + xssAll("policy-form-source") + "\nallow:\n  and:\n    - " +
		yamlQuote(xssPayloads("policy-form-criterion")[0]) + ": {is: x}\n"
	status := submitForm(t, tb, `[data-testid="policy-form"]`, map[string]string{
		"name": xssPayloads("policy-form-name")[1], "description": xssAll("policy-form-desc"), "source": source})
	if status != 422 {
		t.Errorf("a bad policy answered %d; want 422", status)
	}
	check(t, tb, "new policy with errors", "policy-form-name", "policy-form-desc", "policy-form-source", "policy-form-criterion")
}

// testSimulator: a simulation the policy's rule on arguments decides,
// whose explanation quotes the argument; then one for a typed identity.
func (w *xssWorld) testSimulator(t *testing.T, admin []*network.CookieParam) {
	tb := xssTab(t, admin)
	visit(t, tb, "simulator", w.inst.URL+"/admin/policies/simulate", "route-name")
	selectOption(t, tb, chromedp.CSS(`#route`), w.routes[0])
	user := evaluate[string](t, tb, fmt.Sprintf(`[...document.querySelectorAll("#user option")].find(o => o.textContent.includes(%q))?.textContent.trim() ?? ""`, w.plain.email))
	selectOption(t, tb, chromedp.CSS(`#user`), user)
	args, _ := json.Marshal(map[string]string{"query": w.denyArg})
	evaluate[bool](t, tb, fmt.Sprintf(`(() => {
		const f = document.querySelector('[data-testid="sim-form"]');
		f.elements.mcp_method.value = "tools/call"; f.elements.tool.value = "lookup"; f.elements.arguments.value = %q;
		return true;
	})()`, args))
	simulate(t, tb)
	wantVerdict(t, tb, false, "Policy xss-policy denies the call")
	check(t, tb, "simulation", "deny-arg", "route-name")

	selectOption(t, tb, chromedp.CSS(`#user`), "Type an identity…")
	args, _ = json.Marshal(map[string]string{"note": xssAll("sim-argument")})
	evaluate[bool](t, tb, fmt.Sprintf(`(() => {
		const f = document.querySelector('[data-testid="sim-form"]');
		f.elements.email.value = %q; f.elements.groups.value = %q; f.elements.tool.value = %q; f.elements.arguments.value = %q;
		return true;
	})()`, "sim@example.com", xssAll("sim-groups"), xssPayloads("sim-tool")[1], args))
	simulate(t, tb)
	check(t, tb, "simulation of a typed identity", "sim-groups", "sim-tool", "sim-argument")
}

// testApps: the list, each app's page (with the account a user
// connected), and a new app sent back with errors quoting what was typed.
func (w *xssWorld) testApps(t *testing.T, admin []*network.CookieParam) {
	tb := xssTab(t, admin)
	visit(t, tb, "upstream apps", w.inst.URL+"/admin/apps", "app-client-id")
	app := hrefOf(t, tb, `[data-testid="app-name"]`, "xss-app")
	urls := hrefOf(t, tb, `[data-testid="app-name"]`, "xss-urls")
	visit(t, tb, "upstream app", app, "app-client-id", "app-scope", "app-extra-param", "connected-account")
	visit(t, tb, "upstream app with payload URLs", urls, "app-auth-url", "app-token-url", "app-revocation-url")
	visit(t, tb, "new upstream app", w.inst.URL+"/admin/apps/new")
	status := submitForm(t, tb, `[data-testid="app-form"]`, map[string]string{
		"name": xssPayloads("app-form-name")[1], "client_id": xssAll("app-form-client-id"), "client_secret": "s",
		"auth_url": "https://auth.example/a?" + xssPayloads("app-form-auth-url")[0], "token_url": "not a url " + xssPayloads("app-form-token-url")[1],
		"scopes": `"><b/data-xss=app-form-scope>`, "extra_params": xssCompact("app-form-param")[0] + "=1\nnote=" + xssAll("app-form-param-value"),
	})
	if status != 422 {
		t.Errorf("a bad app answered %d; want 422", status)
	}
	check(t, tb, "new upstream app with errors", "app-form-name", "app-form-client-id", "app-form-auth-url",
		"app-form-token-url", "app-form-scope", "app-form-param", "app-form-param-value")
}

// testServiceAccounts: the list, one created from the form (its name in
// the flash and on the token page), and one sent back with errors.
func (w *xssWorld) testServiceAccounts(t *testing.T, admin []*network.CookieParam) {
	tb := xssTab(t, admin)
	visit(t, tb, "service accounts", w.inst.URL+"/admin/service-accounts", "sa-name", "sa-desc")
	confirmDialog(t, tb, "service account's confirmation dialog", "sa-name")
	step(t, tb, "reload the list", chromedp.Navigate(w.inst.URL+"/admin/service-accounts"))
	step(t, tb, "open the new account form", chromedp.Click(testID("sa-create-toggle")))
	submitForm(t, tb, `[data-testid="sa-create-form"]`, map[string]string{
		"name": xssPayloads("sa-form-name")[1], "description": xssAll("sa-form-desc"), "user": w.plain.email})
	step(t, tb, "see the new token", chromedp.WaitVisible(testID("sa-token-card")))
	check(t, tb, "service account created", "sa-form-name", "route-name")
	step(t, tb, "back to the list", chromedp.Navigate(w.inst.URL+"/admin/service-accounts"))
	step(t, tb, "open the new account form", chromedp.Click(testID("sa-create-toggle")))
	status := submitForm(t, tb, `[data-testid="sa-create-form"]`, map[string]string{
		"name": xssPayloads("sa-form-bad-name")[0], "description": xssAll("sa-form-bad-desc"), "user": xssPayloads("sa-form-user")[1]})
	if status != 422 {
		t.Errorf("a bad service account answered %d; want 422", status)
	}
	check(t, tb, "new service account with errors", "sa-form-bad-name", "sa-form-bad-desc", "sa-form-user")
}

// testUsers: the list (display names, an email with & and '), and a new
// user sent back with errors.
func (w *xssWorld) testUsers(t *testing.T, admin []*network.CookieParam) {
	tb := xssTab(t, admin)
	visit(t, tb, "users", w.inst.URL+"/admin/users", "user-name")
	wantText(t, tb, "users", w.plain.email)
	visit(t, tb, "new user", w.inst.URL+"/admin/users/new")
	status := submitForm(t, tb, `[data-testid="new-user-form"]`, map[string]string{
		"email": xssPayloads("user-form-email")[1], "name": xssPayloads("user-form-name")[0], "password": "short"})
	if status != 422 {
		t.Errorf("a bad user answered %d; want 422", status)
	}
	check(t, tb, "new user with errors", "user-form-email", "user-form-name")
}

// testClients: registered clients' names, URIs and redirect URIs, and
// the client settings sent back with an error.
func (w *xssWorld) testClients(t *testing.T, admin []*network.CookieParam) {
	tb := xssTab(t, admin)
	visit(t, tb, "clients", w.inst.URL+"/admin/clients", "client-name")
	clients := evaluate[[]string](t, tb, `[...document.querySelectorAll('[data-testid="client-name"]')]
		.filter(a => a.textContent.includes("data-xss=")).map(a => a.href)`)
	if len(clients) != len(w.clientIDs) {
		t.Errorf("the clients page lists %d clients with payload names; %d registered", len(clients), len(w.clientIDs))
	}
	for i, href := range clients {
		visit(t, tb, fmt.Sprintf("client %d", i+1), href, "client-name", "client-uri", "logo-uri", "redirect-uri")
		confirmDialog(t, tb, fmt.Sprintf("client %d's confirmation dialog", i+1), "client-name")
	}
	step(t, tb, "back to the clients", chromedp.Navigate(w.inst.URL+"/admin/clients"))
	status := submitForm(t, tb, `form:has([name="metadata_document_hosts"])`, map[string]string{
		"metadata_document_hosts": xssAll("client-hosts")})
	if status != 422 {
		t.Errorf("bad metadata document hosts answered %d; want 422", status)
	}
	check(t, tb, "client settings with errors", "client-hosts")
}

// testSearches: every search and filter echoes what was searched for.
func (w *xssWorld) testSearches(t *testing.T, admin []*network.CookieParam) {
	tb := xssTab(t, admin)
	for _, p := range []struct{ name, path string }{
		{"routes search", "/admin/routes?" + reflected("q", "search")},
		{"policies search", "/admin/policies?" + reflected("q", "search")},
		{"apps search", "/admin/apps?" + reflected("q", "search")},
		{"users search", "/admin/users?" + reflected("q", "search")},
		{"clients search", "/admin/clients?" + reflected("q", "search")},
		{"history search", "/admin/history?" + reflected("q", "search")},
		{"service accounts filter", "/admin/service-accounts?" + reflected("q", "search") + "&" + reflected("user", "search")},
		{"audit filters", "/admin/audit?" + strings.Join([]string{reflected("user", "search"), reflected("service_account", "search"),
			reflected("tool", "search"), reflected("method", "search"), reflected("client", "search"), reflected("text", "search")}, "&")},
	} {
		visit(t, tb, p.name, w.inst.URL+p.path, "search")
	}
}

// testAudit: the log, and every event in it on a page of its own.
func (w *xssWorld) testAudit(t *testing.T, admin []*network.CookieParam) {
	tb := xssTab(t, admin)
	visit(t, tb, "audit log", w.inst.URL+"/admin/audit", "sa-name", "route-name", "login-email")
	events := evaluate[[]string](t, tb, `[...document.querySelectorAll('[data-testid="audit-time"]')].map(a => a.href)`)
	if len(events) == 0 {
		t.Fatal("the audit log lists no events")
	}
	shown := map[string]bool{}
	// The tools/call whose tool name is a payload is not here: the
	// gateway refuses a message it cannot read before any record is made.
	want := []string{"arg-value", "arg-key", "deny-arg", "login-email", "sa-name", "route-name", "client-name", "connected-account"}
	for _, href := range events {
		step(t, tb, "open "+href, chromedp.Navigate(href))
		u, _ := url.Parse(href)
		problems, missing := tb.inspect(t, "audit event "+u.Path, want...)
		for _, p := range problems {
			t.Error(p)
		}
		for _, f := range want {
			shown[f] = shown[f] || !slices.Contains(missing, f)
		}
	}
	for _, f := range want {
		if !shown[f] {
			t.Errorf("no audit event page shows field %s, so this test cannot tell whether they escape it", f)
		}
	}
	visit(t, tb, "dashboard after the calls", w.inst.URL+"/admin", "route-name", "sa-name")
}

// testLiveTail: a call made while the log is live arrives as a row the
// browser parses and inserts itself.
func (w *xssWorld) testLiveTail(t *testing.T, admin []*network.CookieParam) {
	tb := xssTab(t, admin)
	visit(t, tb, "audit log before the live call", w.inst.URL+"/admin/audit")
	step(t, tb, "switch the live tail on",
		chromedp.WaitVisible(testID("live-toggle")),
		chromedp.Click(testID("live-toggle")),
		pollFor(`document.querySelector('[data-testid="live-status"]').textContent === "Live"`, liveWait),
	)
	seen := rowIDs(auditRows(t, tb))
	w.call(t, map[string]any{"query": xssAll("live-arg")}, false)
	step(t, tb, "see the live call's row", pollFor(newRowJS(seen, "lookup"), liveWait))
	check(t, tb, "live tail", "route-name", "sa-name")
	row := evaluate[string](t, tb, `document.querySelector('[data-testid="audit-row"]').textContent`)
	for _, f := range []string{"route-name", "sa-name"} {
		if !strings.Contains(row, "data-xss="+f) {
			t.Errorf("the row the live tail put in does not show field %s: %q", f, row)
		}
	}
}

// testHistory: the change history, and a route's creation with its diff.
func (w *xssWorld) testHistory(t *testing.T, admin []*network.CookieParam) {
	tb := xssTab(t, admin)
	visit(t, tb, "history", w.inst.URL+"/admin/history", "route-name")
	follow(t, tb, "open the first route's creation", changeView(t, changeRows(t, tb), "Route", w.routes[0], "create"))
	check(t, tb, "history change", "route-name", "route-desc")
	step(t, tb, "back to the history", chromedp.Navigate(w.inst.URL+"/admin/history"))
	follow(t, tb, "open the policy's creation", changeView(t, changeRows(t, tb), "Policy", "xss-policy", "create"))
	check(t, tb, "history policy change", "policy-desc", "policy-source", "policy-rule")
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
