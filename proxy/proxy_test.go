package proxy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy"
	"github.com/drawbridge/drawbridge/proxy/token"
)

// TestMCPThroughTheGateway: the official client, through the gateway,
// to the official server: the token gets in, denied tools vanish from the
// list and are refused when called, and no credential reaches upstream.
func TestMCPThroughTheGateway(t *testing.T) {
	g := newGateway(t)
	route := g.route("Tools", "tools.localhost", openPolicy)
	bearer, _ := g.token(route.From)

	session, err := g.connect(route.From, bearer)
	if err != nil {
		t.Fatalf("connect through the gateway: %v", err)
	}
	defer session.Close()
	ctx := context.Background()
	list, err := session.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := toolNames(list.Tools); got != "echo,search" && got != "search,echo" {
		t.Errorf("tools listed: %s, want echo and search, not admin_reset", got)
	}
	res, err := session.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hi"}})
	if err != nil || res.IsError {
		t.Fatalf("call echo: %v %+v", err, res)
	}
	if _, err := session.CallTool(ctx, &sdk.CallToolParams{Name: "admin_reset", Arguments: map[string]any{}}); err == nil || !strings.Contains(err.Error(), "policy") {
		t.Errorf("call admin_reset: %v, want a policy refusal", err)
	}

	seen := g.upstream.headers()
	if len(seen) == 0 {
		t.Fatal("nothing reached the upstream")
	}
	for _, h := range seen {
		if h.Get("Authorization") != "" {
			t.Fatal("the client's token reached the upstream")
		}
		g.checkAssertion(h, route.From)
	}
	for _, h := range seen {
		if strings.Contains(h.Get("X-Forwarded-Host"), "tools.localhost") {
			return
		}
	}
	t.Error("the upstream was not told which host the client asked for (X-Forwarded-Host)")
}

// TestChallengeAndResourceMetadata: a client with no token is sent to the
// route's protected resource metadata, which names the console as its
// authorization server.
func TestChallengeAndResourceMetadata(t *testing.T) {
	g := newGateway(t)
	route := g.route("Tools", "tools.localhost", openPolicy)
	client := g.httpClient("")
	resp, err := client.Post(route.From, "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	challenge := resp.Header.Get("WWW-Authenticate")
	wantMeta := route.From + "/.well-known/oauth-protected-resource"
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(challenge, `resource_metadata="`+wantMeta+`"`) {
		t.Fatalf("no token: %d, WWW-Authenticate %q", resp.StatusCode, challenge)
	}
	resp, err = client.Get(wantMeta)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var meta struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&meta); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("metadata: %d %v", resp.StatusCode, err)
	}
	if meta.Resource != route.From || len(meta.AuthorizationServers) != 1 || meta.AuthorizationServers[0] != issuerURL {
		t.Errorf("metadata %+v", meta)
	}
}

// TestTokensStayOnTheirRoute: a token is good for its route only.
func TestTokensStayOnTheirRoute(t *testing.T) {
	g := newGateway(t)
	a := g.route("A", "a.localhost", openPolicy)
	b := g.route("B", "b.localhost", openPolicy)
	bearer, _ := g.token(a.From)
	if status := g.post(b.From, bearer); status != http.StatusUnauthorized {
		t.Errorf("A's token on route B: status %d, want 401", status)
	}
	if status := g.post(a.From, bearer); status != http.StatusOK {
		t.Fatalf("A's token on route A: status %d", status)
	}
	if status := g.post(a.From, "not-a-token"); status != http.StatusUnauthorized {
		t.Errorf("garbage token: status %d", status)
	}
}

