package webtest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// unservedRedirect is a loopback redirect URI that nobody serves: the tests
// read the code off the provider's redirect and never follow it.
const unservedRedirect = "http://127.0.0.1:9/callback"

// expiryWait bounds the wait for a two-second access token to expire.
const expiryWait = 10 * time.Second

// TestUpstreamProvider drives the provider as an upstream OAuth 2 provider
// (the way Drawbridge will use GitHub) with x/oauth2 as the client.
func TestUpstreamProvider(t *testing.T) {
	op := StartOIDCProviderWith(t, OIDCProviderOptions{
		ClientID: testClientID, ClientSecret: testClientSecret, RedirectURIs: []string{unservedRedirect},
		Accounts: []OIDCAccount{alice},
		Refresh:  true, AccessTokenTTL: 2 * time.Second, ExtraScopes: []string{"repo", "read:user"},
	})
	ep := op.Endpoints(t)
	if ep.AuthURL == "" || ep.TokenURL == "" || ep.RevocationURL == "" || ep.UserinfoURL == "" {
		t.Fatalf("endpoints %+v, want all four", ep)
	}
	repo := oauthConfig(ep, oauth2.AuthStyleInHeader, "repo")

	t.Run("PlainOAuthScope", func(t *testing.T) {
		tok := codeGrant(t, op, repo)
		if got := tok.Extra("scope"); got != "repo" {
			t.Errorf("granted scope %v, want repo", got)
		}
		if tok.Extra("id_token") != nil {
			t.Error("an ID token without openid")
		}
		if tok.RefreshToken == "" {
			t.Error("no refresh token")
		}
		if tok.ExpiresIn != 2 {
			t.Errorf("expires_in %d, want 2", tok.ExpiresIn)
		}
		// What a client learns the upstream account from, as from GitHub's /user.
		status, claims := userinfo(t, ep, tok.AccessToken)
		if status != http.StatusOK || claims["sub"] != "alice" || claims["email"] != alice.Email || claims["name"] != alice.Name {
			t.Errorf("userinfo: %d %v, want 200 with alice's sub, email and name", status, claims)
		}
	})

	t.Run("OpenIDWithExtraScope", func(t *testing.T) {
		tok := codeGrant(t, op, oauthConfig(ep, oauth2.AuthStyleInHeader, "openid", "email", "profile", "read:user"))
		if got, _ := tok.Extra("scope").(string); !slices.Contains(strings.Fields(got), "read:user") {
			t.Errorf("granted scope %q, want read:user in it", got)
		}
		if idToken, _ := tok.Extra("id_token").(string); idToken == "" || tok.RefreshToken == "" {
			t.Errorf("id_token %q, refresh token %q; want both", idToken, tok.RefreshToken)
		}
		status, claims := userinfo(t, ep, tok.AccessToken)
		if status != http.StatusOK || claims["sub"] != "alice" || claims["email"] != alice.Email || claims["name"] != alice.Name {
			t.Errorf("userinfo: %d %v, want 200 with alice's sub, email and name", status, claims)
		}
	})

	t.Run("AccessTokenExpires", func(t *testing.T) {
		tok := codeGrant(t, op, repo)
		if status, _ := userinfo(t, ep, tok.AccessToken); status != http.StatusOK {
			t.Fatalf("fresh access token: userinfo %d, want 200", status)
		}
		deadline := time.Now().Add(expiryWait)
		for {
			status, _ := userinfo(t, ep, tok.AccessToken)
			if status == http.StatusUnauthorized {
				break
			}
			if status != http.StatusOK || time.Now().After(deadline) {
				t.Fatalf("two-second access token: userinfo %d after %v, want 401", status, expiryWait)
			}
			time.Sleep(100 * time.Millisecond)
		}
		fresh, err := refresh(t, repo, tok.RefreshToken)
		if err != nil {
			t.Fatalf("refresh after expiry: %v", err)
		}
		if status, _ := userinfo(t, ep, fresh.AccessToken); status != http.StatusOK {
			t.Errorf("refreshed access token: userinfo %d, want 200", status)
		}
	})

	t.Run("RefreshRotates", func(t *testing.T) {
		first := codeGrant(t, op, repo)
		second, err := refresh(t, repo, first.RefreshToken)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
			t.Fatalf("refresh returned refresh token %q, want a new one", second.RefreshToken)
		}
		if second.AccessToken == first.AccessToken || second.Extra("scope") != "repo" {
			t.Errorf("refresh returned access token %q (scope %v), want a new one for repo", second.AccessToken, second.Extra("scope"))
		}
		third, err := refresh(t, repo, second.RefreshToken)
		if err != nil {
			t.Fatalf("refresh with the rotated token: %v", err)
		}

		_, err = refresh(t, repo, first.RefreshToken)
		wantInvalidGrant(t, "the used refresh token", err)
		// Reuse looks like theft to oidc-provider: it revokes the whole grant.
		_, err = refresh(t, repo, third.RefreshToken)
		wantInvalidGrant(t, "the latest refresh token after reuse", err)
	})

	t.Run("RevocationEndpoint", func(t *testing.T) {
		tok := codeGrant(t, op, repo)
		if status := revoke(t, ep, repo, tok.RefreshToken); status != http.StatusOK {
			t.Fatalf("revocation answered %d, want 200", status)
		}
		_, err := refresh(t, repo, tok.RefreshToken)
		wantInvalidGrant(t, "a revoked refresh token", err)
		// Revoking a refresh token revokes its grant, access tokens included.
		if status, _ := userinfo(t, ep, tok.AccessToken); status != http.StatusUnauthorized {
			t.Errorf("userinfo with the grant's access token: %d, want 401", status)
		}
	})

	t.Run("RevokeGrants", func(t *testing.T) {
		// Two sign-ins in two browsers make two grants.
		a, b := codeGrant(t, op, repo), codeGrant(t, op, repo)
		op.RevokeGrants(t)
		for _, tok := range []*oauth2.Token{a, b} {
			_, err := refresh(t, repo, tok.RefreshToken)
			wantInvalidGrant(t, "a refresh token after RevokeGrants", err)
			if status, _ := userinfo(t, ep, tok.AccessToken); status != http.StatusUnauthorized {
				t.Errorf("userinfo after RevokeGrants: %d, want 401", status)
			}
		}
		// Consenting again makes a new grant that works.
		if _, err := refresh(t, repo, codeGrant(t, op, repo).RefreshToken); err != nil {
			t.Errorf("refresh after a new sign-in: %v", err)
		}
	})

	t.Run("Stats", func(t *testing.T) {
		before := op.Stats(t)
		tok := codeGrant(t, op, repo)
		tok, err := refresh(t, repo, tok.RefreshToken)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		_, err = refresh(t, repo, "no-such-token")
		wantInvalidGrant(t, "an unknown refresh token", err)
		if status := revoke(t, ep, repo, tok.RefreshToken); status != http.StatusOK {
			t.Fatalf("revocation answered %d, want 200", status)
		}
		after := op.Stats(t)
		got := ProviderStats{
			CodeGrants:      after.CodeGrants - before.CodeGrants,
			RefreshGrants:   after.RefreshGrants - before.RefreshGrants,
			RefreshFailures: after.RefreshFailures - before.RefreshFailures,
			Revocations:     after.Revocations - before.Revocations,
		}
		if want := (ProviderStats{CodeGrants: 1, RefreshGrants: 1, RefreshFailures: 1, Revocations: 1}); got != want {
			t.Errorf("stats grew by %+v, want %+v", got, want)
		}
	})
}

