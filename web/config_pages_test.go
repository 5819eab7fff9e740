package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drawbridge/drawbridge/models"
)

// adminBrowser is a signed-in admin on a fresh console.
func adminBrowser(t *testing.T) (*testApp, *browser) {
	t.Helper()
	app := newTestApp(t)
	app.user(t, "admin@example.com", true)
	b := app.browser(t)
	b.login("admin@example.com")
	return app, b
}

const goodPolicy = "allow:\n  and:\n    - authenticated_user: true\ndeny:\n  or:\n    - mcp_tool: {starts_with: admin_}\n"

func TestPolicyEditorShowsErrorsAtTheirLines(t *testing.T) {
	app, b := adminBrowser(t)
	bad := "allow:\n  and:\n    - emial: {is: a@b.c}\n    - mcp_tool: {frobnicate: x}\ndeny:\n  or:\n    - source_ip: not-a-cidr\n"
	resp, body := b.post("/admin/policies", url.Values{"name": {"eng"}, "source": {bad}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", resp.StatusCode)
	}
	errs := doc(t, body).Find(`[data-testid="source-error"]`)
	if errs.Length() != 3 {
		t.Fatalf("%d source errors shown, want 3:\n%s", errs.Length(), errs.Text())
	}
	var lines []string
	errs.Each(func(_ int, s *goquery.Selection) { l, _ := s.Attr("data-line"); lines = append(lines, l) })
	if strings.Join(lines, ",") != "3,4,7" {
		t.Errorf("errors at lines %v, want 3,4,7", lines)
	}
	if !strings.Contains(errs.Text(), "did you mean") {
		t.Errorf("no hint for the misspelt criterion: %s", errs.Text())
	}
	if got := doc(t, body).Find(`textarea[name="source"]`).Text(); got != bad {
		t.Errorf("the editor lost the source: %q", got)
	}
	if _, err := app.Store.GetPolicyByName(context.Background(), "eng"); err == nil {
		t.Fatal("a policy that does not compile was saved")
	}

	resp, _ = b.post("/admin/policies", url.Values{"name": {"eng"}, "source": {goodPolicy}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a good policy: status %d", resp.StatusCode)
	}
}

func TestRouteFormValidation(t *testing.T) {
	app, b := adminBrowser(t)
	console, _ := url.Parse(app.URL)
	cases := []struct {
		name   string
		form   url.Values
		fields []string
	}{
		{"everything wrong", url.Values{"name": {""}, "from": {"ftp://x?y=1"}, "to": {"not a url"}, "kind": {"teleporter"}, "timeout_seconds": {"soon"}},
			[]string{"name", "from", "to", "kind", "timeout_seconds"}},
		{"the console's own host", url.Values{"name": {"Sneaky"}, "from": {"http://" + console.Host}, "to": {"http://127.0.0.1:9/mcp"}, "kind": {"mcp_server"}},
			[]string{"from"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := b.post("/admin/routes", tc.form)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", resp.StatusCode)
			}
			d := doc(t, body)
			for _, f := range tc.fields {
				if d.Find(`[data-testid="field-error-`+f+`"]`).Length() == 0 {
					t.Errorf("no error shown for %s", f)
				}
			}
		})
	}
	if _, n, _ := app.Store.ListRoutes(context.Background(), models.RouteFilter{}); n != 0 {
		t.Errorf("%d routes saved from bad forms", n)
	}
}

func TestRouteLifecycleAndHistory(t *testing.T) {
	app, b := adminBrowser(t)
	ctx := context.Background()
	b.post("/admin/policies", url.Values{"name": {"eng"}, "source": {goodPolicy}})
	p, err := app.Store.GetPolicyByName(ctx, "eng")
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"name": {"GitHub"}, "from": {"HTTP://GitHub.localhost:8080/"}, "to": {"http://127.0.0.1:9001/mcp"},
		"kind": {"mcp_server"}, "policies": {fmt.Sprint(p.ID)}, "enabled": {"true"}}
	resp, body := b.post("/admin/routes", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: status %d %.300s", resp.StatusCode, body)
	}
	r, err := app.Store.GetRouteByName(ctx, "GitHub")
	if err != nil {
		t.Fatal(err)
	}
	if r.From != "http://github.localhost:8080" || len(r.Policies) != 1 {
		t.Errorf("saved route %+v", r)
	}

	_, body = b.get("/admin/routes")
	if row := doc(t, body).Find(`[data-testid="route-row"]`); row.Length() != 1 || !strings.Contains(row.Text(), "eng") {
		t.Errorf("routes list: %q", row.Text())
	}
	// A policy in use cannot be deleted.
	b.post(fmt.Sprintf("/admin/policies/%d/delete", p.ID), url.Values{})
	if _, err := app.Store.GetPolicy(ctx, p.ID); err != nil {
		t.Error("a policy in use was deleted")
	}

	form.Set("to", "http://127.0.0.1:9002/mcp")
	b.post(fmt.Sprintf("/admin/routes/%d", r.ID), form)
	resp, _ = b.post(fmt.Sprintf("/admin/routes/%d/delete", r.ID), url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if _, err := app.Store.GetRoute(ctx, r.ID); err == nil {
		t.Error("route still there after delete")
	}

	_, body = b.get("/admin/history?resource=route")
	rows := doc(t, body).Find(`[data-testid="change-row"]`)
	if rows.Length() != 3 || !strings.Contains(rows.Text(), "admin@example.com") {
		t.Fatalf("history shows %d route changes: %s", rows.Length(), rows.Text())
	}
	changes, _, _ := app.Store.ListChanges(ctx, models.ChangeFilter{Resource: "route"})
	var update uint
	for _, c := range changes {
		if c.Action == "update" {
			update = c.ID
		}
	}
	_, body = b.get(fmt.Sprintf("/admin/history/%d", update))
	d := doc(t, body)
	if !strings.Contains(d.Find(`[data-testid="diff-line"][data-op="-"]`).Text(), "9001") ||
		!strings.Contains(d.Find(`[data-testid="diff-line"][data-op="+"]`).Text(), "9002") {
		t.Errorf("the diff does not show the changed upstream")
	}
}

func TestUpstreamAppSecretIsWriteOnly(t *testing.T) {
	app, b := adminBrowser(t)
	ctx := context.Background()
	_, body := b.get("/admin/apps/new?preset=github")
	if v, _ := doc(t, body).Find(`input[name="auth_url"]`).Attr("value"); v != "https://github.com/login/oauth/authorize" {
		t.Errorf("preset did not fill the authorization URL: %q", v)
	}
	const secret = "gh-secret-4b1d7c"
	form := url.Values{"name": {"github"}, "preset": {"github"}, "client_id": {"Iv1.abc"}, "client_secret": {secret},
		"auth_url": {"https://github.com/login/oauth/authorize"}, "token_url": {"https://github.com/login/oauth/access_token"},
		"scopes": {"read:user repo"}, "auth_style": {"params"}}
	if resp, body := b.post("/admin/apps", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %.300s", resp.StatusCode, body)
	}
	a, err := app.Store.GetUpstreamAppByName(ctx, "github")
	if err != nil || !a.HasSecret {
		t.Fatalf("app %+v, %v", a, err)
	}
	for _, path := range []string{"/admin/apps", fmt.Sprintf("/admin/apps/%d", a.ID), "/admin/history", "/admin/history?resource=upstream_app"} {
		if _, body := b.get(path); strings.Contains(body, secret) {
			t.Errorf("%s shows the client secret", path)
		}
	}
	form.Set("client_secret", "")
	form.Set("scopes", "read:user")
	b.post(fmt.Sprintf("/admin/apps/%d", a.ID), form)
	if got, err := app.Store.UpstreamAppSecret(ctx, a.ID); err != nil || got != secret {
		t.Errorf("an edit without a secret changed it: %q %v", got, err)
	}
}

func TestSimulatorExplainsTheDecision(t *testing.T) {
	app, b := adminBrowser(t)
	ctx := context.Background()
	b.post("/admin/policies", url.Values{"name": {"demo"}, "source": {goodPolicy}})
	p, _ := app.Store.GetPolicyByName(ctx, "demo")
	b.post("/admin/routes", url.Values{"name": {"Demo"}, "from": {"http://demo.localhost:8080"}, "to": {"http://127.0.0.1:9001/mcp"},
		"kind": {"mcp_server"}, "policies": {fmt.Sprint(p.ID)}, "enabled": {"true"}})
	r, err := app.Store.GetRouteByName(ctx, "Demo")
	if err != nil {
		t.Fatal(err)
	}
	for tool, want := range map[string]string{"admin_reset": "Denied", "echo": "Allowed"} {
		resp, body := b.post("/admin/policies/simulate", url.Values{"email": {"bob@example.com"}, "route": {fmt.Sprint(r.ID)},
			"http_method": {"POST"}, "mcp_method": {"tools/call"}, "tool": {tool}, "arguments": {`{"text":"hi"}`}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", tool, resp.StatusCode)
		}
		res := doc(t, body).Find(`[data-testid="sim-result"]`).Text()
		if !strings.Contains(res, want) {
			t.Errorf("%s: result %q, want %s", tool, res, want)
		}
	}
	_, body := b.post("/admin/policies/simulate", url.Values{"email": {"bob@example.com"}, "route": {fmt.Sprint(r.ID)},
		"mcp_method": {"tools/call"}, "tool": {"admin_reset"}})
	if !strings.Contains(doc(t, body).Find(`[data-testid="sim-result"]`).Text(), "admin_reset") {
		t.Error("the deny reason does not name the value that matched")
	}
	if resp, _ := b.post("/admin/policies/simulate", url.Values{"route": {"0"}, "mcp_method": {"tools/call"}, "arguments": {"[1"}}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad simulator input: status %d, want 422", resp.StatusCode)
	}
}

func TestRouteTestConnection(t *testing.T) {
	app, b := adminBrowser(t)
	server := mcp.NewServer(&mcp.Implementation{Name: "upstream-under-test", Version: "1.2.3"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "ping", Description: "Answers pong."}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, struct{}, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "pong"}}}, struct{}{}, nil
	})
	upstream := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true}))
	t.Cleanup(upstream.Close)

	ctx := context.Background()
	for name, to := range map[string]string{"Good": upstream.URL, "Down": "http://127.0.0.1:1/mcp"} {
		b.post("/admin/routes", url.Values{"name": {name}, "from": {"http://" + strings.ToLower(name) + ".localhost:8080"}, "to": {to}, "kind": {"mcp_server"}})
		r, err := app.Store.GetRouteByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		_, body := b.post(fmt.Sprintf("/admin/routes/%d/test", r.ID), url.Values{})
		res := doc(t, body).Find(`[data-testid="test-result"]`).Text()
		switch name {
		case "Good":
			if !strings.Contains(res, "upstream-under-test") || !strings.Contains(res, "ping") {
				t.Errorf("good upstream: %q", res)
			}
		case "Down":
			if !strings.Contains(strings.ToLower(res), "refused") && !strings.Contains(strings.ToLower(res), "connect") {
				t.Errorf("unreachable upstream: %q", res)
			}
		}
	}
}
