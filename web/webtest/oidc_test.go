package webtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

const (
	testClientID     = "drawbridge"
	testClientSecret = "test-secret"
)

var (
	alice = OIDCAccount{Login: "alice", Email: "alice@example.com", Name: "Alice Liddell", Groups: []string{"admins", "staff"}}
	bob   = OIDCAccount{Login: "bob", Email: "bob@example.com", Name: "Bob Builder", EmailUnverified: true}
)

// TestOIDCProvider drives a real relying party (go-oidc + x/oauth2) through
// the provider, the way Drawbridge's sign-in tests will.
func TestOIDCProvider(t *testing.T) {
	rp := startRelyingParty(t)
	op := StartOIDCProvider(t, testClientID, testClientSecret, []string{rp.redirectURL}, alice, bob)
	rp.connect(t, op.Issuer)

	t.Run("SignIn", func(t *testing.T) {
		browser := newBrowser(t)
		back := op.SignIn(t, browser, rp.startLogin(t, browser), "alice")
		if got := back.Scheme + "://" + back.Host + back.Path; got != rp.redirectURL {
			t.Errorf("redirected to %s, want the redirect URI %s", got, rp.redirectURL)
		}
		if got := back.Query().Get("iss"); got != op.Issuer {
			t.Errorf("iss = %q, want %q", got, op.Issuer)
		}

		claims := rp.finishLogin(t, browser, back, http.StatusOK)
		want := map[string]any{
			"iss": op.Issuer, "aud": testClientID, "sub": "alice",
			"email": "alice@example.com", "email_verified": true, "name": "Alice Liddell",
			"groups": []any{"admins", "staff"},
		}
		// The relying party has checked it against the nonce it sent.
		if claims["nonce"] == nil {
			t.Error("no nonce in the ID token")
		}
		for k, v := range want {
			if got := claims[k]; fmt.Sprint(got) != fmt.Sprint(v) {
				t.Errorf("claim %s = %v, want %v", k, got, v)
			}
		}
	})

	t.Run("UnverifiedEmailAndNoGroups", func(t *testing.T) {
		browser := newBrowser(t)
		claims := rp.finishLogin(t, browser, op.SignIn(t, browser, rp.startLogin(t, browser), "bob"), http.StatusOK)
		if claims["email_verified"] != false || fmt.Sprint(claims["groups"]) != "[]" {
			t.Errorf("email_verified = %v, groups = %v; want false, []", claims["email_verified"], claims["groups"])
		}
	})

	t.Run("UnknownLoginIsRefused", func(t *testing.T) {
		browser := newBrowser(t)
		authorize := rp.startLogin(t, browser)
		back, err := op.Authorize(browser, authorize, "mallory")
		if err != nil {
			t.Fatal(err)
		}
		if q := back.Query(); q.Get("error") != "access_denied" || q.Has("code") || q.Get("state") == "" {
			t.Fatalf("redirect %s, want error=access_denied with state and no code", back)
		}
		rp.finishLogin(t, browser, back, http.StatusUnauthorized)
	})

	t.Run("SingleSignOn", func(t *testing.T) {
		browser := newBrowser(t)
		rp.finishLogin(t, browser, op.SignIn(t, browser, rp.startLogin(t, browser), "alice"), http.StatusOK)

		// The jar holds alice's provider session: no login page this time.
		claims := rp.finishLogin(t, browser, op.SignIn(t, browser, rp.startLogin(t, browser), ""), http.StatusOK)
		if claims["sub"] != "alice" {
			t.Errorf("sub = %v, want alice", claims["sub"])
		}
		// Asking for bob with alice's session must not quietly sign in alice.
		if _, err := op.Authorize(browser, rp.startLogin(t, browser), "bob"); err == nil {
			t.Error("Authorize as bob with alice's session succeeded, want an error")
		}
	})

	t.Run("PKCEIsRequired", func(t *testing.T) {
		state := rand.Text()
		noChallenge := rp.oauth.AuthCodeURL(state, oidc.Nonce(rand.Text()))
		back, err := op.Authorize(newBrowser(t), noChallenge, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if q := back.Query(); q.Get("error") != "invalid_request" || q.Has("code") || q.Get("state") != state {
			t.Errorf("authorize without code_challenge: redirect %s, want error=invalid_request", back)
		}

		// A code bound to a challenge is redeemed only with its verifier.
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		for _, tc := range []struct {
			name   string
			opts   func(verifier string) []oauth2.AuthCodeOption
			wantOK bool
		}{
			{"right verifier", func(v string) []oauth2.AuthCodeOption { return []oauth2.AuthCodeOption{oauth2.VerifierOption(v)} }, true},
			{"wrong verifier", func(string) []oauth2.AuthCodeOption {
				return []oauth2.AuthCodeOption{oauth2.VerifierOption(oauth2.GenerateVerifier())}
			}, false},
			{"no verifier", func(string) []oauth2.AuthCodeOption { return nil }, false},
		} {
			verifier := oauth2.GenerateVerifier()
			authorize := rp.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
			code := op.SignIn(t, newBrowser(t), authorize, "alice").Query().Get("code")
			_, err := rp.oauth.Exchange(ctx, code, tc.opts(verifier)...)
			if gotOK := err == nil; gotOK != tc.wantOK {
				t.Errorf("exchange with %s: err = %v, want success %v", tc.name, err, tc.wantOK)
			}
		}
	})

	t.Run("ForeignAuthorizeURL", func(t *testing.T) {
		if _, err := op.Authorize(newBrowser(t), rp.redirectURL, "alice"); err == nil {
			t.Error("Authorize with a URL that is not at the provider succeeded")
		}
	})
}

func TestOIDCProviderGroupsClaim(t *testing.T) {
	rp := startRelyingParty(t)
	op := StartOIDCProviderWith(t, OIDCProviderOptions{
		ClientID: testClientID, ClientSecret: testClientSecret, RedirectURIs: []string{rp.redirectURL},
		GroupsClaim: "roles", Accounts: []OIDCAccount{alice},
	})
	rp.connect(t, op.Issuer)

	browser := newBrowser(t)
	claims := rp.finishLogin(t, browser, op.SignIn(t, browser, rp.startLogin(t, browser), "alice"), http.StatusOK)
	if fmt.Sprint(claims["roles"]) != "[admins staff]" || claims["groups"] != nil {
		t.Errorf("roles = %v, groups = %v; want [admins staff] and no groups claim", claims["roles"], claims["groups"])
	}
}

// BenchmarkStartOIDCProvider measures starting the provider until it is
// ready to serve, and stopping it.
func BenchmarkStartOIDCProvider(b *testing.B) {
	opts := OIDCProviderOptions{
		ClientID: testClientID, ClientSecret: testClientSecret,
		RedirectURIs: []string{"http://127.0.0.1:1/callback"}, Accounts: []OIDCAccount{alice},
	}
	for b.Loop() {
		_, stop := launchOIDCProvider(b, opts)
		stop()
	}
}
