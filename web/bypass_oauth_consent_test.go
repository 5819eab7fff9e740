package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/drawbridge/drawbridge/models"
)

// Bypass catalogue, OAuth flow tricks (3 of 3): the consent form and
// dynamic client registration. Each consent case fails if a consent is
// recorded or a code is issued that the signed-in user did not give on
// Drawbridge's own page; each registration case fails if a client is
// registered with something a browser could be sent to unsafely, or from
// a body that could be read two ways.

// TestBypassOAuthConsent: consent needs the user's own POST, from this
// origin, with the session's token, and is checked again from its fields.
func TestBypassOAuthConsent(t *testing.T) {
	app := newTestApp(t)
	ada := app.user(t, "ada@example.com", false)
	route := app.mcpRoute(t, "GitHub", "http://github.localhost:8080")
	client := app.client(t, "Claude Code", models.AuthMethodNone)
	b := app.browser(t)
	b.login("ada@example.com")
	otherSession := app.browser(t).csrf()

	cases := []struct {
		name   string
		edit   func(form url.Values, req *http.Request)
		status int
	}{
		{"consent without the form token", func(f url.Values, _ *http.Request) { f.Set(csrfField, "") }, http.StatusForbidden},
		{"consent with another session's token", func(f url.Values, _ *http.Request) { f.Set(csrfField, otherSession) }, http.StatusForbidden},
		{"consent from another origin", func(_ url.Values, r *http.Request) {
			r.Header.Set("Origin", "http://evil.example")
			r.Header.Set("Sec-Fetch-Site", "cross-site")
		}, http.StatusForbidden},
		{"consent from a sibling site", func(_ url.Values, r *http.Request) {
			r.Header.Set("Origin", "http://github.localhost:8080")
			r.Header.Set("Sec-Fetch-Site", "same-site")
		}, http.StatusForbidden},
		{"consent form with its redirect_uri swapped", func(f url.Values, _ *http.Request) {
			f.Set("redirect_uri", "https://evil.example/cb")
		}, http.StatusBadRequest},
		{"consent form without a decision", func(f url.Values, _ *http.Request) { f.Del("decision") }, http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := b.consentForm(authorizeQuery(client, newPKCE(), route.From))
			form.Set("decision", "allow")
			resp := b.postRaw("/oauth/authorize", form, tc.edit)
			if resp.StatusCode != tc.status || resp.Header.Get("Location") != "" {
				t.Errorf("status %d to %q, want %d and no redirect", resp.StatusCode, resp.Header.Get("Location"), tc.status)
			}
			if ok, _ := app.Store.HasConsent(context.Background(), ada.ID, client.ID, route.From); ok {
				t.Fatal("a consent was recorded")
			}
		})
	}
	t.Run("decision=allow smuggled into the GET", func(t *testing.T) {
		q := authorizeQuery(client, newPKCE(), route.From)
		q.Set("decision", "allow")
		resp, body := b.get("/oauth/authorize?" + q.Encode())
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Location") != "" || !strings.Contains(body, "consent-form") {
			t.Errorf("status %d to %q, want the consent page", resp.StatusCode, resp.Header.Get("Location"))
		}
		if ok, _ := app.Store.HasConsent(context.Background(), ada.ID, client.ID, route.From); ok {
			t.Error("a GET recorded a consent")
		}
	})
}

// TestBypassOAuthRegistration: registrations that must be refused, with
// the OAuth error and without a client being stored. The registration
// endpoint allows ten requests a minute per address: the cases stay
// below that.
func TestBypassOAuthRegistration(t *testing.T) {
	app := newTestApp(t)
	good := `"client_name":"Claude Code","token_endpoint_auth_method":"none"`
	cases := []struct {
		name, body string
		status     int
		code       string
	}{
		{"javascript: redirect URI", `{"redirect_uris":["javascript:alert(1)//"],` + good + `}`, 400, "invalid_redirect_uri"},
		{"data: redirect URI", `{"redirect_uris":["data:text/html,<script>alert(1)</script>"],` + good + `}`, 400, "invalid_redirect_uri"},
		{"http redirect URI not on loopback", `{"redirect_uris":["http://app.example.com/cb"],` + good + `}`, 400, "invalid_redirect_uri"},
		{"private-use scheme without a dot", `{"redirect_uris":["myapp:/cb"],` + good + `}`, 400, "invalid_redirect_uri"},
		{"redirect URI with user info", `{"redirect_uris":["https://app.example.com@evil.example/cb"],` + good + `}`, 400, "invalid_redirect_uri"},
		{"oversized document", `{"redirect_uris":["https://app.example.com/cb"],"client_name":"` + strings.Repeat("a", 17<<10) + `"}`, 413, "invalid_request"},
		{"duplicate JSON keys", `{"redirect_uris":["https://app.example.com/cb"],"redirect_uris":["https://evil.example/cb"],` + good + `}`, 400, "invalid_client_metadata"},
		{"duplicate keys differing in escapes", `{"redirect_uris":["https://app.example.com/cb"],"redirect\u005furis":["https://evil.example/cb"],` + good + `}`, 400, "invalid_client_metadata"},
	}
	count := func() int64 {
		_, n, err := app.Store.ListOAuthClients(context.Background(), models.OAuthClientFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := app.register(t, tc.body)
			if r.Status != tc.status || r.Error != tc.code || r.ClientID != "" {
				t.Errorf("status %d error %q client %q (%s), want %d %s and no client", r.Status, r.Error, r.ClientID, r.Description, tc.status, tc.code)
			}
			if n := count(); n != 0 {
				t.Fatalf("%d clients stored", n)
			}
		})
	}
	t.Run("control: a good registration", func(t *testing.T) {
		if r := app.register(t, `{"redirect_uris":["https://app.example.com/cb"],`+good+`}`); r.Status != http.StatusCreated || r.ClientID == "" {
			t.Errorf("a good registration: %+v", r)
		}
	})
}
