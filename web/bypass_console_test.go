package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/drawbridge/drawbridge/models"
)

// Bypass catalogue, console CSRF: every state-changing console form,
// posted the ways a page on another site, another browser session or a
// lesser account could post it; GETs on the forms' paths; sign-in and
// sign-out. Each case fails if the form took effect (consoleForm.done
// reports it from the store), or, for the audit export, if the export was
// served. The controls at the end post each form properly and see it take
// effect, so that the refusals are refusals of working forms.
// Stored XSS and the Content-Security-Policy are in
// bypass_console_xss_test.go.
func TestBypassConsole(t *testing.T) {
	w := newConsoleWorld(t)
	other := w.app.browser(t).csrf() // a real token, of another (anonymous) session
	adminToken, aliceToken, audreyToken := w.admin.csrf(), w.alice.csrf(), w.audrey.csrf()
	attempt := func(b *browser, token string, f consoleForm, edit func(*http.Request)) *http.Response {
		form := cloneValues(f.form)
		form.Set(csrfField, token)
		return b.postRaw(f.path, form, func(_ url.Values, r *http.Request) {
			if edit != nil {
				edit(r)
			}
		})
	}
	refused := func(t *testing.T, f consoleForm, resp *http.Response) {
		t.Helper()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s: status %d, want 403", f.path, resp.StatusCode)
		}
		if f.done != nil && f.done(t) {
			t.Fatalf("POST %s took effect", f.path)
		}
	}
	crossSite := func(r *http.Request) {
		r.Header.Set("Origin", "http://evil.example")
		r.Header.Set("Sec-Fetch-Site", "cross-site")
	}

	for _, f := range w.forms {
		t.Run(f.name+" without the CSRF token", func(t *testing.T) { refused(t, f, attempt(w.admin, "", f, nil)) })
		t.Run(f.name+" with another session's token", func(t *testing.T) { refused(t, f, attempt(w.admin, other, f, nil)) })
		t.Run(f.name+" from a cross-site origin", func(t *testing.T) { refused(t, f, attempt(w.admin, adminToken, f, crossSite)) })
		t.Run(f.name+" by a plain user", func(t *testing.T) { refused(t, f, attempt(w.alice, aliceToken, f, nil)) })
		if f.adminOnly {
			t.Run(f.name+" by an auditor", func(t *testing.T) { refused(t, f, attempt(w.audrey, audreyToken, f, nil)) })
		}
	}

	// A GET on a form's path is never the form.
	for _, f := range w.forms {
		if f.done == nil || strings.Contains(f.name, "create") {
			continue // the create paths answer GET with the list
		}
		t.Run("GET "+f.path, func(t *testing.T) {
			w.admin.get(f.path + "?" + f.form.Encode())
			if f.done(t) {
				t.Fatalf("GET %s took effect", f.path)
			}
		})
	}
	t.Run("GET /logout signs nobody out", func(t *testing.T) {
		w.admin.get("/logout")
		if resp, _ := w.admin.get("/admin"); resp.StatusCode != http.StatusOK {
			t.Fatalf("after GET /logout, /admin answered %d", resp.StatusCode)
		}
	})

	t.Run("session fixation", func(t *testing.T) {
		b := w.app.browser(t)
		beforeToken := b.csrf()
		before := w.app.sessionCookie(t, b)
		b.login("admin@example.com")
		afterToken := b.csrf()
		after := w.app.sessionCookie(t, b)
		if after == before || afterToken == beforeToken {
			t.Fatal("signing in kept the session cookie or its CSRF token")
		}
		planted := w.app.browser(t)
		u, _ := url.Parse(w.app.URL)
		planted.client.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: before, Path: "/"}})
		if resp, _ := planted.get("/admin"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("the cookie from before sign-in reaches /admin: %d", resp.StatusCode)
		}
	})

	for _, f := range w.forms {
		t.Run("control: "+f.name, func(t *testing.T) {
			resp := attempt(w.admin, adminToken, f, nil)
			if resp.StatusCode >= 400 || (f.done != nil && !f.done(t)) {
				t.Errorf("POST %s: status %d; the form did not take effect", f.path, resp.StatusCode)
			}
		})
	}
}

// consoleWorld is a console with an admin, a plain user (alice) and an
// auditor (audrey), each signed in, and something for every form to act on.
type consoleWorld struct {
	app                  *testApp
	admin, alice, audrey *browser
	forms                []consoleForm
}

