package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/modelcontextprotocol/go-sdk/auth"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/drawbridge/drawbridge/web/webtest"
)

// upstreamTTL is how long the upstream's access tokens live: short, so
// that the journey sees one expire and Drawbridge renew it.
const upstreamTTL = 3 * time.Second

// TestConnectJourney is a person connecting their own account at an
// upstream OAuth provider from the portal, in Chromium: Connect, sign-in
// and consent at the provider, back to Connected, then a copy of the
// Claude Code setup with its copy button. From then on an MCP client's
// calls through the route carry that account's token, renewed when it
// expires or when the person asks, and never the client's own
// Drawbridge token; Disconnect forgets and revokes it, and a grant the
// provider revokes shows on the portal as needing a new Connect.
func TestConnectJourney(t *testing.T) {
	t.Parallel()
	inst := startDrawbridge(t)
	// The route is on the console's port under another name. Not
	// octo.localhost: the Go SDK's OAuth client takes only localhost and
	// IP addresses for loopback, and refuses plain HTTP elsewhere.
	routeURL := "http://localhost:" + inst.port(t)
	// The provider must know the console's callback before it starts, so
	// it starts after Drawbridge, and the app is configured after both.
	// auth_style is given: with the default, auto, golang.org/x/oauth2
	// sends a refused refresh twice (HTTP Basic, then the form), which
	// would blur the provider's counts.
	provider := webtest.StartOIDCProviderWith(t, webtest.OIDCProviderOptions{
		ClientID: "drawbridge", ClientSecret: "upstream-secret", RedirectURIs: []string{inst.URL + "/oauth/upstream/callback"},
		Accounts: []webtest.OIDCAccount{{Login: "octocat", Email: "octocat@example.com", Name: "Octo Cat"}},
		Refresh:  true, AccessTokenTTL: upstreamTTL, ExtraScopes: []string{"repo"},
	})
	ep := provider.Endpoints(t)
	echo := webtest.StartEchoMCP(t)
	config := fmt.Sprintf(`upstream_oauth_apps:
  - name: octo
    client_id: %s
    client_secret: %s
    auth_url: %s
    token_url: %s
    revocation_url: %s
    scopes: [openid, profile, repo]
    pkce: true
    auth_style: header
policies:
  - name: everyone
    allow:
      and:
        - authenticated_user: true
routes:
  - name: Octo
    description: Repositories and issues, as you.
    from: %s
    to: %s
    mcp: {server: {upstream_oauth_app: octo}}
    policies: [everyone]
`, provider.ClientID, provider.ClientSecret, ep.AuthURL, ep.TokenURL, ep.RevocationURL, routeURL, echo.URL)
	inst.cli(t, "", "apply", "-f", writeFile(t, "connect.yaml", config), "--console-url", inst.URL)
	const email, password = "dana@example.com", "dana-has-a-long-password"
	inst.cli(t, password+"\n", "user", "create", "--email", email, "--password-stdin")
	httpClient := dialAll(inst.URL)
	waitForRoute(t, httpClient, routeURL)

	// 1. The portal offers Connect on the route.
	tab := newTab(t)
	signIn(t, tab, inst.URL, email, password)
	wantPath(t, tab, "/")
	wantCard(t, tab, "not_connected", "Not connected")
	step(t, tab, "see the Connect button", chromedp.WaitVisible(testID("connect-button")))
	routeID := attr(t, tab, testID("portal-server"), "data-route-id")
	connectHref := attr(t, tab, testID("connect-button"), "href")
	if want := "/connect?route=" + routeID; connectHref != want {
		t.Errorf("Connect links to %q, want %q", connectHref, want)
	}
	screenshot(t, tab, "portal-not-connected")

	// 2. Connect: sign in and consent at the provider, back to the portal.
	connectAtProvider(t, tab, inst.URL, provider, "octocat")
	wantFlash(t, tab, "success", "Connected octo as Octo Cat.")
	wantCard(t, tab, "connected", "Connected")
	if got := text(t, tab, testID("connection-account")); got != "Connected to octo as Octo Cat" {
		t.Errorf("the card says %q, want the account it is connected as", got)
	}
	step(t, tab, "see the token's expiry", chromedp.WaitVisible(testID("token-expiry")))
	step(t, tab, "see Disconnect", chromedp.WaitVisible(chromedp.CSS(`[data-testid="confirm-disconnect"] summary`)))
	if n := count(t, tab, testID("connect-button")); n != 0 {
		t.Errorf("a connected card still offers Connect")
	}
	screenshot(t, tab, "portal-connected")
	if s := provider.Stats(t); s.CodeGrants != 1 {
		t.Errorf("the provider made %d code grants after one Connect, want 1", s.CodeGrants)
	}
	copyClaudeCodeSnippet(t, tab, inst.URL, "claude mcp add --transport http octo "+routeURL)

	// 3. An MCP client signs in the usual way; its calls carry the
	// upstream token, not its own.
	access := drawbridgeToken(t, tab, httpClient, routeURL)
	session := mcpSession(t, httpClient, routeURL, access)
	first := whoami(t, session)
	wantUpstreamToken(t, ep.UserinfoURL, first, access)

	// 4. The upstream token expires; the next call renews it first.
	time.Sleep(upstreamTTL + 200*time.Millisecond)
	before := provider.Stats(t)
	second := whoami(t, session)
	if after := provider.Stats(t); after.RefreshGrants != before.RefreshGrants+1 {
		t.Errorf("a call after the token expired made %d refresh grants, want 1", after.RefreshGrants-before.RefreshGrants)
	}
	if second == first {
		t.Errorf("after the token expired the upstream got the same bearer again")
	}
	wantUpstreamToken(t, ep.UserinfoURL, second, access)

	// 5. Refresh now, from the portal.
	step(t, tab, "reload the portal", chromedp.Navigate(inst.URL+"/"))
	before = provider.Stats(t)
	follow(t, tab, "refresh now", chromedp.CSS(`[data-testid="refresh-form"] button[type="submit"]`))
	wantPath(t, tab, "/")
	wantFlash(t, tab, "success", "Renewed your octo sign-in.")
	if after := provider.Stats(t); after.RefreshGrants != before.RefreshGrants+1 {
		t.Errorf("Refresh now made %d refresh grants, want 1", after.RefreshGrants-before.RefreshGrants)
	}
	wantCard(t, tab, "connected", "Connected")
	if third := whoami(t, session); third == second {
		t.Errorf("after Refresh now the upstream got the bearer from before it")
	}

	// 6. Disconnect asks first, then forgets and revokes the sign-in.
	step(t, tab, "ask to disconnect",
		chromedp.Click(chromedp.CSS(`[data-testid="confirm-disconnect"] summary`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog.confirm-dialog[open]`)),
	)
	if got := text(t, tab, chromedp.CSS(`dialog.confirm-dialog h2`)); got != "Disconnect octo?" {
		t.Errorf("confirmation asks %q, want %q", got, "Disconnect octo?")
	}
	screenshot(t, tab, "disconnect-confirm")
	before = provider.Stats(t)
	follow(t, tab, "confirm disconnecting", chromedp.CSS(`dialog.confirm-dialog[open] .btn-danger`))
	wantPath(t, tab, "/")
	wantFlash(t, tab, "success", "Disconnected octo. Drawbridge no longer holds a sign-in for it.")
	wantCard(t, tab, "not_connected", "Not connected")
	step(t, tab, "see Connect again", chromedp.WaitVisible(testID("connect-button")))
	screenshot(t, tab, "portal-disconnected")
	if n := provider.Stats(t).Revocations - before.Revocations; n != 2 {
		t.Errorf("the provider revoked %d tokens on Disconnect, want 2 (access and refresh)", n)
	}
	if _, err := callWhoami(session); err == nil || !strings.Contains(err.Error(), "Unauthorized") {
		t.Errorf("a call after Disconnect: %v, want 401", err)
	}
	msg, connectURL := wantRefused(t, httpClient, routeURL, access)
	if !strings.Contains(msg, "Connect your account to use Octo") {
		t.Errorf("the refusal after Disconnect says %q, want it to say to connect", msg)
	}
	if connectURL != inst.URL+connectHref {
		t.Errorf("the refusal links to %q, want the portal's Connect, %s", connectURL, inst.URL+connectHref)
	}

	// 7. Connected again, then the provider revokes the grant: once the
	// token is due, calls fail and the portal asks for a new Connect.
	connectAtProvider(t, tab, inst.URL, provider, "")
	wantFlash(t, tab, "success", "Connected octo as Octo Cat.")
	wantCard(t, tab, "connected", "Connected")
	session = mcpSession(t, httpClient, routeURL, access)
	wantUpstreamToken(t, ep.UserinfoURL, whoami(t, session), access)
	provider.RevokeGrants(t)
	time.Sleep(upstreamTTL + 200*time.Millisecond)
	before = provider.Stats(t)
	if _, err := callWhoami(session); err == nil || !strings.Contains(err.Error(), "Unauthorized") {
		t.Errorf("a call after the provider revoked the grant: %v, want 401", err)
	}
	if n := provider.Stats(t).RefreshFailures - before.RefreshFailures; n != 1 {
		t.Errorf("the provider refused %d refreshes after revoking the grant, want 1", n)
	}
	if msg, _ := wantRefused(t, httpClient, routeURL, access); !strings.Contains(msg, "Connect again") {
		t.Errorf("the refusal after the grant was revoked says %q, want it to say to connect again", msg)
	}
	step(t, tab, "reload the portal", chromedp.Navigate(inst.URL+"/"))
	wantCard(t, tab, "needs_reconnect", "Needs re-Connect")
	if got := text(t, tab, testID("connection-problem")); !strings.Contains(got, "Connect again") {
		t.Errorf("the card explains %q, want it to say to connect again", got)
	}
	step(t, tab, "see Connect offered again", chromedp.WaitVisible(testID("connect-button")))
	screenshot(t, tab, "portal-needs-reconnect")

	for _, h := range echo.Authorizations() {
		if strings.Contains(h, access) {
			t.Fatal("the client's Drawbridge token reached the upstream")
		}
	}
}

// copyClaudeCodeSnippet copies the portal card's Claude Code setup with
// its copy button, as a person setting up their client would, and checks
// what reached the browser's real clipboard, and that the button said so.
func copyClaudeCodeSnippet(t *testing.T, ctx context.Context, consoleURL, want string) {
	t.Helper()
	panel := `[data-testid="portal-server"] [data-testid="setup-snippet"][data-client="claude-code"]`
	button := panel + ` button[data-copy]`
	if got := text(t, ctx, chromedp.CSS(panel+` [data-testid="snippet-code"]`)); got != want {
		t.Errorf("the Claude Code snippet reads %q, want %q", got, want)
	}
	// app.js says "Copied" for a moment, then puts the label back: an
	// observer keeps what the button said, so that no wait races it.
	evaluate[bool](t, ctx, fmt.Sprintf(`(() => {
		const b = document.querySelector(%q);
		window.journeyCopyStates = [];
		new MutationObserver(() => window.journeyCopyStates.push(
			[b.classList.contains("is-copied"), b.getAttribute("title"), b.getAttribute("aria-label")].join("|")
		)).observe(b, {attributes: true});
		return true;
	})()`, button))
	if got := copyFromButton(t, ctx, consoleURL, button); got != want {
		t.Errorf("the Claude Code copy button put %q on the clipboard, want %q", got, want)
	}
	states := evaluate[[]string](t, ctx, `window.journeyCopyStates`)
	if !slices.Contains(states, "true|Copied|Copied") {
		t.Errorf("the copy button never said Copied (its states: %q)", states)
	}
}

// waitForRoute waits, a few seconds at most, for the gateway to serve a
// route just applied from the CLI: it asks for a token there.
func waitForRoute(t *testing.T, client *http.Client, routeURL string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var last any
		resp, err := client.Post(routeURL, "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
		if last = err; err == nil {
			resp.Body.Close()
			if last = resp.Status; resp.StatusCode == http.StatusUnauthorized {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway does not ask for a token at %s 10 s after apply (last: %v)", routeURL, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wantCard checks the state of the portal's one card and its badge.
func wantCard(t *testing.T, ctx context.Context, status, badge string) {
	t.Helper()
	step(t, ctx, "see the card "+badge, chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`[data-testid="portal-server"][data-status=%q]`, status))))
	if got := text(t, ctx, chromedp.CSS(`[data-testid="portal-server"] [data-testid="server-status"]`)); got != badge {
		t.Errorf("the card's badge says %q, want %q", got, badge)
	}
	if got := text(t, ctx, testID("server-name")); got != "Octo" {
		t.Errorf("the card is for %q, want Octo", got)
	}
}

// connectAtProvider clicks Connect on the portal and goes through the
// provider's pages as a person would, until the browser is back on the
// portal: the login page when login is given, none when it is "" (the
// provider remembers the person), then the consent page.
func connectAtProvider(t *testing.T, ctx context.Context, consoleURL string, provider *webtest.OIDCProvider, login string) {
	t.Helper()
	follow(t, ctx, "click Connect", testID("connect-button"))
	if !strings.HasPrefix(currentURL(ctx), provider.Issuer+"/") {
		t.Fatalf("Connect went to %s, want the provider %s", currentURL(ctx), provider.Issuer)
	}
	loginPage := count(t, ctx, `input[name="login"]`) > 0
	switch {
	case loginPage && login != "":
		step(t, ctx, "type the login at the provider", chromedp.SendKeys(chromedp.CSS(`input[name="login"]`), login))
		follow(t, ctx, "sign in at the provider", chromedp.CSS(`form[action$="/login"] button[type="submit"]`))
	case loginPage:
		t.Fatalf("the provider asks for a login again (at %s)", currentURL(ctx))
	case login != "":
		t.Fatalf("the provider asks for no login (at %s)", currentURL(ctx))
	}
	step(t, ctx, "see the provider's consent page", chromedp.WaitVisible(chromedp.CSS(`form[action$="/consent"]`)))
	if got := text(t, ctx, chromedp.CSS(`[data-testid="scopes"]`)); !strings.Contains(got, "repo") {
		t.Errorf("the provider's consent page lists %q, want the repo scope", got)
	}
	follow(t, ctx, "allow at the provider", chromedp.CSS(`form[action$="/consent"] button[type="submit"]`))
	if u := location(t, ctx); u.Scheme+"://"+u.Host != consoleURL || u.Path != "/" {
		t.Fatalf("after Connect the browser is at %s, want the portal at %s/", u, consoleURL)
	}
}

// drawbridgeToken gets an access token for the route the way an MCP
// client does: the Go SDK discovers the authorization server from the
// route's 401, registers itself, and sends the person, signed in already
// in tab, through consent. The user has connected, so no Connect comes
// first.
func drawbridgeToken(t *testing.T, tab context.Context, client *http.Client, routeURL string) string {
	t.Helper()
	return drawbridgeTokenWith(t, tab, client, routeURL, tokenFlow{})
}

// tokenFlow changes what drawbridgeTokenWith expects on the way; the
// zero value is drawbridgeToken's.
type tokenFlow struct {
	// RouteName is the route the consent page names; "" is Octo.
	RouteName string
	// SignIn, when set, is called on the sign-in page the authorization
	// URL leads to, and must leave the tab signed in, back on the
	// authorization request; unset, the tab is signed in already.
	SignIn func()
}

// drawbridgeTokenWith is drawbridgeToken with a flow of other pages.
func drawbridgeTokenWith(t *testing.T, tab context.Context, client *http.Client, routeURL string, flow tokenFlow) string {
	t.Helper()
	if flow.RouteName == "" {
		flow.RouteName = "Octo"
	}
	got := make(chan *auth.AuthorizationResult, 1)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		select {
		case got <- &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}:
		default:
		}
		fmt.Fprintln(w, "Signed in. You can close this page.")
	}))
	t.Cleanup(cb.Close)
	fetch := func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
		step(t, tab, "open the authorization URL", chromedp.Navigate(args.URL))
		if flow.SignIn != nil {
			wantPath(t, tab, "/login")
			flow.SignIn()
		}
		step(t, tab, "see the consent page", chromedp.WaitVisible(testID("consent")))
		if got := text(t, tab, testID("consent-route")); got != flow.RouteName {
			t.Errorf("consent page names the route %q", got)
		}
		step(t, tab, "allow", chromedp.Click(testID("consent-allow")))
		select {
		case r := <-got:
			return r, nil
		case <-time.After(15 * time.Second):
			return nil, fmt.Errorf("the browser never came back to the client (at %s)", currentURL(tab))
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	handler, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			RedirectURIs: []string{cb.URL + "/callback"}, ClientName: "Connect journey client",
			TokenEndpointAuthMethod: "none", GrantTypes: []string{"authorization_code", "refresh_token"},
		}},
		RedirectURL:              cb.URL + "/callback",
		AuthorizationCodeFetcher: fetch,
		Client:                   client,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := sdk.NewClient(&sdk.Implementation{Name: "connect-journey", Version: "1"}, nil).Connect(ctx,
		&sdk.StreamableClientTransport{Endpoint: routeURL, HTTPClient: client, OAuthHandler: handler, MaxRetries: -1, DisableStandaloneSSE: true}, nil)
	if err != nil {
		t.Fatalf("connect to %s with OAuth: %v", routeURL, err)
	}
	s.Close()
	src, err := handler.TokenSource(ctx)
	if err != nil || src == nil {
		t.Fatalf("no token source after signing in: %v", err)
	}
	tok, err := src.Token()
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("no access token after signing in: %v", err)
	}
	return tok.AccessToken
}

// mcpSession opens an MCP session to the route that sends bearer and
// nothing else: on a 401 it fails rather than signs in again.
func mcpSession(t *testing.T, client *http.Client, routeURL, bearer string) *sdk.ClientSession {
	t.Helper()
	hc := &http.Client{Timeout: client.Timeout, Transport: bearerTransport{bearer: bearer, base: client.Transport}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := sdk.NewClient(&sdk.Implementation{Name: "connect-journey", Version: "1"}, nil).Connect(ctx,
		&sdk.StreamableClientTransport{Endpoint: routeURL, HTTPClient: hc, MaxRetries: -1, DisableStandaloneSSE: true}, nil)
	if err != nil {
		t.Fatalf("open an MCP session to %s: %v", routeURL, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type bearerTransport struct {
	bearer string
	base   http.RoundTripper
}

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.bearer)
	return b.base.RoundTrip(r)
}

// whoami calls the echo server's whoami tool, which answers the
// Authorization header it received; a failure fails the test.
func whoami(t *testing.T, s *sdk.ClientSession) string {
	t.Helper()
	got, err := callWhoami(s)
	if err != nil {
		t.Fatalf("call whoami: %v", err)
	}
	return got
}

func callWhoami(s *sdk.ClientSession) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := s.CallTool(ctx, &sdk.CallToolParams{Name: "whoami"})
	if err != nil {
		return "", err
	}
	if res.IsError || len(res.Content) != 1 {
		return "", fmt.Errorf("whoami answered %+v", res)
	}
	text, ok := res.Content[0].(*sdk.TextContent)
	if !ok {
		return "", fmt.Errorf("whoami answered a %T", res.Content[0])
	}
	return text.Text, nil
}

// wantUpstreamToken checks that authorization, what the upstream MCP
// server received, is a bearer the provider itself takes for octocat's,
// and not the client's Drawbridge token.
func wantUpstreamToken(t *testing.T, userinfoURL, authorization, access string) {
	t.Helper()
	bearer, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok || bearer == "" {
		t.Fatalf("the upstream got Authorization %q, want a bearer token", authorization)
	}
	if strings.Contains(authorization, access) {
		t.Fatal("the upstream got the client's Drawbridge token")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, userinfoURL, nil)
	req.Header.Set("Authorization", authorization)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info struct {
		Sub string `json:"sub"`
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &info) != nil || info.Sub != "octocat" {
		t.Fatalf("the provider's userinfo answered the upstream's bearer with %d %s, want octocat's claims", resp.StatusCode, body)
	}
}

// wantRefused sends a tool call with the Drawbridge token as raw JSON-RPC
// and wants a 401 whose error says how to connect; it returns the message
// and the Connect link.
func wantRefused(t *testing.T, client *http.Client, routeURL, access string) (message, connectURL string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, routeURL,
		strings.NewReader(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"whoami","arguments":{}}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	var answer struct {
		Error struct {
			Message string            `json:"message"`
			Data    map[string]string `json:"data"`
		} `json:"error"`
	}
	if resp.StatusCode != http.StatusUnauthorized || json.Unmarshal(body, &answer) != nil {
		t.Fatalf("tool call without a usable connection: %d %s, want a 401 JSON-RPC error", resp.StatusCode, body)
	}
	return answer.Error.Message, answer.Error.Data["connect_url"]
}
