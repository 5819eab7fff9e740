package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/drawbridge/drawbridge/models"
)

// Bypass catalogue, OAuth flow tricks (1 of 3): the authorization request.
// Each case is a request a client, or an attacker holding a victim's
// browser, could send to /oauth/authorize. Each fails if the attack
// succeeds: until the client and its redirect URI are known good the
// answer is a page and no redirect; after that it is an error sent back
// to the registered redirect URI, with the state and without a code.
//
// Codes, refresh tokens and client authentication are in
// bypass_oauth_code_test.go; consent and registration in
// bypass_oauth_consent_test.go.

// TestBypassOAuthAuthorizeRefusedOnAPage: a bad client or redirect URI
// never sends the browser anywhere.
func TestBypassOAuthAuthorizeRefusedOnAPage(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "ada@example.com", false)
	app.mcpRoute(t, "GitHub", "http://github.localhost:8080")
	client := app.client(t, "Claude Code", models.AuthMethodNone, "https://app.example.com/cb", "http://127.0.0.1/callback")
	b := app.browser(t)
	b.login("ada@example.com")

	redirect := func(uri string) func(q url.Values) { return func(q url.Values) { q.Set("redirect_uri", uri) } }
	cases := []struct {
		name string
		edit func(q url.Values)
	}{
		{"unknown client", func(q url.Values) { q.Set("client_id", "no-such-client") }},
		{"no client", func(q url.Values) { q.Del("client_id") }},
		{"client_id twice", func(q url.Values) { q.Add("client_id", client.ID) }},
		{"no redirect_uri", func(q url.Values) { q.Del("redirect_uri") }},
		{"redirect_uri twice", func(q url.Values) { q.Add("redirect_uri", "https://evil.example.com/cb") }},
		{"redirect_uri not registered", redirect("https://evil.example.com/cb")},
		{"redirect_uri one char off", redirect("https://app.example.com/cc")},
		{"redirect_uri path prefix-extended", redirect("https://app.example.com/cb/evil")},
		{"redirect_uri host prefix-extended", redirect("https://app.example.com.evil.example/cb")},
		{"redirect_uri trailing slash", redirect("https://app.example.com/cb/")},
		{"redirect_uri extra query", redirect("https://app.example.com/cb?next=evil")},
		{"redirect_uri with a fragment", redirect("https://app.example.com/cb#x")},
		{"redirect_uri other port, not loopback", redirect("https://app.example.com:8443/cb")},
		{"redirect_uri http instead of https", redirect("http://app.example.com/cb")},
		{"redirect_uri host case", redirect("https://APP.example.com/cb")},
		{"redirect_uri with user info", redirect("https://app.example.com@evil.example/cb")},
		{"loopback redirect_uri over https", redirect("https://127.0.0.1/callback")},
		{"loopback redirect_uri other path", redirect("http://127.0.0.1:5000/other")},
		{"loopback redirect_uri by another name", redirect("http://localhost/callback")},
		{"loopback redirect_uri with user info", redirect("http://127.0.0.1@evil.example/callback")},
		{"redirect_uri javascript:", redirect("javascript:alert(1)")},
		{"redirect_uri data:", redirect("data:text/html,<script>alert(1)</script>")},
		{"metadata document on loopback", func(q url.Values) { q.Set("client_id", "https://127.0.0.1:1/client.json") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := authorizeQuery(client, newPKCE(), "http://github.localhost:8080")
			q.Set("redirect_uri", "https://app.example.com/cb")
			tc.edit(q)
			resp, body := b.get("/oauth/authorize?" + q.Encode())
			if loc := resp.Header.Get("Location"); loc != "" || resp.StatusCode < 400 {
				t.Fatalf("status %d, Location %q: want a page and no redirect", resp.StatusCode, loc)
			}
			if doc(t, body).Find(`[data-testid="authorize-problem"]`).Length() != 1 {
				t.Errorf("no explanation on the page: %.300s", body)
			}
		})
	}
	// The one latitude there is, so that the cases above are not refused
	// for some other reason: a loopback redirect URI may change its port
	// (RFC 8252), nothing else.
	t.Run("control: loopback redirect_uri on another port", func(t *testing.T) {
		q := authorizeQuery(client, newPKCE(), "http://github.localhost:8080")
		q.Set("redirect_uri", "http://127.0.0.1:49152/callback")
		if loc := b.consent(q); loc.Host != "127.0.0.1:49152" {
			t.Errorf("loopback redirect on another port went to %s", loc)
		}
	})
}

