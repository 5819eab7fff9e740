package web

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/web/webtest"
)

// connectWorld is a console with an upstream OAuth provider (refresh
// tokens, short-lived access tokens), an MCP server that echoes the
// bearer it gets, and a route to it that needs the user's account at the
// provider. Route hosts are *.localhost names on the console's port.
type connectWorld struct {
	app      *testApp
	provider *webtest.OIDCProvider
	echo     *webtest.EchoMCP
	upstream *models.UpstreamApp
	route    *models.Route
	alice    *models.User
	port     string
}

func newConnectWorld(t *testing.T) *connectWorld {
	t.Helper()
	app := newTestApp(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(app.URL, "http://"))
	p := webtest.StartOIDCProviderWith(t, webtest.OIDCProviderOptions{
		ClientID: "drawbridge", ClientSecret: "upstream-secret", RedirectURIs: []string{app.URL + "/oauth/upstream/callback"},
		Accounts: []webtest.OIDCAccount{{Login: "octocat", Email: "octocat@example.com", Name: "Octo Cat"}},
		Refresh:  true, AccessTokenTTL: 3 * time.Second, ExtraScopes: []string{"repo"},
	})
	ep := p.Endpoints(t)
	ctx := context.Background()
	upstream := &models.UpstreamApp{
		Name: "octo", ClientID: p.ClientID, ClientSecret: p.ClientSecret, AuthURL: ep.AuthURL, TokenURL: ep.TokenURL,
		RevocationURL: ep.RevocationURL, Scopes: []string{"openid", "profile", "repo"}, PKCE: true, AuthStyle: models.AuthStyleHeader,
	}
	if err := app.Store.CreateUpstreamApp(ctx, upstream); err != nil {
		t.Fatal(err)
	}
	everyone := &models.Policy{Name: "everyone", Source: "allow:\n  and:\n    - authenticated_user: true\n"}
	if err := app.Store.CreatePolicy(ctx, everyone); err != nil {
		t.Fatal(err)
	}
	echo := webtest.StartEchoMCP(t)
	route := &models.Route{
		Name: "Octo", From: "http://octo.localhost:" + port, To: echo.URL, Kind: models.KindMCPServer,
		UpstreamAppID: &upstream.ID, Enabled: true,
	}
	if err := app.Store.CreateRoute(ctx, route, []uint{everyone.ID}); err != nil {
		t.Fatal(err)
	}
	alice := app.user(t, "alice@example.com", false)
	app.waitForGateway(t)
	return &connectWorld{app: app, provider: p, echo: echo, upstream: upstream, route: route, alice: alice, port: port}
}

// hostDialer sends every connection to the console's listener, whatever
// the name: what *.localhost resolves to in a browser.
func (w *connectWorld) hostDialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	target := strings.TrimPrefix(w.app.URL, "http://")
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if _, port, _ := net.SplitHostPort(addr); port == w.port {
			addr = target
		}
		return d.DialContext(ctx, network, addr)
	}
}

// signedIn is alice's browser, signed in at the console, reaching route
// hosts too; it follows no redirects.
func (w *connectWorld) signedIn(t *testing.T) *browser {
	b := w.app.browser(t)
	b.client.Transport = &http.Transport{DialContext: w.hostDialer()}
	b.login("alice@example.com")
	return b
}

// open requests an absolute URL with b.
func (b *browser) open(method, rawURL string, header http.Header) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(method, rawURL, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	return b.do(req)
}

// connect runs Connect from the portal: the console sends the browser to
// the provider, the person signs in and consents there, and the provider
// sends it back to the console's callback.
func (w *connectWorld) connect(t *testing.T, b *browser) string {
	t.Helper()
	return w.connectFrom(t, b, "/connect?route="+strconv.FormatUint(uint64(w.route.ID), 10))
}

