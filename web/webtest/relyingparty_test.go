package webtest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// newBrowser is a client with a cookie jar that, like a test inspecting a
// handler, stops at redirects instead of following them.
func newBrowser(t testing.TB) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// relyingParty is a minimal OIDC web client: /login starts the code flow
// with state, nonce and PKCE; /callback redeems the code, verifies the ID
// token and the nonce, and answers with the ID token's claims as JSON.
type relyingParty struct {
	srv         *httptest.Server
	redirectURL string
	oauth       *oauth2.Config
	verifier    *oidc.IDTokenVerifier

	mu      sync.Mutex
	pending map[string]pendingLogin // by state
}

type pendingLogin struct{ nonce, codeVerifier string }

func startRelyingParty(t *testing.T) *relyingParty {
	t.Helper()
	rp := &relyingParty{pending: map[string]pendingLogin{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", rp.login)
	mux.HandleFunc("GET /callback", rp.callback)
	rp.srv = httptest.NewServer(mux)
	t.Cleanup(rp.srv.Close)
	rp.redirectURL = rp.srv.URL + "/callback"
	return rp
}

// connect runs discovery; the provider needs the redirect URL first, so the
// relying party learns the issuer after it has started.
func (rp *relyingParty) connect(t *testing.T, issuer string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	rp.oauth = &oauth2.Config{
		ClientID:     testClientID,
		ClientSecret: testClientSecret,
		Endpoint:     provider.Endpoint(),
		RedirectURL:  rp.redirectURL,
		Scopes:       []string{oidc.ScopeOpenID, "email", "profile"},
	}
	rp.verifier = provider.Verifier(&oidc.Config{ClientID: testClientID})
}

func (rp *relyingParty) login(w http.ResponseWriter, r *http.Request) {
	state, p := rand.Text(), pendingLogin{nonce: rand.Text(), codeVerifier: oauth2.GenerateVerifier()}
	rp.mu.Lock()
	rp.pending[state] = p
	rp.mu.Unlock()
	http.Redirect(w, r, rp.oauth.AuthCodeURL(state, oidc.Nonce(p.nonce), oauth2.S256ChallengeOption(p.codeVerifier)), http.StatusFound)
}

func (rp *relyingParty) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rp.mu.Lock()
	p, ok := rp.pending[q.Get("state")]
	delete(rp.pending, q.Get("state"))
	rp.mu.Unlock()
	if !ok {
		http.Error(w, "unknown state", http.StatusBadRequest)
		return
	}
	if e := q.Get("error"); e != "" {
		http.Error(w, "sign-in refused: "+e, http.StatusUnauthorized)
		return
	}
	token, err := rp.oauth.Exchange(r.Context(), q.Get("code"), oauth2.VerifierOption(p.codeVerifier))
	if err != nil {
		http.Error(w, "exchange: "+err.Error(), http.StatusBadGateway)
		return
	}
	raw, _ := token.Extra("id_token").(string)
	idToken, err := rp.verifier.Verify(r.Context(), raw)
	if err != nil {
		http.Error(w, "verify: "+err.Error(), http.StatusBadGateway)
		return
	}
	if idToken.Nonce != p.nonce {
		http.Error(w, fmt.Sprintf("nonce %q, want %q", idToken.Nonce, p.nonce), http.StatusUnauthorized)
		return
	}
	var claims map[string]any
	if err := idToken.Claims(&claims); err != nil {
		http.Error(w, "claims: "+err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(claims)
}

// startLogin asks the relying party to sign in and returns where it sends
// the browser: the provider's authorization URL.
func (rp *relyingParty) startLogin(t *testing.T, browser *http.Client) string {
	t.Helper()
	resp, err := browser.Get(rp.srv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("GET /login: %s, no redirect: %v", resp.Status, err)
	}
	return loc.String()
}

// finishLogin brings the browser back to the relying party and returns the
// ID token's claims when it answers wantStatus 200.
func (rp *relyingParty) finishLogin(t *testing.T, browser *http.Client, back *url.URL, wantStatus int) map[string]any {
	t.Helper()
	resp, err := browser.Get(back.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != wantStatus {
		t.Fatalf("callback: %s %s, want %d", resp.Status, body, wantStatus)
	}
	if wantStatus != http.StatusOK {
		return nil
	}
	var claims map[string]any
	if err := json.Unmarshal(body, &claims); err != nil {
		t.Fatalf("callback body %s: %v", body, err)
	}
	return claims
}