// TestBypassOAuthAuthorizeErrorsGoToTheClient: once the redirect URI is
// the client's own, an unsafe request gets an error there, never a code.
func TestBypassOAuthAuthorizeErrorsGoToTheClient(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "ada@example.com", false)
	app.mcpRoute(t, "GitHub", "http://github.localhost:8080")
	app.mcpRoute(t, "Off", "http://off.localhost:8080")
	off, err := app.Store.GetRouteByName(context.Background(), "Off")
	if err != nil {
		t.Fatal(err)
	}
	off.Enabled = false
	if err := app.Store.UpdateRoute(context.Background(), off, nil); err != nil {
		t.Fatal(err)
	}
	client := app.client(t, "Claude Code", models.AuthMethodNone)
	b := app.browser(t)
	b.login("ada@example.com")
	cases := []struct {
		name string
		edit func(q url.Values)
		want string // "" for a 400 page: malformed before the client is trusted
	}{
		{"plain PKCE", func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"PKCE method lowercase s256", func(q url.Values) { q.Set("code_challenge_method", "s256") }, "invalid_request"},
		{"no PKCE method", func(q url.Values) { q.Del("code_challenge_method") }, "invalid_request"},
		{"no PKCE challenge", func(q url.Values) { q.Del("code_challenge") }, "invalid_request"},
		{"short challenge", func(q url.Values) { q.Set("code_challenge", "abc") }, "invalid_request"},
		{"implicit: response_type token", func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type"},
		{"mixed: response_type code token", func(q url.Values) { q.Set("response_type", "code token") }, "unsupported_response_type"},
		{"hybrid: response_type code id_token", func(q url.Values) { q.Set("response_type", "code id_token") }, "unsupported_response_type"},
		{"no response_type", func(q url.Values) { q.Del("response_type") }, "invalid_request"},
		{"state too long to be a CSRF token", func(q url.Values) { q.Set("state", strings.Repeat("s", 1025)) }, "invalid_request"},
		{"no resource", func(q url.Values) { q.Del("resource") }, "invalid_target"},
		{"resource not a configured route", func(q url.Values) { q.Set("resource", "http://jira.localhost:8080") }, "invalid_target"},
		{"resource of a turned-off route", func(q url.Values) { q.Set("resource", "http://off.localhost:8080") }, "invalid_target"},
		{"resource on another port", func(q url.Values) { q.Set("resource", "http://github.localhost:8081") }, "invalid_target"},
		{"resource host suffix", func(q url.Values) { q.Set("resource", "http://github.localhost.evil.com:8080") }, "invalid_target"},
		{"resource with user info", func(q url.Values) { q.Set("resource", "http://evil@github.localhost:8080") }, "invalid_target"},
		{"two different resources", func(q url.Values) { q.Add("resource", "http://github.localhost:8080/x") }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := authorizeQuery(client, newPKCE(), "http://github.localhost:8080")
			tc.edit(q)
			resp, _ := b.get("/oauth/authorize?" + q.Encode())
			if tc.want == "" {
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
					t.Errorf("status %d to %q, want a 400 page", resp.StatusCode, resp.Header.Get("Location"))
				}
				return
			}
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc.String(), client.Redirect+"?") {
				t.Fatalf("status %d to %q, want the error sent to the client", resp.StatusCode, loc)
			}
			if loc.Query().Get("error") != tc.want || loc.Query().Has("code") {
				t.Errorf("redirect %s, want error=%s and no code", loc, tc.want)
			}
			if s := q.Get("state"); len(s) <= 1024 && loc.Query().Get("state") != s {
				t.Errorf("state %q came back as %q", s, loc.Query().Get("state"))
			}
		})
	}
}

// TestBypassOAuthState: the state is carried back as the client sent it,
// and cannot smuggle parameters into the redirect.
func TestBypassOAuthState(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "ada@example.com", false)
	route := app.mcpRoute(t, "GitHub", "http://github.localhost:8080")
	client := app.client(t, "Claude Code", models.AuthMethodNone)
	b := app.browser(t)
	b.login("ada@example.com")
	const smuggled = "st-1&code=dbc_forged&iss=http%3A%2F%2Fevil.example&error=x"
	for name, edit := range map[string]func(q url.Values){
		"on success": func(url.Values) {},
		"on error":   func(q url.Values) { q.Set("code_challenge_method", "plain") },
	} {
		t.Run("parameters in the state, "+name, func(t *testing.T) {
			q := authorizeQuery(client, newPKCE(), route.From)
			q.Set("state", smuggled)
			edit(q)
			var loc *url.URL
			if name == "on success" {
				loc = b.consent(q)
			} else {
				resp, _ := b.get("/oauth/authorize?" + q.Encode())
				loc, _ = url.Parse(resp.Header.Get("Location"))
			}
			got := loc.Query()
			if got.Get("state") != smuggled || len(got["state"]) != 1 {
				t.Errorf("state came back as %q, want %q once", got["state"], smuggled)
			}
			if len(got["code"]) > 1 || got.Get("code") == "dbc_forged" || len(got["iss"]) != 1 || got.Get("iss") != app.Config.ConsoleBase() {
				t.Errorf("the state added parameters to the redirect: %s", loc)
			}
			if name == "on error" && (got.Has("code") || len(got["error"]) != 1 || got.Get("error") != "invalid_request") {
				t.Errorf("the refusal reads differently with the state's parameters: %s", loc)
			}
		})
	}
}