// consoleForm is one state-changing console form. done reports whether
// posting it took effect; nil when its effect is the answer itself.
type consoleForm struct {
	name, path string
	form       url.Values
	adminOnly  bool // auditors may post the others
	done       func(t *testing.T) bool
}

func newConsoleWorld(t *testing.T) *consoleWorld {
	app := newTestApp(t)
	ctx := context.Background()
	app.user(t, "admin@example.com", true)
	alice := app.user(t, "alice@example.com", false)
	audrey := app.user(t, "audrey@example.com", false)
	if err := app.Store.SetAuditor(ctx, audrey.ID, true); err != nil {
		t.Fatal(err)
	}
	route := app.mcpRoute(t, "Target", "http://target.localhost:8080")
	policy := &models.Policy{Name: "target-policy", Source: goodPolicy}
	if err := app.Store.CreatePolicy(ctx, policy); err != nil {
		t.Fatal(err)
	}
	client := app.addClient(t, "target-client", "Target client", models.ClientSourceDCR)
	app.authorizeClient(t, client.ClientID, alice.ID)

	exists := func(err error) bool { return err == nil }
	settings := func(t *testing.T) models.Settings {
		st, err := app.Store.GetSettings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	forms := []consoleForm{
		{"create route", "/admin/routes", url.Values{"name": {"Evil"}, "from": {"http://evil.localhost:8080"}, "to": {"http://127.0.0.1:9/mcp"}, "kind": {"mcp_server"}}, true,
			func(*testing.T) bool { _, err := app.Store.GetRouteByName(ctx, "Evil"); return exists(err) }},
		{"delete route", fmt.Sprintf("/admin/routes/%d/delete", route.ID), url.Values{}, true,
			func(*testing.T) bool { _, err := app.Store.GetRoute(ctx, route.ID); return !exists(err) }},
		{"create policy", "/admin/policies", url.Values{"name": {"evil"}, "source": {goodPolicy}}, true,
			func(*testing.T) bool { _, err := app.Store.GetPolicyByName(ctx, "evil"); return exists(err) }},
		{"delete policy", fmt.Sprintf("/admin/policies/%d/delete", policy.ID), url.Values{}, true,
			func(*testing.T) bool { _, err := app.Store.GetPolicy(ctx, policy.ID); return !exists(err) }},
		{"create app", "/admin/apps", url.Values{"name": {"github"}, "client_id": {"Iv1.abc"}, "client_secret": {"s3cret"},
			"auth_url": {"https://github.com/login/oauth/authorize"}, "token_url": {"https://github.com/login/oauth/access_token"},
			"scopes": {"repo"}, "auth_style": {"params"}}, true,
			func(*testing.T) bool { _, err := app.Store.GetUpstreamAppByName(ctx, "github"); return exists(err) }},
		{"create service account", "/admin/service-accounts", url.Values{"name": {"ci"}, "user": {"admin@example.com"}, "expiry": {"30"}}, true,
			func(t *testing.T) bool {
				_, n, err := app.Store.ListServiceAccounts(ctx, models.ServiceAccountFilter{})
				if err != nil {
					t.Fatal(err)
				}
				return n > 0
			}},
		{"user role change", fmt.Sprintf("/admin/users/%d/grant-admin", alice.ID), url.Values{}, true,
			func(t *testing.T) bool { u, err := app.Store.GetUser(ctx, alice.ID); return err == nil && u.IsAdmin }},
		{"audit settings", "/admin/settings/audit", url.Values{"fail_open": {"true"}}, true,
			func(t *testing.T) bool { return settings(t).AuditFailOpen }},
		{"client registration settings", "/admin/clients/settings", url.Values{"metadata_documents_enabled": {"true"}}, true,
			func(t *testing.T) bool { return !settings(t).RegistrationEnabled }},
		{"revoke client", fmt.Sprintf("/admin/clients/%d/revoke-tokens", client.ID), url.Values{}, true,
			func(t *testing.T) bool { return app.activeTokens(t, client.ClientID) < 2 }},
		{"audit export", "/admin/audit/export", url.Values{"format": {"csv"}, "range": {"1h"}}, false, nil},
	}
	w := &consoleWorld{app: app, forms: forms, admin: app.browser(t), alice: app.browser(t), audrey: app.browser(t)}
	w.admin.login("admin@example.com")
	w.alice.login("alice@example.com")
	w.audrey.login("audrey@example.com")
	return w
}
