package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/drawbridge/drawbridge/models"
)

// The attacks the authorization server must refuse. Each case fails if
// the server lets it through.

// TestAuthorizeRefusesWithoutRedirecting: until the client and its
// redirect URI are known good, a bad request is answered on a page, and
// the browser is sent nowhere.
func TestAuthorizeRefusesWithoutRedirecting(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "ada@example.com", false)
	app.mcpRoute(t, "GitHub", "http://github.localhost:8080")
	client := app.client(t, "Claude Code", models.AuthMethodNone, "https://app.example.com/cb", "http://127.0.0.1/callback")
	b := app.browser(t)
	b.login("ada@example.com")

	cases := map[string]func(q url.Values){
		"unknown client":                func(q url.Values) { q.Set("client_id", "no-such-client") },
		"no client":                     func(q url.Values) { q.Del("client_id") },
		"no redirect_uri":               func(q url.Values) { q.Del("redirect_uri") },
		"unregistered redirect_uri":     func(q url.Values) { q.Set("redirect_uri", "https://evil.example.com/cb") },
		"redirect_uri one char off":     func(q url.Values) { q.Set("redirect_uri", "https://app.example.com/cc") },
		"redirect_uri trailing slash":   func(q url.Values) { q.Set("redirect_uri", "https://app.example.com/cb/") },
		"redirect_uri other port":       func(q url.Values) { q.Set("redirect_uri", "https://app.example.com:8443/cb") },
		"redirect_uri with fragment":    func(q url.Values) { q.Set("redirect_uri", "https://app.example.com/cb#x") },
		"redirect_uri host case":        func(q url.Values) { q.Set("redirect_uri", "https://APP.example.com/cb") },
		"redirect_uri extra query":      func(q url.Values) { q.Set("redirect_uri", "https://app.example.com/cb?next=evil") },
		"redirect_uri loopback path":    func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:5000/other") },
		"redirect_uri javascript":       func(q url.Values) { q.Set("redirect_uri", "javascript:alert(1)") },
		"client_id twice":               func(q url.Values) { q.Add("client_id", client.ID) },
		"redirect_uri twice":            func(q url.Values) { q.Add("redirect_uri", "https://evil.example.com/cb") },
		"metadata document on loopback": func(q url.Values) { q.Set("client_id", "https://127.0.0.1:1/client.json") },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			q := authorizeQuery(client, newPKCE(), "http://github.localhost:8080")
			q.Set("redirect_uri", "https://app.example.com/cb")
			edit(q)
			resp, body := b.get("/oauth/authorize?" + q.Encode())
			if loc := resp.Header.Get("Location"); loc != "" || resp.StatusCode < 400 {
				t.Fatalf("status %d, Location %q: want a page and no redirect", resp.StatusCode, loc)
			}
			if doc(t, body).Find(`[data-testid="authorize-problem"]`).Length() != 1 {
				t.Errorf("no explanation on the page: %.300s", body)
			}
		})
	}
	// A loopback redirect URI may change its port (RFC 8252), nothing else.
	q := authorizeQuery(client, newPKCE(), "http://github.localhost:8080")
	q.Set("redirect_uri", "http://127.0.0.1:49152/callback")
	if loc := b.consent(q); loc.Host != "127.0.0.1:49152" {
		t.Errorf("loopback redirect on another port went to %s", loc)
	}
}

// TestAuthorizeErrorsGoBackToTheClient: once the redirect URI is the
// client's own, errors go back there with the state.
func TestAuthorizeErrorsGoBackToTheClient(t *testing.T) {
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
		want string
	}{
		{"plain PKCE", func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"no PKCE method", func(q url.Values) { q.Del("code_challenge_method") }, "invalid_request"},
		{"no PKCE challenge", func(q url.Values) { q.Del("code_challenge") }, "invalid_request"},
		{"short challenge", func(q url.Values) { q.Set("code_challenge", "abc") }, "invalid_request"},
		{"token response type", func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type"},
		{"no resource", func(q url.Values) { q.Del("resource") }, "invalid_target"},
		{"unknown resource", func(q url.Values) { q.Set("resource", "http://jira.localhost:8080") }, "invalid_target"},
		{"resource of a turned-off route", func(q url.Values) { q.Set("resource", "http://off.localhost:8080") }, "invalid_target"},
		{"resource on another port", func(q url.Values) { q.Set("resource", "http://github.localhost:8081") }, "invalid_target"},
		{"resource host suffix", func(q url.Values) { q.Set("resource", "http://github.localhost.evil.com:8080") }, "invalid_target"},
		{"two resources", func(q url.Values) { q.Add("resource", "http://github.localhost:8080/x") }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := authorizeQuery(client, newPKCE(), "http://github.localhost:8080")
			tc.edit(q)
			resp, _ := b.get("/oauth/authorize?" + q.Encode())
			if tc.want == "" { // malformed before the client is trusted: a page
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
					t.Errorf("status %d to %q, want a 400 page", resp.StatusCode, resp.Header.Get("Location"))
				}
				return
			}
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc.String(), client.Redirect+"?") {
				t.Fatalf("status %d to %q, want the error sent to the client", resp.StatusCode, loc)
			}
			if loc.Query().Get("error") != tc.want || loc.Query().Get("state") != q.Get("state") || loc.Query().Has("code") {
				t.Errorf("redirect %s, want error=%s with the state and no code", loc, tc.want)
			}
		})
	}
}

