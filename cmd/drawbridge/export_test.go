package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// everyKind is a file with something of every sort: an app with every
// field, policies inline and as text (comments and a literal ${ in
// both), and routes of each kind.
const everyKind = `upstream_oauth_apps:
  - name: github
    preset: github
    client_id: Iv1.abc
    client_secret: ${GH_SECRET}
    auth_url: https://github.com/login/oauth/authorize
    token_url: https://github.com/login/oauth/access_token
    revocation_url: https://api.github.com/applications/x/token
    scopes: [read:user, repo]
    auth_style: params
    extra_params: {allow_signup: "false", prompt: consent}
    pkce: true
policies:
  - name: company-only
    description: "Company people: $${not a variable}."
    # The company's people, and only them.
    allow:
      and:
        - domain: {is: company.com}  # the one domain
  - name: no-admin
    source: |
      # Nobody calls admin tools.
      deny:
        or:
          - mcp_tool: {starts_with: admin_}
          - mcp_tool: {matches: "^drop_$${x}"}
routes:
  - name: GitHub
    description: GitHub as you.
    from: http://github.localhost:8080
    to: http://127.0.0.1:9001/mcp
    mcp: {server: {upstream_oauth_app: github}}
    policies: [no-admin, company-only]
    timeout_seconds: 30
    max_request_bytes: 4194304
  - name: Bare
    from: http://bare.localhost:8080/mcp
    to: http://127.0.0.1:9002/mcp
    mcp: {server: {}}
    policies: [company-only]
  - name: Chat
    from: http://chat.localhost:8080
    to: http://127.0.0.1:3000
    mcp: {client: {}, pass_upstream_access_token: true}
    policies: [company-only]
  - name: wiki
    from: http://wiki.localhost:8080
    to: http://127.0.0.1:8000
    policies: [company-only]
    enabled: false
`

func TestExportRoundTrip(t *testing.T) {
	const secret = "gh-secret-never-exported"
	tmp := t.TempDir()
	first, second := filepath.Join(tmp, "first"), filepath.Join(tmp, "second")
	file := writeFile(t, "drawbridge.yaml", everyKind)
	if _, _, err := runWithEnv(t, []string{"GH_SECRET=" + secret}, "apply", "-f", file, "--data-dir", first); err != nil {
		t.Fatal(err)
	}
	exported, stderr, err := runWithEnv(t, nil, "export", "--data-dir", first, "--log-level", "error")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(exported+stderr, secret) {
		t.Fatalf("the export holds the secret:\n%s", exported)
	}
	for _, want := range []string{
		"client_secret: ${UPSTREAM_GITHUB_CLIENT_SECRET}\n",
		"description: 'Company people: $${not a variable}.'\n",
		"    source: |\n      # Nobody calls admin tools.\n",
		"# The company's people, and only them.\n",
		"- domain: {is: company.com} # the one domain\n",
		"{matches: \"^drop_$${x}\"}",
		"upstream_oauth_app: github\n",
		"mcp:\n      client: {}\n      pass_upstream_access_token: true\n",
		"policies: [company-only, no-admin]\n",
		"enabled: false\n",
	} {
		if !strings.Contains(exported, want) {
			t.Errorf("export lacks %q:\n%s", want, exported)
		}
	}
	if !strings.Contains(stderr, "set: UPSTREAM_GITHUB_CLIENT_SECRET") {
		t.Errorf("stderr does not name the variable to set: %q", stderr)
	}

	// The export, applied to an empty database, exports the same bytes.
	again := writeFile(t, "export.yaml", exported)
	env := []string{"UPSTREAM_GITHUB_CLIENT_SECRET=" + secret}
	if _, _, err := runWithEnv(t, env, "apply", "-f", again, "--data-dir", second); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "out.yaml")
	if _, _, err := runWithEnv(t, nil, "export", "--data-dir", second, "-o", out); err != nil {
		t.Fatal(err)
	}
	reexported, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(reexported) != exported {
		t.Errorf("round trip differs:\n--- first\n%s\n--- second\n%s", exported, reexported)
	}
	if info, err := os.Stat(out); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("-o file mode = %v, %v; want 0600", info.Mode(), err)
	}
	s := openData(t, second)
	if app, err := s.GetUpstreamAppByName(t.Context(), "github"); err != nil {
		t.Fatal(err)
	} else if got, err := s.UpstreamAppSecret(t.Context(), app.ID); err != nil || got != secret {
		t.Errorf("secret after the round trip = %q, %v", got, err)
	}

	// And applied to the database it came from, it changes nothing.
	plan, _, err := runWithEnv(t, env, "apply", "-f", again, "--data-dir", first)
	if err != nil || !strings.HasSuffix(plan, "Applied: 0 created, 0 updated, 0 deleted.\n") {
		t.Errorf("re-apply: %q, %v", plan, err)
	}
}

func TestExportOfAnEmptyDatabase(t *testing.T) {
	out, stderr, err := runWithEnv(t, nil, "export", "--data-dir", filepath.Join(t.TempDir(), "data"), "--log-level", "error")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out, "upstream_oauth_apps: []\npolicies: []\nroutes: []\n") || stderr != "" {
		t.Errorf("export printed %q, %q", out, stderr)
	}
}

func TestSecretVar(t *testing.T) {
	if got := secretVar("my-app", nil); got != "UPSTREAM_MY_APP_CLIENT_SECRET" {
		t.Errorf("secretVar(my-app) = %q", got)
	}
	if got := secretVar("my_app", []string{"UPSTREAM_MY_APP_CLIENT_SECRET"}); got != "UPSTREAM_MY_APP_2_CLIENT_SECRET" {
		t.Errorf("a clash gave %q", got)
	}
}
