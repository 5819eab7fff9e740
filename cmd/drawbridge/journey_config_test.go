package main

// Journeys through the console's configuration pages: upstream apps,
// policies, routes, the change history and the policy simulator, in
// headless Chromium against the real binary. The harness is in
// browser_test.go, the page helpers in journey_test.go.

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// A policy with two mistakes, one per line the test expects to see
// marked: a misspelt criterion on line 3, an unknown matcher on line 7.
const (
	brokenPolicy = `allow:
  or:
    - emial: {ends_with: "@example.com"}
    - authenticated_user: true
deny:
  or:
    - mcp_tool: {begins_with: admin_}
`
	fixedPolicy = `allow:
  or:
    - email: {ends_with: "@example.com"}
    - authenticated_user: true
deny:
  or:
    - mcp_tool: {starts_with: admin_}
`
)

var brokenPolicyLines = []string{"3", "7"}

// TestConsoleConfigJourney is an admin setting up a route in the
// console: an upstream app from the GitHub preset, a policy (fixed after
// the editor marks its mistakes), a route using both, whose Test
// connection lists the upstream's tools; the change history shows each
// step, and the simulator explains why the policy denies a call, down
// to the rule and its line.
func TestConsoleConfigJourney(t *testing.T) {
	t.Parallel()
	inst := startDrawbridge(t)
	port := inst.port(t)
	ctx := newTab(t)
	signIn(t, ctx, inst.URL, inst.Email, inst.Password)

	// 1. Upstream apps: start from the GitHub preset, bring a client ID
	// and secret; the secret is stored but never shown again.
	const clientID, secret = "Iv1.0123456789abcdef", "gh-secret-must-never-be-rendered-7f3a"
	follow(t, ctx, "open Upstream apps", testID("nav-apps"))
	wantPath(t, ctx, "/admin/apps")
	step(t, ctx, "see the apps' empty state with presets",
		chromedp.WaitVisible(testID("empty-state")),
		chromedp.WaitVisible(testID("preset-grid")),
	)
	pageShot(t, ctx, "apps-empty")
	follow(t, ctx, "choose the GitHub preset", chromedp.CSS(`[data-testid="preset-card"][data-preset="github"]`))
	wantPath(t, ctx, "/admin/apps/new")
	if got := location(t, ctx).Query().Get("preset"); got != "github" {
		t.Errorf("the GitHub preset card opened preset=%q, want github", got)
	}
	step(t, ctx, "see the app form", chromedp.WaitVisible(testID("app-form")))
	wantGitHubPreset(t, ctx)
	// The form's own picker switches presets in place (app.js), and back.
	step(t, ctx, "switch to the Google preset",
		chromedp.Click(chromedp.CSS(`[data-testid="preset-option"][data-preset="google"]`)),
		pollJS(`document.querySelector("#token_url").value === "https://oauth2.googleapis.com/token"`),
	)
	if got := value(t, ctx, chromedp.CSS(`#name`)); got != "google" {
		t.Errorf("switching presets named the app %q, want google", got)
	}
	step(t, ctx, "switch back to the GitHub preset",
		chromedp.Click(chromedp.CSS(`[data-testid="preset-option"][data-preset="github"]`)),
		pollJS(`document.querySelector("#token_url").value === "https://github.com/login/oauth/access_token"`),
	)
	wantPath(t, ctx, "/admin/apps/new")
	wantGitHubPreset(t, ctx)
	step(t, ctx, "fill in the client ID and secret",
		chromedp.SendKeys(chromedp.CSS(`#client_id`), clientID),
		chromedp.SendKeys(chromedp.CSS(`#client_secret`), secret),
	)
	pageShot(t, ctx, "app-new-github")
	follow(t, ctx, "create the app", chromedp.CSS(`[data-testid="app-form"] button[type="submit"]`))
	wantFlash(t, ctx, "success", "Created upstream app github.")

	follow(t, ctx, "back to Upstream apps", testID("nav-apps"))
	wantPath(t, ctx, "/admin/apps")
	if n := count(t, ctx, testID("app-row")); n != 1 {
		t.Fatalf("apps table has %d rows, want 1", n)
	}
	if got := text(t, ctx, testID("app-name")); got != "github" {
		t.Errorf("app row is named %q, want github", got)
	}
	if got := text(t, ctx, testID("app-client-id")); got != clientID {
		t.Errorf("app row shows client ID %q, want %q", got, clientID)
	}
	if got := text(t, ctx, chromedp.CSS(`[data-testid="app-row"] [data-testid="app-preset"]`)); got != "GitHub" {
		t.Errorf("app row's preset badge = %q, want GitHub", got)
	}
	if got := text(t, ctx, chromedp.CSS(`[data-testid="app-row"] [data-testid="secret-status"]`)); got != "Set" {
		t.Errorf("app row's secret badge = %q, want Set", got)
	}
	wantNotInPage(t, ctx, secret)
	pageShot(t, ctx, "apps-list")

	follow(t, ctx, "open the app", testID("app-name"))
	step(t, ctx, "see the app's edit form", chromedp.WaitVisible(testID("app-form")))
	if got := text(t, ctx, chromedp.CSS(`[data-testid="app-form"] [data-testid="secret-status"]`)); got != "Secret set" {
		t.Errorf("edit form's secret badge = %q, want Secret set", got)
	}
	if got := value(t, ctx, chromedp.CSS(`#client_secret`)); got != "" {
		t.Errorf("secret field was rendered filled in (%d characters)", len(got))
	}
	if got := value(t, ctx, chromedp.CSS(`#client_id`)); got != clientID {
		t.Errorf("client ID field = %q, want %q", got, clientID)
	}
	wantNotInPage(t, ctx, secret)
	pageShot(t, ctx, "app-edit")

	// 2. Policies: the editor sends a broken policy back with each
	// mistake at its line, marked in the gutter; fixed, it saves.
	follow(t, ctx, "open Policies", testID("nav-policies"))
	wantPath(t, ctx, "/admin/policies")
	step(t, ctx, "see the policies' empty state", chromedp.WaitVisible(testID("empty-state")))
	follow(t, ctx, "open the new policy form", testID("new-policy-button"))
	wantPath(t, ctx, "/admin/policies/new")
	step(t, ctx, "name the policy", chromedp.SendKeys(chromedp.CSS(`#name`), "eng-only"))
	fill(t, ctx, testID("policy-source"), brokenPolicy)
	if status := follow(t, ctx, "submit the broken policy", chromedp.CSS(`[data-testid="policy-form"] button[type="submit"]`)); status != 422 {
		t.Errorf("broken policy answered %d, want 422", status)
	}
	wantPath(t, ctx, "/admin/policies")
	step(t, ctx, "see the source errors", chromedp.WaitVisible(testID("source-errors")))
	type sourceError struct {
		Line string `json:"line"`
		Text string `json:"text"`
	}
	errs := evaluate[[]sourceError](t, ctx, `[...document.querySelectorAll('[data-testid="source-error"]')]
		.map(e => ({line: e.dataset.line, text: e.textContent.replace(/\s+/g, " ").trim()}))`)
	var errLines []string
	for _, e := range errs {
		errLines = append(errLines, e.Line)
	}
	if !slices.Equal(errLines, brokenPolicyLines) {
		t.Errorf("source errors are on lines %v, want %v: %+v", errLines, brokenPolicyLines, errs)
	}
	if len(errs) == len(brokenPolicyLines) {
		for i, want := range []string{"Line 3, column 7: unknown criterion emial; did you mean email?", "Line 7, column 18: unknown matcher begins_with for mcp_tool"} {
			if !strings.Contains(errs[i].Text, want) {
				t.Errorf("error on line %s reads %q, want it to contain %q", errs[i].Line, errs[i].Text, want)
			}
		}
	}
	if got := value(t, ctx, testID("policy-source")); got != brokenPolicy {
		t.Errorf("editor kept %q, want the source as typed", got)
	}
	if got := attr(t, ctx, testID("policy-source"), "aria-invalid"); got != "true" {
		t.Errorf("source aria-invalid = %q, want true", got)
	}
	// app.js numbers the lines and marks the ones with errors, in the
	// gutter and in a stripe behind the text.
	type gutter struct {
		Enhanced bool     `json:"enhanced"`
		Hidden   bool     `json:"hidden"`
		Numbers  int      `json:"numbers"`
		Marked   []string `json:"marked"`
		Stripes  []string `json:"stripes"`
	}
	g := evaluate[gutter](t, ctx, `(() => {
		const editor = document.querySelector("[data-code-editor]");
		const gutter = editor.querySelector("[data-code-gutter]");
		const stripes = [...editor.querySelectorAll("[data-code-backdrop] > span")];
		return {
			enhanced: editor.classList.contains("is-enhanced"),
			hidden: gutter.hidden || gutter.getBoundingClientRect().width === 0,
			numbers: gutter.children.length,
			marked: [...gutter.querySelectorAll(".is-error")].map(n => n.textContent),
			stripes: stripes.flatMap((s, i) => s.classList.contains("is-error") ? [String(i + 1)] : []),
		};
	})()`)
	if !g.Enhanced || g.Hidden {
		t.Errorf("the editor's gutter is not shown: %+v", g)
	}
	if want := strings.Count(brokenPolicy, "\n") + 1; g.Numbers != want {
		t.Errorf("gutter numbers %d lines, want %d", g.Numbers, want)
	}
	if !slices.Equal(g.Marked, brokenPolicyLines) {
		t.Errorf("gutter marks lines %v, want %v", g.Marked, brokenPolicyLines)
	}
	if !slices.Equal(g.Stripes, brokenPolicyLines) {
		t.Errorf("backdrop marks lines %v, want %v", g.Stripes, brokenPolicyLines)
	}
	pageShot(t, ctx, "policy-errors")

	fill(t, ctx, testID("policy-source"), fixedPolicy)
	follow(t, ctx, "save the fixed policy", chromedp.CSS(`[data-testid="policy-form"] button[type="submit"]`))
	wantFlash(t, ctx, "success", "Created policy eng-only.")
	if n := count(t, ctx, testID("source-error")); n != 0 {
		t.Errorf("the saved policy still lists %d source errors", n)
	}
	if got := value(t, ctx, testID("policy-source")); got != fixedPolicy {
		t.Errorf("saved policy reads %q, want %q", got, fixedPolicy)
	}
	pageShot(t, ctx, "policy-saved")

	// 3. Routes: GitHub, guarded by eng-only, signing in with the app,
	// to an MCP server run here; Test connection lists its tools. The
	// upstream moves later, to an address nothing answers at.
	from := "http://github.localhost:" + port
	firstTo := startGitHubMCP(t)
	const secondTo = "http://127.0.0.1:9102/mcp"
	follow(t, ctx, "open Routes", testID("nav-routes"))
	wantPath(t, ctx, "/admin/routes")
	follow(t, ctx, "open the new route form", testID("new-route-button"))
	wantPath(t, ctx, "/admin/routes/new")
	step(t, ctx, "fill in the route",
		chromedp.SendKeys(chromedp.CSS(`#name`), "GitHub"),
		chromedp.SendKeys(chromedp.CSS(`#description`), "The GitHub MCP server, as each engineer."),
		chromedp.SendKeys(chromedp.CSS(`#from`), from),
		chromedp.SendKeys(chromedp.CSS(`#to`), firstTo),
		chromedp.Click(chromedp.CSS(`input[name="kind"][value="mcp_server"]`)),
	)
	checkLabelled(t, ctx, `[data-testid="policy-choices"]`, "eng-only")
	selectOption(t, ctx, chromedp.CSS(`#upstream_app`), "github")
	pageShot(t, ctx, "route-new")
	follow(t, ctx, "create the route", chromedp.CSS(`[data-testid="route-form"] button[type="submit"]`))
	wantFlash(t, ctx, "success", "Created route GitHub.")
	routePath := location(t, ctx).Path
	step(t, ctx, "see the connection test", chromedp.WaitVisible(testID("connection-test")))
	follow(t, ctx, "test the connection", chromedp.CSS(`[data-testid="test-form"] button[type="submit"]`))
	step(t, ctx, "see the test result", chromedp.WaitVisible(testID("test-result")))
	if got := attr(t, ctx, testID("test-result"), "data-ok"); got != "true" {
		t.Fatalf("the connection test of %s failed: %s", firstTo, text(t, ctx, testID("test-result")))
	}
	tools := evaluate[[]string](t, ctx, `[...document.querySelectorAll('[data-testid="test-tool"] code')].map(c => c.textContent.trim())`)
	slices.Sort(tools)
	if want := []string{"admin_delete", "search"}; !slices.Equal(tools, want) {
		t.Errorf("the connection test lists the tools %q, want the upstream's, %q", tools, want)
	}
	pageShot(t, ctx, "route-test-connection")

	follow(t, ctx, "back to Routes", testID("nav-routes"))
	if n := count(t, ctx, testID("route-row")); n != 1 {
		t.Fatalf("routes table has %d rows, want 1", n)
	}
	for id, want := range map[string]string{
		"route-name":     "GitHub",
		"route-kind":     "MCP server",
		"route-from":     from,
		"route-to":       firstTo,
		"route-policies": "eng-only",
		"route-app":      "github",
		"route-status":   "enabled",
	} {
		if got := text(t, ctx, chromedp.CSS(`[data-testid="route-row"] [data-testid="`+id+`"]`)); got != want {
			t.Errorf("route row %s = %q, want %q", id, got, want)
		}
	}
	pageShot(t, ctx, "routes-list")

	// 4. History: the three creations, newest first, by the admin.
	follow(t, ctx, "open Change history", testID("nav-history"))
	wantPath(t, ctx, "/admin/history")
	changes := changeRows(t, ctx)
	var mine []string
	for _, c := range changes {
		if c.Resource != "User" {
			mine = append(mine, c.Action+" "+c.Resource+" "+c.Name+" by "+c.Actor)
		}
	}
	wantChanges := []string{
		"create Route GitHub by " + inst.Email,
		"create Policy eng-only by " + inst.Email,
		"create Upstream app github by " + inst.Email,
	}
	if !slices.Equal(mine, wantChanges) {
		t.Errorf("history lists\n\t%s\nwant\n\t%s", strings.Join(mine, "\n\t"), strings.Join(wantChanges, "\n\t"))
	}
	pageShot(t, ctx, "history")

	follow(t, ctx, "open the policy's creation", changeView(t, changes, "Policy", "eng-only", "create"))
	if got := text(t, ctx, testID("change-title")); got != "Created policy eng-only" {
		t.Errorf("change title = %q", got)
	}
	if got := text(t, ctx, chromedp.CSS(`[data-testid="change-meta"] [data-testid="change-actor"]`)); got != inst.Email {
		t.Errorf("change made by %q, want %s", got, inst.Email)
	}
	added := diffLines(t, ctx, "+")
	if len(added) == 0 || len(diffLines(t, ctx, "-")) != 0 {
		t.Errorf("a creation's diff should only add lines; added %d", len(added))
	}
	for _, want := range []string{"name: eng-only", `email: {ends_with: "@example.com"}`, "mcp_tool: {starts_with: admin_}"} {
		if !slices.ContainsFunc(added, func(l string) bool { return strings.Contains(l, want) }) {
			t.Errorf("policy creation adds no line with %q; added:\n%s", want, strings.Join(added, "\n"))
		}
	}
	pageShot(t, ctx, "history-policy-created")

	// Its snapshot, like every page, says a secret is set without saying it.
	step(t, ctx, "open the history again", chromedp.Navigate(inst.URL+"/admin/history"))
	follow(t, ctx, "open the app's creation", changeView(t, changeRows(t, ctx), "Upstream app", "github", "create"))
	wantNotInPage(t, ctx, secret)

	// Edit the route's upstream; the change shows the old URL and the new.
	step(t, ctx, "open the route", chromedp.Navigate(inst.URL+routePath))
	step(t, ctx, "see the route form", chromedp.WaitVisible(testID("route-form")))
	if got := value(t, ctx, chromedp.CSS(`#to`)); got != firstTo {
		t.Errorf("route form to = %q, want %q", got, firstTo)
	}
	fill(t, ctx, chromedp.CSS(`#to`), secondTo)
	follow(t, ctx, "save the route", chromedp.CSS(`[data-testid="route-form"] button[type="submit"]`))
	wantFlash(t, ctx, "success", "Saved route GitHub.")
	if n := count(t, ctx, testID("recent-change")); n != 2 {
		t.Errorf("route page lists %d recent changes, want 2", n)
	}
	pageShot(t, ctx, "route-edited")
	follow(t, ctx, "open Change history", testID("nav-history"))
	changes = changeRows(t, ctx)
	if len(changes) == 0 || changes[0].Action != "update" || changes[0].Name != "GitHub" {
		t.Fatalf("newest change is %+v, want the route's update", changes)
	}
	follow(t, ctx, "open the route's update", changeView(t, changes, "Route", "GitHub", "update"))
	if got := text(t, ctx, testID("change-title")); got != "Updated route GitHub" {
		t.Errorf("change title = %q", got)
	}
	removed, added := diffLines(t, ctx, "-"), diffLines(t, ctx, "+")
	if !slices.ContainsFunc(removed, func(l string) bool { return strings.Contains(l, firstTo) }) ||
		!slices.ContainsFunc(added, func(l string) bool { return strings.Contains(l, secondTo) }) {
		t.Errorf("route update diff removes %q and adds %q, want the old and the new upstream URL", removed, added)
	}
	if len(removed) != 1 || len(added) != 1 {
		t.Errorf("changing only the upstream changed %d/%d lines, want 1/1", len(removed), len(added))
	}
	if got := text(t, ctx, testID("diff-stat")); got != "+1 −1 lines added and removed" {
		t.Errorf("diff stat = %q", got)
	}
	pageShot(t, ctx, "history-route-updated")

	// 5. Simulator: the admin may not call admin_delete on GitHub, but
	// may call search.
	follow(t, ctx, "open Policies", testID("nav-policies"))
	follow(t, ctx, "open the simulator", testID("simulator-button"))
	wantPath(t, ctx, "/admin/policies/simulate")
	step(t, ctx, "see the simulator", chromedp.WaitVisible(testID("sim-waiting")))
	selectOption(t, ctx, chromedp.CSS(`#user`), inst.Email)
	step(t, ctx, "see the typed identity hidden", chromedp.WaitNotVisible(chromedp.CSS(`[data-sim-identity]`)))
	selectOption(t, ctx, chromedp.CSS(`#route`), "GitHub")
	fill(t, ctx, chromedp.CSS(`#mcp_method`), "tools/call")
	fill(t, ctx, chromedp.CSS(`#tool`), "admin_delete")
	simulate(t, ctx)
	wantVerdict(t, ctx, false, `Policy eng-only denies the call: rule deny.or[0].mcp_tool on line 7 matched "admin_delete".`)
	decider := text(t, ctx, chromedp.CSS(`[data-testid="sim-step"][data-decides="true"]`))
	if !strings.Contains(decider, "deny.or[0].mcp_tool") || !strings.Contains(decider, "admin_delete") {
		t.Errorf("deciding step reads %q, want the deny rule and the tool", decider)
	}
	pageShot(t, ctx, "simulate-denied")

	fill(t, ctx, chromedp.CSS(`#tool`), "search")
	simulate(t, ctx)
	wantVerdict(t, ctx, true, `Policy eng-only allows the call: rule allow.or`)
	wantPath(t, ctx, "/admin/policies/simulate")
	if got := value(t, ctx, chromedp.CSS(`#user`)); got == "" {
		t.Errorf("the simulator forgot the chosen user")
	}
	pageShot(t, ctx, "simulate-allowed")
}

