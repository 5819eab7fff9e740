package web

import (
	"context"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/web/webtest"
)

// Helpers of the token catalogue (bypass_token_test.go): tokens forged
// from real ones, and real credentials of other kinds.

// jwtClaims decodes the claims of a compact JWT, unverified.
func jwtClaims(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	var claims map[string]any
	if len(parts) != 3 {
		t.Fatalf("not a compact JWT: %.40q", raw)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err == nil {
		err = json.Unmarshal(payload, &claims)
	}
	if err != nil {
		t.Fatalf("JWT claims: %v", err)
	}
	return claims
}

// edited is a copy of claims with a fresh jti and the given changes.
func edited(claims map[string]any, changes map[string]any) map[string]any {
	out := map[string]any{"jti": rand.Text()}
	for k, v := range claims {
		if k != "jti" {
			out[k] = v
		}
	}
	for k, v := range changes {
		out[k] = v
	}
	return out
}

// forge signs claims ES256 with key, naming kid, as a token of type typ;
// embed puts the public key in the header (jwk) instead of the kid.
func forge(t *testing.T, key *ecdsa.PrivateKey, kid, typ string, claims map[string]any, embed bool) string {
	t.Helper()
	opts := (&jose.SignerOptions{EmbedJWK: embed}).WithType(jose.ContentType(typ))
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// handMade is a JWT of header and claims whose signature sign computes
// over the signing input; go-jose would refuse to make these.
func handMade(header, claims map[string]any, sign func(input string) []byte) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(header) + "." + enc(claims)
	return input + "." + base64.RawURLEncoding.EncodeToString(sign(input))
}

// hs256WithPublicKey signs with HMAC-SHA256 keyed by the PEM of pub, the
// algorithm-confusion attack on a verifier that lets the token pick.
func hs256WithPublicKey(pub *ecdsa.PublicKey) func(string) []byte {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	return func(input string) []byte {
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(input))
		return mac.Sum(nil)
	}
}

// idTokenFromProvider signs alice in at a real OpenID Connect provider
// and returns the ID token it issued.
func idTokenFromProvider(t *testing.T) string {
	t.Helper()
	const redirect = "http://127.0.0.1:9/callback" // never requested
	p := webtest.StartOIDCProvider(t, "corp-client", "corp-secret", []string{redirect},
		webtest.OIDCAccount{Login: "alice", Email: "alice@example.com", Name: "Alice"})
	ep := p.Endpoints(t)
	conf := &oauth2.Config{ClientID: p.ClientID, ClientSecret: p.ClientSecret, RedirectURL: redirect,
		Endpoint: oauth2.Endpoint{AuthURL: ep.AuthURL, TokenURL: ep.TokenURL}, Scopes: []string{"openid", "email"}}
	verifier := oauth2.GenerateVerifier()
	jar, _ := cookiejar.New(nil)
	back := p.SignIn(t, &http.Client{Jar: jar}, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), "alice")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := tok.Extra("id_token").(string)
	if strings.Count(id, ".") != 2 {
		t.Fatalf("no ID token from the provider: %q", id)
	}
	return id
}

// routeSession signs alice in on route's own host, as a browser route
// would (console, one-use code, callback), and returns the session
// cookie that host set.
func (w *bypassWorld) routeSession(t *testing.T, route *models.Route) *http.Cookie {
	t.Helper()
	state := "st-" + rand.Text()
	q := url.Values{"route": {strconv.FormatUint(uint64(route.ID), 10)}, "return": {"/"}, "state": {state}}
	resp, body := w.alice.get("/login/route?" + q.Encode())
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("route sign-in: %d %.300s", resp.StatusCode, body)
	}
	req, _ := http.NewRequest(http.MethodGet, resp.Header.Get("Location"), nil)
	req.AddCookie(&http.Cookie{Name: "drawbridge_signin", Value: state})
	resp, _ = w.send(t, req)
	for _, c := range resp.Cookies() {
		if c.Name == "drawbridge_route" && c.Value != "" {
			return c
		}
	}
	t.Fatalf("the route host set no session: %d %v", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	return nil
}

// serviceAccount creates, as an admin in the console, an account acting
// as alice (on routes only, when given) and returns its id and token.
func (w *bypassWorld) serviceAccount(t *testing.T, admin *browser, name string, routes ...*models.Route) (uint, string) {
	t.Helper()
	form := url.Values{"name": {name}, "user": {"alice@example.com"}, "expiry": {"30"}}
	for _, r := range routes {
		form.Add("routes", strconv.FormatUint(uint64(r.ID), 10))
	}
	resp, body := admin.post("/admin/service-accounts", form)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create service account: %d %.300s", resp.StatusCode, body)
	}
	tok := tokenOnPage(t, body)
	acc, err := w.app.Store.FindServiceAccount(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	w.app.waitForGateway(t)
	return acc.ID, tok
}
