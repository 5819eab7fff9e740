package web

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The bypass catalogue, token tricks: forged or misused credentials
// presented on an MCP server route, with an allowed tool call, so that the
// credential is the only reason to refuse. The real ones are minted by the
// real flows (authorization code + PKCE, the console's service accounts,
// an OpenID Connect provider, a route host's sign-in) and then tampered
// with or used where they do not belong. Every case asserts 401 with the
// challenge that sends a client back to the route's protected resource
// metadata (or, for a service-account token, an invalid_token challenge
// only, since an account never signs in), or 403; a JSON-RPC error; and
// that neither upstream received a single request.

// tokenCase is one credential the Tools route must refuse.
type tokenCase struct {
	name      string
	auth      string // the Authorization header; "" for none
	edit      func(r *http.Request)
	status    int      // 401, or 403
	challenge []string // what WWW-Authenticate must contain
}

// TestBypassTokens is the catalogue of token tricks.
func TestBypassTokens(t *testing.T) {
	w := newBypassWorld(t)
	ctx := context.Background()
	allowed := toolCall("echo", `{"text":"x"}`)
	metadata := `resource_metadata="` + w.tools.From + `/.well-known/oauth-protected-resource"`
	invalid := []string{metadata, `error="invalid_token"`}
	accountInvalid := []string{`error="invalid_token"`}

	// The raw material: alice's real token, its key id and claims, the
	// real signing key, and a key of the attacker's.
	code, p := w.alice.codeFor(w.client, w.tools.From)
	grant := w.app.exchange(t, w.client, code, p)
	var header struct {
		Kid string `json:"kid"`
	}
	h, _ := base64.RawURLEncoding.DecodeString(strings.Split(grant.AccessToken, ".")[0])
	if err := json.Unmarshal(h, &header); err != nil || header.Kid == "" {
		t.Fatalf("access token header %s: %v", h, err)
	}
	claims, key := jwtClaims(t, grant.AccessToken), w.app.Keys.Signing
	attacker, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now().Unix()
	forged := func(changes map[string]any) string {
		return forge(t, key, header.Kid, "at+jwt", edited(claims, changes), false)
	}

	// The controls: a token forged with the real key and nothing changed
	// goes through, and so does the scheme in lower case (RFC 7235: it
	// is case-insensitive). So each refusal below is for what it changed.
	w.wantAllowed(t, w.mcpRequest(http.MethodPost, w.tools.From, allowed, map[string]string{"Authorization": "Bearer " + forged(nil)}))
	w.wantAllowed(t, w.mcpRequest(http.MethodPost, w.tools.From, allowed, map[string]string{"Authorization": "bearer " + grant.AccessToken}))
	assertion := w.toolsUp.last(t).Header.Get("X-Drawbridge-Assertion")
	if strings.Count(assertion, ".") != 2 {
		t.Fatalf("the upstream received no assertion: %q", assertion)
	}

	root := w.app.user(t, "root@example.com", true)
	admin := w.app.browser(t)
	admin.login(root.Email)
	_, ciToken := w.serviceAccount(t, admin, "ci")
	w.wantAllowed(t, w.mcpRequest(http.MethodPost, w.tools.From, allowed, map[string]string{"Authorization": "Bearer Drawbridge-" + ciToken}))
	openID, openOnly := w.serviceAccount(t, admin, "open-only", w.open)
	otherClaims := edited(jwtClaims(t, ciToken), map[string]any{"sub": strconv.FormatUint(uint64(openID), 10)})
	consoleCookies := w.alice.client.Jar.Cookies(&url.URL{Scheme: "http", Host: strings.TrimPrefix(w.app.URL, "http://")})
	session := w.routeSession(t, w.tools)
	withCookies := func(cs ...*http.Cookie) func(*http.Request) {
		return func(r *http.Request) {
			for _, c := range cs {
				r.AddCookie(c)
			}
		}
	}

	cases := []tokenCase{
		{name: "no token", status: 401, challenge: []string{metadata + `, scope="mcp"`}},
		{name: "malformed bearer", auth: "Bearer not.a.jwt", status: 401, challenge: invalid},
		{name: "Basic credentials", auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("alice@example.com:"+testPassword)), status: 401, challenge: invalid},
		// RFC 6750 allows 1*SP; one spelling is read, and an odd one is
		// refused rather than guessed at (the header never goes upstream).
		{name: "Bearer and two spaces", auth: "Bearer  " + grant.AccessToken, status: 401, challenge: invalid},
		{name: "two Authorization headers", auth: "Bearer " + grant.AccessToken, status: 401, challenge: invalid,
			edit: func(r *http.Request) { r.Header.Add("Authorization", "Bearer "+w.openToken) }},
		{name: "alg none", status: 401, challenge: invalid, auth: "Bearer " + handMade(map[string]any{"alg": "none", "typ": "at+jwt", "kid": header.Kid},
			edited(claims, nil), func(string) []byte { return nil })},
		{name: "HS256 keyed with the public key (algorithm confusion)", status: 401, challenge: invalid,
			auth: "Bearer " + handMade(map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": header.Kid}, edited(claims, nil), hs256WithPublicKey(&key.PublicKey))},
		{name: "unknown kid", auth: "Bearer " + forge(t, key, "no-such-key", "at+jwt", edited(claims, nil), false), status: 401, challenge: invalid},
		{name: "another key under the right kid", auth: "Bearer " + forge(t, attacker, header.Kid, "at+jwt", edited(claims, nil), false), status: 401, challenge: invalid},
		{name: "another key embedded as a jwk header", auth: "Bearer " + forge(t, attacker, "", "at+jwt", edited(claims, nil), true), status: 401, challenge: invalid},
		{name: "expired", auth: "Bearer " + forged(map[string]any{"iat": now - 7200, "nbf": now - 7200, "exp": now - 3600}), status: 401, challenge: invalid},
		{name: "not yet valid", auth: "Bearer " + forged(map[string]any{"iat": now, "nbf": now + 600, "exp": now + 1800}), status: 401, challenge: invalid},
		{name: "issued in the future", auth: "Bearer " + forged(map[string]any{"iat": now + 600, "nbf": now + 600, "exp": now + 1800}), status: 401, challenge: invalid},
		{name: "another issuer", auth: "Bearer " + forged(map[string]any{"iss": "http://evil.example"}), status: 401, challenge: invalid},
		{name: "typ JWT, not at+jwt", auth: "Bearer " + forge(t, key, header.Kid, "JWT", edited(claims, nil), false), status: 401, challenge: invalid},
		{name: "audience of another MCP route (RFC 8707)", auth: "Bearer " + w.openToken, status: 401, challenge: invalid},
		{name: "audience as a list naming this route", auth: "Bearer " + forged(map[string]any{"aud": []string{w.tools.From, w.open.From}}), status: 401, challenge: invalid},
		{name: "refresh token as an access token", auth: "Bearer " + grant.RefreshToken, status: 401, challenge: invalid},
		{name: "assertion header replayed as an access token", auth: "Bearer " + assertion, status: 401, challenge: invalid},
		{name: "ID token from the OpenID Connect provider", auth: "Bearer " + idTokenFromProvider(t), status: 401, challenge: invalid},
		{name: "console session cookie, no bearer", edit: withCookies(consoleCookies...), status: 401, challenge: []string{metadata}},
		{name: "this route host's own session cookie, no bearer", edit: withCookies(session), status: 401, challenge: []string{metadata}},
		{name: "service-account token with the prefix doubled", auth: "Bearer Drawbridge-Drawbridge-" + ciToken, status: 401, challenge: accountInvalid},
		{name: "service-account token re-signed for another account", status: 401, challenge: accountInvalid,
			auth: "Bearer Drawbridge-" + forge(t, key, header.Kid, "drawbridge-sa+jwt", otherClaims, false)},
		{name: "service-account token on a route it may not use", auth: "Bearer Drawbridge-" + openOnly, status: 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { w.refuseToken(t, tc) })
	}

	// Revocations and a disabled user, each refused at once: as soon as
	// the gateway serves the configuration the change committed.
	t.Run("access token revoked via /oauth/revoke", func(t *testing.T) {
		tok := w.accessToken(t, w.tools)
		w.wantAllowed(t, w.mcpRequest(http.MethodPost, w.tools.From, allowed, map[string]string{"Authorization": "Bearer " + tok}))
		w.revoke(t, tok)
		w.refuseToken(t, tokenCase{auth: "Bearer " + tok, status: 401, challenge: append(invalid, "revoked")})
	})
	t.Run("access token of a grant whose refresh token was revoked", func(t *testing.T) {
		w.revoke(t, grant.RefreshToken)
		w.refuseToken(t, tokenCase{auth: "Bearer " + grant.AccessToken, status: 401, challenge: append(invalid, "revoked")})
	})
	t.Run("service-account token after revocation, with and without its prefix", func(t *testing.T) {
		id, tok := w.serviceAccount(t, admin, "revoked-ci")
		w.wantAllowed(t, w.mcpRequest(http.MethodPost, w.tools.From, allowed, map[string]string{"Authorization": "Bearer Drawbridge-" + tok}))
		if resp, _ := admin.post("/admin/service-accounts/"+strconv.FormatUint(uint64(id), 10)+"/revoke", url.Values{}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke: %d", resp.StatusCode)
		}
		w.app.waitForGateway(t)
		w.refuseToken(t, tokenCase{auth: "Bearer Drawbridge-" + tok, status: 401, challenge: accountInvalid})
		w.refuseToken(t, tokenCase{auth: "Bearer " + tok, status: 401, challenge: accountInvalid})
	})
	t.Run("token and service account of a user disabled since", func(t *testing.T) {
		tok := w.accessToken(t, w.tools)
		alice, err := w.app.Store.GetUserByEmail(ctx, "alice@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if err := w.app.Store.SetDisabled(ctx, alice.ID, true); err != nil {
			t.Fatal(err)
		}
		w.app.waitForGateway(t)
		w.refuseToken(t, tokenCase{auth: "Bearer " + tok, status: 401, challenge: invalid})
		w.refuseToken(t, tokenCase{auth: "Bearer Drawbridge-" + ciToken, status: 401, challenge: accountInvalid})
	})
}

// TestBypassTokensNeverReachTheUpstream: what the caller proves itself
// with, and identity headers it could forge, are removed before the
// upstream; the only identity the upstream gets is Drawbridge's signed
// assertion.
func TestBypassTokensNeverReachTheUpstream(t *testing.T) {
	w := newBypassWorld(t)
	forgedAssertion := forge(t, w.app.Keys.Signing, "", "drawbridge-assertion+jwt", map[string]any{"email": "root@example.com"}, false)
	w.wantAllowed(t, w.mcpRequest(http.MethodPost, w.tools.From, toolCall("echo", `{"text":"x"}`), map[string]string{
		"Proxy-Authorization": "Basic cm9vdDpyb290", "X-Drawbridge-Assertion": forgedAssertion,
		"X-Drawbridge-User": "root@example.com", "X-Drawbridge-Groups": "admins", "Cookie": "drawbridge_session=stolen; app=1",
	}))
	got := w.toolsUp.last(t)
	for _, name := range []string{"Authorization", "Proxy-Authorization"} {
		if v := got.Header.Get(name); v != "" {
			t.Errorf("the upstream received %s: %q", name, v)
		}
	}
	if c := got.Header.Get("Cookie"); c != "app=1" {
		t.Errorf("the upstream received Cookie %q, want only the app's own", c)
	}
	for name := range got.Header {
		if strings.HasPrefix(strings.ToLower(name), "x-drawbridge-") && name != "X-Drawbridge-Assertion" {
			t.Errorf("the upstream received the caller's %s", name)
		}
	}
	raw := got.Header.Get("X-Drawbridge-Assertion")
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil || raw == forgedAssertion {
		t.Fatalf("the upstream's assertion is not Drawbridge's: %v", err)
	}
	payload, err := jws.Verify(&w.app.Keys.Signing.PublicKey)
	if err != nil || !strings.Contains(string(payload), `"email":"alice@example.com"`) {
		t.Errorf("the assertion does not verify as alice's: %v %s", err, payload)
	}
}

// refuseToken sends an allowed call with tc's credential to the Tools
// route and asserts its refusal, its challenge, and that no upstream
// received it.
func (w *bypassWorld) refuseToken(t *testing.T, tc tokenCase) {
	t.Helper()
	req := w.mcpRequest(http.MethodPost, w.tools.From, toolCall("echo", `{"text":"x"}`), map[string]string{"Authorization": tc.auth})
	if tc.edit != nil {
		tc.edit(req)
	}
	before := w.upstreamCounts()
	resp, body := w.send(t, req)
	w.wantRefused(t, resp, body, before, tc.status, -32002)
	challenge := resp.Header.Get("WWW-Authenticate")
	if req.Header.Get("Authorization") == "" && strings.Contains(challenge, "error=") {
		// RFC 6750 3.1: no credential, no error code.
		t.Errorf("WWW-Authenticate %q names an error, though no credential was sent", challenge)
	}
	for _, want := range tc.challenge {
		if !strings.Contains(challenge, want) {
			t.Errorf("WWW-Authenticate %q, want it to contain %q", challenge, want)
		}
	}
}

// revoke revokes one of alice's tokens at /oauth/revoke as her client,
// and waits for the gateway to serve the revocation.
func (w *bypassWorld) revoke(t *testing.T, tok string) {
	t.Helper()
	if r := w.app.postAs(t, "/oauth/revoke", w.client, url.Values{"token": {tok}}); r.Status != http.StatusOK {
		t.Fatalf("revoke: %+v", r)
	}
	w.app.waitForGateway(t)
}
