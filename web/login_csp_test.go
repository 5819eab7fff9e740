package web

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/drawbridge/drawbridge/models"
)

// TestSignInFormMayEndAtTheRouteHost checks the sign-in page's form-action
// when the sign-in resumes a route host's (/login/route): a browser holds
// the redirects after a form submission to form-action, so the page must
// allow that route's origin, and only for a route that signs browsers in
// (mcp_client, http) and is enabled.
func TestSignInFormMayEndAtTheRouteHost(t *testing.T) {
	a := newTestApp(t)
	ctx := context.Background()
	route := func(name, from string, kind string, enabled bool) uint {
		r := &models.Route{Name: name, From: from, To: "http://127.0.0.1:9/", Kind: kind, Enabled: enabled}
		if err := a.Store.CreateRoute(ctx, r, nil); err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	cases := []struct {
		name   string
		route  uint
		origin string
		want   bool
	}{
		{"mcp_client route", route("Chat", "http://chat.localhost:8080", models.KindMCPClient, true), "http://chat.localhost:8080", true},
		{"http route", route("Wiki", "http://wiki.localhost:8080", models.KindHTTP, true), "http://wiki.localhost:8080", true},
		{"mcp_server route", route("Tools", "http://tools.localhost:8080", models.KindMCPServer, true), "http://tools.localhost:8080", false},
		{"disabled route", route("Old", "http://old.localhost:8080", models.KindMCPClient, false), "http://old.localhost:8080", false},
		{"no such route", 9999, "http://chat.localhost:8080", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			next := fmt.Sprintf("/login/route?route=%d&state=x", tc.route)
			resp, _ := a.browser(t).get("/login?next=" + url.QueryEscape(next))
			csp := resp.Header.Get("Content-Security-Policy")
			formAction := ""
			for _, d := range strings.Split(csp, ";") {
				if f, ok := strings.CutPrefix(strings.TrimSpace(d), "form-action "); ok {
					formAction = f
				}
			}
			if !strings.Contains(formAction, "'self'") {
				t.Fatalf("form-action %q lacks 'self' (CSP %q)", formAction, csp)
			}
			if got := strings.Contains(formAction, tc.origin); got != tc.want {
				t.Errorf("form-action %q allows %s: %v, want %v", formAction, tc.origin, got, tc.want)
			}
		})
	}
}
