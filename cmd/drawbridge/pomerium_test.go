package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/drawbridge/drawbridge/models"
)

func TestApplyPomeriumConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	fixture := filepath.Join("testdata", "pomerium-mcp.yaml")
	out, stderr, err := runWithEnv(t, nil, "apply", "-f", fixture, "--data-dir", dir, "--log-level", "error")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out, "Applied: 9 created, 0 updated, 0 deleted.\n") {
		t.Errorf("apply printed:\n%s", out)
	}
	for _, want := range []string{
		fixture + ":3:1: Pomerium's `authenticate_service_url` is ignored",
		fixture + ":5:1: Pomerium's `runtime_flags` is ignored",
		fixture + ":49:5: route \"mcp-app-demo.localhost.pomerium.io\": Pomerium's `allow_websockets` is ignored",
		fixture + ":59:5: route \"wiki.localhost.pomerium.io\": Pomerium's `preserve_host_header` is ignored",
	} {
		if !strings.Contains(stderr, "warning: "+want) {
			t.Errorf("warnings lack %q:\n%s", want, stderr)
		}
	}

	s := openData(t, dir)
	ctx := t.Context()
	gh, err := s.GetRouteByName(ctx, "GitHub")
	if err != nil {
		t.Fatal(err)
	}
	if gh.Kind != models.KindMCPServer || gh.From != "https://github.localhost.pomerium.io" || gh.To != "https://api.githubcopilot.com/mcp/" ||
		!gh.Enabled || gh.UpstreamApp == nil || gh.UpstreamApp.Name != "github-oauth" || !slices.Equal(names(gh.Policies), []string{"github-policy"}) {
		t.Errorf("GitHub = %+v", gh)
	}
	app, err := s.GetUpstreamAppByName(ctx, "github-oauth")
	if err != nil {
		t.Fatal(err)
	}
	if app.ClientID != "Iv1.0123456789abcdef" || app.AuthURL != "https://github.com/login/oauth/authorize" ||
		app.TokenURL != "https://github.com/login/oauth/access_token" || app.AuthStyle != models.AuthStyleAuto ||
		!slices.Equal(app.Scopes, []string{"read:user", "user:email", "repo"}) {
		t.Errorf("app = %+v", app)
	}
	if secret, err := s.UpstreamAppSecret(ctx, app.ID); err != nil || secret != "3f1c9d0e7a2b4c6d8e0f1a2b3c4d5e6f7a8b9c0d" {
		t.Errorf("secret = %q, %v", secret, err)
	}
	db, err := s.GetRouteByName(ctx, "DB")
	if err != nil || db.Kind != models.KindMCPServer || db.UpstreamApp != nil || !slices.Equal(names(db.Policies), []string{"db-policy"}) {
		t.Errorf("DB = %+v, %v", db, err)
	}
	p, err := s.GetPolicyByName(ctx, "db-policy")
	if err != nil || !strings.Contains(p.Source, "mcp_tool:\n        in: [\"drop_table\", \"delete_rows\"]") ||
		!strings.Contains(p.Source, "domain:\n        is: company.com") {
		t.Errorf("db-policy = %+v, %v", p, err)
	}
	chat, err := s.GetRouteByName(ctx, "mcp-app-demo.localhost.pomerium.io")
	if err != nil || chat.Kind != models.KindMCPClient || !chat.PassUpstreamToken ||
		!slices.Equal(names(chat.Policies), []string{"mcp-app-demo-localhost-pomerium-io-any-user"}) {
		t.Errorf("chat app = %+v, %v", chat, err)
	}
	anyUser, err := s.GetPolicyByName(ctx, "mcp-app-demo-localhost-pomerium-io-any-user")
	if err != nil || !strings.Contains(anyUser.Source, "authenticated_user: true") {
		t.Errorf("any-user policy = %+v, %v", anyUser, err)
	}
	wiki, err := s.GetRouteByName(ctx, "wiki.localhost.pomerium.io")
	if err != nil || wiki.Kind != models.KindHTTP || wiki.To != "http://127.0.0.1:8000" || wiki.TimeoutSeconds != 30 ||
		!slices.Equal(names(wiki.Policies), []string{"wiki-localhost-pomerium-io-policy"}) {
		t.Errorf("wiki = %+v, %v", wiki, err)
	}

	// The same file again is the same configuration: the derived names
	// are stable.
	out, _, err = runWithEnv(t, nil, "apply", "-f", fixture, "--data-dir", dir, "--dry-run")
	if err != nil || !strings.HasSuffix(out, "0 to create, 0 to update, 0 to delete\n") {
		t.Errorf("second apply: %q, %v", out, err)
	}
}

func TestApplyPomeriumRefusesWhatChangesAccess(t *testing.T) {
	file := writeFile(t, "pomerium.yaml", `client_ca_file: /etc/ca.pem
routes:
  - from: https://open.localhost.pomerium.io
    to: http://127.0.0.1:1
    allow_public_unauthenticated_access: true
  - from: https://users.localhost.pomerium.io
    to: http://127.0.0.1:2
    allowed_users: [ada@company.com]
    prefix: /admin
  - from: https://lb.localhost.pomerium.io
    to: [http://127.0.0.1:3, http://127.0.0.1:4]
    allow_any_authenticated_user: true
`)
	_, _, err := runWithEnv(t, nil, "apply", "-f", file, "--data-dir", filepath.Join(t.TempDir(), "data"), "--dry-run")
	if err == nil {
		t.Fatal("refused settings applied")
	}
	for _, want := range []string{
		file + ":1:1: Pomerium's `client_ca_file` is not supported",
		file + ":5:5: route \"open.localhost.pomerium.io\": Pomerium's `allow_public_unauthenticated_access` is not supported",
		file + ":8:5: route \"users.localhost.pomerium.io\": Pomerium's `allowed_users` is not supported: write it as a policy",
		file + ":9:5: route \"users.localhost.pomerium.io\": Pomerium's `prefix` is not supported: put the path prefix in from",
		file + ":11:9: route \"lb.localhost.pomerium.io\": to lists 2 upstream URLs",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestSlugifyAndNames(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"GitHub", 64, "github"},
		{"My MCP Server (prod)!", 64, "my-mcp-server-prod"},
		{"wiki.localhost:8080/x", 64, "wiki-localhost-8080-x"},
		{"---", 64, "route"},
		{"abcd efgh", 5, "abcd"},
	} {
		if got := slugify(c.in, c.max); got != c.want {
			t.Errorf("slugify(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
	if got := nameFromURL("https://Wiki.Example.com:8443/docs/"); got != "wiki.example.com:8443/docs" {
		t.Errorf("nameFromURL = %q", got)
	}
}

func names(policies []models.Policy) []string {
	out := make([]string, len(policies))
	for i, p := range policies {
		out[i] = p.Name
	}
	return out
}