// connectFrom runs Connect from a console address that starts it.
func (w *connectWorld) connectFrom(t *testing.T, b *browser, start string) string {
	t.Helper()
	resp, body := b.get(start)
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), w.provider.Issuer) {
		t.Fatalf("Connect: %d to %q, want a redirect to the provider; %.300s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	jar, _ := cookiejar.New(nil)
	back := w.provider.SignIn(t, &http.Client{Jar: jar}, resp.Header.Get("Location"), "octocat")
	resp, body = b.open(http.MethodGet, back.String(), nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: %d, %.400s", resp.StatusCode, body)
	}
	return resp.Header.Get("Location")
}

// mcpSession opens an MCP session to the route with bearer.
func (w *connectWorld) mcpSession(t *testing.T, bearer string) (*mcp.ClientSession, error) {
	t.Helper()
	hc := &http.Client{Transport: bearerTransport{bearer: bearer, base: &http.Transport{DialContext: w.hostDialer()}}}
	client := mcp.NewClient(&mcp.Implementation{Name: "connect-test", Version: "1"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: w.route.From, HTTPClient: hc, DisableStandaloneSSE: true}, nil)
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
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

// whoami calls the echo server's whoami tool: the Authorization header
// the upstream received.
func whoami(t *testing.T, s *mcp.ClientSession) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "whoami"})
	if err != nil {
		return "", err
	}
	if len(res.Content) != 1 {
		t.Fatalf("whoami answered %d contents", len(res.Content))
	}
	return res.Content[0].(*mcp.TextContent).Text, nil
}

// drawbridgeToken gets alice an access token for the route the way an MCP
// client does, through the authorization flow, in which Connect runs
// first if she has not connected.
func (w *connectWorld) drawbridgeToken(t *testing.T, b *browser) string {
	t.Helper()
	c := w.app.client(t, "Test client", models.AuthMethodNone)
	code, p := b.codeFor(c, w.route.From)
	return w.app.exchange(t, c, code, p).AccessToken
}