func TestDemoRouteSeeded(t *testing.T) {
	t.Parallel()
	inst := startDrawbridge(t, "--demo", "--demo-address", "127.0.0.1:0")
	ctx := newTab(t)
	signIn(t, ctx, inst.URL, inst.Email, inst.Password)

	follow(t, ctx, "open Routes", testID("nav-routes"))
	if n := count(t, ctx, testID("route-row")); n != 1 {
		t.Fatalf("a demo start lists %d routes, want 1", n)
	}
	if got := text(t, ctx, testID("route-name")); got != demoRouteName {
		t.Fatalf("the seeded route is %q, want %q", got, demoRouteName)
	}
	if got := text(t, ctx, testID("route-policies")); got != demoPolicyName {
		t.Errorf("the demo route's policies = %q, want %q", got, demoPolicyName)
	}
	pageShot(t, ctx, "routes")

	follow(t, ctx, "open the demo route", testID("route-name"))
	step(t, ctx, "see the connection test", chromedp.WaitVisible(testID("connection-test")))
	follow(t, ctx, "test the connection", chromedp.CSS(`[data-testid="test-form"] button[type="submit"]`))
	step(t, ctx, "see the test result", chromedp.WaitVisible(testID("test-result")))
	if got := attr(t, ctx, testID("test-result"), "data-ok"); got != "true" {
		t.Fatalf("connection test failed: %s", text(t, ctx, testID("test-result")))
	}
	if got := location(t, ctx).Fragment; got != "connection-test" {
		t.Errorf("test result page opened at #%s, want #connection-test", got)
	}
	tools := evaluate[[]string](t, ctx, `[...document.querySelectorAll('[data-testid="test-tool"] code')].map(c => c.textContent.trim())`)
	slices.Sort(tools)
	if want := []string{"add", "admin_reset", "echo", "search_orders"}; !slices.Equal(tools, want) {
		t.Errorf("connection test lists tools %v, want %v", tools, want)
	}
	pageShot(t, ctx, "test-connection")

	step(t, ctx, "open the simulator", chromedp.Navigate(inst.URL+"/admin/policies/simulate"))
	selectOption(t, ctx, chromedp.CSS(`#user`), inst.Email)
	selectOption(t, ctx, chromedp.CSS(`#route`), demoRouteName)
	fill(t, ctx, chromedp.CSS(`#tool`), "admin_reset")
	simulate(t, ctx)
	wantVerdict(t, ctx, false, `Policy demo denies the call: rule deny.or[0].mcp_tool`)
	pageShot(t, ctx, "simulate-admin-reset")
	fill(t, ctx, chromedp.CSS(`#tool`), "echo")
	simulate(t, ctx)
	wantVerdict(t, ctx, true, `Policy demo allows the call: rule allow.and`)
	pageShot(t, ctx, "simulate-echo")
}

