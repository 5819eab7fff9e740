package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/drawbridge/drawbridge/models"
)

func TestAuthorizationServerMetadata(t *testing.T) {
	app := newTestApp(t)
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		resp, err := http.Get(app.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		err = json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d, %v", path, resp.StatusCode, err)
		}
		for key, want := range map[string]any{
			"issuer":                 app.URL,
			"authorization_endpoint": app.URL + "/oauth/authorize",
			"token_endpoint":         app.URL + "/oauth/token",
			"registration_endpoint":  app.URL + "/oauth/register",
			"revocation_endpoint":    app.URL + "/oauth/revoke",
			"jwks_uri":               app.URL + "/.well-known/jwks.json",
			"authorization_response_iss_parameter_supported": true,
			"client_id_metadata_document_supported":          true,
		} {
			if m[key] != want {
				t.Errorf("%s: %s = %v, want %v", path, key, m[key], want)
			}
		}
		if got := m["code_challenge_methods_supported"]; !sameStrings(got, "S256") {
			t.Errorf("%s: code_challenge_methods_supported = %v, want [S256] only", path, got)
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: browser-based clients cannot read it: no CORS header", path)
		}
	}

	s := models.DefaultSettings()
	s.RegistrationEnabled = false
	if err := app.Store.UpdateSettings(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(app.URL + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(body), "registration_endpoint") {
		t.Errorf("registration is off, yet the metadata offers it: %s", body)
	}
}

func sameStrings(v any, want ...string) bool {
	list, ok := v.([]any)
	if !ok || len(list) != len(want) {
		return false
	}
	for i, w := range want {
		if list[i] != w {
			return false
		}
	}
	return true
}

// TestAuthorizationCodeFlow walks a public client through sign-in,
// consent, the code exchange, a refresh and revocation, as an MCP client
// does.
func TestAuthorizationCodeFlow(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "ada@example.com", false)
	route := app.mcpRoute(t, "GitHub", "http://github.localhost:8080")
	client := app.client(t, "Claude Code", models.AuthMethodNone)
	b := app.browser(t)

	// Signed out: the request goes through sign-in and comes back.
	p := newPKCE()
	q := authorizeQuery(client, p, "http://github.localhost:8080/")
	resp, _ := b.get("/oauth/authorize?" + q.Encode())
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?next=") {
		t.Fatalf("signed out: status %d to %q, want the sign-in page", resp.StatusCode, loc)
	}
	next, _ := url.Parse(loc)
	if back := b.loginNext("ada@example.com", next.Query().Get("next")); !strings.HasPrefix(back, "/oauth/authorize?") {
		t.Fatalf("after sign-in the browser goes to %q, want back to the authorization", back)
	}

	// The consent page names the client, the route and the user.
	resp, body := b.get("/oauth/authorize?" + q.Encode())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("consent page: status %d", resp.StatusCode)
	}
	page := doc(t, body)
	for id, want := range map[string]string{
		"consent-client": "Claude Code", "consent-route": "GitHub", "consent-user": "ada@example.com",
		"consent-redirect": "127.0.0.1:33418", "consent-route-url": route.From,
	} {
		if got := strings.TrimSpace(page.Find(`[data-testid="` + id + `"]`).Text()); got != want {
			t.Errorf("consent page %s = %q, want %q", id, got, want)
		}
	}
	if page.Find(`[data-testid="consent-unverified"]`).Length() != 1 {
		t.Error("a self-registered client is not flagged as unverified")
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' http://127.0.0.1:33418") {
		t.Errorf("the consent form could not redirect to the client: CSP %q", csp)
	}

	loc2 := b.consent(q)
	if got := loc2.Scheme + "://" + loc2.Host + loc2.Path; got != client.Redirect {
		t.Fatalf("redirected to %s, want %s", got, client.Redirect)
	}
	if loc2.Query().Get("state") != q.Get("state") || loc2.Query().Get("iss") != app.URL {
		t.Errorf("redirect %s lacks the state or the issuer (RFC 9207)", loc2)
	}

	tok := app.exchange(t, client, loc2.Query().Get("code"), p)
	if tok.Status != http.StatusOK || tok.TokenType != "Bearer" || tok.AccessToken == "" || tok.RefreshToken == "" || tok.Scope != "mcp" {
		t.Fatalf("token response %+v", tok)
	}
	if tok.CacheControl != "no-store" {
		t.Errorf("token response Cache-Control = %q, want no-store", tok.CacheControl)
	}
	if tok.ExpiresIn <= 0 || tok.ExpiresIn > 3600 {
		t.Errorf("expires_in = %d, want at most an hour", tok.ExpiresIn)
	}
	claims, err := app.verify(t, tok.AccessToken, route.From)
	if err != nil {
		t.Fatalf("the access token does not verify for its route: %v", err)
	}
	if claims.Email != "ada@example.com" || claims.ClientID != client.ID || claims.Audience != route.From {
		t.Errorf("claims %+v", claims)
	}

	// Consent is remembered: the next authorization goes straight back.
	resp, _ = b.get("/oauth/authorize?" + authorizeQuery(client, newPKCE(), route.From).Encode())
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), client.Redirect+"?") {
		t.Errorf("second authorization: status %d to %q, want straight back with a code", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Refresh rotates; the new access token works.
	r2 := app.refresh(t, client, tok.RefreshToken)
	if r2.Status != http.StatusOK || r2.RefreshToken == "" || r2.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh: %+v", r2)
	}
	if _, err := app.verify(t, r2.AccessToken, route.From); err != nil {
		t.Errorf("refreshed token: %v", err)
	}

	// Revoking the access token stops it at once; revoking the refresh
	// token stops its whole family.
	if r := app.postAs(t, "/oauth/revoke", client, url.Values{"token": {r2.AccessToken}}); r.Status != http.StatusOK {
		t.Fatalf("revoke access token: %+v", r)
	}
	if _, err := app.verify(t, r2.AccessToken, route.From); err == nil {
		t.Error("a revoked access token still verifies")
	}
	if r := app.postAs(t, "/oauth/revoke", client, url.Values{"token": {r2.RefreshToken}, "token_type_hint": {"refresh_token"}}); r.Status != http.StatusOK {
		t.Fatalf("revoke refresh token: %+v", r)
	}
	wantOAuthError(t, "refresh after revocation", app.refresh(t, client, r2.RefreshToken), http.StatusBadRequest, "invalid_grant")
	if _, err := app.verify(t, tok.AccessToken, route.From); err == nil {
		t.Error("the family's first access token survived the refresh token's revocation")
	}
	// Revoking an unknown token is not an error (RFC 7009 section 2.2).
	if r := app.postAs(t, "/oauth/revoke", client, url.Values{"token": {"no-such-token"}}); r.Status != http.StatusOK {
		t.Errorf("revoke unknown token: %+v", r)
	}
}