func TestUpstreamProviderClientSecretPost(t *testing.T) {
	op := StartOIDCProviderWith(t, OIDCProviderOptions{
		ClientID: testClientID, ClientSecret: testClientSecret, RedirectURIs: []string{unservedRedirect},
		Accounts: []OIDCAccount{alice},
		Refresh:  true, ExtraScopes: []string{"repo"}, TokenAuthMethod: "client_secret_post",
	})
	ep := op.Endpoints(t)
	post := oauthConfig(ep, oauth2.AuthStyleInParams, "repo")
	basic := oauthConfig(ep, oauth2.AuthStyleInHeader, "repo")

	verifier := oauth2.GenerateVerifier()
	code := authorize(t, op, post, verifier)
	ctx, cancel := context.WithTimeout(t.Context(), controlTimeout)
	defer cancel()
	// Client authentication comes before the code is looked at, so the code
	// survives the refused attempt.
	var rerr *oauth2.RetrieveError
	if _, err := basic.Exchange(ctx, code, oauth2.VerifierOption(verifier)); !errors.As(err, &rerr) || rerr.ErrorCode != "invalid_client" {
		t.Errorf("exchange with client_secret_basic: %v, want invalid_client", err)
	}
	tok, err := post.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange with client_secret_post: %v", err)
	}
	tok, err = refresh(t, post, tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh with client_secret_post: %v", err)
	}
	if status := revoke(t, ep, post, tok.RefreshToken); status != http.StatusOK {
		t.Errorf("revocation with client_secret_post answered %d, want 200", status)
	}
	if got := op.Stats(t); got != (ProviderStats{CodeGrants: 1, RefreshGrants: 1, Revocations: 1}) {
		t.Errorf("stats %+v", got)
	}
}