func TestConfigPagesAtPhoneWidth(t *testing.T) {
	t.Parallel()
	// The demo seeds a route, a policy and their history, so the lists
	// have rows.
	inst := startDrawbridge(t, "--demo", "--demo-address", "127.0.0.1:0")
	ctx := newTab(t)
	const width = 390
	step(t, ctx, "set a phone viewport",
		chromedp.EmulateViewport(width, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	signIn(t, ctx, inst.URL, inst.Email, inst.Password)

	for _, path := range []string{
		"/admin/routes", "/admin/routes/new", "/admin/policies/new",
		"/admin/apps/new?preset=github", "/admin/policies/simulate", "/admin/history",
	} {
		step(t, ctx, "open "+path, chromedp.Navigate(inst.URL+path))
		u, _ := url.Parse(path)
		wantPath(t, ctx, u.Path)
		step(t, ctx, "see "+path, chromedp.WaitVisible(chromedp.CSS(`main`)))
		checkFits(t, ctx, width, path)
		if u.Path == "/admin/apps/new" {
			wantGitHubPreset(t, ctx)
		}
		name := "phone" + pageName(u.Path)
		if u.RawQuery != "" {
			name += "-" + u.RawQuery
		}
		pageShot(t, ctx, name)
	}

	// The states with the longest lines: policy errors, a simulation's
	// trace, a diff.
	step(t, ctx, "open the new policy form", chromedp.Navigate(inst.URL+"/admin/policies/new"))
	step(t, ctx, "name the policy", chromedp.SendKeys(chromedp.CSS(`#name`), "eng-only"))
	fill(t, ctx, testID("policy-source"), brokenPolicy)
	follow(t, ctx, "submit the broken policy", chromedp.CSS(`[data-testid="policy-form"] button[type="submit"]`))
	step(t, ctx, "see the source errors", chromedp.WaitVisible(testID("source-errors")))
	checkFits(t, ctx, width, "/admin/policies/new with errors")
	pageShot(t, ctx, "phone-policy-errors")

	step(t, ctx, "open the simulator", chromedp.Navigate(inst.URL+"/admin/policies/simulate"))
	selectOption(t, ctx, chromedp.CSS(`#user`), inst.Email)
	selectOption(t, ctx, chromedp.CSS(`#route`), demoRouteName)
	fill(t, ctx, chromedp.CSS(`#tool`), "admin_reset")
	simulate(t, ctx)
	checkFits(t, ctx, width, "/admin/policies/simulate with a result")
	pageShot(t, ctx, "phone-simulate-result")

	step(t, ctx, "open the history", chromedp.Navigate(inst.URL+"/admin/history"))
	follow(t, ctx, "open the demo route's creation", changeView(t, changeRows(t, ctx), "Route", demoRouteName, "create"))
	step(t, ctx, "see the diff", chromedp.WaitVisible(testID("diff")))
	checkFits(t, ctx, width, "a route's creation")
	pageShot(t, ctx, "phone-history-change")
}

// startGitHubMCP starts an MCP server, on the official SDK, with two
// tools like a GitHub server's, one of them an administrator's, and
// returns its URL.
func startGitHubMCP(t *testing.T) string {
	t.Helper()
	// Stateless, the SDK logs a session per request at Info.
	logger := slog.New(slog.DiscardHandler)
	server := sdk.NewServer(&sdk.Implementation{Name: "github-like", Version: "1"}, &sdk.ServerOptions{Logger: logger})
	for _, tool := range []*sdk.Tool{
		{Name: "search", Description: "Searches repositories."},
		{Name: "admin_delete", Description: "Deletes a repository."},
	} {
		sdk.AddTool(server, tool, func(context.Context, *sdk.CallToolRequest, any) (*sdk.CallToolResult, any, error) {
			return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: tool.Name}}}, nil, nil
		})
	}
	srv := httptest.NewServer(sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return server },
		&sdk.StreamableHTTPOptions{Stateless: true, JSONResponse: true, Logger: logger}))
	t.Cleanup(srv.Close)
	return srv.URL + "/mcp"
}

