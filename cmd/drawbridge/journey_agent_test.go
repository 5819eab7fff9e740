package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// inspectorDir holds the MCP Inspector, pinned by its package.json and
// package-lock.json; `npm ci --prefix cmd/drawbridge/testdata/inspector`
// (part of `make testdeps`) installs it.
const inspectorDir = "testdata/inspector"

// TestServiceAccountAgentJourney is an agent with nothing but a service
// account token, made with the CLI: the official Go SDK client and the
// MCP Inspector's CLI list and call the demo server's tools through the
// gateway, with admin_reset hidden by the demo policy; once the CLI
// revokes the account, the gateway refuses the token at its next
// configuration poll.
func TestServiceAccountAgentJourney(t *testing.T) {
	t.Parallel()
	inspector := inspectorCLI(t)
	demoPort, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	inst := startDrawbridge(t, "--demo", "--demo-address", "127.0.0.1:"+demoPort)
	routeURL := "http://localhost:" + inst.port(t) // the demo route, beside a console at 127.0.0.1

	inst.cli(t, "a long enough password\n", "user", "create", "--email", "ci-owner@example.com", "--password-stdin")
	// The console URL serve runs with is the token's issuer.
	out := inst.cli(t, "", "service-account", "create", "--user", "ci-owner@example.com", "--name", "ci",
		"--quiet", "--console-url", inst.URL)
	jwt, ok := strings.CutSuffix(out, "\n")
	if !ok || strings.ContainsAny(jwt, " \n") {
		t.Fatalf("service-account create --quiet printed %q; want a bare JWT", out)
	}
	bearer := "Drawbridge-" + jwt

	// The Go SDK client.
	transport := &recordingBearer{bearer: bearer, base: dialAll(inst.URL).Transport}
	client := &http.Client{Timeout: 10 * time.Second, Transport: transport}
	waitAccepted(t, client, routeURL)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	session, err := sdk.NewClient(&sdk.Implementation{Name: "ci-agent", Version: "1"}, nil).Connect(ctx,
		&sdk.StreamableClientTransport{Endpoint: routeURL, HTTPClient: client, MaxRetries: -1, DisableStandaloneSSE: true}, nil)
	if err != nil {
		t.Fatalf("connect to %s with the service account: %v", routeURL, err)
	}
	defer session.Close()
	list, err := session.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
	}
	wantDemoTools(t, "the Go SDK", names)
	res, err := session.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "from CI"}})
	if err != nil || res.IsError {
		t.Fatalf("call echo: %v %+v", err, res)
	}
	if text, ok := res.Content[0].(*sdk.TextContent); !ok || text.Text != "from CI" {
		t.Errorf("echo answered %+v", res.Content)
	}

	// The MCP Inspector's CLI, as `npx @modelcontextprotocol/inspector --cli`
	// runs it.
	header := "Authorization: Bearer " + bearer
	out, err = inspect(inspector, routeURL, "--transport", "http", "--method", "tools/list", "--header", header)
	if err != nil {
		t.Fatalf("inspector tools/list: %v", err)
	}
	var listed struct {
		Tools []struct{ Name string } `json:"tools"`
	}
	if err := json.Unmarshal([]byte(out), &listed); err != nil {
		t.Fatalf("inspector tools/list printed %q: %v", out, err)
	}
	names = names[:0]
	for _, tool := range listed.Tools {
		names = append(names, tool.Name)
	}
	wantDemoTools(t, "the Inspector", names)
	out, err = inspect(inspector, routeURL, "--transport", "http", "--method", "tools/call",
		"--tool-name", "echo", "--tool-arg", "text=from the inspector", "--header", header)
	if err != nil || !strings.Contains(out, `"text": "from the inspector"`) {
		t.Errorf("inspector tools/call echo: %v\n%s", err, out)
	}

	// Revoked from another process, the account is refused at the
	// gateway's next look at the configuration version (every 250 ms).
	inst.cli(t, "", "service-account", "revoke", "ci")
	deadline := time.Now().Add(time.Second)
	for {
		_, err := session.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "again"}})
		if err != nil && transport.last.Load() == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("1 s after revoke, the gateway still answers the token with %d (%v)", transport.last.Load(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The Inspector shows the gateway's JSON-RPC error, not the status.
	if out, err := inspect(inspector, routeURL, "--transport", "http", "--method", "tools/list", "--header", header); err == nil ||
		!strings.Contains(err.Error(), "Unauthorized: the service-account token is not valid (revoked") {
		t.Errorf("the Inspector with a revoked token: %v\n%s", err, out)
	}
}

// wantDemoTools checks that a client saw the demo's tools, echo among
// them, without admin_reset, which the demo policy denies.
func wantDemoTools(t *testing.T, who string, names []string) {
	t.Helper()
	if !slices.Contains(names, "echo") || slices.Contains(names, "admin_reset") {
		t.Errorf("%s listed %v through the gateway; want the demo's tools without admin_reset", who, names)
	}
}

// recordingBearer sends a bearer token and remembers the status of the
// last answer.
type recordingBearer struct {
	bearer string
	base   http.RoundTripper
	last   atomic.Int32
}

func (b *recordingBearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.bearer)
	resp, err := b.base.RoundTrip(r)
	if err == nil {
		b.last.Store(int32(resp.StatusCode))
	}
	return resp, err
}

// waitAccepted waits, a few seconds at most, for the gateway to load a
// service account just created from the CLI: until the client's token
// stops being answered 401.
func waitAccepted(t *testing.T, client *http.Client, routeURL string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var last any
		resp, err := client.Post(routeURL, "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
		if last = err; err == nil {
			resp.Body.Close()
			if last = resp.Status; resp.StatusCode != http.StatusUnauthorized {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway does not accept the service account at %s 5 s after it was created (last: %v)", routeURL, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// inspectorCLI returns the pinned MCP Inspector's launcher, failing t
// with the command that installs it when it is not installed.
func inspectorCLI(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("the MCP Inspector needs Node.js (node) on PATH: %v", err)
	}
	bin, err := filepath.Abs(filepath.Join(inspectorDir, "node_modules", ".bin", "mcp-inspector"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("the MCP Inspector is not installed (%v); run `npm ci --prefix cmd/drawbridge/testdata/inspector` "+
			"from the repository root (make testdeps does)", err)
	}
	return bin
}

// inspect runs the Inspector's CLI mode against url and returns what it
// printed on stdout; a failure's error holds its exit status and stderr.
func inspect(bin, url string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--cli", url}, args...)...)
	cmd.Env = childEnv()
	// The launcher runs the CLI as a child node process: a group of its
	// own lets a timeout stop both.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("mcp-inspector --cli %s %s: %v\nstderr:\n%s", url, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}
