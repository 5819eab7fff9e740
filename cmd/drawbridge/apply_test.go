package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge/drawbridge/models"
)

// runWithEnv runs the program in-process with environ, as runCLI does
// with none, and returns its stdout and stderr apart.
func runWithEnv(t *testing.T, environ []string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	err = run(ctx, append([]string{"drawbridge"}, args...), environ, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

// openData opens the store of data directory dir, closed when t ends.
func openData(t *testing.T, dir string) *models.Store {
	t.Helper()
	b, err := openBackend(context.Background(), configFlags{dataDir: dir, logLevel: "error"}, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b.store
}

// halfValid is a file whose every object but a few is fine; the line of
// each problem is noted beside it.
const halfValid = `upstream_oauth_apps:
  - name: github
    client_id: abc
    client_secret: s3cret
    auth_url: https://github.com/login/oauth/authorize
    token_url: http://github.com/login/oauth/access_token  # line 6: not https
policies:
  - name: company-only
    allow:
      and:
        - domain: {is: company.com}
        - emial: {is: x}                                   # line 12
  - name: text
    source: |
      # a comment on line 15
      deny:
        or:
          - mcp_tool: {frobnicate: x}                      # line 18
  - name: fine
    allow: {and: [{accept: true}]}
routes:
  - name: GitHub
    from: "http://github.localhost:8080"
    to: "http://127.0.0.1:9001/mcp"
    mcp: {server: {upstream_oauth_app: github}}
    policies: [company-only, missing]                      # line 26
  - name: Chat
    from: "ftp://chat"                                     # line 28
    to: [http://a, http://b]                               # line 29
    mcp: {client: {}}
    policies: [fine]
  - name: Ok
    from: http://ok.localhost
    to: http://127.0.0.1:1
    policies: [fine]
    colour: blue                                           # line 36
`

func TestApplyReportsEveryProblemAndWritesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	file := writeFile(t, "half.yaml", halfValid)
	_, _, err := runWithEnv(t, nil, "apply", "-f", file, "--data-dir", dir)
	if err == nil {
		t.Fatal("a half-valid file applied")
	}
	for _, want := range []string{
		file + ":6:5: upstream app \"github\": token_url: must use https",
		file + ":12:11: policy \"company-only\": unknown criterion `emial`; did you mean `email`?",
		file + ":18:24: policy \"text\": unknown matcher `frobnicate` for `mcp_tool`",
		file + ":26:5: route \"GitHub\": policies: names policy \"missing\", which neither the file nor the database has",
		file + ":28:5: route \"Chat\": from: must start with http:// or https://",
		file + ":29:9: route \"Chat\": to lists 2 upstream URLs",
		file + ":36:5: route \"Ok\": unknown key `colour` in a route",
		"7 problem(s); nothing was applied",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	s := openData(t, dir)
	ctx := context.Background()
	if _, n, _ := s.ListRoutes(ctx, models.RouteFilter{}); n != 0 {
		t.Errorf("%d routes written", n)
	}
	if ps, _ := s.AllPolicies(ctx); len(ps) != 0 {
		t.Errorf("policies written: %+v", ps)
	}
	if apps, _ := s.AllUpstreamApps(ctx); len(apps) != 0 {
		t.Errorf("apps written: %+v", apps)
	}
}

func TestApplyExpandsEnvironment(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	file := writeFile(t, "env.yaml", `upstream_oauth_apps:
  - name: github
    client_id: abc
    client_secret: ${GH_SECRET}
    auth_url: https://github.com/login/oauth/authorize
    token_url: https://github.com/login/oauth/access_token
routes:
  - name: GitHub
    description: "Costs $${PRICE}, says ${WHO}."
    from: http://github.localhost:8080
    to: http://127.0.0.1:9001/mcp
    mcp: {server: {upstream_oauth_app: github}}
    timeout_seconds: ${TIMEOUT}
`)
	_, _, err := runWithEnv(t, []string{"GH_SECRET=s3cret", "TIMEOUT=45", "WHO=ada"}, "apply", "-f", file, "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	s := openData(t, dir)
	ctx := context.Background()
	r, err := s.GetRouteByName(ctx, "GitHub")
	if err != nil {
		t.Fatal(err)
	}
	if r.Description != "Costs ${PRICE}, says ada." || r.TimeoutSeconds != 45 {
		t.Errorf("route = %+v", r)
	}
	if secret, err := s.UpstreamAppSecret(ctx, *r.UpstreamAppID); err != nil || secret != "s3cret" {
		t.Errorf("secret = %q, %v", secret, err)
	}

	// An unset variable is an error naming it and its line, not an
	// empty secret.
	_, _, err = runWithEnv(t, []string{"TIMEOUT=45", "WHO=ada"}, "apply", "-f", file, "--data-dir", dir)
	if err == nil || !strings.Contains(err.Error(), file+":4:20: upstream app \"github\": environment variable GH_SECRET is not set") {
		t.Errorf("unset variable: %v", err)
	}
}

func TestApplyPrune(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	both := writeFile(t, "both.yaml", `policies:
  - {name: p, allow: {and: [{accept: true}]}}
  - {name: q, allow: {and: [{accept: true}]}}
routes:
  - {name: A, from: http://a.localhost, to: http://127.0.0.1:1, policies: [p]}
  - {name: B, from: http://b.localhost, to: http://127.0.0.1:2, policies: [q]}
`)
	one := writeFile(t, "one.yaml", `policies:
  - {name: p, allow: {and: [{accept: true}]}}
routes:
  - {name: A, from: http://a.localhost, to: http://127.0.0.1:1, policies: [p]}
`)
	out, _, err := runWithEnv(t, nil, "apply", "-f", both, "--data-dir", dir)
	if err != nil || !strings.Contains(out, "+ route B\n") || !strings.HasSuffix(out, "Applied: 4 created, 0 updated, 0 deleted.\n") {
		t.Fatalf("apply: %q, %v", out, err)
	}
	if out, _, err := runWithEnv(t, nil, "apply", "-f", one, "--data-dir", dir); err != nil ||
		!strings.Contains(out, "= route A (unchanged)") || strings.Contains(out, "- route") {
		t.Errorf("without --prune: %q, %v", out, err)
	}
	out, _, err = runWithEnv(t, nil, "apply", "-f", one, "--data-dir", dir, "--prune", "--dry-run")
	if err != nil {
		t.Fatal(err)
	}
	want := "Dry run: nothing is written.\n- route B\n= policy p (unchanged)\n= route A (unchanged)\n- policy q\n0 to create, 0 to update, 2 to delete\n"
	if out != want {
		t.Errorf("dry run printed:\n%s\nwant:\n%s", out, want)
	}
	if _, err := openData(t, dir).GetRouteByName(context.Background(), "B"); err != nil {
		t.Errorf("the dry run deleted B: %v", err)
	}
	if out, _, err := runWithEnv(t, nil, "apply", "-f", one, "--data-dir", dir, "--prune"); err != nil ||
		!strings.HasSuffix(out, "Applied: 0 created, 0 updated, 2 deleted.\n") {
		t.Fatalf("prune: %q, %v", out, err)
	}
	s := openData(t, dir)
	if _, n, _ := s.ListRoutes(context.Background(), models.RouteFilter{}); n != 1 {
		t.Errorf("%d routes after prune, want 1", n)
	}
	changes, _, err := s.ListChanges(context.Background(), models.ChangeFilter{Resource: models.ResourceRoute, Limit: 1})
	if err != nil || len(changes) != 1 || changes[0].Actor != "apply -f "+one || changes[0].Action != models.ActionDelete {
		t.Errorf("last route change = %+v, %v; want a delete by %q", changes, err, "apply -f "+one)
	}
}

func TestServeConfigAppliesAtStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	file := writeFile(t, "drawbridge.yaml", `server:
  data_dir: `+dir+`
  console_url: http://console.localhost:8080
admins: ["${ADMIN}"]
log: {level: error}
policies:
  - {name: everyone, allow: {and: [{authenticated_user: true}]}}
routes:
  - {name: Wiki, from: http://wiki.localhost:8080, to: http://127.0.0.1:8000, policies: [everyone]}
`)
	env := environment{"ADMIN=root@example.com"}
	// The server's loader reads the same file, objects and all.
	cfg, err := loadConfig(configFlags{file: file}, env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.FirstAdminEmail() != "root@example.com" || cfg.Server.DataDir != dir {
		t.Errorf("config = %+v", cfg)
	}
	if _, err := loadConfig(configFlags{file: file}, nil); err == nil || !strings.Contains(err.Error(), file+":4: environment variable ADMIN is not set") {
		t.Errorf("unset variable in the server's settings: %v", err)
	}
	ctx := context.Background()
	b, err := openBackend(ctx, configFlags{file: file}, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var out bytes.Buffer
	sio := stdio{out: &out, err: &out}
	if err := applyAtStart(ctx, b.store, file, env, sio); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "+ route Wiki\n") || !strings.Contains(out.String(), "Applied: 2 created") {
		t.Errorf("first start printed %q", out.String())
	}
	changes, _, err := b.store.ListChanges(ctx, models.ChangeFilter{Limit: 1})
	if err != nil || len(changes) != 1 || changes[0].Actor != "serve --config "+file {
		t.Errorf("history = %+v, %v", changes, err)
	}
	out.Reset()
	if err := applyAtStart(ctx, b.store, file, env, sio); err != nil || out.Len() != 0 {
		t.Errorf("second start: %q, %v; want nothing printed", out.String(), err)
	}

	// A file that does not apply stops the start.
	bad := writeFile(t, "bad.yaml", "routes:\n  - {name: Wiki, from: ftp://wiki, to: http://127.0.0.1:8000}\n")
	if err := applyAtStart(ctx, b.store, bad, env, sio); err == nil || !strings.Contains(err.Error(), bad+":2:18: route \"Wiki\": from: must start with http://") {
		t.Errorf("bad file at start: %v", err)
	}
}