// wantGitHubPreset checks that the new app form is filled in from the
// GitHub preset.
func wantGitHubPreset(t *testing.T, ctx context.Context) {
	t.Helper()
	for _, f := range []struct{ field, want string }{
		{"name", "github"},
		{"auth_url", "https://github.com/login/oauth/authorize"},
		{"token_url", "https://github.com/login/oauth/access_token"},
		{"scopes", "read:user repo"},
		{"auth_style", "params"},
		// Left empty by GitHub, whatever another preset filled in.
		{"revocation_url", ""},
		{"extra_params", ""},
	} {
		if got := value(t, ctx, chromedp.CSS("#"+f.field)); got != f.want {
			t.Errorf("GitHub preset filled %s with %q, want %q", f.field, got, f.want)
		}
	}
	if !evaluate[bool](t, ctx, `document.querySelector("#pkce").checked`) {
		t.Errorf("GitHub preset left PKCE off")
	}
	if got := attr(t, ctx, chromedp.CSS(`[data-testid="preset-option"][data-preset="github"]`), "aria-current"); got != "true" {
		t.Errorf("GitHub preset option aria-current = %q, want true", got)
	}
}

// pageShot takes a screenshot scrolled to the top. A full-page capture
// draws the sticky sidebar where the window is scrolled to, which, after
// typing into a field low on the page, is halfway down the picture.
func pageShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if os.Getenv(screenshotsEnv) == "" {
		return
	}
	evaluate[bool](t, ctx, `(window.scrollTo(0, 0), true)`)
	screenshot(t, ctx, name)
}

