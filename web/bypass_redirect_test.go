package web

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/drawbridge/drawbridge/models"
)

// Bypass catalogue, redirect tricks: every place that sends a browser to
// an address it was given: /login?next=, /authorizations/revoke's
// return, /.drawbridge/mcp/connect?redirect_url= (through the console's
// /connect), the return from an upstream's OAuth callback, the route
// sign-in's return path, and the authorization endpoint's error redirect.
// Every case follows the redirects it gets and fails if any Location
// leaves the allowed set for that place (wantRedirectsWithin): for next
// and return, the console; for Connect, the route's own host, the console
// and mcp_client route hosts, exactly (DESIGN.md); for the authorization
// endpoint, nowhere until the redirect URI is a registered one.
func TestBypassRedirects(t *testing.T) {
	w := newConnectWorld(t)
	ctx := context.Background()
	chat := &models.Route{Name: "Chat", From: "http://chat.localhost:" + w.port, To: "http://127.0.0.1:9", Kind: models.KindMCPClient, Enabled: true}
	jira := &models.Route{Name: "Jira", From: "http://jira.localhost:" + w.port, To: "http://127.0.0.1:9/mcp", Kind: models.KindMCPServer, Enabled: true}
	everyone, err := w.app.Store.AllPolicies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*models.Route{chat, jira} {
		if err := w.app.Store.CreateRoute(ctx, r, []uint{everyone[0].ID}); err != nil {
			t.Fatal(err)
		}
	}
	w.app.waitForGateway(t)
	console := w.app.URL
	b := w.signedIn(t)

	// Before alice connects: the upstream callback re-checks where it
	// returns to, when the flow ends.
	t.Run("upstream callback return to a client route removed mid-flow", func(t *testing.T) {
		start := "/connect?route=" + strconv.FormatUint(uint64(w.route.ID), 10) + "&redirect_url=" + url.QueryEscape(chat.From+"/after")
		resp, _ := b.get(start)
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), w.provider.Issuer) {
			t.Fatalf("Connect: %d to %q, want the provider", resp.StatusCode, resp.Header.Get("Location"))
		}
		if err := w.app.Store.DeleteRoute(ctx, chat.ID); err != nil {
			t.Fatal(err)
		}
		w.app.waitForGateway(t)
		jar, _ := cookiejar.New(nil)
		back := w.provider.SignIn(t, &http.Client{Jar: jar}, resp.Header.Get("Location"), "octocat")
		resp, _ = b.open(http.MethodGet, back.String(), nil)
		wantRedirectsWithin(t, resp, console)
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("callback: %d, want back to the portal", resp.StatusCode)
		}
		chat.ID = 0
		if err := w.app.Store.CreateRoute(ctx, chat, []uint{everyone[0].ID}); err != nil {
			t.Fatal(err)
		}
		w.app.waitForGateway(t)
	})
	t.Run("upstream callback with a forged state", func(t *testing.T) {
		resp, _ := b.get("/oauth/upstream/callback?code=x&state=" + url.QueryEscape("forged"))
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("forged state: %d to %q, want a 400 page", resp.StatusCode, resp.Header.Get("Location"))
		}
	})

	host := strings.TrimPrefix(console, "http://")
	octo := strings.TrimPrefix(w.route.From, "http://")
	everywhere := []struct{ name, next, back string }{
		{"absolute URL to another host", "http://evil.example/", "http://evil.example/"},
		{"scheme-relative //evil", "//evil.example/", "//evil.example/"},
		{`/\evil`, `/\evil.example/`, `/\evil.example/`},
		{"backslashes", `\\evil.example\x`, `http://` + octo + `\@evil.example/`},
		{"encoded slashes", "/%2F%2Fevil.example/", w.route.From + "/%2F%2Fevil.example/"},
		{"encoded backslash", "/%5Cevil.example/", w.route.From + "/%5C%5Cevil.example/"},
		{"userinfo", "http://" + host + "@evil.example/", "http://" + octo + "@evil.example/"},
		{"host that starts with an allowed host", "http://" + host + ".evil.example/", "http://octo.localhost.evil.example:" + w.port + "/"},
		{"javascript:", "javascript:alert(document.cookie)", "javascript:alert(document.cookie)//" + octo},
		{"data:", "data:text/html,<script>alert(1)</script>", "data:text/html,<script>alert(1)</script>"},
		{"CR/LF header injection", "/\r\nSet-Cookie: pwned=1", w.route.From + "/\r\nSet-Cookie: pwned=1"},
		{"encoded CR/LF", "/%0d%0aSet-Cookie:%20pwned=1", w.route.From + "/%0d%0aSet-Cookie:%20pwned=1"},
		{"tab in the scheme-relative slashes", "/\t/evil.example", "http:/\t/evil.example/"},
	}
	for _, tc := range everywhere {
		t.Run("login next: "+tc.name, func(t *testing.T) {
			resp, _ := b.get("/login?next=" + url.QueryEscape(tc.next)) // signed in: straight on
			wantRedirectsWithin(t, resp, console)
			fresh := w.app.browser(t)
			resp, _ = fresh.post("/login", url.Values{"email": {"alice@example.com"}, "password": {testPassword}, "next": {tc.next}})
			wantRedirectsWithin(t, resp, console)
		})
		t.Run("authorizations return: "+tc.name, func(t *testing.T) {
			resp, _ := b.post("/authorizations/revoke", url.Values{"client_id": {"none"}, "return": {tc.next}})
			wantRedirectsWithin(t, resp, console)
		})
		t.Run("connect redirect_url: "+tc.name, func(t *testing.T) {
			final := w.connectVia(t, b, tc.back, console, w.route.From, chat.From)
			// An encoded line break in a path on the route's own host
			// stays encoded in the Location, and the path is that host's
			// to read; every other trick is refused on a page.
			if ownPath := strings.HasPrefix(tc.back, w.route.From+"/%0d"); !ownPath && final.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d, want a 400 page", final.StatusCode)
			}
		})
	}
	// A route host of kind mcp_server is no place to return to, unless
	// it is the host Connect ran on.
	t.Run("connect redirect_url: another mcp_server route's host", func(t *testing.T) {
		if final := w.connectVia(t, b, jira.From+"/", console, w.route.From, chat.From); final.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d, want a 400 page", final.StatusCode)
		}
	})
	for name, back := range map[string]string{"the route's own host": w.route.From + "/done", "a client route's host": chat.From + "/after?x=1", "the console": console + "/"} {
		t.Run("control: connect redirect_url to "+name, func(t *testing.T) {
			final := w.connectVia(t, b, back, console, w.route.From, chat.From)
			if final.StatusCode != http.StatusFound || final.Header.Get("Location") != back {
				t.Errorf("status %d to %q, want %s", final.StatusCode, final.Header.Get("Location"), back)
			}
		})
	}

	// The route sign-in carries the path a page load asked for back to
	// the route host, and never as another host.
	t.Run("route sign-in return //evil", func(t *testing.T) {
		fresh := w.signedIn(t)
		resp, _ := fresh.open(http.MethodGet, chat.From+"//evil.example/x", http.Header{"Accept": {"text/html"}})
		for hop := 0; hop < 5 && resp.StatusCode >= 300 && resp.StatusCode < 400; hop++ {
			wantRedirectsWithin(t, resp, console, chat.From)
			if loc := resolve(resp); strings.HasPrefix(loc, chat.From+"//") {
				t.Fatalf("the sign-in returns to %s", loc)
			}
			resp, _ = fresh.open(http.MethodGet, resolve(resp), http.Header{"Accept": {"text/html"}})
		}
	})

	// The authorization endpoint sends errors nowhere until the redirect
	// URI is one the client registered.
	client := w.app.client(t, "Claude Code", models.AuthMethodNone)
	for name, redirect := range map[string]string{
		"authorize error to an unregistered redirect_uri": "https://evil.example/cb",
		"authorize error to a userinfo redirect_uri":      "http://127.0.0.1:33418@evil.example/callback",
		"authorize error to a javascript: redirect_uri":   "javascript:alert(1)",
		"authorize error to a CR/LF redirect_uri":         "http://127.0.0.1:33418/callback\r\nSet-Cookie: pwned=1",
	} {
		t.Run(name, func(t *testing.T) {
			q := authorizeQuery(client, newPKCE(), w.route.From)
			q.Set("redirect_uri", redirect)
			q.Set("code_challenge_method", "plain") // an error the client would be told of
			resp, _ := b.get("/oauth/authorize?" + q.Encode())
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Errorf("status %d to %q, want a 400 page", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
}