// TestCodeAttacks covers what can be done with or to an authorization code.
func TestCodeAttacks(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "ada@example.com", false)
	route := app.mcpRoute(t, "GitHub", "http://github.localhost:8080")
	app.mcpRoute(t, "Jira", "http://jira.localhost:8080")
	client := app.client(t, "Claude Code", models.AuthMethodNone)
	other := app.client(t, "Other", models.AuthMethodNone)
	b := app.browser(t)
	b.login("ada@example.com")
	exchange := func(c testClient, code, redirect, verifier string, extra ...string) tokenReply {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier}}
		for i := 0; i+1 < len(extra); i += 2 {
			form.Set(extra[i], extra[i+1])
		}
		return app.postAs(t, "/oauth/token", c, form)
	}

	t.Run("forged code", func(t *testing.T) {
		wantOAuthError(t, "forged", exchange(client, "dbc_forged", client.Redirect, newPKCE().Verifier), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("code of another client", func(t *testing.T) {
		code, p := b.codeFor(client, route.From)
		wantOAuthError(t, "other client", exchange(other, code, other.Redirect, p.Verifier), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("missing verifier", func(t *testing.T) {
		code, _ := b.codeFor(client, route.From)
		wantOAuthError(t, "no verifier", exchange(client, code, client.Redirect, ""), http.StatusBadRequest, "invalid_request")
	})
	t.Run("wrong verifier", func(t *testing.T) {
		code, _ := b.codeFor(client, route.From)
		wantOAuthError(t, "wrong verifier", exchange(client, code, client.Redirect, newPKCE().Verifier), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("challenge as verifier", func(t *testing.T) {
		code, p := b.codeFor(client, route.From)
		wantOAuthError(t, "challenge", exchange(client, code, client.Redirect, p.Challenge), http.StatusBadRequest, "invalid_grant")
	})
	for name, redirect := range map[string]string{
		"redirect one char off": "http://127.0.0.1:33418/callbacc",
		"redirect other port":   "http://127.0.0.1:33419/callback",
		"redirect slash":        "http://127.0.0.1:33418/callback/",
		"redirect missing":      "",
	} {
		t.Run(name, func(t *testing.T) {
			code, p := b.codeFor(client, route.From)
			want := "invalid_grant"
			if redirect == "" {
				want = "invalid_request"
			}
			wantOAuthError(t, name, exchange(client, code, redirect, p.Verifier), http.StatusBadRequest, want)
		})
	}
	t.Run("resource of another route", func(t *testing.T) {
		code, p := b.codeFor(client, route.From)
		wantOAuthError(t, "other resource", exchange(client, code, client.Redirect, p.Verifier, "resource", "http://jira.localhost:8080"),
			http.StatusBadRequest, "invalid_target")
	})
	t.Run("code reused", func(t *testing.T) {
		code, p := b.codeFor(client, route.From)
		first := exchange(client, code, client.Redirect, p.Verifier)
		if first.Status != http.StatusOK {
			t.Fatalf("first use: %+v", first)
		}
		wantOAuthError(t, "second use", exchange(client, code, client.Redirect, p.Verifier), http.StatusBadRequest, "invalid_grant")
		if _, err := app.verify(t, first.AccessToken, route.From); err == nil {
			t.Error("the access token of a replayed code still verifies")
		}
		wantOAuthError(t, "refresh from a replayed code", app.refresh(t, client, first.RefreshToken), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("token bound to its route", func(t *testing.T) {
		code, p := b.codeFor(client, route.From)
		tok := exchange(client, code, client.Redirect, p.Verifier)
		if _, err := app.verify(t, tok.AccessToken, "http://jira.localhost:8080"); err == nil {
			t.Error("a GitHub token verifies for Jira")
		}
	})
}

// TestRefreshAttacks covers stolen and replayed refresh tokens.
func TestRefreshAttacks(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "ada@example.com", false)
	route := app.mcpRoute(t, "GitHub", "http://github.localhost:8080")
	client := app.client(t, "Claude Code", models.AuthMethodNone)
	other := app.client(t, "Other", models.AuthMethodNone)
	b := app.browser(t)
	b.login("ada@example.com")
	code, p := b.codeFor(client, route.From)
	tok := app.exchange(t, client, code, p)

	wantOAuthError(t, "refresh of another client", app.refresh(t, other, tok.RefreshToken), http.StatusBadRequest, "invalid_grant")
	rotated := app.refresh(t, client, tok.RefreshToken)
	if rotated.Status != http.StatusOK {
		t.Fatalf("rotation: %+v (a refused theft must not spend the owner's token)", rotated)
	}
	wantOAuthError(t, "reuse after rotation", app.refresh(t, client, tok.RefreshToken), http.StatusBadRequest, "invalid_grant")
	wantOAuthError(t, "the rotated token after reuse", app.refresh(t, client, rotated.RefreshToken), http.StatusBadRequest, "invalid_grant")
	if _, err := app.verify(t, rotated.AccessToken, route.From); err == nil {
		t.Error("access tokens of a family caught reusing a refresh token still verify")
	}
}

// TestTokenRequestsAreReadStrictly: malformed token requests are refused
// before anything is looked up.
func TestTokenRequestsAreReadStrictly(t *testing.T) {
	app := newTestApp(t)
	client := app.client(t, "Claude Code", models.AuthMethodNone)
	post := func(contentType, query, body string) tokenReply {
		req, _ := http.NewRequest(http.MethodPost, app.URL+"/oauth/token"+query, strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		return app.send(t, req)
	}
	form := "grant_type=authorization_code&code=dbc_x&redirect_uri=x&code_verifier=" + newPKCE().Verifier + "&client_id=" + client.ID
	const formType = "application/x-www-form-urlencoded"
	wantOAuthError(t, "JSON body", post("application/json", "", `{"grant_type":"authorization_code"}`), http.StatusBadRequest, "invalid_request")
	wantOAuthError(t, "query parameters", post(formType, "?grant_type=authorization_code", form), http.StatusBadRequest, "invalid_request")
	wantOAuthError(t, "a parameter twice", post(formType, "", form+"&code=dbc_y"), http.StatusBadRequest, "invalid_request")
	wantOAuthError(t, "huge body", post(formType, "", form+"&pad="+strings.Repeat("a", 20<<10)), http.StatusRequestEntityTooLarge, "invalid_request")
	wantOAuthError(t, "unknown client", post(formType, "", strings.Replace(form, client.ID, "nobody", 1)), http.StatusUnauthorized, "invalid_client")
	wantOAuthError(t, "unknown grant", post(formType, "", strings.Replace(form, "authorization_code", "password", 1)), http.StatusBadRequest, "unsupported_grant_type")
	if r := post(formType, "", form); r.CacheControl != "no-store" {
		t.Errorf("an error answer may be cached: Cache-Control %q", r.CacheControl)
	}
}

// TestDisabledClientsAndUsers: turning a client or a user off stops the
// flow where it stands.
func TestDisabledClientsAndUsers(t *testing.T) {
	app := newTestApp(t)
	ada := app.user(t, "ada@example.com", false)
	route := app.mcpRoute(t, "GitHub", "http://github.localhost:8080")
	client := app.client(t, "Claude Code", models.AuthMethodNone)
	b := app.browser(t)
	b.login("ada@example.com")
	code, p := b.codeFor(client, route.From)
	tok := app.exchange(t, client, code, p)

	ctx := context.Background()
	if err := app.Store.SetDisabled(ctx, ada.ID, true); err != nil {
		t.Fatal(err)
	}
	wantOAuthError(t, "refresh for a disabled user", app.refresh(t, client, tok.RefreshToken), http.StatusBadRequest, "invalid_grant")
	if err := app.Store.SetDisabled(ctx, ada.ID, false); err != nil {
		t.Fatal(err)
	}

	c, err := app.Store.GetOAuthClient(ctx, client.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Store.DisableOAuthClient(ctx, c.ID, true); err != nil {
		t.Fatal(err)
	}
	wantOAuthError(t, "refresh by a disabled client", app.refresh(t, client, tok.RefreshToken), http.StatusUnauthorized, "invalid_client")
	resp, _ := b.get("/oauth/authorize?" + authorizeQuery(client, newPKCE(), route.From).Encode())
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Location") != "" {
		t.Errorf("authorize a disabled client: status %d to %q, want a 403 page", resp.StatusCode, resp.Header.Get("Location"))
	}
}