func TestConsentDenied(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "ada@example.com", false)
	app.mcpRoute(t, "GitHub", "http://github.localhost:8080")
	client := app.client(t, "Claude Code", models.AuthMethodNone)
	b := app.browser(t)
	b.login("ada@example.com")
	q := authorizeQuery(client, newPKCE(), "http://github.localhost:8080")
	form := cloneValues(q)
	form.Set("decision", "deny")
	resp, _ := b.post("/oauth/authorize", form)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != q.Get("state") || loc.Query().Has("code") {
		t.Errorf("deny: status %d to %s, want access_denied with the state and no code", resp.StatusCode, loc)
	}
	// Without the CSRF token, the consent form does nothing.
	form.Set("decision", "allow")
	form.Set(csrfField, "forged")
	if resp, _ := b.post("/oauth/authorize", form); resp.StatusCode != http.StatusForbidden {
		t.Errorf("consent with a forged CSRF token: status %d, want 403", resp.StatusCode)
	}
}

func TestConfidentialClients(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "ada@example.com", false)
	route := app.mcpRoute(t, "GitHub", "http://github.localhost:8080")
	b := app.browser(t)
	b.login("ada@example.com")
	for _, method := range []string{models.AuthMethodClientSecretBasic, models.AuthMethodClientSecretPost} {
		t.Run(method, func(t *testing.T) {
			c := app.client(t, "Chat", method, "https://chat.example.com/oauth/callback")
			code, p := b.codeFor(c, route.From)
			wrong := c
			wrong.Secret = "dbs_wrong"
			wantOAuthError(t, "wrong secret", app.exchange(t, wrong, code, p), http.StatusUnauthorized, "invalid_client")
			other := c
			if method == models.AuthMethodClientSecretBasic {
				other.Method = models.AuthMethodClientSecretPost
			} else {
				other.Method = models.AuthMethodClientSecretBasic
			}
			wantOAuthError(t, "the other authentication method", app.exchange(t, other, code, p), http.StatusUnauthorized, "invalid_client")
			none := c
			none.Method = models.AuthMethodNone
			wantOAuthError(t, "no secret", app.exchange(t, none, code, p), http.StatusUnauthorized, "invalid_client")
			if r := app.exchange(t, c, code, p); r.Status != http.StatusOK || r.AccessToken == "" {
				t.Errorf("right secret: %+v", r)
			}
		})
	}
}