// pollJS waits, a few seconds at most, for a JavaScript expression to
// be true.
func pollJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(5*time.Second))
}

// port is the port the instance's console listens on.
func (inst *instance) port(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(inst.URL)
	if err != nil || u.Port() == "" {
		t.Fatalf("instance URL %q has no port (%v)", inst.URL, err)
	}
	return u.Port()
}

// evaluate runs a JavaScript expression in the page and decodes its value.
func evaluate[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v (at %s)", js, err, currentURL(ctx))
	}
	return v
}

// fill empties a text field or textarea and types value into it, key by
// key, as a person would.
func fill(t *testing.T, ctx context.Context, sel chromedp.CSS, want string) {
	t.Helper()
	// Emptying by script is the one shortcut: select-all and delete depend
	// on the platform's keys.
	if !evaluate[bool](t, ctx, fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		if (!el) return false;
		el.value = "";
		el.dispatchEvent(new Event("input", {bubbles: true}));
		return true;
	})()`, string(sel))) {
		t.Fatalf("fill %s: no such field (at %s)", sel, currentURL(ctx))
	}
	if want != "" {
		step(t, ctx, "type into "+string(sel), chromedp.SendKeys(sel, want))
	}
	if got := value(t, ctx, sel); got != want {
		t.Fatalf("typed %q into %s, which now holds %q", want, sel, got)
	}
}

// selectOption chooses the option labelled label in a select, as picking
// it from the list would: the value changes and input and change fire.
func selectOption(t *testing.T, ctx context.Context, sel chromedp.CSS, label string) {
	t.Helper()
	step(t, ctx, "see "+string(sel), chromedp.WaitVisible(sel))
	labels := evaluate[[]string](t, ctx, fmt.Sprintf(`(() => {
		const select = document.querySelector(%q);
		const options = [...select.options];
		const option = options.find(o => o.textContent.trim() === %q);
		if (!option) return options.map(o => o.textContent.trim());
		select.value = option.value;
		select.dispatchEvent(new Event("input", {bubbles: true}));
		select.dispatchEvent(new Event("change", {bubbles: true}));
		return [];
	})()`, string(sel), label))
	if len(labels) > 0 {
		t.Fatalf("%s has no option %q; it offers %q", sel, label, labels)
	}
}

// checkLabelled ticks the checkbox in container whose label reads label.
func checkLabelled(t *testing.T, ctx context.Context, container, label string) {
	t.Helper()
	id := evaluate[string](t, ctx, fmt.Sprintf(`(() => {
		const box = [...document.querySelectorAll(%q)]
			.find(b => b.labels && [...b.labels].some(l => l.textContent.replace(/\s+/g, " ").trim().startsWith(%q)));
		return box ? box.id : "";
	})()`, container+` input[type="checkbox"]`, label))
	if id == "" {
		t.Fatalf("no checkbox labelled %q in %s (at %s)", label, container, currentURL(ctx))
	}
	sel := chromedp.CSS("#" + id)
	step(t, ctx, "tick "+label, chromedp.Click(sel))
	if !evaluate[bool](t, ctx, fmt.Sprintf(`document.querySelector(%q).checked`, string(sel))) {
		t.Fatalf("checkbox %q is not ticked after a click", label)
	}
}

// simulate presses Simulate and waits for a new result. app.js swaps the
// result in without loading a page (and without JavaScript the page
// reloads); either way the one on screen now is replaced, so it is
// marked first and the wait is for an unmarked one.
func simulate(t *testing.T, ctx context.Context) {
	t.Helper()
	if !evaluate[bool](t, ctx, `(() => {
		const r = document.querySelector("[data-sim-result]");
		if (r) r.setAttribute("data-stale", "");
		return !!r;
	})()`) {
		t.Fatalf("the simulator shows no result area (at %s)", currentURL(ctx))
	}
	step(t, ctx, "simulate",
		chromedp.Click(testID("simulate-button")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="sim-result"]:not([data-stale])`)),
	)
}

