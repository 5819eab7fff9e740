package webtest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// controlTimeout bounds each request a helper here makes to the provider,
// which answers in milliseconds.
const controlTimeout = 10 * time.Second

// ProviderStats counts what the provider's token and revocation endpoints
// have done since it started.
type ProviderStats struct {
	// CodeGrants and RefreshGrants are authorization_code and refresh_token
	// grants that succeeded.
	CodeGrants    int `json:"code_grants"`
	RefreshGrants int `json:"refresh_grants"`
	// RefreshFailures are refresh_token grants the provider refused. A
	// client_secret_post provider refuses HTTP Basic before it reads the
	// grant type, so those refusals count nowhere.
	RefreshFailures int `json:"refresh_failures"`
	// Revocations are requests the revocation endpoint accepted (200), whether
	// or not the token was still live, as RFC 7009 answers both alike.
	Revocations int `json:"revocations"`
}

// ProviderEndpoints are the provider's OAuth 2 endpoints, from its discovery
// document.
type ProviderEndpoints struct {
	AuthURL, TokenURL string
	// RevocationURL is empty unless OIDCProviderOptions.Refresh is set.
	RevocationURL string
	// UserinfoURL answers an access token with the account's claims. Tokens
	// granted with openid get OpenID Connect userinfo: sub, plus email and
	// email_verified with the email scope, name and the groups claim with
	// profile.
	// When the provider has Refresh or ExtraScopes, a token granted without
	// openid (plain OAuth 2) gets every claim, as GitHub's /user would;
	// otherwise it is refused with insufficient_scope.
	UserinfoURL string
}

// Endpoints reads the provider's discovery document.
func (p *OIDCProvider) Endpoints(t testing.TB) ProviderEndpoints {
	t.Helper()
	var doc struct {
		Authorization string `json:"authorization_endpoint"`
		Token         string `json:"token_endpoint"`
		Revocation    string `json:"revocation_endpoint"`
		Userinfo      string `json:"userinfo_endpoint"`
	}
	body := p.control(t, http.MethodGet, "/.well-known/openid-configuration", http.StatusOK)
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("webtest: OIDC provider discovery: %v: %s", err, body)
	}
	return ProviderEndpoints{AuthURL: doc.Authorization, TokenURL: doc.Token, RevocationURL: doc.Revocation, UserinfoURL: doc.Userinfo}
}

// Stats returns the provider's counts so far.
func (p *OIDCProvider) Stats(t testing.TB) ProviderStats {
	t.Helper()
	var s ProviderStats
	body := p.control(t, http.MethodGet, "/test/stats", http.StatusOK)
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("webtest: OIDC provider stats: %v: %s", err, body)
	}
	return s
}

// RevokeGrants destroys every grant the provider has made, with its codes,
// access tokens and refresh tokens, as a person revoking the client's access
// at the upstream would: the next refresh_token grant fails with
// invalid_grant and userinfo refuses the access tokens. Sessions at the
// provider survive, so signing in again asks for consent but not a login.
func (p *OIDCProvider) RevokeGrants(t testing.TB) {
	t.Helper()
	p.control(t, http.MethodPost, "/test/revoke-grants", http.StatusNoContent)
}

// control sends a request without a body to path at the provider and
// returns the answer's body, failing the test unless the status is want.
func (p *OIDCProvider) control(t testing.TB, method, path string, want int) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), controlTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, p.Issuer+path, nil)
	if err != nil {
		t.Fatalf("webtest: %s %s: %v", method, path, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("webtest: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("webtest: %s %s: read: %v", method, path, err)
	}
	if resp.StatusCode != want {
		t.Fatalf("webtest: %s %s answered %s, want %d: %s", method, path, resp.Status, want, body)
	}
	return body
}

// upstreamEnv is the environment that passes the upstream options to
// provider.mjs. Every variable is set, empty when unused, so that none can
// leak in from the environment of the test binary.
func upstreamEnv(t testing.TB, opts OIDCProviderOptions) []string {
	t.Helper()
	refresh := ""
	if opts.Refresh {
		refresh = "1"
	}
	ttl := ""
	if opts.AccessTokenTTL != 0 {
		if opts.AccessTokenTTL < time.Second || opts.AccessTokenTTL%time.Second != 0 {
			t.Fatalf("webtest: AccessTokenTTL %v is not a whole number of seconds", opts.AccessTokenTTL)
		}
		ttl = strconv.FormatInt(int64(opts.AccessTokenTTL/time.Second), 10)
	}
	for _, s := range opts.ExtraScopes {
		// A comma is legal in a scope, but separates them in EXTRA_SCOPES.
		if s == "" || strings.ContainsAny(s, ", ") {
			t.Fatalf("webtest: ExtraScopes: %q is not a scope provider.mjs can take", s)
		}
	}
	return []string{
		"REFRESH=" + refresh,
		"ACCESS_TOKEN_TTL=" + ttl,
		"EXTRA_SCOPES=" + strings.Join(opts.ExtraScopes, ","),
		"TOKEN_AUTH_METHOD=" + opts.TokenAuthMethod,
	}
}