func TestJWKSVerifiesAccessTokens(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "ada@example.com", false)
	route := app.mcpRoute(t, "GitHub", "http://github.localhost:8080")
	client := app.client(t, "Claude Code", models.AuthMethodNone)
	b := app.browser(t)
	b.login("ada@example.com")
	code, p := b.codeFor(client, route.From)
	tok := app.exchange(t, client, code, p)

	resp, err := http.Get(app.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSigned(tok.AccessToken, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("JWKS has %d keys for the token's kid", len(keys))
	}
	if _, err := jws.Verify(keys[0].Public()); err != nil {
		t.Errorf("the published key does not verify the token: %v", err)
	}
	if slices.ContainsFunc(set.Keys, func(k jose.JSONWebKey) bool { return !k.IsPublic() }) {
		t.Error("the JWKS publishes a private key")
	}
}

// TestAuthorizationServerIsAudited: sign-ins, consents, tokens,
// revocations and refusals all land in the audit log.
func TestAuthorizationServerIsAudited(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "ada@example.com", false)
	route := app.mcpRoute(t, "GitHub", "http://github.localhost:8080")
	client := app.client(t, "Claude Code", models.AuthMethodNone)
	b := app.browser(t)
	if resp, _ := b.post("/login", url.Values{"email": {"ada@example.com"}, "password": {"wrong"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	b.login("ada@example.com")
	code, p := b.codeFor(client, route.From)
	tok := app.exchange(t, client, code, p)
	app.exchange(t, client, code, p) // replayed: refused
	app.postAs(t, "/oauth/revoke", client, url.Values{"token": {tok.RefreshToken}})

	var got []string
	for id := uint64(1); ; id++ {
		ev, err := app.Store.GetAuditEvent(context.Background(), id)
		if err != nil {
			break
		}
		got = append(got, ev.Kind+":"+ev.Decision)
		if ev.Kind != models.AuditKindSignIn && ev.ClientID != client.ID {
			t.Errorf("%s event names client %q", ev.Kind, ev.ClientID)
		}
	}
	want := []string{"sign_in:deny", "sign_in:allow", "consent:allow", "token:allow", "refused:deny", "revocation:allow"}
	if !slices.Equal(got, want) {
		t.Errorf("audit log holds %v, want %v", got, want)
	}
}

// TestClientsOfTheFirstRevision: a 2025-03-26 client looks for the
// authorization server on the MCP server's own origin and sends no
// resource indicator; the route host's metadata carries the resource in
// its authorization endpoint, and the token is bound to the route.
func TestClientsOfTheFirstRevision(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "ada@example.com", false)
	route := app.mcpRoute(t, "GitHub", "http://github.localhost:8080")
	client := app.client(t, "Old client", models.AuthMethodNone)
	req, _ := http.NewRequest(http.MethodGet, app.URL+"/.well-known/oauth-authorization-server", nil)
	req.Host = "github.localhost:8080"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Issuer                string `json:"issuer"`
		AuthorizationEndpoint string `json:"authorization_endpoint"`
		TokenEndpoint         string `json:"token_endpoint"`
	}
	err = json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("route host metadata: %d %v", resp.StatusCode, err)
	}
	endpoint, err := url.Parse(meta.AuthorizationEndpoint)
	if err != nil || endpoint.Query().Get("resource") != route.From || meta.TokenEndpoint != app.URL+"/oauth/token" {
		t.Fatalf("route host metadata %+v", meta)
	}

	b := app.browser(t)
	b.login("ada@example.com")
	p := newPKCE()
	q := endpoint.Query() // the client keeps the endpoint's query and adds its own
	for k, v := range authorizeQuery(client, p, "") {
		if k != "resource" {
			q[k] = v
		}
	}
	loc := b.consent(q)
	tok := app.exchange(t, client, loc.Query().Get("code"), p)
	if _, err := app.verify(t, tok.AccessToken, route.From); err != nil {
		t.Errorf("the old client's token does not work on its route: %v", err)
	}
}
