package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// TestMCPClientJourney is an MCP client given only a route URL: the
// official Go SDK client discovers Drawbridge from the route's 401,
// registers itself, sends the user through sign-in and consent in
// Chromium, and then lists and calls the demo server's tools through the
// gateway, where the policy hides and refuses admin_reset.
func TestMCPClientJourney(t *testing.T) {
	t.Parallel()
	demoPort, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	inst := startDrawbridge(t, "--demo", "--demo-address", "127.0.0.1:"+demoPort)
	consolePort := inst.URL[strings.LastIndexByte(inst.URL, ':')+1:]
	routeURL := "http://localhost:" + consolePort // the demo route, beside a console at 127.0.0.1
	httpClient := dialAll(inst.URL)
	tab := newTab(t)

	// The redirect URI is a loopback listener, as CLI clients use.
	type callback struct{ code, state, iss string }
	got := make(chan callback, 1)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		select {
		case got <- callback{q.Get("code"), q.Get("state"), q.Get("iss")}:
		default:
		}
		fmt.Fprintln(w, "Signed in. You can close this page.")
	}))
	t.Cleanup(cb.Close)

	signedIn := false
	fetch := func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
		step(t, tab, "open the authorization URL", chromedp.Navigate(args.URL))
		if !signedIn {
			wantPath(t, tab, "/login")
			signIn(t, tab, inst.URL, inst.Email, inst.Password)
			signedIn = true
		}
		step(t, tab, "see the consent page", chromedp.WaitVisible(testID("consent")))
		if got := text(t, tab, testID("consent-client")); got != "Journey client" {
			t.Errorf("consent page names the client %q", got)
		}
		if got := text(t, tab, testID("consent-route")); got != "Demo tools" {
			t.Errorf("consent page names the route %q", got)
		}
		screenshot(t, tab, "consent")
		step(t, tab, "allow", chromedp.Click(testID("consent-allow")))
		select {
		case c := <-got:
			return &auth.AuthorizationResult{Code: c.code, State: c.state, Iss: c.iss}, nil
		case <-time.After(15 * time.Second):
			return nil, fmt.Errorf("the browser never came back to the client (at %s)", currentURL(tab))
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	handler, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			RedirectURIs: []string{cb.URL + "/callback"}, ClientName: "Journey client",
			TokenEndpointAuthMethod: "none", GrantTypes: []string{"authorization_code", "refresh_token"},
		}},
		RedirectURL:              cb.URL + "/callback",
		AuthorizationCodeFetcher: fetch,
		Client:                   httpClient,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := sdk.NewClient(&sdk.Implementation{Name: "journey-client", Version: "1"}, nil)
	session, err := client.Connect(ctx, &sdk.StreamableClientTransport{
		Endpoint: routeURL, HTTPClient: httpClient, OAuthHandler: handler, MaxRetries: -1, DisableStandaloneSSE: true,
	}, nil)
	if err != nil {
		t.Fatalf("connect to %s with OAuth: %v", routeURL, err)
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
	if strings.Contains(strings.Join(names, ","), "admin_reset") || len(names) == 0 {
		t.Errorf("tools listed through the gateway: %v; want the demo's tools without admin_reset", names)
	}
	res, err := session.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "through the drawbridge"}})
	if err != nil || res.IsError {
		t.Fatalf("call echo: %v %+v", err, res)
	}
	// The denial is the call's JSON-RPC error. Had it come as a 403, the
	// SDK's OAuth handler would have taken it for a step-up and the
	// transport sent the call again: the audit log shows it was sent once.
	_, err = session.CallTool(ctx, &sdk.CallToolParams{Name: "admin_reset", Arguments: map[string]any{"confirm": true}})
	var rpcErr *jsonrpc.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != -32001 || !strings.Contains(rpcErr.Message, "Drawbridge policy denies") {
		t.Errorf("admin_reset was answered %v; want the JSON-RPC error -32001 naming the policy", err)
	}
	if n := deniedCalls(t, inst, "admin_reset"); n != 1 {
		t.Errorf("the audit log holds %d denied admin_reset calls, want 1: the client sent the denied call again", n)
	}

	// A policy change applied by another process (the CLI) is obeyed by
	// the running gateway at its next poll of the configuration version.
	file := filepath.Join(t.TempDir(), "deny-echo.yaml")
	policy := "policies:\n  - name: demo\n    source: |\n      allow:\n        and:\n          - authenticated_user: true\n" +
		"      deny:\n        or:\n          - mcp_tool: {in: [echo, admin_reset]}\n"
	if err := os.WriteFile(file, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	inst.cli(t, "", "apply", "-f", file, "--console-url", inst.URL)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := session.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "again"}})
		if err != nil && strings.Contains(err.Error(), "policy") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("echo still allowed 5 s after a policy denying it was applied from the CLI (last: %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The admin sees the client, the user sees the app they authorized.
	step(t, tab, "open the clients page", chromedp.Navigate(inst.URL+"/admin/clients"))
	if !strings.Contains(text(t, tab, chromedp.CSS("main")), "Journey client") {
		t.Error("the Clients page does not list the client that registered")
	}
	screenshot(t, tab, "clients")
	follow(t, tab, "open the client", testID("client-name"))
	if got := text(t, tab, chromedp.CSS("h1")); !strings.Contains(got, "Journey client") {
		t.Errorf("client page heading %q", got)
	}
	screenshot(t, tab, "client-detail")
	step(t, tab, "open the authorized apps", chromedp.Navigate(inst.URL+"/authorizations"))
	if !strings.Contains(text(t, tab, chromedp.CSS("main")), "Journey client") {
		t.Error("the user's authorized apps do not list the client")
	}
	screenshot(t, tab, "authorizations")
}

// deniedCalls counts the denied calls of tool in the audit log of inst,
// read from its database file: a denial is recorded before it is answered.
func deniedCalls(t *testing.T, inst *instance, tool string) int {
	t.Helper()
	db, err := sql.Open("sqlite3", filepath.Join(inst.DataDir, databaseFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM `+storedAuditEvents+` WHERE tool = ? AND decision = 'deny'`, tool).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// dialAll is an HTTP client that reaches every host, the console and
// route hosts alike, at the address of consoleURL: *.localhost names need
// no resolver then.
func dialAll(consoleURL string) *http.Client {
	u, _ := url.Parse(consoleURL)
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, u.Host)
		},
	}}
}