// TestOIDCProviderIsNotUpstreamByDefault checks that without the upstream
// options the provider is the plain OpenID Connect provider it always was.
func TestOIDCProviderIsNotUpstreamByDefault(t *testing.T) {
	op := StartOIDCProvider(t, testClientID, testClientSecret, []string{unservedRedirect}, alice)
	ep := op.Endpoints(t)
	if ep.RevocationURL != "" {
		t.Errorf("revocation endpoint %s, want none", ep.RevocationURL)
	}

	tok := codeGrant(t, op, oauthConfig(ep, oauth2.AuthStyleInHeader, "openid", "email"))
	if tok.RefreshToken != "" {
		t.Error("a refresh token without Refresh")
	}
	var rerr *oauth2.RetrieveError
	if _, err := refresh(t, oauthConfig(ep, oauth2.AuthStyleInHeader), "any"); !errors.As(err, &rerr) || rerr.ErrorCode != "unsupported_grant_type" {
		t.Errorf("refresh_token grant: %v, want unsupported_grant_type", err)
	}

	// Userinfo follows OpenID Connect: no openid, no answer.
	plain := codeGrant(t, op, oauthConfig(ep, oauth2.AuthStyleInHeader, "email"))
	if status, body := userinfo(t, ep, plain.AccessToken); status != http.StatusForbidden {
		t.Errorf("userinfo for a token without openid: %d %v, want 403", status, body)
	}
	if got := op.Stats(t); got != (ProviderStats{CodeGrants: 2, RefreshFailures: 1}) {
		t.Errorf("stats %+v, want two code grants and one refused refresh", got)
	}
}

func oauthConfig(ep ProviderEndpoints, style oauth2.AuthStyle, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     testClientID,
		ClientSecret: testClientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: ep.AuthURL, TokenURL: ep.TokenURL, AuthStyle: style},
		RedirectURL:  unservedRedirect,
		Scopes:       scopes,
	}
}

// authorize signs alice in, in a fresh browser, and returns the code.
func authorize(t *testing.T, op *OIDCProvider, conf *oauth2.Config, verifier string) string {
	t.Helper()
	state := rand.Text()
	back := op.SignIn(t, newBrowser(t), conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), "alice")
	if got := back.Scheme + "://" + back.Host + back.Path; got != unservedRedirect || back.Query().Get("state") != state {
		t.Fatalf("redirected to %s, want %s with state %s", back, unservedRedirect, state)
	}
	return back.Query().Get("code")
}

// codeGrant runs the authorization code flow with PKCE as alice.
func codeGrant(t *testing.T, op *OIDCProvider, conf *oauth2.Config) *oauth2.Token {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	code := authorize(t, op, conf, verifier)
	ctx, cancel := context.WithTimeout(t.Context(), controlTimeout)
	defer cancel()
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

// refresh redeems a refresh token: a token with no access token is never
// valid, so the token source goes straight to the refresh_token grant.
func refresh(t *testing.T, conf *oauth2.Config, refreshToken string) (*oauth2.Token, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), controlTimeout)
	defer cancel()
	return conf.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
}

func wantInvalidGrant(t *testing.T, what string, err error) {
	t.Helper()
	var rerr *oauth2.RetrieveError
	if !errors.As(err, &rerr) || rerr.ErrorCode != "invalid_grant" {
		t.Errorf("refresh with %s: %v, want invalid_grant", what, err)
	}
}

// revoke posts token to the revocation endpoint, authenticating as conf's
// auth style says, and returns the status.
func revoke(t *testing.T, ep ProviderEndpoints, conf *oauth2.Config, token string) int {
	t.Helper()
	form := url.Values{"token": {token}, "token_type_hint": {"refresh_token"}}
	if conf.Endpoint.AuthStyle == oauth2.AuthStyleInParams {
		form.Set("client_id", conf.ClientID)
		form.Set("client_secret", conf.ClientSecret)
	}
	ctx, cancel := context.WithTimeout(t.Context(), controlTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.RevocationURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if conf.Endpoint.AuthStyle == oauth2.AuthStyleInHeader {
		req.SetBasicAuth(url.QueryEscape(conf.ClientID), url.QueryEscape(conf.ClientSecret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// userinfo asks the userinfo endpoint about accessToken and returns the
// status with the JSON body.
func userinfo(t *testing.T, ep ProviderEndpoints, accessToken string) (int, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), controlTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep.UserinfoURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		t.Fatalf("userinfo answered %s with a body that is not JSON: %v", resp.Status, err)
	}
	return resp.StatusCode, body
}
