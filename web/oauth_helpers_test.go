package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/token"
)

// testClient is an MCP client registered with the test app.
type testClient struct {
	ID       string
	Secret   string // "" for public clients
	Method   string // token endpoint auth method
	Redirect string // its first redirect URI
}

// client registers an OAuth client directly in the store. method is
// models.AuthMethodNone for a public client; otherwise a secret is made.
func (a *testApp) client(t *testing.T, name, method string, redirects ...string) testClient {
	t.Helper()
	if len(redirects) == 0 {
		redirects = []string{"http://127.0.0.1:33418/callback"}
	}
	c := &models.OAuthClient{
		ClientID: "test-" + strings.ToLower(rand.Text()), Name: name, RedirectURIs: redirects,
		GrantTypes:              []string{models.GrantAuthorizationCode, models.GrantRefreshToken},
		TokenEndpointAuthMethod: method, Source: models.ClientSourceDCR,
	}
	var secret string
	if method != models.AuthMethodNone {
		var err error
		if secret, c.SecretHash, err = token.NewSecret(token.PrefixClientSecret); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Store.CreateOAuthClient(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return testClient{ID: c.ClientID, Secret: secret, Method: method, Redirect: redirects[0]}
}

// mcpRoute adds an enabled MCP server route from from and returns it.
func (a *testApp) mcpRoute(t *testing.T, name, from string) *models.Route {
	t.Helper()
	r := &models.Route{Name: name, From: from, To: "http://127.0.0.1:9/mcp", Kind: models.KindMCPServer, Enabled: true}
	if err := a.Store.CreateRoute(context.Background(), r, nil); err != nil {
		t.Fatal(err)
	}
	a.waitForGateway(t)
	return r
}

// waitForGateway waits until the gateway serves the configuration the
// store holds: it reloads in the background after each change.
func (a *testApp) waitForGateway(t *testing.T) {
	t.Helper()
	want, err := a.Store.ConfigVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for a.Server.engine.ServedVersion() < want {
		if time.Now().After(deadline) {
			t.Fatalf("the gateway still serves version %d, want %d", a.Server.engine.ServedVersion(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pkce is a verifier and its S256 challenge.
type pkce struct{ Verifier, Challenge string }

func newPKCE() pkce {
	v := rand.Text() + rand.Text() // 52 characters of base32
	sum := sha256.Sum256([]byte(v))
	return pkce{Verifier: v, Challenge: base64.RawURLEncoding.EncodeToString(sum[:])}
}

// authorizeQuery is a well-formed authorization request for c.
func authorizeQuery(c testClient, p pkce, resource string) url.Values {
	return url.Values{
		"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {c.Redirect},
		"state": {"st-" + rand.Text()}, "code_challenge": {p.Challenge}, "code_challenge_method": {"S256"},
		"resource": {resource}, "scope": {"mcp"},
	}
}

// consent runs an authorization request as the signed-in browser,
// allowing on the consent page when it shows, and returns the redirect
// back to the client.
func (b *browser) consent(q url.Values) *url.URL {
	b.t.Helper()
	resp, body := b.get("/oauth/authorize?" + q.Encode())
	if resp.StatusCode == http.StatusOK {
		form := url.Values{}
		doc(b.t, body).Find(`[data-testid="consent-form"] input[type="hidden"]`).Each(func(_ int, s *goquery.Selection) {
			name, _ := s.Attr("name")
			value, _ := s.Attr("value")
			form.Set(name, value)
		})
		form.Set("decision", "allow")
		resp, body = b.post("/oauth/authorize", form)
	}
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("authorize: status %d, want a redirect back to the client; body %.400s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		b.t.Fatal(err)
	}
	return loc
}

// codeFor needs b signed in. It authorizes c for
// resource and returns the code and the PKCE pair it was bound to.
func (b *browser) codeFor(c testClient, resource string) (string, pkce) {
	b.t.Helper()
	p := newPKCE()
	loc := b.consent(authorizeQuery(c, p, resource))
	code := loc.Query().Get("code")
	if code == "" {
		b.t.Fatalf("no code in the redirect %s", loc)
	}
	return code, p
}

// tokenReply is the decoded answer of the token or revocation endpoint.
type tokenReply struct {
	Status       int
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
	CacheControl string
}

// postAs sends form to an endpoint as client c, authenticating the way c
// registered.
func (a *testApp) postAs(t *testing.T, path string, c testClient, form url.Values) tokenReply {
	t.Helper()
	form = cloneValues(form)
	var user, pass string
	switch c.Method {
	case models.AuthMethodNone:
		form.Set("client_id", c.ID)
	case models.AuthMethodClientSecretPost:
		form.Set("client_id", c.ID)
		form.Set("client_secret", c.Secret)
	case models.AuthMethodClientSecretBasic:
		user, pass = url.QueryEscape(c.ID), url.QueryEscape(c.Secret)
	}
	req, _ := http.NewRequest(http.MethodPost, a.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	return a.send(t, req)
}

func (a *testApp) send(t *testing.T, req *http.Request) tokenReply {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := tokenReply{Status: resp.StatusCode, CacheControl: resp.Header.Get("Cache-Control")}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("%s %s: status %d, body is not JSON: %.300s", req.Method, req.URL.Path, resp.StatusCode, body)
	}
	return r
}

// exchange redeems code at the token endpoint.
func (a *testApp) exchange(t *testing.T, c testClient, code string, p pkce) tokenReply {
	t.Helper()
	return a.postAs(t, "/oauth/token", c, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.Redirect}, "code_verifier": {p.Verifier},
	})
}

// refresh uses a refresh token.
func (a *testApp) refresh(t *testing.T, c testClient, rt string) tokenReply {
	t.Helper()
	return a.postAs(t, "/oauth/token", c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

// verify checks an access token as the proxy will: signature, issuer,
// audience, expiry and the store's revocations.
func (a *testApp) verify(t *testing.T, raw, resource string) (*token.Claims, error) {
	t.Helper()
	revoked, err := a.Store.RevokedAccessTokens(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	for _, jti := range revoked {
		set[jti] = true
	}
	// A fresh Verifier: the shared one caches, and caching is not what
	// these tests are about.
	v := token.NewVerifier(a.Server.tokens.keys, a.Config.ConsoleBase(), token.VerifierOptions{CacheSize: -1})
	return v.Verify(raw, resource, func(jti string) bool { return set[jti] })
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// wantOAuthError fails unless r is the OAuth error code with status.
func wantOAuthError(t *testing.T, what string, r tokenReply, status int, code string) {
	t.Helper()
	if r.Status != status || r.Error != code {
		t.Errorf("%s: got status %d error %q (%s), want %d %q", what, r.Status, r.Error, r.Description, status, code)
	}
	if r.AccessToken != "" || r.RefreshToken != "" {
		t.Errorf("%s: refused, yet tokens were returned", what)
	}
}

// loginNext signs in from a sign-in page that carries next, and returns
// where the browser is sent.
func (b *browser) loginNext(email, next string) string {
	b.t.Helper()
	resp, body := b.post("/login", url.Values{"email": {email}, "password": {testPassword}, "next": {next}})
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("login %s: status %d, body %.300s", email, resp.StatusCode, body)
	}
	return resp.Header.Get("Location")
}