// wantVerdict checks the simulator's decision, and that its summary
// contains reason.
func wantVerdict(t *testing.T, ctx context.Context, allow bool, reason string) {
	t.Helper()
	verdict := "Denied"
	if allow {
		verdict = "Allowed"
	}
	if got := attr(t, ctx, testID("sim-result"), "data-allow"); got != fmt.Sprint(allow) {
		t.Errorf("simulation data-allow = %q, want %v", got, allow)
	}
	if got := text(t, ctx, testID("sim-verdict")); got != verdict {
		t.Errorf("simulation verdict = %q, want %s", got, verdict)
	}
	summary := text(t, ctx, testID("sim-summary"))
	if !strings.Contains(summary, reason) {
		t.Errorf("simulation summary = %q, want %s because of %s", summary, verdict, reason)
	}
	if n := count(t, ctx, testID("sim-step")); n == 0 {
		t.Errorf("the simulation shows no steps")
	}
}

// changeRow is one row of the change history as the page shows it.
type changeRow struct {
	ID       string `json:"id"`
	Action   string `json:"action"`
	Resource string `json:"resource"`
	Name     string `json:"name"`
	Actor    string `json:"actor"`
}

func changeRows(t *testing.T, ctx context.Context) []changeRow {
	t.Helper()
	step(t, ctx, "see the history table", chromedp.WaitVisible(testID("history-table")))
	return evaluate[[]changeRow](t, ctx, `[...document.querySelectorAll('[data-testid="change-row"]')].map(r => ({
		id: r.dataset.changeId,
		action: r.dataset.action,
		resource: r.querySelector(".change-kind").textContent.trim(),
		name: r.querySelector('[data-testid="change-resource"]').textContent.trim(),
		actor: r.querySelector('[data-testid="change-actor"]').textContent.trim(),
	}))`)
}