func TestConnectCarriesTheUpstreamTokenAndNeverTheClients(t *testing.T) {
	w := newConnectWorld(t)
	b := w.signedIn(t)

	// The authorization flow runs Connect before consent.
	client := w.app.client(t, "Claude", models.AuthMethodNone)
	resp, body := b.get("/oauth/authorize?" + authorizeQuery(client, newPKCE(), w.route.From).Encode())
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/connect?") {
		t.Fatalf("authorize before Connect: %d to %q, want Connect first; %.300s", resp.StatusCode, loc, body)
	}
	back := w.connectFrom(t, b, loc)
	if !strings.HasPrefix(back, w.app.URL+"/oauth/authorize?") {
		t.Fatalf("Connect inside authorize returns to %q, want the authorization request", back)
	}
	// Back at the authorization request, the user is asked to consent.
	resp, body = b.get(strings.TrimPrefix(back, w.app.URL))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "consent-form") {
		t.Fatalf("authorize after Connect: %d, want the consent page; %.300s", resp.StatusCode, body)
	}

	// Connect from the portal, once connected, goes straight back.
	resp, _ = b.get("/connect?route=" + strconv.FormatUint(uint64(w.route.ID), 10))
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != w.app.URL+"/" {
		t.Fatalf("Connect when connected: %d to %q, want straight back to the portal", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body = b.get("/")
	if !strings.Contains(body, "Connected") || !strings.Contains(body, "Octo Cat") {
		t.Fatalf("the portal does not show Connected as Octo Cat: %.3000s", body[strings.Index(body, "<main"):])
	}

	access := w.drawbridgeToken(t, b)
	s, err := w.mcpSession(t, access)
	if err != nil {
		t.Fatal(err)
	}
	got, err := whoami(t, s)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := w.app.Store.GetUpstreamConnection(context.Background(), w.alice.ID, w.upstream.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got != "Bearer "+conn.AccessToken {
		t.Fatalf("the upstream got %q, want the user's upstream token", got)
	}

	// After the upstream token expires, the next call refreshes it.
	time.Sleep(time.Until(*conn.ExpiresAt) + 100*time.Millisecond)
	before := w.provider.Stats(t)
	if got, err = whoami(t, s); err != nil {
		t.Fatal(err)
	}
	if w.provider.Stats(t).RefreshGrants != before.RefreshGrants+1 {
		t.Errorf("no refresh after expiry")
	}
	if got == "Bearer "+conn.AccessToken || !strings.HasPrefix(got, "Bearer ") {
		t.Errorf("after expiry the upstream got %q, want a new token", got)
	}
	for _, h := range w.echo.Authorizations() {
		if strings.Contains(h, access) {
			t.Fatal("the client's Drawbridge token reached the upstream")
		}
	}

	// The routes list, with the token and anonymously.
	var list struct {
		Servers []struct {
			Name       string `json:"name"`
			URL        string `json:"url"`
			Connected  bool   `json:"connected"`
			NeedsOAuth bool   `json:"needs_oauth"`
		} `json:"servers"`
	}
	resp, body = b.open(http.MethodGet, w.route.From+"/.drawbridge/mcp/routes", http.Header{"Authorization": {"Bearer " + access}})
	if err := json.Unmarshal([]byte(body), &list); resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("routes list: %d %v %s", resp.StatusCode, err, body)
	}
	if len(list.Servers) != 1 || list.Servers[0].URL != w.route.From || !list.Servers[0].Connected || !list.Servers[0].NeedsOAuth {
		t.Fatalf("routes list = %+v", list)
	}
	anonymous, _ := http.NewRequest(http.MethodGet, w.route.From+"/.drawbridge/mcp/routes", nil)
	if resp, _ := (&browser{t: t, client: &http.Client{Transport: &http.Transport{DialContext: w.hostDialer()}}}).do(anonymous); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous routes list: %d, want 401", resp.StatusCode)
	}

	// Disconnect from the portal: the token is gone here and revoked there.
	before = w.provider.Stats(t)
	resp, _ = b.post("/connections/disconnect", url.Values{"route": {strconv.FormatUint(uint64(w.route.ID), 10)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disconnect: %d", resp.StatusCode)
	}
	if n := w.provider.Stats(t).Revocations - before.Revocations; n != 2 {
		t.Errorf("the provider revoked %d tokens on Disconnect, want 2", n)
	}
	_, err = whoami(t, s)
	if err == nil || !strings.Contains(err.Error(), "Unauthorized") {
		t.Fatalf("call after Disconnect: %v, want 401", err)
	}
}

func TestCallWithoutConnectionSaysHowToConnect(t *testing.T) {
	w := newConnectWorld(t)
	b := w.signedIn(t)
	w.connect(t, b)
	access := w.drawbridgeToken(t, b)
	if _, err := w.app.Store.DeleteUpstreamConnection(context.Background(), w.alice.ID, w.upstream.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // the vault rereads a connection within vault.CacheFor

	req, _ := http.NewRequest(http.MethodPost, w.route.From, strings.NewReader(`{"jsonrpc":"2.0","id":7,"method":"tools/list"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+access)
	resp, body := b.do(req)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("call without a connection: %d %s", resp.StatusCode, body)
	}
	var answer struct {
		Error struct {
			Message string            `json:"message"`
			Data    map[string]string `json:"data"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &answer); err != nil {
		t.Fatal(err)
	}
	want := w.app.URL + "/connect?route=" + strconv.FormatUint(uint64(w.route.ID), 10)
	if !strings.Contains(answer.Error.Message, "Connect your account to use Octo") || answer.Error.Data["connect_url"] != want {
		t.Fatalf("error = %+v, want the Connect link %s", answer.Error, want)
	}
	if !strings.Contains(resp.Header.Get("WWW-Authenticate"), "resource_metadata=") {
		t.Errorf("no challenge sends the client back through sign-in (and Connect)")
	}
	if n := len(w.echo.Authorizations()); n != 0 {
		t.Errorf("the upstream saw %d requests", n)
	}
}

// TestConnectRedirects: the route host's Connect goes through the
// console, which sends the browser back only to the route's host, the
// console or a client route, exactly; everything else is refused on a
// page.
func TestConnectRedirects(t *testing.T) {
	w := newConnectWorld(t)
	chat := &models.Route{Name: "Chat", From: "http://chat.localhost:" + w.port, To: "http://127.0.0.1:9", Kind: models.KindMCPClient, Enabled: true}
	if err := w.app.Store.CreateRoute(context.Background(), chat, nil); err != nil {
		t.Fatal(err)
	}
	w.app.waitForGateway(t)
	b := w.signedIn(t)
	w.connect(t, b)

	start := w.route.From + "/.drawbridge/mcp/connect?redirect_url="
	for _, back := range []string{w.route.From + "/done", chat.From + "/after?x=1", w.app.URL + "/"} {
		resp, _ := b.open(http.MethodGet, start+url.QueryEscape(back), nil)
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("route host Connect: %d", resp.StatusCode)
		}
		resp, body := b.open(http.MethodGet, resp.Header.Get("Location"), nil)
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != back {
			t.Errorf("connected, back to %s: %d to %q; %.200s", back, resp.StatusCode, resp.Header.Get("Location"), body)
		}
	}
	tricks := []string{
		"http://evil.example/", "//evil.example/", "http://octo.localhost:" + w.port + "@evil.example/",
		"http://octo.localhost:1/", "https://octo.localhost:" + w.port + "/", "http://octo.localhost:" + w.port + "/%2F%2Fevil.example",
		"http://octo.localhost:" + w.port + "\\@evil.example/", "javascript:alert(1)", "http://octo.localhost.:" + w.port + "/",
	}
	for _, back := range tricks {
		resp, body := b.get("/connect?route=" + strconv.FormatUint(uint64(w.route.ID), 10) + "&redirect_url=" + url.QueryEscape(back))
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("redirect_url %q: %d to %q, want a 400 page", back, resp.StatusCode, resp.Header.Get("Location"))
		}
		if !strings.Contains(body, "not one this Drawbridge sends browsers to") {
			t.Errorf("redirect_url %q: the page does not say why: %.300s", back, body)
		}
	}
}

// TestClientRoute: a chat app behind an mcp_client route gets its user
// signed in through the console, receives the user's Drawbridge token,
// lists the servers with it and calls one.
func TestClientRoute(t *testing.T) {
	w := newConnectWorld(t)
	seen := make(chan string, 16)
	chatApp := newHTTPServer(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Get("Authorization")
		// An app may set its own cookies, never Drawbridge's.
		http.SetCookie(rw, &http.Cookie{Name: "app", Value: "1"})
		http.SetCookie(rw, &http.Cookie{Name: "drawbridge_route", Value: "planted"})
		io.WriteString(rw, "chat app")
	}))
	chat := &models.Route{Name: "Chat", From: "http://chat.localhost:" + w.port, To: chatApp, Kind: models.KindMCPClient, Enabled: true}
	everyone, err := w.app.Store.AllPolicies(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.app.Store.CreateRoute(context.Background(), chat, []uint{everyone[0].ID}); err != nil {
		t.Fatal(err)
	}
	w.app.waitForGateway(t)
	b := w.signedIn(t)
	w.connect(t, b)

	// Login CSRF: a hand-over link made for mallory's sign-in does not
	// sign alice's browser in as mallory.
	w.app.user(t, "mallory@example.com", false)
	mallory := w.app.browser(t)
	mallory.client.Transport = &http.Transport{DialContext: w.hostDialer()}
	mallory.login("mallory@example.com")
	handOver := mallory.handOverLink(chat.From + "/")
	resp, body := b.open(http.MethodGet, handOver, nil)
	if resp.StatusCode != http.StatusBadRequest || len(resp.Cookies()) > 0 {
		t.Fatalf("mallory's hand-over link in alice's browser: %d, cookies %v; %s", resp.StatusCode, resp.Cookies(), body)
	}

	// A page load signs in through the console and comes back.
	resp = b.loadThroughSignIn(chat.From + "/inbox?x=1")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("chat app through sign-in: %d", resp.StatusCode)
	}
	bearer := <-seen
	access, ok := strings.CutPrefix(bearer, "Bearer ")
	if !ok || access == "" {
		t.Fatalf("the chat app got Authorization %q, want the user's token", bearer)
	}
	if set := strings.Join(resp.Header.Values("Set-Cookie"), "; "); !strings.Contains(set, "app=1") || strings.Contains(set, "planted") {
		t.Errorf("the app's Set-Cookie reached the browser as %q: want its own cookie, not one named like Drawbridge's", set)
	}

	// A page on another site cannot make the app act with the session;
	// the app's own pages can.
	for _, h := range []http.Header{
		{"Origin": {"http://evil.example"}, "Sec-Fetch-Site": {"cross-site"}},
		{"Origin": {w.route.From}, "Sec-Fetch-Site": {"same-site"}}, // a sibling route host
		{},
	} {
		if resp, _ := b.open(http.MethodPost, chat.From+"/send", h); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST with %v: %d, want 403", h, resp.StatusCode)
		}
	}
	if resp, _ := b.open(http.MethodPost, chat.From+"/send", http.Header{"Sec-Fetch-Site": {"same-origin"}}); resp.StatusCode != http.StatusOK {
		t.Errorf("POST from the app's own page: %d, want 200", resp.StatusCode)
	}
	<-seen

	// The session cookie works only on the host that issued it.
	var session string
	for _, c := range b.client.Jar.Cookies(&url.URL{Scheme: "http", Host: "chat.localhost:" + w.port, Path: "/"}) {
		if c.Name == "drawbridge_route" {
			session = c.Value
		}
	}
	if session == "" {
		t.Fatal("no session cookie on the client route's host")
	}
	elsewhere, _ := http.NewRequest(http.MethodGet, w.route.From+"/.drawbridge/mcp/routes", nil)
	elsewhere.AddCookie(&http.Cookie{Name: "drawbridge_route", Value: session})
	if resp, _ := (&browser{t: t, client: &http.Client{Transport: &http.Transport{DialContext: w.hostDialer()}}}).do(elsewhere); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the chat host's session on another route host: %d, want 401", resp.StatusCode)
	}

	// With it, the app lists servers on its own host and calls one.
	resp, body = b.open(http.MethodGet, chat.From+"/.drawbridge/mcp/routes", http.Header{"Authorization": {bearer}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"url":"`+w.route.From+`"`) {
		t.Fatalf("routes list with the app's token: %d %s", resp.StatusCode, body)
	}
	s, err := w.mcpSession(t, access)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := whoami(t, s); err != nil || !strings.HasPrefix(got, "Bearer ") || strings.Contains(got, access) {
		t.Fatalf("tool call with the app's token: %q %v", got, err)
	}

	// A script without the session gets 401, not a sign-in page.
	fresh := w.app.browser(t)
	fresh.client.Transport = &http.Transport{DialContext: w.hostDialer()}
	if resp, _ := fresh.open(http.MethodGet, chat.From+"/api", http.Header{"Accept": {"application/json"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous API call on the client route: %d, want 401", resp.StatusCode)
	}
	if slices.Contains(w.echo.Authorizations(), bearer) {
		t.Fatal("the app's Drawbridge token reached the MCP upstream")
	}
}

// loadThroughSignIn loads a page of a browser route as a person would:
// through the console's sign-in and back, redirects followed.
func (b *browser) loadThroughSignIn(page string) *http.Response {
	b.t.Helper()
	html := http.Header{"Accept": {"text/html"}}
	resp, _ := b.open(http.MethodGet, page, html)
	for range 4 {
		if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
			break
		}
		resp, _ = b.open(http.MethodGet, resolve(resp), html)
	}
	return resp
}

// handOverLink loads a page of a browser route and follows it to the
// console's /login/route, and returns the one-use hand-over link the
// console answers with, unfollowed.
func (b *browser) handOverLink(page string) string {
	b.t.Helper()
	resp, _ := b.open(http.MethodGet, page, http.Header{"Accept": {"text/html"}})
	resp, _ = b.open(http.MethodGet, resolve(resp), nil) // the console's /login/route
	link := resolve(resp)
	if !strings.Contains(link, "/.drawbridge/auth/callback?") {
		b.t.Fatalf("hand-over link from %s: %d %q", page, resp.StatusCode, link)
	}
	return link
}

// newHTTPServer serves h on loopback until the test ends.
func newHTTPServer(t *testing.T, h http.Handler) string {
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}

// resolve is the absolute address a redirect points to.
func resolve(resp *http.Response) string {
	loc, _ := resp.Request.URL.Parse(resp.Header.Get("Location"))
	return loc.String()
}

// TestDisconnectElsewhere: on the route host with the caller's token, by
// an admin in the console, and never from another site's page.
func TestDisconnectElsewhere(t *testing.T) {
	w := newConnectWorld(t)
	b := w.signedIn(t)
	w.connect(t, b)
	access := w.drawbridgeToken(t, b)
	disconnect := w.route.From + "/.drawbridge/mcp/disconnect"

	// A page on another site cannot post it with the browser's cookies.
	req, _ := http.NewRequest(http.MethodPost, disconnect, nil)
	req.Header.Set("Origin", "http://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, _ := b.do(req); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site disconnect: %d, want 403", resp.StatusCode)
	}
	// GET does nothing.
	if resp, _ := b.open(http.MethodGet, disconnect, http.Header{"Authorization": {"Bearer " + access}}); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET disconnect: %d, want 405", resp.StatusCode)
	}
	if _, err := w.app.Store.GetUpstreamConnection(context.Background(), w.alice.ID, w.upstream.ID); err != nil {
		t.Fatalf("refused disconnects removed the connection: %v", err)
	}
	resp, body := b.open(http.MethodPost, disconnect, http.Header{"Authorization": {"Bearer " + access}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"disconnected":true`) {
		t.Fatalf("route host disconnect with the token: %d %s", resp.StatusCode, body)
	}

	// An admin sees the connection on the app's page and can end it.
	w.connect(t, b)
	w.app.user(t, "root@example.com", true)
	admin := w.app.browser(t)
	admin.login("root@example.com")
	appPage := "/admin/apps/" + strconv.FormatUint(uint64(w.upstream.ID), 10)
	_, body = admin.get(appPage)
	if !strings.Contains(body, "alice@example.com") {
		t.Fatalf("the app page does not list alice's connection")
	}
	_, body = admin.get("/admin/apps")
	if !strings.Contains(body, "1 connected") {
		t.Errorf("the apps list does not count the connection")
	}
	resp, _ = admin.post(appPage+"/connections/"+strconv.FormatUint(uint64(w.alice.ID), 10)+"/disconnect", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin disconnect: %d", resp.StatusCode)
	}
	if _, err := w.app.Store.GetUpstreamConnection(context.Background(), w.alice.ID, w.upstream.ID); err == nil {
		t.Fatal("the admin's disconnect left the connection")
	}
	// Without the CSRF token, nothing happens.
	w.connect(t, b)
	resp, _ = admin.post(appPage+"/connections/"+strconv.FormatUint(uint64(w.alice.ID), 10)+"/disconnect", url.Values{csrfField: {"forged"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("admin disconnect without CSRF: %d, want 403", resp.StatusCode)
	}
}

func TestRefreshNowAndNeedsReconnect(t *testing.T) {
	w := newConnectWorld(t)
	b := w.signedIn(t)
	w.connect(t, b)
	route := url.Values{"route": {strconv.FormatUint(uint64(w.route.ID), 10)}}
	before := w.provider.Stats(t)
	if resp, _ := b.post("/connections/refresh", route); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("refresh now: %d", resp.StatusCode)
	}
	if w.provider.Stats(t).RefreshGrants != before.RefreshGrants+1 {
		t.Fatal("Refresh now did not refresh")
	}
	_, body := b.get("/")
	if !strings.Contains(body, "Renewed your octo sign-in") {
		t.Errorf("no flash after Refresh now")
	}

	w.provider.RevokeGrants(t)
	if resp, _ := b.post("/connections/refresh", route); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("refresh now: %d", resp.StatusCode)
	}
	_, body = b.get("/")
	if !strings.Contains(body, `data-status="needs_reconnect"`) {
		t.Fatalf("after the upstream refused the grant the card is not Needs re-Connect")
	}
	// Connecting again goes to the provider, not straight back.
	if to := w.connect(t, b); to != w.app.URL+"/" {
		t.Fatalf("reconnect returned to %q", to)
	}
	c, err := w.app.Store.GetUpstreamConnection(context.Background(), w.alice.ID, w.upstream.ID)
	if err != nil || c.Status != models.ConnectionConnected {
		t.Fatalf("after Connect again: %+v %v", c, err)
	}
}
