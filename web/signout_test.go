package web

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/drawbridge/drawbridge/models"
)

// TestSignOutEndsEveryCopyOfTheSession: signing out of the console ends
// the session everywhere it went, at once: a copy of the console cookie
// kept from before no longer signs in, and neither does the session a
// route host (an http route here) started from it. Another browser of
// the same user stays signed in, on the console and on the route host.
func TestSignOutEndsEveryCopyOfTheSession(t *testing.T) {
	app := newTestApp(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(app.URL, "http://"))
	dial := (&connectWorld{app: app, port: port}).hostDialer()
	wiki := newHTTPServer(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { io.WriteString(rw, "the wiki") }))
	ctx := context.Background()
	everyone := &models.Policy{Name: "everyone", Source: "allow:\n  and:\n    - authenticated_user: true\n"}
	if err := app.Store.CreatePolicy(ctx, everyone); err != nil {
		t.Fatal(err)
	}
	route := &models.Route{Name: "Wiki", From: "http://wiki.localhost:" + port, To: wiki, Kind: models.KindHTTP, Enabled: true}
	if err := app.Store.CreateRoute(ctx, route, []uint{everyone.ID}); err != nil {
		t.Fatal(err)
	}
	app.user(t, "alice@example.com", false)
	app.waitForGateway(t)

	// signedIn is a browser of alice's, signed in at the console and on
	// the wiki's host.
	signedIn := func() *browser {
		b := app.browser(t)
		b.client.Transport = &http.Transport{DialContext: dial}
		b.login("alice@example.com")
		if resp := b.loadThroughSignIn(route.From + "/page"); resp.StatusCode != http.StatusOK {
			t.Fatalf("the wiki through sign-in: %d", resp.StatusCode)
		}
		return b
	}
	// wiki and console report whether the cookies signs in there.
	wiki200 := func(cookies []*http.Cookie) bool {
		req, _ := http.NewRequest(http.MethodGet, route.From+"/page", nil)
		req.Header.Set("Accept", "application/json") // a script: 401, not a sign-in page
		for _, c := range cookies {
			req.AddCookie(c)
		}
		resp, _ := (&browser{t: t, client: &http.Client{Transport: &http.Transport{DialContext: dial}}}).do(req)
		return resp.StatusCode == http.StatusOK
	}
	console200 := func(cookies []*http.Cookie) bool {
		b := app.browser(t)
		u, _ := url.Parse(app.URL)
		b.client.Jar.SetCookies(u, cookies)
		resp, _ := b.get("/")
		return resp.StatusCode == http.StatusOK
	}
	consoleURL, _ := url.Parse(app.URL)
	wikiURL, _ := url.Parse(route.From)

	alice, other := signedIn(), signedIn()
	keptConsole, keptWiki := alice.client.Jar.Cookies(consoleURL), alice.client.Jar.Cookies(wikiURL)
	if !console200(keptConsole) || !wiki200(keptWiki) {
		t.Fatal("the copies do not sign in before the sign-out: the test would prove nothing")
	}

	if resp, _ := alice.post("/logout", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d", resp.StatusCode)
	}
	app.waitForGateway(t)
	if console200(keptConsole) {
		t.Error("a copy of the console cookie still signs in after the sign-out")
	}
	if wiki200(keptWiki) {
		t.Error("the wiki's session, handed over from the console session, outlived it")
	}
	if !console200(other.client.Jar.Cookies(consoleURL)) || !wiki200(other.client.Jar.Cookies(wikiURL)) {
		t.Error("alice's other browser was signed out too: only the session signed out of ends")
	}

	// A hand-over link made before the sign-out does not start a session
	// after it.
	late := app.browser(t)
	late.client.Transport = &http.Transport{DialContext: dial}
	late.login("alice@example.com")
	handOver := late.handOverLink(route.From + "/page")
	if resp, _ := late.post("/logout", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d", resp.StatusCode)
	}
	app.waitForGateway(t)
	resp, body := late.open(http.MethodGet, handOver, nil)
	if resp.StatusCode != http.StatusBadRequest || slices.ContainsFunc(resp.Cookies(), func(c *http.Cookie) bool { return c.Name == "drawbridge_route" }) {
		t.Errorf("a hand-over link used after its session was signed out of: %d, cookies %v; %s", resp.StatusCode, resp.Cookies(), body)
	}
}