// changeView is the View link of the newest change of that action to the
// named object.
func changeView(t *testing.T, rows []changeRow, resource, name, action string) chromedp.CSS {
	t.Helper()
	for _, r := range rows {
		if r.Resource == resource && r.Name == name && r.Action == action {
			return chromedp.CSS(fmt.Sprintf(`[data-testid="change-row"][data-change-id=%q] [data-testid="change-view"]`, r.ID))
		}
	}
	t.Fatalf("the history has no %s of %s %s: %+v", action, resource, name, rows)
	return ""
}

// diffLines returns the text of the diff's lines with this op.
func diffLines(t *testing.T, ctx context.Context, op string) []string {
	t.Helper()
	return evaluate[[]string](t, ctx, fmt.Sprintf(`[...document.querySelectorAll('[data-testid="diff-line"][data-op=%q] .diff-text')].map(e => e.textContent)`, op))
}

// wantNotInPage fails the test if s is anywhere in the page's HTML,
// attributes and form values included.
func wantNotInPage(t *testing.T, ctx context.Context, s string) {
	t.Helper()
	found := evaluate[bool](t, ctx, fmt.Sprintf(`(() => {
		const s = %q;
		return document.documentElement.outerHTML.includes(s) ||
			[...document.querySelectorAll("input, textarea")].some(e => e.value.includes(s));
	})()`, s))
	if found {
		t.Errorf("the page at %s shows the secret", currentURL(ctx))
	}
}
