package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/models/pgtest"
	"github.com/drawbridge/drawbridge/web/webtest"
)

// TestServingThroughADatabaseOutage: while PostgreSQL is down, a replica
// says it is not ready, yet goes on serving from its last snapshot: a
// browser signed in on an http route keeps its page, and an MCP call,
// which cannot be audited, is refused without reaching the upstream (or,
// with audit fail-open on, goes through unrecorded). Once the database
// is back, the same process serves both routes again and audits calls.
func TestServingThroughADatabaseOutage(t *testing.T) {
	t.Parallel()
	cluster := pgtest.NewCluster(t)
	dsn := cluster.DSN(t)
	secret := make([]byte, models.KeySize)
	rand.Read(secret)
	inst := startDrawbridgeWith(t, serveOptions{Env: []string{
		"DRAWBRIDGE_DATABASE_DRIVER=postgres",
		"DRAWBRIDGE_DATABASE_DSN=" + dsn,
		envEncryptionKey + "=" + replicaKeyID + ":" + base64.StdEncoding.EncodeToString(secret),
	}})
	probe := dialAll(inst.URL)
	waitReady(t, probe, inst.URL, http.StatusOK, "ok", 10*time.Second)

	app := startWhoAmIApp(t)
	echo := webtest.StartEchoMCP(t)
	port := inst.port(t)
	appURL, toolsURL := "http://app.localhost:"+port, "http://tools.localhost:"+port
	config := fmt.Sprintf("policies:\n  - name: signed-in\n    allow:\n      and:\n        - authenticated_user: true\n"+
		"routes:\n  - name: App\n    from: %s\n    to: %s\n    policies: [signed-in]\n"+
		"  - name: Tools\n    from: %s\n    to: %s\n    mcp: {server: {}}\n    policies: [signed-in]\n",
		appURL, app.URL, toolsURL, echo.URL)
	inst.cli(t, "", "apply", "-f", writeFile(t, "outage.yaml", config), "--console-url", inst.URL)
	jwt := strings.TrimSpace(inst.cli(t, "", "service-account", "create", "--user", inst.Email, "--name", "agent", "--quiet", "--console-url", inst.URL))
	agent := dialAll(inst.URL)
	agent.Transport = bearerTransport{bearer: "Drawbridge-" + jwt, base: agent.Transport}
	waitForRoute(t, probe, toolsURL)
	waitAccepted(t, agent, toolsURL)

	browser := dialAll(inst.URL)
	browser.Jar, _ = cookiejar.New(nil)
	consoleSignIn(t, browser, inst.URL, inst.Email, inst.Password)
	wantApp(t, browser, app, appURL, inst.Email, "before the outage")
	wantEcho(t, agent, toolsURL, "before-outage")

	// The default: audit fails closed.
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	waitReady(t, probe, inst.URL, http.StatusServiceUnavailable, "unreachable", 15*time.Second)
	wantApp(t, browser, app, appURL, inst.Email, "while the database is down")
	seen := echo.Requests()
	wantAuditRefusal(t, agent, toolsURL, "during-outage")
	if n := echo.Requests() - seen; n != 0 {
		t.Errorf("a call refused for want of an audit log reached the upstream (%d requests)", n)
	}
	if err := cluster.Start(); err != nil {
		t.Fatal(err)
	}
	waitReady(t, probe, inst.URL, http.StatusOK, "ok", 15*time.Second)
	wantApp(t, browser, app, appURL, inst.Email, "after the database came back")
	wantEcho(t, agent, toolsURL, "after-outage")

	// Audit fail-open, turned on in the console: the next outage lets
	// calls through, unrecorded, and counted.
	turnAuditFailOpenOn(t, browser, probe, inst.URL, dsn)
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	waitReady(t, probe, inst.URL, http.StatusServiceUnavailable, "unreachable", 15*time.Second)
	seen = echo.Requests()
	wantEcho(t, agent, toolsURL, "fail-open")
	if echo.Requests() == seen {
		t.Error("with audit fail-open on, the call was answered without reaching the upstream")
	}
	if n := unauditedCalls(t, probe, inst.URL); n != "1" {
		t.Errorf("drawbridge_proxy_unaudited_total is %s after one call let through unaudited, want 1", n)
	}
	if !strings.Contains(inst.stderr.String(), "audit fail-open is on") {
		t.Error("the log does not say a call went through unaudited")
	}
	if err := cluster.Start(); err != nil {
		t.Fatal(err)
	}
	waitReady(t, probe, inst.URL, http.StatusOK, "ok", 15*time.Second)
	wantEcho(t, agent, toolsURL, "after-fail-open")
	wantConsoleWarning(t, browser, inst.URL)

	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	audited := auditedTextsIn(t, db)
	for text, want := range map[string]bool{
		"before-outage": true, "after-outage": true, "after-fail-open": true,
		"during-outage": false, // refused: its failed commit stored nothing
		"fail-open":     false, // let through unrecorded, as the setting says
	} {
		if audited[text] != want {
			t.Errorf("the audit log has the call %q: %v, want %v", text, audited[text], want)
		}
	}
}

// whoAmIApp is the upstream of the http route: it answers who the
// X-Drawbridge-Assertion header says is calling, and counts requests.
type whoAmIApp struct {
	URL      string
	requests atomic.Int64
}

func startWhoAmIApp(t *testing.T) *whoAmIApp {
	t.Helper()
	a := &whoAmIApp{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.requests.Add(1)
		// Only the payload is read: which key signed it is not this test's concern.
		var claims struct {
			Email string `json:"email"`
		}
		parts := strings.Split(r.Header.Get("X-Drawbridge-Assertion"), ".")
		if len(parts) == 3 {
			payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
			_ = json.Unmarshal(payload, &claims)
		}
		fmt.Fprintf(w, "hello %s", claims.Email)
	}))
	t.Cleanup(srv.Close)
	a.URL = srv.URL
	return a
}

