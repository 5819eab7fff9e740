package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestServiceAccountJourney is an admin issuing a token for CI in the
// console: they create a service account acting as themselves, limited
// to the demo route, copy its token with the page's copy button (read
// back from the browser's real clipboard), and the official Go SDK client
// calls the demo's echo tool with it. The list then shows when the token
// was last used, and revoking it through the confirmation dialog makes
// the gateway refuse it. The token is never on the list page.
func TestServiceAccountJourney(t *testing.T) {
	t.Parallel()
	demoPort, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	inst := startDrawbridge(t, "--demo", "--demo-address", "127.0.0.1:"+demoPort)
	routeURL := "http://localhost:" + inst.port(t) // the demo route, beside a console at 127.0.0.1
	const name = "nightly-ci"
	ctx := newTab(t)

	// An empty list, with the create card unfolded because there is
	// nothing else to show.
	signIn(t, ctx, inst.URL, inst.Email, inst.Password)
	follow(t, ctx, "open Service accounts", testID("nav-service-accounts"))
	wantPath(t, ctx, "/admin/service-accounts")
	step(t, ctx, "see the empty state", chromedp.WaitVisible(testID("empty-state")))
	if got := text(t, ctx, chromedp.CSS(`[data-testid="empty-state"] h2`)); got != "No service accounts yet" {
		t.Errorf("empty state says %q", got)
	}
	if !evaluate[bool](t, ctx, `document.querySelector('[data-testid="sa-create"]').open`) {
		step(t, ctx, "open the create card", chromedp.Click(testID("sa-create-toggle")))
	}
	step(t, ctx, "see the create form", chromedp.WaitVisible(testID("sa-create-form")))
	pageShot(t, ctx, "sa-empty")

	form := `[data-testid="sa-create-form"]`
	fill(t, ctx, chromedp.CSS(form+` #name`), name)
	fill(t, ctx, chromedp.CSS(form+` #user`), inst.Email)
	selectOption(t, ctx, chromedp.CSS(form+` #expiry`), "In 90 days")
	checkLabelled(t, ctx, `[data-testid="sa-route-choices"]`, demoRouteName)
	// The expiry date as the pages write it; the server's clock reads
	// between these two.
	in90Days := func() string { return time.Now().UTC().Add(90 * 24 * time.Hour).Format("2 Jan 2006") }
	expiryDates := []string{in90Days()}
	if status := follow(t, ctx, "create the service account", testID("sa-create-submit")); status != http.StatusOK {
		t.Fatalf("creating the service account answered %d", status)
	}
	expiryDates = append(expiryDates, in90Days())

	// The token page: the token, once, and what to do with it.
	step(t, ctx, "see the token", chromedp.WaitVisible(testID("sa-token")))
	if got := text(t, ctx, chromedp.CSS(`main h1`)); got != "Service account created" {
		t.Errorf("token page heading = %q", got)
	}
	lead := text(t, ctx, chromedp.CSS(`main .page-header .lead`))
	if !oneOf(lead, expiryDates, name+" acts as "+inst.Email+". It expires on %s.") {
		t.Errorf("token page lead = %q, want it to name the user and the expiry, %s", lead, expiryDates[0])
	}
	token := text(t, ctx, testID("sa-token"))
	if strings.Count(token, ".") != 2 || strings.ContainsAny(token, " \n") {
		t.Fatalf("the token block holds %q; want a bare JWT", token)
	}
	if got, want := text(t, ctx, testID("sa-token-header")), "Authorization: Bearer Drawbridge-"+token; got != want {
		t.Errorf("header block = %q, want %q", got, want)
	}
	if got := text(t, ctx, testID("sa-setup-route")); got != demoRouteName {
		t.Errorf("the setups are for %q, want the route chosen, %s", got, demoRouteName)
	}
	pageShot(t, ctx, "sa-token")

	copied := copyFromButton(t, ctx, inst.URL, `[data-copy-target="sa-token"]`)
	if copied != token {
		t.Fatalf("the copy button put %q on the clipboard; the page shows %q", copied, token)
	}

	// An agent with the copied token calls the demo route.
	transport := &recordingBearer{bearer: "Drawbridge-" + copied, base: dialAll(inst.URL).Transport}
	client := &http.Client{Timeout: 10 * time.Second, Transport: transport}
	waitAccepted(t, client, routeURL)
	sdkCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	session, err := sdk.NewClient(&sdk.Implementation{Name: name, Version: "1"}, nil).Connect(sdkCtx,
		&sdk.StreamableClientTransport{Endpoint: routeURL, HTTPClient: client, MaxRetries: -1, DisableStandaloneSSE: true}, nil)
	if err != nil {
		t.Fatalf("connect to %s with the copied token: %v", routeURL, err)
	}
	defer session.Close()
	res, err := session.CallTool(sdkCtx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "nightly"}})
	if err != nil || res.IsError {
		t.Fatalf("call echo with the copied token: %v %+v", err, res)
	}
	if text, ok := res.Content[0].(*sdk.TextContent); !ok || text.Text != "nightly" {
		t.Errorf("echo answered %+v", res.Content)
	}

	// Back on the list, the token is gone for good, and the row shows the
	// use once the server has recorded it (every 10 s).
	follow(t, ctx, "leave the token page", testID("sa-done"))
	wantPath(t, ctx, "/admin/service-accounts")
	wantNotInPage(t, ctx, token)
	row := `[data-testid="sa-row"]`
	if n := count(t, ctx, chromedp.CSS(row)); n != 1 {
		t.Fatalf("the list has %d rows, want 1", n)
	}
	if got := text(t, ctx, chromedp.CSS(row+` [data-testid="sa-name"]`)); got != name {
		t.Errorf("row name = %q, want %s", got, name)
	}
	if got := text(t, ctx, chromedp.CSS(row+` [data-testid="sa-user"]`)); got != inst.Email {
		t.Errorf("row acts as %q, want %s", got, inst.Email)
	}
	if got := text(t, ctx, chromedp.CSS(row+` [data-testid="sa-routes"]`)); got != demoRouteName {
		t.Errorf("row routes = %q, want %s", got, demoRouteName)
	}
	if got := text(t, ctx, chromedp.CSS(row+` [data-testid="sa-expires"]`)); !oneOf(got, expiryDates, "Expires on %s") {
		t.Errorf("row expiry = %q, want Expires on %s", got, expiryDates[0])
	}
	lastUsed := chromedp.CSS(row + ` [data-testid="sa-last-used"]`)
	deadline := time.Now().Add(15 * time.Second)
	for text(t, ctx, lastUsed) == "Never" {
		if time.Now().After(deadline) {
			t.Fatalf("15 s after the token was used, the list still says it was never used")
		}
		time.Sleep(time.Second)
		step(t, ctx, "reload the list", chromedp.Navigate(inst.URL+"/admin/service-accounts"))
	}
	if got := text(t, ctx, lastUsed); got != "just now" {
		t.Errorf("last used = %q, want just now", got)
	}
	pageShot(t, ctx, "sa-list")

	// Revoking asks first; then the gateway refuses the token.
	step(t, ctx, "ask to revoke",
		chromedp.Click(chromedp.CSS(row+` [data-testid="confirm-revoke"] summary`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog.confirm-dialog[open]`)),
	)
	if got := text(t, ctx, chromedp.CSS(`dialog.confirm-dialog h2`)); got != "Revoke "+name+"?" {
		t.Errorf("confirmation asks %q", got)
	}
	screenshot(t, ctx, "sa-revoke-confirm")
	follow(t, ctx, "confirm revoking", chromedp.CSS(`dialog.confirm-dialog[open] .btn-danger`))
	wantPath(t, ctx, "/admin/service-accounts")
	wantFlash(t, ctx, "success", "Revoked "+name+". Its token is refused from now on.")
	if got := attr(t, ctx, chromedp.CSS(row), "data-status"); got != "revoked" {
		t.Errorf("row status after revoking = %q, want revoked", got)
	}
	if got := text(t, ctx, chromedp.CSS(row+` [data-testid="sa-status"]`)); !strings.EqualFold(got, "revoked") {
		t.Errorf("status badge = %q, want revoked", got)
	}
	if got := text(t, ctx, chromedp.CSS(row+` [data-testid="sa-revoked-at"]`)); got != "Revoked just now" {
		t.Errorf("revoked note = %q", got)
	}
	if n := count(t, ctx, chromedp.CSS(row+` [data-testid="sa-actions"]`)); n != 0 {
		t.Errorf("a revoked account still offers rotate and revoke")
	}
	wantNotInPage(t, ctx, token)
	pageShot(t, ctx, "sa-revoked")

	deadline = time.Now().Add(2 * time.Second)
	for {
		_, err := session.CallTool(sdkCtx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "again"}})
		if err != nil && transport.last.Load() == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("2 s after revoking in the console, the gateway answers the token with %d (%v)", transport.last.Load(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// copyFromButton clicks a copy button and returns what it put on the
// browser's real clipboard, read back with navigator.clipboard.readText.
// The tab's browser context is granted the clipboard permissions for
// origin first, as a person allowing the page to read it would.
func copyFromButton(t *testing.T, ctx context.Context, origin string, button string) string {
	t.Helper()
	bc := chromedp.FromContext(ctx).BrowserContextID
	for _, p := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: p}, Setting: browser.PermissionSettingGranted,
			Origin: origin, BrowserContextID: bc,
		}); err != nil {
			t.Fatalf("grant %s to %s: %v", p, origin, err)
		}
	}
	// Something else on the clipboard first, so that a button that copies
	// nothing cannot pass.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`navigator.clipboard.writeText("before the copy").then(() => true)`,
		chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("write to the clipboard: %v", err)
	}
	step(t, ctx, "click "+button,
		chromedp.WaitVisible(chromedp.CSS(button)),
		chromedp.Click(chromedp.CSS(button)),
		// app.js marks the button once the clipboard has taken the text.
		pollJS(fmt.Sprintf(`document.querySelector(%q).classList.contains("is-copied")`, button)),
	)
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("read the clipboard: %v", err)
	}
	return got
}

// oneOf says whether got is format filled in with one of values.
func oneOf(got string, values []string, format string) bool {
	for _, v := range values {
		if got == fmt.Sprintf(format, v) {
			return true
		}
	}
	return false
}
