package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/drawbridge/drawbridge/models"
)

// xssPayload breaks out of an attribute and of text alike.
const xssPayload = `"><img src=x onerror=alert(1)><script>alert(2)</script>'`

// Bypass catalogue, stored XSS and the Content-Security-Policy, checked
// in the server-rendered HTML (cmd/drawbridge/xss_test.go runs the
// browser-level check). A route's name and description, a policy's
// description and a client's client_name, which admins and, for
// client_name, anyone registering a client choose, hold xssPayload. Each
// page that shows them fails if the parsed page holds an element or an
// event handler the payload injected, if the payload is not on the page
// at all (so the case cannot pass by showing nothing), or if the page's
// Content-Security-Policy would let an injected inline script run.
func TestBypassConsoleXSS(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	app.user(t, "admin@example.com", true)
	app.user(t, "alice@example.com", false)
	policy := &models.Policy{Name: "everyone", Description: xssPayload, Source: "allow:\n  and:\n    - authenticated_user: true\n"}
	if err := app.Store.CreatePolicy(ctx, policy); err != nil {
		t.Fatal(err)
	}
	route := &models.Route{Name: xssPayload, Description: xssPayload, From: "http://xss.localhost:8080", To: "http://127.0.0.1:9/mcp",
		Kind: models.KindMCPServer, Enabled: true}
	if err := app.Store.CreateRoute(ctx, route, []uint{policy.ID}); err != nil {
		t.Fatal(err)
	}
	app.waitForGateway(t)
	reg := app.register(t, `{"redirect_uris":["http://127.0.0.1:33418/callback"],"token_endpoint_auth_method":"none","client_name":`+
		fmt.Sprintf("%q", xssPayload)+`}`)
	if reg.ClientID == "" {
		t.Fatalf("registration: %+v", reg)
	}
	stored, err := app.Store.GetOAuthClient(ctx, reg.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	client := testClient{ID: reg.ClientID, Method: models.AuthMethodNone, Redirect: "http://127.0.0.1:33418/callback"}

	admin, alice := app.browser(t), app.browser(t)
	admin.login("admin@example.com")
	alice.login("alice@example.com")
	consent := "/oauth/authorize?" + authorizeQuery(client, newPKCE(), route.From).Encode()
	pages := []struct {
		name string
		b    *browser
		path string
	}{
		{"routes list", admin, "/admin/routes"},
		{"route edit page", admin, fmt.Sprintf("/admin/routes/%d", route.ID)},
		{"policies list", admin, "/admin/policies"},
		{"policy edit page", admin, fmt.Sprintf("/admin/policies/%d", policy.ID)},
		{"clients list", admin, "/admin/clients"},
		{"client page", admin, fmt.Sprintf("/admin/clients/%d", stored.ID)},
		{"portal", alice, "/"},
		{"consent page", alice, consent},
	}
	for _, p := range pages {
		t.Run("stored XSS: "+p.name, func(t *testing.T) {
			resp, body := p.b.get(p.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d", p.path, resp.StatusCode)
			}
			wantNoInjection(t, body, xssPayload)
			wantStrictCSP(t, resp)
		})
	}
	// After consent, the user's list of apps that act for them.
	alice.consent(authorizeQuery(client, newPKCE(), route.From))
	t.Run("stored XSS: authorized apps", func(t *testing.T) {
		resp, body := alice.get("/authorizations")
		wantNoInjection(t, body, xssPayload)
		wantStrictCSP(t, resp)
	})
	t.Run("policy name with markup refused", func(t *testing.T) {
		resp, body := admin.post("/admin/policies", url.Values{"name": {xssPayload}, "source": {policy.Source}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("status %d, want 422", resp.StatusCode)
		}
		if d := doc(t, body); d.Find("[onerror]").Length() != 0 || d.Find(`img[src="x"]`).Length() != 0 {
			t.Error("the form's error page injects the name it refused")
		}
		if _, err := app.Store.GetPolicyByName(ctx, xssPayload); err == nil {
			t.Error("a policy named with markup was saved")
		}
	})
	t.Run("CSP on the sign-in page", func(t *testing.T) {
		resp, body := app.browser(t).get("/login")
		wantNoInjection(t, body, "")
		wantStrictCSP(t, resp)
	})
}

// wantNoInjection fails when body, parsed as a browser would, holds an
// event handler attribute, the payload's image, or an inline script; or
// when it does not show stored (unless ""), as text or as an attribute's
// value.
func wantNoInjection(t *testing.T, body, stored string) {
	t.Helper()
	d := doc(t, body)
	shown := stored == "" || strings.Contains(d.Text(), stored)
	d.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			if strings.HasPrefix(strings.ToLower(a.Key), "on") {
				t.Errorf("<%s %s=%q>: an event handler on the page", goquery.NodeName(s), a.Key, a.Val)
			}
			shown = shown || strings.Contains(a.Val, stored)
		}
	})
	if n := d.Find(`img[src="x"]`).Length(); n != 0 {
		t.Errorf("%d injected <img> elements", n)
	}
	d.Find("script").Each(func(_ int, s *goquery.Selection) {
		if _, ok := s.Attr("src"); !ok {
			t.Errorf("an inline script: %.100s", s.Text())
		}
	})
	if !shown {
		t.Errorf("the page does not show the stored value, escaped or not: the case proves nothing")
	}
}

// wantStrictCSP fails unless resp's Content-Security-Policy allows only
// this origin's script files: no inline script, no eval, no plugins, no
// <base> rewriting, no framing.
func wantStrictCSP(t *testing.T, resp *http.Response) {
	t.Helper()
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %s", csp, want)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "unsafe-hashes", "*"} {
		if strings.Contains(csp, bad) {
			t.Errorf("Content-Security-Policy %q allows %s", csp, bad)
		}
	}
}
