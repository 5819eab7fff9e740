package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigPrecedence(t *testing.T) {
	file := writeFile(t, "drawbridge.yaml", `
server:
  address: ":9000"
  console_url: "http://file.localhost:9000"
  data_dir: /from/file
log: {level: warn}
admins: [root@example.com]
`)
	env := environment{"DRAWBRIDGE_CONSOLE_URL=http://env.localhost:9000", "DRAWBRIDGE_LOG_LEVEL=debug", "HOME=/root"}
	cfg, err := loadConfig(configFlags{file: file, logLevel: "error"}, env)
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string][2]string{
		"address (file)":       {cfg.Server.Address, ":9000"},
		"console_url (env)":    {cfg.Server.ConsoleURL, "http://env.localhost:9000"},
		"data_dir (file)":      {cfg.Server.DataDir, "/from/file"},
		"log.level (flag)":     {cfg.Log.Level, "error"},
		"log.format (default)": {cfg.Log.Format, "text"},
		"first admin":          {cfg.FirstAdminEmail(), "root@example.com"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
}

func TestConfigErrorsNameKeyAndLine(t *testing.T) {
	file := writeFile(t, "bad.yaml", `server:
  address: "nonsense"
  console_url: "ftp://x"
identity:
  oidc:
    - name: Corp
      issuer: "not a url"
log:
  level: loud
audit:
  stream: /no/such/dir/audit.jsonl
`)
	_, err := loadConfig(configFlags{file: file}, nil)
	if err == nil {
		t.Fatal("a broken config loaded")
	}
	for _, want := range []string{
		"bad.yaml:2: server.address",
		"bad.yaml:3: server.console_url",
		"bad.yaml:6: identity.oidc[0].name",
		"bad.yaml:7: identity.oidc[0].issuer",
		"bad.yaml:6: identity.oidc[0].client_id: is required",
		"bad.yaml:9: log.level",
		"bad.yaml:11: audit.stream",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestConfigUnknownKeyIsAnError(t *testing.T) {
	file := writeFile(t, "typo.yaml", "server:\n  console_ur: http://x\n")
	_, err := loadConfig(configFlags{file: file}, nil)
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "console_ur") {
		t.Fatalf("unknown key: got %v, want an error naming it and its line", err)
	}
}

func TestConfigUnknownEnvIsAnError(t *testing.T) {
	_, err := loadConfig(configFlags{}, environment{"DRAWBRIDGE_CONSOL_URL=http://x", "DRAWBRIDGE_DEMO=maybe"})
	if err == nil || !strings.Contains(err.Error(), "DRAWBRIDGE_CONSOL_URL: unknown variable") ||
		!strings.Contains(err.Error(), "DRAWBRIDGE_DEMO: must be true or false") {
		t.Fatalf("got %v", err)
	}
}

// The portal's client snippets export DRAWBRIDGE_SERVICE_ACCOUNT_JWT in
// the user's shell: a drawbridge command run in that shell must not
// take it for a misspelt setting.
func TestConfigIgnoresTheSnippetsTokenVariable(t *testing.T) {
	if _, err := loadConfig(configFlags{}, environment{"DRAWBRIDGE_SERVICE_ACCOUNT_JWT=eyJ.x.y"}); err != nil {
		t.Fatalf("got %v, want no error", err)
	}
}

func TestConfigMissingFile(t *testing.T) {
	_, err := loadConfig(configFlags{file: filepath.Join(t.TempDir(), "absent.yaml")}, nil)
	if err == nil || !strings.Contains(err.Error(), "absent.yaml") {
		t.Fatalf("got %v", err)
	}
}

func TestDemoFrom(t *testing.T) {
	for console, want := range map[string]string{
		"http://localhost:8080":          "http://127.0.0.1:8080",
		"http://127.0.0.1:4321":          "http://localhost:4321",
		"http://[::1]:4321":              "http://localhost:4321",
		"http://10.0.0.5:8080":           "http://demo.localhost:8080",
		"https://drawbridge.example.com": "https://demo.drawbridge.example.com",
	} {
		if got := demoFrom(console); got != want {
			t.Errorf("demoFrom(%q) = %q, want %q", console, got, want)
		}
	}
}