// TestPolicyChangesApplyAtOnce: a policy saved in this process is obeyed
// by the next request.
func TestPolicyChangesApplyAtOnce(t *testing.T) {
	g := newGateway(t)
	route := g.route("Tools", "tools.localhost", openPolicy)
	bearer, _ := g.token(route.From)
	if status := g.call(route.From, bearer, "echo"); status != http.StatusOK {
		t.Fatalf("echo before the change: %d", status)
	}
	p, err := g.store.GetPolicyByName(context.Background(), "tools-policy")
	if err != nil {
		t.Fatal(err)
	}
	p.Source = "allow:\n  and:\n    - authenticated_user: true\ndeny:\n  or:\n    - mcp_tool: {is: echo}\n"
	if err := g.store.UpdatePolicy(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	g.waitVersion()
	if denied, answer := g.callDenied(route.From, bearer, "echo"); !denied {
		t.Errorf("echo after the policy denies it: %s, want the policy's JSON-RPC error", answer)
	}
}

// post sends a tools/list to url with bearer and returns the status.
func (g *gateway) post(url, bearer string) int {
	g.t.Helper()
	return g.rpc(url, bearer, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
}

// call sends a tools/call of tool.
func (g *gateway) call(url, bearer, tool string) int {
	g.t.Helper()
	return g.rpc(url, bearer, `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"`+tool+`","arguments":{"text":"x"}}}`)
}

func (g *gateway) rpc(url, bearer, body string) int {
	g.t.Helper()
	resp, _ := g.send(http.MethodPost, url, bearer, body)
	return resp.StatusCode
}

// send sends an MCP request with body ("" for none) and returns the
// answer and its body.
func (g *gateway) send(method, url, bearer, body string) (*http.Response, []byte) {
	g.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-06-18")
	resp, err := g.httpClient(bearer).Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		g.t.Fatal(err)
	}
	return resp, b
}

// callDenied calls tool as call does, and reports whether the answer is
// a policy denial: HTTP 200 with the JSON-RPC error -32001 for the
// call's id. answer describes what came back, for a failure's message.
func (g *gateway) callDenied(url, bearer, tool string) (denied bool, answer string) {
	g.t.Helper()
	resp, body := g.send(http.MethodPost, url, bearer, `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"`+tool+`","arguments":{"text":"x"}}}`)
	var reply struct {
		ID    json.RawMessage `json:"id"`
		Error *struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	denied = resp.StatusCode == http.StatusOK && json.Unmarshal(body, &reply) == nil &&
		string(reply.ID) == "7" && reply.Error != nil && reply.Error.Code == -32001
	return denied, fmt.Sprintf("%d %.200s", resp.StatusCode, body)
}

// TestRevocationReachesEveryProcess: a token revoked by another process
// sharing the database is refused here within a few polls, without any
// hook between the two.
func TestRevocationReachesEveryProcess(t *testing.T) {
	g := newGateway(t)
	route := g.route("Tools", "tools.localhost", openPolicy)
	bearer, claims := g.recordedToken(route.From)
	if status := g.post(route.From, bearer); status != http.StatusOK {
		t.Fatalf("before revocation: %d", status)
	}
	other := g.otherProcess()
	if err := other.RevokeAccessToken(context.Background(), claims.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * proxy.PollInterval)
	for g.post(route.From, bearer) != http.StatusUnauthorized {
		if time.Now().After(deadline) {
			t.Fatalf("a token revoked in another process still works after %s", 20*proxy.PollInterval)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestUsersTurnedOffLoseAccess: disabling a user stops their tokens.
func TestUsersTurnedOffLoseAccess(t *testing.T) {
	g := newGateway(t)
	route := g.route("Tools", "tools.localhost", openPolicy)
	bearer, _ := g.token(route.From)
	if err := g.store.SetDisabled(context.Background(), g.user.ID, true); err != nil {
		t.Fatal(err)
	}
	g.waitVersion()
	if status := g.post(route.From, bearer); status != http.StatusUnauthorized {
		t.Errorf("a disabled user's token: status %d, want 401", status)
	}
}

// TestBrokenConfigKeepsTheLastGood: a configuration that does not compile
// is never applied; the last good one serves, and the engine says why.
func TestBrokenConfigKeepsTheLastGood(t *testing.T) {
	g := newGateway(t)
	route := g.route("Tools", "tools.localhost", openPolicy)
	bearer, _ := g.token(route.From)
	served := g.engine.ServedVersion()
	p, err := g.store.GetPolicyByName(context.Background(), "tools-policy")
	if err != nil {
		t.Fatal(err)
	}
	// This store has no policy check, as a database edited by hand or by
	// an older build would not.
	p.Source = "allow:\n  and:\n    - frobnicate: true\n"
	if err := g.store.UpdatePolicy(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err, _ := g.engine.LastError(); err != nil {
			if !strings.Contains(err.Error(), "tools-policy") {
				t.Errorf("the error does not name the policy: %v", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the broken configuration was not reported")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := g.engine.ServedVersion(); got != served {
		t.Errorf("serving version %d, want the last good %d", got, served)
	}
	if status := g.call(route.From, bearer, "echo"); status != http.StatusOK {
		t.Errorf("the last good configuration stopped serving: %d", status)
	}
}

// TestForeignOriginsAreRefused: a browser page on another site cannot use
// a route, even with a valid token.
func TestForeignOriginsAreRefused(t *testing.T) {
	g := newGateway(t)
	route := g.route("Tools", "tools.localhost", openPolicy)
	bearer, _ := g.token(route.From)
	for origin, want := range map[string]int{"https://evil.example": http.StatusForbidden, "null": http.StatusForbidden, route.From: http.StatusOK} {
		req, _ := http.NewRequest(http.MethodPost, route.From, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Origin", origin)
		resp, err := g.httpClient(bearer).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Origin %s: status %d, want %d", origin, resp.StatusCode, want)
		}
	}
}

// TestForgedIdentityHeadersAreReplaced: what a client claims in our
// headers never reaches the upstream; the signed assertion does.
func TestForgedIdentityHeadersAreReplaced(t *testing.T) {
	g := newGateway(t)
	route := g.route("Tools", "tools.localhost", openPolicy)
	bearer, _ := g.token(route.From)
	req, _ := http.NewRequest(http.MethodPost, route.From, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("X-Drawbridge-Assertion", "forged")
	req.Header.Set("X-Drawbridge-User", "admin@example.com")
	resp, err := g.httpClient(bearer).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	seen := g.upstream.headers()
	if resp.StatusCode != http.StatusOK || len(seen) != 1 {
		t.Fatalf("status %d, %d requests upstream", resp.StatusCode, len(seen))
	}
	if seen[0].Get("X-Drawbridge-User") != "" {
		t.Error("a client-set X-Drawbridge-User reached the upstream")
	}
	g.checkAssertion(seen[0], route.From)
}

// checkAssertion verifies the assertion header an upstream received, as
// an upstream would, with the published keys.
func (g *gateway) checkAssertion(h http.Header, audience string) {
	g.t.Helper()
	values := h.Values(token.AssertionHeader)
	if len(values) != 1 {
		g.t.Fatalf("upstream got %d assertion headers", len(values))
	}
	var set jose.JSONWebKeySet
	jwks, _ := g.keys.JWKS()
	if err := json.Unmarshal(jwks, &set); err != nil {
		g.t.Fatal(err)
	}
	jws, err := jose.ParseSigned(values[0], []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		g.t.Fatalf("assertion %q: %v", values[0], err)
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		g.t.Fatal("the assertion is not signed by a published key")
	}
	payload, err := jws.Verify(keys[0].Public())
	if err != nil {
		g.t.Fatal(err)
	}
	var a token.Assertion
	if err := json.Unmarshal(payload, &a); err != nil {
		g.t.Fatal(err)
	}
	if a.Email != g.user.Email || a.Audience != audience || len(a.Groups) != 1 || a.Groups[0] != "eng" {
		g.t.Errorf("assertion says %+v", a)
	}
}

// TestUpstreamDown: an upstream that cannot be reached is a 502 with a
// JSON-RPC error naming the route, never a Go error string.
func TestUpstreamDown(t *testing.T) {
	g := newGateway(t)
	ctx := context.Background()
	p := &models.Policy{Name: "open", Source: openPolicy}
	if err := g.store.CreatePolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	route := &models.Route{Name: "Gone", From: g.routeURL("gone.localhost"), To: "http://127.0.0.1:1/mcp", Kind: models.KindMCPServer, Enabled: true}
	if err := g.store.CreateRoute(ctx, route, []uint{p.ID}); err != nil {
		t.Fatal(err)
	}
	g.waitVersion()
	bearer, _ := g.token(route.From)
	req, _ := http.NewRequest(http.MethodPost, route.From, strings.NewReader(`{"jsonrpc":"2.0","id":9,"method":"tools/list"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := g.httpClient(bearer).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), `"error"`) || !strings.Contains(string(body), "Gone") ||
		strings.Contains(string(body), "connection refused") {
		t.Errorf("upstream down: %d %s", resp.StatusCode, body)
	}
}
