package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestStoredXSSInEveryDisplayedField (issue 10) renders every field a
// person types or an outsider controls, on every page that shows it, with
// script payloads in it (xss_seed_test.go), and fails if any payload runs
// or becomes markup.
//
// The pages' Content-Security-Policy (script-src 'self') makes inline
// handlers and inline scripts inert, so a payload that escaped its field
// might well not run: "no script ran" alone proves little. What proves
// the escaping is the DOM: every payload also tries to make an element
// carrying data-xss=<field>, and each page is checked for
// document.querySelectorAll('[data-xss]').length === 0, for no inline
// handler (on…) attribute, and for no javascript: link, besides
// window.__xss === undefined and no JavaScript dialog; an inline handler
// that got in also makes Chromium report a CSP violation, which fails the
// tab (newTab). Each page must also show its fields as text, so that a
// page that stopped showing a field cannot pass for one that escapes it;
// "the check itself" plants each kind of injection to prove check sees it.
func TestStoredXSSInEveryDisplayedField(t *testing.T) {
	t.Parallel()
	inst := startDrawbridge(t)
	w := seedXSS(t, inst)
	admin := sessionCookies(t, inst, inst.Email, inst.Password)

	t.Run("the check itself", func(t *testing.T) { testCheckFindsInjection(t, admin, inst.URL) })
	t.Run("sign-in page", w.testSignIn)
	plain := sessionCookies(t, inst, w.plain.email, w.plain.password)
	t.Run("portal and Connect", func(t *testing.T) { w.testPortal(t, plain) })
	t.Run("consent", func(t *testing.T) { w.testConsent(t, plain) })
	t.Run("authorized apps", func(t *testing.T) {
		visit(t, xssTab(t, plain), "authorized apps", inst.URL+"/authorizations", "client-name")
	})
	t.Run("own service accounts", func(t *testing.T) {
		visit(t, xssTab(t, plain), "own service accounts", inst.URL+"/service-accounts", "sa-name", "sa-desc")
	})

	t.Run("dashboard", func(t *testing.T) {
		visit(t, xssTab(t, admin), "dashboard", inst.URL+"/admin", "route-name", "sa-name")
	})
	t.Run("routes", func(t *testing.T) { w.testRoutes(t, admin) })
	t.Run("route form", func(t *testing.T) { w.testRouteForm(t, admin) })
	t.Run("policies", func(t *testing.T) { w.testPolicies(t, admin) })
	t.Run("simulator", func(t *testing.T) { w.testSimulator(t, admin) })
	t.Run("upstream apps", func(t *testing.T) { w.testApps(t, admin) })
	t.Run("service accounts", func(t *testing.T) { w.testServiceAccounts(t, admin) })
	t.Run("users", func(t *testing.T) { w.testUsers(t, admin) })
	t.Run("clients", func(t *testing.T) { w.testClients(t, admin) })
	t.Run("searches", func(t *testing.T) { w.testSearches(t, admin) })
	t.Run("audit log", func(t *testing.T) { w.testAudit(t, admin) })
	t.Run("live tail", func(t *testing.T) { w.testLiveTail(t, admin) })
	t.Run("history", func(t *testing.T) { w.testHistory(t, admin) })
}

// testCheckFindsInjection makes, in a page of the console, what each
// payload would make if it escaped its field, and wants check to find
// every one of them: without this the test could pass for want of eyes.
func testCheckFindsInjection(t *testing.T, admin []*network.CookieParam, consoleURL string) {
	tb := xssTab(t, admin)
	step(t, tb, "open the dashboard", chromedp.Navigate(consoleURL+"/admin"))
	// The dialog blocks the script until the tab's listener closes it.
	// onxss is no event: a real handler's attribute would also make the
	// tab report a CSP violation, which fails any test (newTab).
	evaluate[bool](t, tb, `(document.body.insertAdjacentHTML("beforeend",
		"<b data-xss=probe>x</b><a href=' javascript:void 0'>y</a><i onxss=1>z</i>"),
		window.__xss = 1, alert("probe"), true)`)
	problems, missing := tb.inspect(t, "probe", "probe", "route-name")
	for _, want := range []string{"field probe became markup", "event handler attribute: i onxss", "script link: a href", "window.__xss = 1", "dialog (alert: probe)"} {
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, want) }) {
			t.Errorf("check does not see %q in a page that has it; it saw %q", want, problems)
		}
	}
	if len(problems) != 5 || !slices.Equal(missing, []string{"probe"}) {
		t.Errorf("check found %q, and %q missing; want the 5 planted problems, and only the planted element's field missing", problems, missing)
	}
}
