package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestLoginLandsByRole(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "admin@example.com", true)
	app.user(t, "user@example.com", false)

	if got := app.browser(t).login("admin@example.com"); got != "/admin" {
		t.Errorf("admin lands on %q, want /admin", got)
	}
	if got := app.browser(t).login("USER@example.com "); got != "/" {
		t.Errorf("user lands on %q, want /", got)
	}
}

func TestLoginFailuresLookAlike(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "alice@example.com", false)
	b := app.browser(t)

	var bodies []string
	for _, email := range []string{"alice@example.com", "nobody@example.com"} {
		resp, body := b.post("/login", url.Values{"email": {email}, "password": {"wrong password!!"}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s: status %d, want 401", email, resp.StatusCode)
		}
		bodies = append(bodies, doc(t, body).Find(`[data-testid="login-error"]`).Text())
	}
	if bodies[0] == "" || bodies[0] != bodies[1] {
		t.Errorf("unknown user and wrong password must read the same, got %q and %q", bodies[0], bodies[1])
	}
	if resp, _ := b.get("/admin"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after failed logins /admin answered %d, want a redirect to sign in", resp.StatusCode)
	}
}

func TestLoginThrottledPerAccount(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "alice@example.com", false)
	b := app.browser(t)
	for range 5 {
		b.post("/login", url.Values{"email": {"alice@example.com"}, "password": {"wrong password!!"}})
	}
	resp, body := b.post("/login", url.Values{"email": {"alice@example.com"}, "password": {testPassword}})
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("6th attempt with the right password: status %d, want 429", resp.StatusCode)
	}
	if !strings.Contains(body, "Too many failed attempts") {
		t.Errorf("throttled page does not say why")
	}
	// Another account from the same address is not locked by alice's failures.
	app.user(t, "bob@example.com", false)
	app.browser(t).login("bob@example.com")
}

func TestDisabledUserCannotSignIn(t *testing.T) {
	app := newTestApp(t)
	u := app.user(t, "alice@example.com", false)
	if err := app.Store.SetDisabled(context.Background(), u.ID, true); err != nil {
		t.Fatal(err)
	}
	resp, body := app.browser(t).post("/login", url.Values{"email": {"alice@example.com"}, "password": {testPassword}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "disabled") {
		t.Fatalf("disabled user: status %d, want 403 saying the account is disabled", resp.StatusCode)
	}
}

func TestLoginNextIsSameOriginOnly(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "alice@example.com", true)
	for _, next := range []string{
		"//evil.example", "/\\evil.example", "https://evil.example", "/%2F%2Fevil.example",
		"/%5Cevil.example", "/\t/evil.example", "javascript:alert(1)", "http:/evil.example", "\\\\evil.example",
	} {
		b := app.browser(t)
		resp, _ := b.post("/login", url.Values{"email": {"alice@example.com"}, "password": {testPassword}, "next": {next}})
		if got := resp.Header.Get("Location"); got != "/admin" {
			t.Errorf("next=%q redirected to %q, want /admin", next, got)
		}
	}
	b := app.browser(t)
	resp, _ := b.post("/login", url.Values{"email": {"alice@example.com"}, "password": {testPassword}, "next": {"/admin/users?q=a"}})
	if got := resp.Header.Get("Location"); got != "/admin/users?q=a" {
		t.Errorf("a same-origin next redirected to %q", got)
	}
}

func TestSignInRedirectKeepsWhereYouWere(t *testing.T) {
	app := newTestApp(t)
	resp, _ := app.browser(t).get("/admin/users?q=x")
	if got := resp.Header.Get("Location"); got != "/login?next=%2Fadmin%2Fusers%3Fq%3Dx" {
		t.Errorf("anonymous /admin/users redirected to %q", got)
	}
}

func TestLogoutIsAPostWithCSRF(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "alice@example.com", true)
	b := app.browser(t)
	b.login("alice@example.com")

	if resp, _ := b.get("/logout"); resp.StatusCode != http.StatusMethodNotAllowed && resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /logout: status %d, want it refused", resp.StatusCode)
	}
	if resp, _ := b.post("/logout", url.Values{csrfField: {"forged"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST /logout with a forged token: status %d, want 403", resp.StatusCode)
	}
	if resp, _ := b.get("/admin"); resp.StatusCode != http.StatusOK {
		t.Fatalf("still signed in after refused logout: /admin answered %d", resp.StatusCode)
	}
	if resp, _ := b.post("/logout", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /logout: status %d", resp.StatusCode)
	}
	if resp, _ := b.get("/admin"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after logout /admin answered %d, want a redirect to sign in", resp.StatusCode)
	}
}

func TestCSRFRefused(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "alice@example.com", true)
	b := app.browser(t)
	b.login("alice@example.com")
	other := app.browser(t).csrf() // a valid token, but of another session

	cases := []struct {
		name   string
		token  string
		header map[string]string
	}{
		{"no token", "", nil},
		{"another session's token", other, nil},
		{"cross-site request with a good token", b.csrf(), map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"foreign origin with a good token", b.csrf(), map[string]string{"Sec-Fetch-Site": "", "Origin": "http://evil.example"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"email": {"new@example.com"}, "password": {testPassword}, csrfField: {tc.token}}
			req, _ := http.NewRequest(http.MethodPost, app.URL+"/admin/users", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			if resp, _ := b.do(req); resp.StatusCode != http.StatusForbidden {
				t.Errorf("status %d, want 403", resp.StatusCode)
			}
			if _, err := app.Store.GetUserByEmail(context.Background(), "new@example.com"); err == nil {
				t.Errorf("the user was created anyway")
			}
		})
	}
}

func TestTamperedSessionCookieSignsOut(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "alice@example.com", true)
	b := app.browser(t)
	b.login("alice@example.com")

	u, _ := url.Parse(app.URL)
	var cookies []*http.Cookie
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			v := []byte(c.Value)
			v[len(v)/2] ^= 0x01
			c.Value = string(v)
		}
		cookies = append(cookies, c)
	}
	b.client.Jar.SetCookies(u, cookies)

	resp, _ := b.get("/admin")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("tampered cookie: /admin answered %d → %q, want a redirect to sign in", resp.StatusCode, resp.Header.Get("Location"))
	}
	replaced := false
	for _, c := range resp.Cookies() {
		replaced = replaced || c.Name == sessionCookie
	}
	if !replaced {
		t.Error("the tampered cookie was not replaced")
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	app := newTestApp(t)
	resp, _ := app.browser(t).get("/login")
	var c *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == sessionCookie {
			c = k
		}
	}
	if c == nil {
		t.Fatal("no session cookie on /login")
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure {
		t.Errorf("cookie HttpOnly=%v SameSite=%v Secure=%v; want HttpOnly, Lax, not Secure on http", c.HttpOnly, c.SameSite, c.Secure)
	}
}
