package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/drawbridge/drawbridge/models"
)

// Bypass catalogue, OAuth flow tricks (2 of 3): what can be done with or to
// an authorization code or a refresh token at /oauth/token, and how a
// client proves who it is there. Each case fails if the token endpoint
// hands out a token it should not (every refusal is checked for the
// OAuth error and for the absence of tokens), or if a token it should
// have revoked still verifies.

// TestBypassOAuthCode: codes are bound to their client, redirect URI,
// PKCE verifier and resource, and are used once.
func TestBypassOAuthCode(t *testing.T) {
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
	t.Run("code used by another client", func(t *testing.T) {
		code, p := b.codeFor(client, route.From)
		wantOAuthError(t, "other client", exchange(other, code, other.Redirect, p.Verifier), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("missing code_verifier", func(t *testing.T) {
		code, _ := b.codeFor(client, route.From)
		wantOAuthError(t, "no verifier", exchange(client, code, client.Redirect, ""), http.StatusBadRequest, "invalid_request")
	})
	t.Run("code_verifier mismatch", func(t *testing.T) {
		code, _ := b.codeFor(client, route.From)
		wantOAuthError(t, "wrong verifier", exchange(client, code, client.Redirect, newPKCE().Verifier), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("challenge sent as the verifier (plain PKCE)", func(t *testing.T) {
		code, p := b.codeFor(client, route.From)
		wantOAuthError(t, "challenge", exchange(client, code, client.Redirect, p.Challenge), http.StatusBadRequest, "invalid_grant")
	})
	for name, redirect := range map[string]string{
		"code with a redirect_uri one char off":      "http://127.0.0.1:33418/callbacc",
		"code with the redirect_uri on another port": "http://127.0.0.1:33419/callback",
		"code with a redirect_uri plus a slash":      "http://127.0.0.1:33418/callback/",
		"code without its redirect_uri":              "",
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
	t.Run("resource switched between authorize and token", func(t *testing.T) {
		code, p := b.codeFor(client, route.From)
		wantOAuthError(t, "other resource", exchange(client, code, client.Redirect, p.Verifier, "resource", "http://jira.localhost:8080"),
			http.StatusBadRequest, "invalid_target")
	})
	t.Run("code replay revokes what the code issued", func(t *testing.T) {
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
	t.Run("token used for another route", func(t *testing.T) {
		code, p := b.codeFor(client, route.From)
		tok := exchange(client, code, client.Redirect, p.Verifier)
		if _, err := app.verify(t, tok.AccessToken, "http://jira.localhost:8080"); err == nil {
			t.Error("a GitHub token verifies for Jira")
		}
	})
}

// TestBypassOAuthRefresh: stolen and replayed refresh tokens. The steps
// run in order on one token family.
func TestBypassOAuthRefresh(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "ada@example.com", false)
	route := app.mcpRoute(t, "GitHub", "http://github.localhost:8080")
	client := app.client(t, "Claude Code", models.AuthMethodNone)
	other := app.client(t, "Other", models.AuthMethodNone)
	b := app.browser(t)
	b.login("ada@example.com")
	code, p := b.codeFor(client, route.From)
	tok := app.exchange(t, client, code, p)

	t.Run("refresh by another client", func(t *testing.T) {
		wantOAuthError(t, "refresh of another client", app.refresh(t, other, tok.RefreshToken), http.StatusBadRequest, "invalid_grant")
	})
	rotated := app.refresh(t, client, tok.RefreshToken)
	if rotated.Status != http.StatusOK {
		t.Fatalf("rotation: %+v (a refused theft must not spend the owner's token)", rotated)
	}
	t.Run("refresh token reuse after rotation revokes the family", func(t *testing.T) {
		wantOAuthError(t, "reuse after rotation", app.refresh(t, client, tok.RefreshToken), http.StatusBadRequest, "invalid_grant")
		wantOAuthError(t, "the rotated token after reuse", app.refresh(t, client, rotated.RefreshToken), http.StatusBadRequest, "invalid_grant")
		if _, err := app.verify(t, rotated.AccessToken, route.From); err == nil {
			t.Error("access tokens of a family caught reusing a refresh token still verify")
		}
	})
}

// TestBypassOAuthClientAuth: a confidential client proves itself with its
// secret, the way it registered; token requests are read strictly.
func TestBypassOAuthClientAuth(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "ada@example.com", false)
	route := app.mcpRoute(t, "GitHub", "http://github.localhost:8080")
	conf := app.client(t, "Chat", models.AuthMethodClientSecretPost, "https://chat.example.com/oauth/callback")
	b := app.browser(t)
	b.login("ada@example.com")
	code, p := b.codeFor(conf, route.From)

	for name, edit := range map[string]func(c *testClient){
		"confidential client without its secret":  func(c *testClient) { c.Method = models.AuthMethodNone },
		"confidential client with a wrong secret": func(c *testClient) { c.Secret = "dbs_wrong" },
		"confidential client by the other method": func(c *testClient) { c.Method = models.AuthMethodClientSecretBasic },
	} {
		t.Run(name, func(t *testing.T) {
			c := conf
			edit(&c)
			wantOAuthError(t, name, app.exchange(t, c, code, p), http.StatusUnauthorized, "invalid_client")
		})
	}
	t.Run("control: the code still works with the secret", func(t *testing.T) {
		if r := app.exchange(t, conf, code, p); r.Status != http.StatusOK || r.AccessToken == "" {
			t.Errorf("right secret after refused attempts: %+v", r)
		}
	})

	public := app.client(t, "Claude Code", models.AuthMethodNone)
	post := func(contentType, query, body string) tokenReply {
		req, _ := http.NewRequest(http.MethodPost, app.URL+"/oauth/token"+query, strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		return app.send(t, req)
	}
	form := "grant_type=authorization_code&code=dbc_x&redirect_uri=x&code_verifier=" + newPKCE().Verifier + "&client_id=" + public.ID
	const formType = "application/x-www-form-urlencoded"
	strict := []struct {
		name, contentType, query, body string
		status                         int
		code                           string
	}{
		{"token request as JSON", "application/json", "", `{"grant_type":"authorization_code"}`, http.StatusBadRequest, "invalid_request"},
		{"token parameters in the query", formType, "?grant_type=authorization_code", form, http.StatusBadRequest, "invalid_request"},
		{"token parameter twice", formType, "", form + "&code=dbc_y", http.StatusBadRequest, "invalid_request"},
		{"huge token request", formType, "", form + "&pad=" + strings.Repeat("a", 20<<10), http.StatusRequestEntityTooLarge, "invalid_request"},
		{"token request by an unknown client", formType, "", strings.Replace(form, public.ID, "nobody", 1), http.StatusUnauthorized, "invalid_client"},
		{"password grant", formType, "", strings.Replace(form, "authorization_code", "password", 1), http.StatusBadRequest, "unsupported_grant_type"},
	}
	for _, tc := range strict {
		t.Run(tc.name, func(t *testing.T) {
			r := post(tc.contentType, tc.query, tc.body)
			wantOAuthError(t, tc.name, r, tc.status, tc.code)
			if r.CacheControl != "no-store" {
				t.Errorf("an error answer may be cached: Cache-Control %q", r.CacheControl)
			}
		})
	}
}

// TestBypassOAuthDisabled: turning a client or a user off stops the flow
// where it stands.
func TestBypassOAuthDisabled(t *testing.T) {
	app := newTestApp(t)
	ada := app.user(t, "ada@example.com", false)
	route := app.mcpRoute(t, "GitHub", "http://github.localhost:8080")
	client := app.client(t, "Claude Code", models.AuthMethodNone)
	b := app.browser(t)
	b.login("ada@example.com")
	code, p := b.codeFor(client, route.From)
	tok := app.exchange(t, client, code, p)
	ctx := context.Background()

	t.Run("refresh for a disabled user", func(t *testing.T) {
		if err := app.Store.SetDisabled(ctx, ada.ID, true); err != nil {
			t.Fatal(err)
		}
		wantOAuthError(t, "refresh for a disabled user", app.refresh(t, client, tok.RefreshToken), http.StatusBadRequest, "invalid_grant")
		resp, _ := b.get("/oauth/authorize?" + authorizeQuery(client, newPKCE(), route.From).Encode())
		if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/login?") {
			t.Errorf("a disabled user's browser at authorize: status %d to %q, want sign-in", resp.StatusCode, loc)
		}
		if err := app.Store.SetDisabled(ctx, ada.ID, false); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("disabled client", func(t *testing.T) {
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
	})
}
