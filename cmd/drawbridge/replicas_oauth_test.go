package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// testOAuthAcrossReplicas: an MCP client registers, sends dana through
// sign-in and consent in Chromium, redeems the code and calls a tool,
// every request through the balancer, and so its steps spread over the
// replicas. That works only if sessions, CSRF tokens, authorization
// codes and the keys that sign access tokens are the same on all.
func testOAuthAcrossReplicas(t *testing.T, rs *replicaSet) {
	mark := rs.lb.mark()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the flow's steps, as the balancer passed them:\n%s", lbLog(flowSteps(rs.lb.since(mark))))
		}
	})
	client := dialAll(rs.lb.URL)
	tab := newTab(t)
	access := drawbridgeTokenWith(t, tab, client, rs.toolsURL, tokenFlow{RouteName: "Tools", SignIn: func() {
		signIn(t, tab, rs.lb.URL, danaEmail, danaPassword)
		if location(t, tab).Path == "/login" {
			t.Fatal("after signing in through the balancer the browser is on the sign-in page again: " +
				"one replica does not honour the session another made")
		}
	}})
	session := mcpSession(t, client, rs.toolsURL, access)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := session.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "across replicas"}})
	if err != nil || res.IsError {
		t.Fatalf("call echo with the token: %v %+v", err, res)
	}

	steps := flowSteps(rs.lb.since(mark))
	served := servedBy(steps)
	if len(served) < 2 {
		t.Errorf("the flow's steps were all served by one replica; the balancer should have spread them:\n%s", lbLog(steps))
	}
	for _, path := range []string{"/oauth/register", "/oauth/authorize", "/login", "/oauth/token"} {
		if !slices.ContainsFunc(steps, func(e lbEntry) bool { return e.Path == path }) {
			t.Errorf("no %s went through the balancer", path)
		}
	}
	t.Logf("the flow's steps, as the balancer passed them (by replica: %v):\n%s", served, lbLog(steps))
}

// flowSteps are the requests of an OAuth flow and the MCP calls after
// it: what a person or a client does, without the static files a page
// loads.
func flowSteps(entries []lbEntry) []lbEntry {
	var out []lbEntry
	for _, e := range entries {
		if !strings.HasPrefix(e.Path, "/static/") && e.Path != "/favicon.ico" {
			out = append(out, e)
		}
	}
	return out
}

// testOneRefreshAcrossReplicas: dana connects Octo (in a tab the
// balancer keeps on one replica: the Connect itself is not what this
// proves), the upstream token expires, and 50 calls at once through the
// balancer, as dana's service account, need it renewed. The replicas
// must renew it exactly once between them (the provider rotates refresh
// tokens, so a second refresh with the same one would be reuse, and
// revoke the whole grant), and every call must carry the renewed token:
// the replicas that did not refresh wait for the one that did, since
// the old token no longer works.
func testOneRefreshAcrossReplicas(t *testing.T, rs *replicaSet) {
	rs.lb.pin(0)
	tab := newTab(t)
	signIn(t, tab, rs.lb.URL, danaEmail, danaPassword)
	wantPath(t, tab, "/")
	before := rs.provider.Stats(t)
	connectAtProvider(t, tab, rs.lb.URL, rs.provider, "octocat")
	wantFlash(t, tab, "success", "Connected octo as Octo Cat.")
	connected := time.Now()
	rs.lb.unpin()
	if s := rs.provider.Stats(t); s.CodeGrants != before.CodeGrants+1 {
		t.Fatalf("the provider made %d code grants for one Connect, want 1", s.CodeGrants-before.CodeGrants)
	}

	time.Sleep(time.Until(connected.Add(replicaUpstreamTTL + 300*time.Millisecond)))
	before = rs.provider.Stats(t)
	mark := rs.lb.mark()
	client := dialAll(rs.lb.URL)
	client.Transport = bearerTransport{bearer: rs.agent, base: client.Transport}
	const calls = 50
	bearers := make([]string, calls)
	errs := make([]error, calls)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			<-start
			var status int
			status, bearers[i], errs[i] = callTool(client, rs.octoURL, "whoami", "{}")
			if errs[i] == nil && status != http.StatusOK {
				errs[i] = fmt.Errorf("status %d", status)
			}
		})
	}
	began := time.Now()
	close(start)
	wg.Wait()
	took := time.Since(began)
	after := rs.provider.Stats(t)

	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d of %d: %v", i+1, calls, err)
		}
	}
	if took > replicaUpstreamTTL/2 {
		// The vault renews a token this short-lived halfway through its
		// life: the renewed one fell due too, and a second refresh would
		// be right.
		t.Fatalf("the %d calls took %s, longer than half the token's life: the refreshes cannot be counted", calls, took)
	}
	if n := after.RefreshGrants - before.RefreshGrants; n != 1 {
		t.Errorf("%d calls spread over %d replicas made %d refresh grants at the provider, want exactly 1 (failures: %d)",
			calls, replicaCount, n, after.RefreshFailures-before.RefreshFailures)
	}
	if distinct := slices.Compact(slices.Sorted(slices.Values(bearers))); len(distinct) != 1 || !strings.HasPrefix(distinct[0], "Bearer ") {
		t.Errorf("the upstream received %d different Authorization headers over the %d calls, want one renewed bearer: %q",
			len(distinct), calls, distinct)
	}
	served := servedBy(rs.lb.since(mark))
	if len(served) != replicaCount {
		t.Errorf("the calls reached replicas %v, want all %d", served, replicaCount)
	}
	t.Logf("%d calls in %s, by replica %v: %d refresh grant(s)", calls, took, served, after.RefreshGrants-before.RefreshGrants)
}

// policyDeniedCode is the JSON-RPC error code of a policy denial, which
// the gateway answers 200 with, as the answer to the call.
const policyDeniedCode = -32001

// errPolicyDenied is callTool's error for a call the policy denied.
var errPolicyDenied = errors.New("denied by policy")

// callTool sends a tools/call as raw JSON-RPC and returns the status
// and, for a 200, the text of the answer's first content; an error for
// a JSON-RPC error (errPolicyDenied for a denial) or an isError result.
func callTool(client *http.Client, routeURL, tool, argsJSON string) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":` + argsJSON + `}}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, routeURL, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp.StatusCode, "", err
	}
	var answer struct {
		Result *struct {
			Content []struct {
				Text string `json:"text"`
			} `json:"content"`
			IsError bool `json:"isError"`
		} `json:"result"`
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	switch err := json.Unmarshal(raw, &answer); {
	case err != nil:
		return resp.StatusCode, "", fmt.Errorf("not a JSON-RPC answer: %v: %.200s", err, raw)
	case answer.Error != nil && answer.Error.Code == policyDeniedCode:
		return resp.StatusCode, "", fmt.Errorf("%w: %s", errPolicyDenied, answer.Error.Message)
	case answer.Error != nil:
		return resp.StatusCode, "", fmt.Errorf("JSON-RPC error: %s", answer.Error.Message)
	case answer.Result == nil || answer.Result.IsError || len(answer.Result.Content) == 0:
		return resp.StatusCode, "", fmt.Errorf("not a tool's answer: %.200s", raw)
	}
	return resp.StatusCode, answer.Result.Content[0].Text, nil
}
