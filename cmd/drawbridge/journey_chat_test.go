package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/drawbridge/drawbridge/web/webtest"
)

// TestChatAppJourney is a person using a chat app that sits behind an
// mcp_client route (journey_chat_app_test.go), in Chromium. Opening the
// app signs them in through the console; the app, handed their access
// token on every request, lists their MCP servers, sends them to Connect
// the one that needs their account at an upstream provider and gets them
// back, then calls a tool there, which receives the provider's token for
// them and never Drawbridge's. The token is short-lived, bound to the
// chat route, and refused once the user is disabled.
func TestChatAppJourney(t *testing.T) {
	t.Parallel()
	inst := startDrawbridge(t)
	// Route hosts are *.localhost names on the console's port: Chromium
	// takes them for loopback, and dialAll sends Go's requests to the
	// console's address whatever the name. (journey_connect_test.go uses
	// plain localhost for the Go SDK's OAuth client; the chat app sends a
	// bearer token and runs no OAuth, so it does not care.)
	port := inst.port(t)
	chatURL, octoURL, notesURL := "http://chat.localhost:"+port, "http://octo.localhost:"+port, "http://notes.localhost:"+port
	provider := webtest.StartOIDCProviderWith(t, webtest.OIDCProviderOptions{
		ClientID: "drawbridge", ClientSecret: "upstream-secret", RedirectURIs: []string{inst.URL + "/oauth/upstream/callback"},
		Accounts: []webtest.OIDCAccount{{Login: "octocat", Email: "octocat@example.com", Name: "Octo Cat"}},
		Refresh:  true, ExtraScopes: []string{"repo"},
	})
	ep := provider.Endpoints(t)
	octo, notes := webtest.StartEchoMCP(t), webtest.StartEchoMCP(t)
	httpClient := dialAll(inst.URL)
	app, appURL := startChatApp(t, chatURL, httpClient)
	config := fmt.Sprintf(`upstream_oauth_apps:
  - {name: octo, client_id: %s, client_secret: %s, auth_url: %q, token_url: %q,
     scopes: [openid, profile, repo], pkce: true, auth_style: header}
policies:
  - name: everyone
    allow: {and: [{authenticated_user: true}]}
routes:
  - {name: Octo, description: Repositories and issues., from: %q, to: %q,
     mcp: {server: {upstream_oauth_app: octo}}, policies: [everyone]}
  - {name: Notes, description: Team notes., from: %q, to: %q, mcp: {server: {}}, policies: [everyone]}
  - {name: Chat, from: %q, to: %q, mcp: {client: {}}, policies: [everyone]}
`, provider.ClientID, provider.ClientSecret, ep.AuthURL, ep.TokenURL, octoURL, octo.URL, notesURL, notes.URL, chatURL, appURL)
	inst.cli(t, "", "apply", "-f", writeFile(t, "chat.yaml", config), "--console-url", inst.URL)
	const email, password = "erin@example.com", "erin-has-a-long-password"
	inst.cli(t, password+"\n", "user", "create", "--email", email, "--password-stdin")
	waitForRoute(t, httpClient, octoURL)
	waitForRoute(t, httpClient, notesURL)

	tab := newTab(t)
	// The browser sends an identity header of its own making on every
	// request: the app must never see it.
	if _, err := chromedp.Call(tab, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"X-Drawbridge-Email": "mallory@example.com"},
	}); err != nil {
		t.Fatal(err)
	}

	// 1. Opening the app sends the person to sign in at the console, then
	// back; the app lists both servers, Octo needing Connect.
	step(t, tab, "open the chat app", chromedp.Navigate(chatURL+"/"))
	if u := location(t, tab); u.Scheme+"://"+u.Host != inst.URL || u.Path != "/login" {
		t.Fatalf("the chat app sent the browser to %s, want the console's sign-in", u)
	}
	screenshot(t, tab, "sign-in")
	// The form's submission ends on the chat host: the sign-in page's
	// Content-Security-Policy must allow that origin as a form target.
	signIn(t, tab, inst.URL, email, password)
	wantChatHome(t, tab, chatURL)
	wantServers(t, tab, map[string]string{"Notes": "connected", "Octo": "not connected"}, map[string]string{"Notes": notesURL, "Octo": octoURL})
	if n := count(t, tab, testID("chat-connect")); n != 1 {
		t.Errorf("the app offers %d Connect links, want 1 (Octo's)", n)
	}
	screenshot(t, tab, "octo-not-connected")

	// 2. Connect on Octo's host: consent at the provider, then back at
	// the app, as redirect_url asked.
	follow(t, tab, "click Connect", chromedp.CSS(`[data-testid="chat-server"][data-name="Octo"] [data-testid="chat-connect"]`))
	if !strings.HasPrefix(currentURL(tab), provider.Issuer+"/") {
		t.Fatalf("Connect went to %s, want the provider %s", currentURL(tab), provider.Issuer)
	}
	step(t, tab, "sign in at the provider", chromedp.SendKeys(chromedp.CSS(`input[name="login"]`), "octocat"))
	follow(t, tab, "submit the provider's sign-in", chromedp.CSS(`form[action$="/login"] button[type="submit"]`))
	step(t, tab, "see the provider's consent page", chromedp.WaitVisible(chromedp.CSS(`form[action$="/consent"]`)))
	screenshot(t, tab, "provider-consent")
	follow(t, tab, "allow at the provider", chromedp.CSS(`form[action$="/consent"] button[type="submit"]`))
	wantChatHome(t, tab, chatURL)
	wantServers(t, tab, map[string]string{"Notes": "connected", "Octo": "connected"}, nil)
	if n := count(t, tab, testID("chat-connect")); n != 0 {
		t.Errorf("after Connect the app still offers %d Connect links", n)
	}
	screenshot(t, tab, "octo-connected")

	// The token the app was handed, and the assertion beside it.
	visits := app.seen()
	access, ok := strings.CutPrefix(visits[0].Authorization, "Bearer ")
	if !ok || access == "" {
		t.Fatalf("the app's first request had Authorization %q, want the user's access token", visits[0].Authorization)
	}

	// 3. A tool call on Octo carries the user's token at the provider.
	follow(t, tab, "call whoami on Octo", chromedp.CSS(`[data-testid="chat-server"][data-name="Octo"] [data-testid="chat-call"]`))
	step(t, tab, "see Octo's answer", chromedp.WaitVisible(testID("chat-result")))
	wantUpstreamToken(t, ep.UserinfoURL, text(t, tab, testID("chat-result")), access)
	screenshot(t, tab, "octo-whoami")
	// On Notes, which has no upstream account, no Authorization at all.
	follow(t, tab, "go back", testID("chat-back"))
	follow(t, tab, "call whoami on Notes", chromedp.CSS(`[data-testid="chat-server"][data-name="Notes"] [data-testid="chat-call"]`))
	step(t, tab, "see Notes' answer", chromedp.WaitVisible(testID("chat-result")))
	if got := text(t, tab, testID("chat-result")); got != "" {
		t.Errorf("Notes received Authorization %q, want none", got)
	}
	screenshot(t, tab, "notes-whoami")
	for _, h := range append(octo.Authorizations(), notes.Authorizations()...) {
		if strings.Contains(h, access) {
			t.Fatal("the app's Drawbridge token reached an MCP upstream")
		}
	}
	if len(notes.Authorizations()) == 0 || slices.ContainsFunc(notes.Authorizations(), func(h string) bool { return h != "" }) {
		t.Errorf("Notes received Authorization headers %q, want requests with none", notes.Authorizations())
	}

	// 4. What reached the app: on every request the token and the
	// assertion, and nothing else of Drawbridge's.
	wantChatVisits(t, tab, app.seen(), chatURL)
	jwks := fetchJWKS(t, httpClient, inst.URL)
	now := time.Now()
	tok := verifiedClaims(t, jwks, access, "at+jwt")
	switch {
	case tok.Issuer != inst.URL || tok.Audience != chatURL || tok.ClientID != chatURL || tok.Email != email:
		t.Errorf("the app's token says %+v, want issuer %s, audience and client the chat route %s, email %s", tok, inst.URL, chatURL, email)
	case tok.ExpiresAt-tok.IssuedAt > int64(time.Hour/time.Second) || time.Unix(tok.ExpiresAt, 0).After(now.Add(time.Hour)):
		t.Errorf("the app's token lives from %d to %d: more than an hour", tok.IssuedAt, tok.ExpiresAt)
	case !time.Unix(tok.ExpiresAt, 0).After(now):
		t.Errorf("the app was handed a token that expired at %d", tok.ExpiresAt)
	}
	assertion := verifiedClaims(t, jwks, visits[0].Assertion, "drawbridge-assertion+jwt")
	if assertion.Audience != chatURL || assertion.Email != email || assertion.Subject != tok.Subject {
		t.Errorf("the assertion says %+v, want the chat route and %s", assertion, email)
	}
	// The token opens the MCP servers, not the app: without the session
	// cookie, the chat route does not let it through.
	before := len(app.seen())
	if status, body := sendWith(t, httpClient, http.MethodGet, chatURL+"/", access, ""); status != http.StatusUnauthorized {
		t.Errorf("the chat route with the token and no session: %d %.200s, want 401", status, body)
	}
	if n := len(app.seen()) - before; n != 0 {
		t.Errorf("the token without a session reached the app %d times", n)
	}

	// 5. Disabled, the user's token is refused everywhere, and the app
	// sees them no more.
	inst.cli(t, "", "user", "disable", "--email", email)
	routesList := chatURL + "/.drawbridge/mcp/routes"
	waitFor(t, 10*time.Second, "the routes list to refuse a disabled user's token", func() bool {
		status, _ := sendWith(t, httpClient, http.MethodGet, routesList, access, "")
		return status == http.StatusUnauthorized
	})
	call := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}`
	for _, server := range []string{octoURL, notesURL} {
		if status, body := sendWith(t, httpClient, http.MethodPost, server, access, call); status != http.StatusUnauthorized || !strings.Contains(body, "can no longer sign in") {
			t.Errorf("a tool call on %s with a disabled user's token: %d %.300s, want 401", server, status, body)
		}
	}
	before = len(app.seen())
	step(t, tab, "open the chat app again", chromedp.Navigate(chatURL+"/"))
	if u := location(t, tab); u.Scheme+"://"+u.Host != inst.URL || u.Path != "/login" {
		t.Errorf("a disabled user opening the chat app is at %s, want the console's sign-in", u)
	}
	screenshot(t, tab, "disabled-sign-in")
	if n := len(app.seen()) - before; n != 0 {
		t.Errorf("a disabled user's browser reached the app %d times", n)
	}
}

// wantChatHome checks that the tab is on the chat app's home page.
func wantChatHome(t *testing.T, ctx context.Context, chatURL string) {
	t.Helper()
	if u := location(t, ctx); u.Scheme+"://"+u.Host != chatURL || u.Path != "/" {
		t.Fatalf("at %s, want the chat app at %s/", u, chatURL)
	}
	step(t, ctx, "see the chat app's servers", chromedp.WaitVisible(testID("chat-server")))
	if n := count(t, ctx, testID("chat-error")); n != 0 {
		t.Fatalf("the chat app shows an error: %s", text(t, ctx, testID("chat-error")))
	}
}

// wantServers checks the app's list: each server's state, and, when urls
// is given, its URL.
func wantServers(t *testing.T, ctx context.Context, states, urls map[string]string) {
	t.Helper()
	if n := count(t, ctx, testID("chat-server")); n != len(states) {
		t.Errorf("the app lists %d servers, want %d", n, len(states))
	}
	for name, state := range states {
		sel := fmt.Sprintf(`[data-testid="chat-server"][data-name=%q]`, name)
		if count(t, ctx, chromedp.CSS(sel)) != 1 {
			t.Errorf("the app does not list %s", name)
			continue
		}
		if got := text(t, ctx, chromedp.CSS(sel+` [data-testid="chat-server-state"]`)); got != state {
			t.Errorf("the app says %s is %q, want %q", name, got, state)
		}
		if want, ok := urls[name]; ok {
			if got := attr(t, ctx, chromedp.CSS(sel), "data-url"); got != want {
				t.Errorf("the routes list gives %s's URL as %q, want %q", name, got, want)
			}
		}
	}
}

// wantChatVisits checks what the app received: on every request the
// user's token and the assertion header, no X-Drawbridge-* header but
// that one (the browser sent one), and none of Drawbridge's cookies,
// which the browser does hold, while the app's own cookie comes through.
func wantChatVisits(t *testing.T, ctx context.Context, visits []chatVisit, chatURL string) {
	t.Helper()
	own := false
	for _, v := range visits {
		if !strings.HasPrefix(v.Authorization, "Bearer ") || v.Assertion == "" {
			t.Errorf("%s reached the app with Authorization %q and assertion %q, want both", v.Path, v.Authorization, v.Assertion)
		}
		if !slices.Equal(v.Drawbridge, []string{"X-Drawbridge-Assertion"}) {
			t.Errorf("%s reached the app with the headers %q, want only X-Drawbridge-Assertion", v.Path, v.Drawbridge)
		}
		for _, c := range v.Cookies {
			if strings.HasPrefix(strings.ToLower(c), "drawbridge") {
				t.Errorf("%s reached the app with Drawbridge's cookie %s", v.Path, c)
			}
		}
		own = own || slices.Contains(v.Cookies, "chat_seen")
	}
	if !own {
		t.Errorf("the app's own cookie never came back to it")
	}
	jar, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{chatURL + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(jar.Cookies, func(c *network.Cookie) bool { return c.Name == "drawbridge_route" }) {
		t.Errorf("the browser holds no Drawbridge session on the chat host, so the cookie check proves nothing")
	}
}

// sendWith sends a request with bearer, a JSON body when body is not "",
// and returns the status and body.
func sendWith(t *testing.T, client *http.Client, method, url, bearer, body string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Accept", "application/json, text/event-stream")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, string(b)
}
