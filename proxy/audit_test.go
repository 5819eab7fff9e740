package proxy_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge/drawbridge/models"
)

// TestEveryCallIsAudited: allowed and denied calls are both in the audit
// log, with who, what and why, arguments redacted, and the outcome added
// once the answer is back.
func TestEveryCallIsAudited(t *testing.T) {
	g := newGateway(t)
	route := g.route("Tools", "tools.localhost", openPolicy)
	bearer, _ := g.token(route.From)
	body := `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi","api_token":"s3cret"}}}`
	if status := g.rpc(route.From, bearer, body); status != http.StatusOK {
		t.Fatalf("allowed call: %d", status)
	}
	if denied, answer := g.callDenied(route.From, bearer, "admin_reset"); !denied {
		t.Fatalf("denied call: %s", answer)
	}
	allowed, denied := g.auditEvent("echo"), g.auditEvent("admin_reset")
	if allowed.Decision != models.AuditAllow || allowed.UserEmail != g.user.Email || allowed.RouteName != "Tools" ||
		allowed.MCPMethod != "tools/call" || allowed.RequestID == "" || allowed.Hash == "" {
		t.Errorf("allowed call recorded as %+v", allowed)
	}
	if strings.Contains(allowed.Arguments, "s3cret") || !strings.Contains(allowed.Arguments, `"hi"`) {
		t.Errorf("arguments recorded as %s, want the secret redacted and the rest kept", allowed.Arguments)
	}
	if denied.Decision != models.AuditDeny || !strings.Contains(denied.Reasons, "deny") {
		t.Errorf("denied call recorded as %+v", denied)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ev := g.auditEvent("echo")
		if ev.Status != nil {
			if *ev.Status != http.StatusOK || ev.DurationMicros == nil || ev.ResponseBytes == nil || *ev.ResponseBytes == 0 {
				t.Errorf("outcome recorded as status %v, duration %v, bytes %v", *ev.Status, ev.DurationMicros, ev.ResponseBytes)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the allowed call's outcome was never recorded")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The denial was answered 200 with its JSON-RPC error: an rpc_error
	// outcome, not an http_error one, on an event that stays a denial.
	for {
		ev := g.auditEvent("admin_reset")
		if ev.Status != nil {
			if *ev.Status != http.StatusOK || ev.RPCErrorCode == nil || *ev.RPCErrorCode != -32001 {
				t.Errorf("the denial's outcome recorded as status %v, JSON-RPC error %v; want 200 and -32001", *ev.Status, ev.RPCErrorCode)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the denied call's outcome was never recorded")
		}
		time.Sleep(20 * time.Millisecond)
	}
	chains, err := g.store.VerifyAuditChains(context.Background())
	if err != nil || len(chains) != 1 || chains[0].Break != nil {
		t.Errorf("audit chains: %+v, %v", chains, err)
	}
}

// TestNoAuditNoCall: when the audit log cannot be written, calls are
// refused and never reach the upstream (fail closed).
func TestNoAuditNoCall(t *testing.T) {
	g := newGateway(t)
	route := g.route("Tools", "tools.localhost", openPolicy)
	bearer, _ := g.token(route.From)
	if err := g.audit.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := len(g.upstream.headers())
	if status := g.call(route.From, bearer, "echo"); status != http.StatusServiceUnavailable {
		t.Errorf("call with the audit log down: %d, want 503", status)
	}
	if len(g.upstream.headers()) != before {
		t.Error("an unaudited call reached the upstream")
	}
}

// auditEvent returns the newest audit event of a call to tool.
func (g *gateway) auditEvent(tool string) *models.AuditEvent {
	g.t.Helper()
	page, err := g.store.ListAuditEvents(context.Background(), models.AuditFilter{ToolPrefix: tool}, 0, 100)
	if err != nil {
		g.t.Fatal(err)
	}
	for i := range page.Events {
		if page.Events[i].Tool == tool {
			return &page.Events[i]
		}
	}
	g.t.Fatalf("no audit event for %s", tool)
	return nil
}

// TestOutcomesTellFailedCallsApart: a tool call that fails inside the
// tool is a 200 with isError; the audit log keeps that apart.
func TestOutcomesTellFailedCallsApart(t *testing.T) {
	g := newGateway(t)
	route := g.route("Tools", "tools.localhost", openPolicy)
	bearer, _ := g.token(route.From)
	// text must be a string: the tool answers with isError set.
	body := `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"search","arguments":{"text":5}}}`
	if status := g.rpc(route.From, bearer, body); status != http.StatusOK {
		t.Fatalf("call: %d", status)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ev := g.auditEvent("search")
		if ev.Status != nil {
			if ev.IsError == nil || !*ev.IsError {
				t.Errorf("a failed tool call recorded with isError %v", ev.IsError)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no outcome recorded")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAuditFailOpen: an admin may choose to let calls through when the
// audit log cannot be written.
func TestAuditFailOpen(t *testing.T) {
	g := newGateway(t)
	route := g.route("Tools", "tools.localhost", openPolicy)
	bearer, _ := g.token(route.From)
	settings, err := g.store.GetSettings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	settings.AuditFailOpen = true
	if err := g.store.UpdateSettings(context.Background(), settings); err != nil {
		t.Fatal(err)
	}
	g.waitVersion()
	if err := g.audit.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if status := g.call(route.From, bearer, "echo"); status != http.StatusOK {
		t.Errorf("call with the audit log down and fail-open on: %d, want 200", status)
	}
	if denied, answer := g.callDenied(route.From, bearer, "admin_reset"); !denied {
		t.Errorf("fail-open let a denied call through: %s", answer)
	}
}

// TestRequestsInFlightReachTheAuditWriter: while an MCP POST is being
// served, the audit writer counts it in flight (so that its group commit
// may linger for it), and every way out of the gateway, allowed, denied
// or refused, takes it off again.
func TestRequestsInFlightReachTheAuditWriter(t *testing.T) {
	g := newGateway(t)
	var seen atomic.Int64
	seen.Store(-1)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(int64(g.auditRequestsInFlight()))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"content":[]}}`)
	}))
	t.Cleanup(upstream.Close)
	route := g.routeTo("Counted", "counted.localhost", upstream.URL, openPolicy)
	bearer, _ := g.token(route.From)
	if status := g.call(route.From, bearer, "echo"); status != http.StatusOK {
		t.Fatalf("allowed call: %d", status)
	}
	if got := seen.Load(); got != 1 {
		t.Errorf("the upstream saw %d requests in flight at the audit writer, want 1", got)
	}
	if denied, answer := g.callDenied(route.From, bearer, "admin_reset"); !denied {
		t.Fatalf("denied call: %s", answer)
	}
	if status := g.rpc(route.From, bearer, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"x"}}`); status != http.StatusBadRequest {
		t.Fatalf("duplicate keys: %d, want 400", status)
	}
	if resp, _ := g.send(http.MethodGet, route.From, bearer, ""); resp.StatusCode >= 500 {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
	if got := g.auditRequestsInFlight(); got != 0 {
		t.Errorf("%v requests still in flight after every answer, want 0", got)
	}
}

// auditRequestsInFlight reads the audit writer's in-flight gauge.
func (g *gateway) auditRequestsInFlight() float64 {
	families, err := g.auditMetrics.Gather()
	if err != nil {
		g.t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "drawbridge_audit_requests_in_flight" {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	g.t.Fatal("no drawbridge_audit_requests_in_flight gauge")
	return 0
}
