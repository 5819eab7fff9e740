package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// tsClientDir holds an MCP client on the official TypeScript SDK,
// client.mjs, with the SDK pinned by its package.json and
// package-lock.json; `npm ci --prefix cmd/drawbridge/testdata/tsclient`
// (part of `make testdeps`) installs it.
const tsClientDir = "testdata/tsclient"

// What client.mjs sends: the name it registers under and the text it
// asks echo to repeat.
const (
	tsClientName = "TypeScript journey client"
	tsEchoText   = "through the drawbridge, from TypeScript"
)

// tsOutput is everything client.mjs prints, one JSON object a line, each
// line filling one field.
type tsOutput struct {
	Authorize  string `json:"authorize"`
	Registered *struct {
		ClientID   string `json:"client_id"`
		ClientName string `json:"client_name"`
	} `json:"registered"`
	Tools  []string      `json:"tools"`
	Call   *tsToolResult `json:"call"`
	Denied *struct {
		Error *struct {
			Code    int    `json:"code"`    // the JSON-RPC error code
			Message string `json:"message"` // as the SDK's McpError words it
		} `json:"error"`
		Result *tsToolResult `json:"result"`
	} `json:"denied"`
}

// tsToolResult is a tools/call result as the SDK returns it.
type tsToolResult struct {
	Content []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
	IsError bool `json:"isError"`
}

// TestTypeScriptMCPClientJourney is TestMCPClientJourney with the official
// TypeScript SDK's client, given only the route URL, in a process of its
// own: the SDK discovers Drawbridge from the route's 401, registers the
// client, and the user signs in and consents in Chromium; the client then
// lists the demo's tools without admin_reset, calls echo, and is refused
// admin_reset, which the demo policy denies. The admin then finds the
// client among those that registered themselves.
func TestTypeScriptMCPClientJourney(t *testing.T) {
	t.Parallel()
	script := tsClientScript(t)
	demoPort, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	inst := startDrawbridge(t, "--demo", "--demo-address", "127.0.0.1:"+demoPort)
	routeURL := "http://localhost:" + inst.port(t) // the demo route, beside a console at 127.0.0.1
	tab := newTab(t)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, "node", script, routeURL)
	cmd.Env = childEnv()
	cmd.WaitDelay = 5 * time.Second
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node %s: %v", script, err)
	}
	lines := make(chan string)
	exited := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait() // after the last read, as StdoutPipe requires
	}()
	t.Cleanup(func() {
		cancel()
		for range lines {
		}
		if t.Failed() {
			t.Logf("client.mjs stderr:\n%s", stderr.String())
		}
	})
	var out tsOutput
	read := func(line string) {
		t.Helper()
		if err := json.Unmarshal([]byte(line), &out); err != nil {
			t.Fatalf("client.mjs printed %q, not a JSON line: %v", line, err)
		}
	}

	// The client prints the authorization URL and waits at its callback.
	for line := range lines {
		read(line)
		if out.Authorize != "" {
			break
		}
	}
	if out.Authorize == "" {
		t.Fatalf("client.mjs printed no authorization URL (%v)", <-exited)
	}
	if !strings.HasPrefix(out.Authorize, inst.URL+"/") {
		t.Errorf("the client discovered the authorization URL %s; want one on the console, %s", out.Authorize, inst.URL)
	}
	step(t, tab, "open the authorization URL", chromedp.Navigate(out.Authorize))
	wantPath(t, tab, "/login")
	signIn(t, tab, inst.URL, inst.Email, inst.Password)
	step(t, tab, "see the consent page", chromedp.WaitVisible(testID("consent")))
	if got := text(t, tab, testID("consent-client")); got != tsClientName {
		t.Errorf("consent page names the client %q; want %q", got, tsClientName)
	}
	if got := text(t, tab, testID("consent-route")); got != "Demo tools" {
		t.Errorf("consent page names the route %q", got)
	}
	step(t, tab, "allow", chromedp.Click(testID("consent-allow")))

	// The client finishes on its own and says what it saw.
	for line := range lines {
		read(line)
	}
	if err := <-exited; err != nil {
		t.Fatalf("node client.mjs %s: %v", routeURL, err)
	}
	wantDemoTools(t, "the TypeScript SDK", out.Tools)
	if c := out.Call; c == nil || c.IsError || len(c.Content) != 1 || c.Content[0].Text != tsEchoText {
		t.Errorf("echo answered %+v; want the text %q", c, tsEchoText)
	}
	// A denied call is answered with a JSON-RPC error, code -32001
	// (proxy's codeForbidden), naming the tool: the SDK raises it as an
	// McpError, not as a transport failure.
	switch d := out.Denied; {
	case d == nil:
		t.Error("client.mjs printed nothing for the admin_reset call")
	case d.Result != nil:
		t.Errorf("admin_reset was answered %+v; the demo policy denies it", *d.Result)
	case d.Error == nil || d.Error.Code != -32001 ||
		!strings.Contains(d.Error.Message, "Drawbridge policy denies calling the tool admin_reset."):
		t.Errorf("admin_reset was refused with %+v; want the JSON-RPC error -32001 naming the policy and the tool", d.Error)
	}

	// The admin finds the client among those that registered themselves
	// (dynamic client registration), under the name it sent.
	if out.Registered == nil || out.Registered.ClientID == "" || out.Registered.ClientName != tsClientName {
		t.Fatalf("client.mjs registered as %+v; want a client ID and the name %q", out.Registered, tsClientName)
	}
	step(t, tab, "open the clients page", chromedp.Navigate(inst.URL+"/admin/clients"))
	type clientRow struct{ ID, Name, Source string }
	rows := evaluate[[]clientRow](t, tab, `[...document.querySelectorAll('[data-testid="client-row"]')].map(r => ({
		ID: r.querySelector('[data-testid="client-id"]')?.textContent.trim() ?? "",
		Name: r.querySelector('[data-testid="client-name"]').textContent.trim(),
		Source: r.querySelector('[data-testid="client-source"]').dataset.source,
	}))`)
	found := false
	for _, r := range rows {
		if r.ID == out.Registered.ClientID {
			found = true
			if r.Name != tsClientName || r.Source != "dcr" {
				t.Errorf("the Clients page lists the client as %+v; want the name %q and the source dcr", r, tsClientName)
			}
		}
	}
	if !found {
		t.Errorf("the Clients page does not list the client %s that registered (rows: %+v)", out.Registered.ClientID, rows)
	}
	screenshot(t, tab, "clients")
}

// tsClientScript returns the path of client.mjs, failing t with the
// command that installs what it needs when Node.js or the SDK is missing.
func tsClientScript(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("the TypeScript MCP client needs Node.js (node) on PATH: %v", err)
	}
	dir, err := filepath.Abs(tsClientDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@modelcontextprotocol", "sdk", "package.json")); err != nil {
		t.Fatalf("the MCP TypeScript SDK is not installed (%v); run `npm ci --prefix cmd/drawbridge/testdata/tsclient` "+
			"from the repository root (make testdeps does)", err)
	}
	return filepath.Join(dir, "client.mjs")
}