// consoleSignIn signs in through the console's /login form, as a
// browser would: the form's CSRF token, then the POST.
func consoleSignIn(t *testing.T, browser *http.Client, consoleURL, email, password string) {
	t.Helper()
	form := url.Values{"email": {email}, "password": {password}, "_csrf": {csrfOn(t, browser, consoleURL+"/login")}}
	status, body := postForm(t, browser, consoleURL, "/login", form)
	if status != http.StatusOK || strings.Contains(body, `data-testid="login-form"`) {
		t.Fatalf("sign in as %s: %d, %.300s", email, status, body)
	}
}

// csrfOn reads the CSRF token of the first form on the page at u.
func csrfOn(t *testing.T, browser *http.Client, u string) string {
	t.Helper()
	tok, _ := consolePage(t, browser, u).Find(`input[name="_csrf"]`).First().Attr("value")
	if tok == "" {
		t.Fatalf("%s has no CSRF token", u)
	}
	return tok
}

// consolePage loads the console page at u.
func consolePage(t *testing.T, browser *http.Client, u string) *goquery.Document {
	t.Helper()
	resp, err := browser.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatalf("%s (%d): %v", u, resp.StatusCode, err)
	}
	return doc
}

// postForm posts form to the console as a same-origin page would, follows
// the redirect, and returns the final status and body.
func postForm(t *testing.T, browser *http.Client, consoleURL, path string, form url.Values) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, consoleURL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", consoleURL)
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body)
}

// wantApp loads the http route's page as a browser: the first time, the
// route host sends it through the console's sign-in and back; after
// that, its cookie is enough. The app must answer, and see email.
func wantApp(t *testing.T, browser *http.Client, app *whoAmIApp, appURL, email, when string) {
	t.Helper()
	before := app.requests.Load()
	req, _ := http.NewRequest(http.MethodGet, appURL+"/", nil)
	req.Header.Set("Accept", "text/html")
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatalf("%s: the http route: %v", when, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK || string(body) != "hello "+email || app.requests.Load() == before {
		t.Errorf("%s: the http route answered %d %q at %s; want the app's page for %s", when, resp.StatusCode, body, resp.Request.URL, email)
	}
}

// wantEcho calls the echo tool with text; it must answer it.
func wantEcho(t *testing.T, agent *http.Client, toolsURL, text string) {
	t.Helper()
	status, got, err := callTool(agent, toolsURL, "echo", `{"text":"`+text+`"}`)
	if status != http.StatusOK || err != nil || got != text {
		t.Errorf("echo %q: %d %q, %v", text, status, got, err)
	}
}

// wantAuditRefusal calls the echo tool, which must be refused with 503
// and the JSON-RPC error of an audit log that cannot be written.
func wantAuditRefusal(t *testing.T, agent *http.Client, toolsURL, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	body := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"` + text + `"}}}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, toolsURL, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := agent.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	var answer struct {
		JSONRPC string `json:"jsonrpc"`
		Error   *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	err = json.Unmarshal(raw, &answer)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Content-Type") != "application/json" || err != nil ||
		answer.JSONRPC != "2.0" || answer.Error == nil || answer.Error.Code != -32004 || !strings.Contains(answer.Error.Message, "audit log") {
		t.Errorf("a call that cannot be audited: %d %s %s; want 503 and a JSON-RPC error -32004", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
}

// turnAuditFailOpenOn turns audit fail-open on in the console's settings,
// waits until the engine serves the configuration that holds it, and
// checks that the console warns of it.
func turnAuditFailOpenOn(t *testing.T, browser, probe *http.Client, consoleURL, dsn string) {
	t.Helper()
	form := url.Values{"fail_open": {"true"}, "_csrf": {csrfOn(t, browser, consoleURL+"/admin/settings")}}
	if status, body := postForm(t, browser, consoleURL, "/admin/settings/audit", form); status != http.StatusOK {
		t.Fatalf("turn audit fail-open on: %d %.300s", status, body)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var version int64
	if err := db.QueryRow(`SELECT version FROM config_versions WHERE id = 1`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the engine to serve the settings with fail-open on", func() bool {
		resp, err := probe.Get(consoleURL + "/readyz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var ready struct {
			Version int64 `json:"config_version"`
		}
		return json.NewDecoder(resp.Body).Decode(&ready) == nil && ready.Version >= version
	})
	wantConsoleWarning(t, browser, consoleURL)
}

// wantConsoleWarning checks that the console's dashboard warns that
// audit fail-open is on.
func wantConsoleWarning(t *testing.T, browser *http.Client, consoleURL string) {
	t.Helper()
	if w := consolePage(t, browser, consoleURL+"/admin").Find(`[data-testid="console-warning"]`).Text(); !strings.Contains(w, "fail-open is on") {
		t.Errorf("the dashboard does not warn that audit fail-open is on (warning: %q)", strings.TrimSpace(w))
	}
}

// unauditedCalls reads drawbridge_proxy_unaudited_total from /metrics.
func unauditedCalls(t *testing.T, client *http.Client, consoleURL string) string {
	t.Helper()
	resp, err := client.Get(consoleURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^drawbridge_proxy_unaudited_total (\S+)$`).FindSubmatch(body)
	if m == nil {
		t.Fatal("/metrics has no drawbridge_proxy_unaudited_total")
	}
	return string(m[1])
}
