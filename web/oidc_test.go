package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/drawbridge/drawbridge/web/webtest"
)

// newOIDCApp starts a console whose "corp" provider is a real OpenID
// Connect provider running beside the test.
func newOIDCApp(t *testing.T) (*testApp, *webtest.OIDCProvider) {
	t.Helper()
	var idp *webtest.OIDCProvider
	app := newTestApp(t, func(c *Config) {
		idp = webtest.StartOIDCProvider(t, "drawbridge", "s3cret-for-tests",
			[]string{c.Server.ConsoleURL + "/auth/corp/callback"},
			webtest.OIDCAccount{Login: "alice", Email: "Alice@Company.com", Name: "Alice Example", Groups: []string{"engineering", "oncall"}},
			webtest.OIDCAccount{Login: "bob", Email: "bob@company.com", Name: "Bob", Groups: []string{"sales"}},
			webtest.OIDCAccount{Login: "mallory", Email: "mallory@company.com", EmailUnverified: true},
		)
		c.Identity.OIDC = []OIDCProvider{{Name: "corp", DisplayName: "Corp SSO", Issuer: idp.Issuer,
			ClientID: "drawbridge", ClientSecret: "s3cret-for-tests", Scopes: []string{"email", "profile"}}}
		c.Admins = []string{"alice@company.com"}
	})
	return app, idp
}

// startOIDC follows the sign-in button and returns the provider's URL.
func (b *browser) startOIDC(next string) string {
	b.t.Helper()
	resp, _ := b.get("/auth/corp?next=" + url.QueryEscape(next))
	if resp.StatusCode != http.StatusFound {
		b.t.Fatalf("/auth/corp: status %d, want 302 to the provider", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

func TestOIDCSignIn(t *testing.T) {
	app, idp := newOIDCApp(t)
	b := app.browser(t)

	_, body := b.get("/login")
	if href, _ := doc(t, body).Find(`a[href^="/auth/corp"]`).Attr("href"); href != "/auth/corp" {
		t.Errorf("sign-in page links the provider as %q", href)
	}

	authorize := b.startOIDC("/admin/users")
	for _, want := range []string{"code_challenge_method=S256", "nonce=", "state=", "scope=openid+email+profile"} {
		if !strings.Contains(authorize, want) {
			t.Errorf("authorization URL lacks %s: %s", want, authorize)
		}
	}
	callback := idp.SignIn(t, b.client, authorize, "alice")
	resp, _ := b.get(callback.RequestURI())
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/users" {
		t.Fatalf("callback: status %d → %q, want 303 → /admin/users", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := b.get("/admin/users"); resp.StatusCode != http.StatusOK {
		t.Fatalf("alice (listed under admins) cannot open the console: %d", resp.StatusCode)
	}
	u, err := app.Store.GetUserByEmail(context.Background(), "alice@company.com")
	if err != nil {
		t.Fatal(err)
	}
	if u.Provider != "corp" || u.Subject != "alice" || u.Name != "Alice Example" || !u.IsAdmin ||
		strings.Join(u.Groups, ",") != "engineering,oncall" || u.LastSignInAt == nil {
		t.Errorf("user after OIDC sign-in: %+v", u)
	}

	// Someone not under admins lands on the portal and is kept out of the console.
	b2 := app.browser(t)
	resp, _ = b2.get(idp.SignIn(t, b2.client, b2.startOIDC(""), "bob").RequestURI())
	if got := resp.Header.Get("Location"); got != "/" {
		t.Errorf("bob lands on %q, want /", got)
	}
	if resp, _ := b2.get("/admin"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("bob opened the console: %d", resp.StatusCode)
	}
}

func TestOIDCCallbackRefusals(t *testing.T) {
	app, idp := newOIDCApp(t)

	t.Run("forged state", func(t *testing.T) {
		b := app.browser(t)
		cb := idp.SignIn(t, b.client, b.startOIDC(""), "alice")
		q := cb.Query()
		q.Set("state", "forged")
		cb.RawQuery = q.Encode()
		assertRefused(t, b, cb.RequestURI(), "invalid or has expired")
	})
	t.Run("callback replayed", func(t *testing.T) {
		b := app.browser(t)
		cb := idp.SignIn(t, b.client, b.startOIDC(""), "bob")
		if resp, _ := b.get(cb.RequestURI()); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("first callback: %d", resp.StatusCode)
		}
		b.post("/logout", url.Values{})
		assertRefused(t, b, cb.RequestURI(), "invalid or has expired")
	})
	t.Run("state from another browser", func(t *testing.T) {
		victim, attacker := app.browser(t), app.browser(t)
		cb := idp.SignIn(t, attacker.client, attacker.startOIDC(""), "bob")
		victim.startOIDC("")
		assertRefused(t, victim, cb.RequestURI(), "invalid or has expired")
	})
	t.Run("provider refuses", func(t *testing.T) {
		b := app.browser(t)
		cb, err := idp.Authorize(b.client, b.startOIDC(""), "nobody")
		if err != nil {
			t.Fatal(err)
		}
		assertRefused(t, b, cb.RequestURI(), "did not sign you in")
	})
	t.Run("unverified email", func(t *testing.T) {
		b := app.browser(t)
		assertRefused(t, b, idp.SignIn(t, b.client, b.startOIDC(""), "mallory").RequestURI(), "not verified")
	})
	t.Run("disabled user", func(t *testing.T) {
		b := app.browser(t)
		b.get(idp.SignIn(t, b.client, b.startOIDC(""), "bob").RequestURI())
		u, err := app.Store.GetUserByEmail(context.Background(), "bob@company.com")
		if err != nil {
			t.Fatal(err)
		}
		if err := app.Store.SetDisabled(context.Background(), u.ID, true); err != nil {
			t.Fatal(err)
		}
		if resp, _ := b.get("/"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("disabling bob did not end his session: / answered %d", resp.StatusCode)
		}
		b2 := app.browser(t)
		assertRefused(t, b2, idp.SignIn(t, b2.client, b2.startOIDC(""), "bob").RequestURI(), "disabled")
	})
}

// assertRefused requests a callback and expects the sign-in page with a
// message and no session.
func assertRefused(t *testing.T, b *browser, callback, message string) {
	t.Helper()
	resp, body := b.get(callback)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("callback: status %d, want 401", resp.StatusCode)
	}
	if got := doc(t, body).Find(`[data-testid="login-error"]`).Text(); !strings.Contains(got, message) {
		t.Errorf("callback message %q, want it to mention %q", got, message)
	}
	if resp, _ := b.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a refused callback left a session: / answered %d", resp.StatusCode)
	}
}
