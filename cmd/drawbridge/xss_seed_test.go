package main

// The world TestStoredXSSInEveryDisplayedField looks at: script payloads
// in every field a person types or an outsider controls, put there the way
// they would be (the declarative file, the CLI, dynamic client
// registration, an upstream MCP server's own answers, an upstream OAuth
// provider's ID token, tool calls through the gateway).

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"gopkg.in/yaml.v3"
)

// xssPayloads are the ways a value may try to become markup: an element,
// breaking out of a double- or single-quoted attribute, breaking out of a
// textarea, title or option, and a handler that opens a dialog. Each
// carries data-xss=tag, so that the element it would make names the field
// it came from.
func xssPayloads(tag string) []string {
	return []string{
		`<img src=x data-xss=` + tag + ` onerror="window.__xss=(window.__xss||0)+1">`,
		`"><svg data-xss=` + tag + ` onload="window.__xss=1">`,
		`'><script data-xss=` + tag + `>window.__xss=1</script>`,
		`</textarea></title></option><b data-xss=` + tag + `>`,
		`<svg data-xss=` + tag + ` onload=alert(1)>`,
	}
}

// xssCompact are payloads without spaces or double quotes, for fields that
// refuse them (OAuth scopes, URIs).
func xssCompact(tag string) []string {
	return []string{`<b/data-xss=` + tag + `>`, `'><b/data-xss=` + tag + `>`, `</textarea><b/data-xss=` + tag + `>`}
}

// xssAll is every payload for tag in one value.
func xssAll(tag string) string { return strings.Join(xssPayloads(tag), " ") }

// xssValues spreads tag's payloads over as few values of at most max
// characters as they fit in: one object per value, where a field is short.
func xssValues(tag string, max int) []string {
	var out []string
	cur := ""
	for _, p := range xssPayloads(tag) {
		switch {
		case cur == "":
			cur = p
		case utf8.RuneCountInString(cur+" "+p) <= max:
			cur += " " + p
		default:
			out = append(out, cur)
			cur = p
		}
	}
	return append(out, cur)
}

// xssWorld is what was seeded, for the pages to be checked against.
type xssWorld struct {
	inst      *instance
	routeURL  string // the first route's URL, where the calls go
	routes    []string
	clientIDs []string // dynamically registered clients, with payload names
	callback  string   // their redirect URI
	plain     struct{ email, password string }
	agent     *sdk.ClientSession // the first service account, on the first route
	agentHTTP *http.Client       // the same account's bearer, for raw requests
	denyArg   string             // a query argument the policy denies
}

// The plain user: a person, not an admin, whose email uses the characters
// an address may hold that mean something in HTML.
const xssPlainEmail, xssPlainPassword = "o'neil&co=1@example.com", "plain-has-a-long-password"

// seedXSS starts the peers and fills inst with payloads.
func seedXSS(t *testing.T, inst *instance) *xssWorld {
	t.Helper()
	w := &xssWorld{inst: inst, denyArg: xssPayloads("deny-arg")[0]}
	w.plain.email, w.plain.password = xssPlainEmail, xssPlainPassword
	// The provider's ID token holds 300 characters of the account's name.
	w.apply(t, startXSSUpstream(t), startXSSProvider(t, strings.Join(xssPayloads("connected-account")[:3], " ")))
	token := w.createPeople(t)
	w.register(t)
	w.connectAgent(t, token)
	w.call(t, map[string]any{"query": xssAll("arg-value"), xssPayloads("arg-key")[0]: 1}, false)
	w.call(t, map[string]any{"query": w.denyArg}, true)
	w.callBadName(t)
	return w
}

// apply writes the declarative file: an upstream app that signs people in
// at provider, one whose URLs carry payloads, a policy, and routes to
// upstream.
func (w *xssWorld) apply(t *testing.T, upstream, provider string) {
	t.Helper()
	port := w.inst.port(t)
	w.routes = xssValues("route-name", 100)
	if len(w.routes) < 3 {
		t.Fatalf("route-name payloads fit in %d routes; the seed needs 3", len(w.routes))
	}
	w.routeURL = "http://localhost:" + port + "/p&lt;b&gt;"
	var routes []map[string]any
	for i, name := range w.routes {
		r := map[string]any{"name": name, "description": xssAll("route-desc"), "to": upstream,
			"from": fmt.Sprintf("http://r%d.localhost:%s", i, port), "policies": []string{"xss-policy"},
			"mcp": map[string]any{"server": map[string]any{}}}
		switch i {
		case 0: // the route calls go through; its from has a path prefix
			r["from"] = w.routeURL
		case 1: // the route people connect their upstream account for
			r["mcp"] = map[string]any{"server": map[string]any{"upstream_oauth_app": "xss-app"}}
		case 2: // an upstream URL whose query breaks out of an attribute
			r["to"] = upstream + "?x=" + xssPayloads("route-to")[1]
		}
		routes = append(routes, r)
	}
	var rule []string
	for _, p := range xssPayloads("policy-rule") {
		rule = append(rule, yamlQuote(p))
	}
	source := "# " + xssAll("policy-source") + "\nallow:\n  and:\n    - authenticated_user: true\ndeny:\n  or:\n" +
		"    - mcp_argument/query: {is: " + yamlQuote(w.denyArg) + "}\n" +
		"    - mcp_argument/note: {in: [" + strings.Join(rule, ", ") + "]}\n"
	file := map[string]any{
		"upstream_oauth_apps": []map[string]any{{
			"name": "xss-app", "client_id": xssAll("app-client-id"), "client_secret": "xss-secret",
			"auth_url": provider + "/authorize", "token_url": provider + "/token", "auth_style": "params",
			"scopes":       append([]string{"openid"}, xssCompact("app-scope")...),
			"extra_params": map[string]string{"note": xssAll("app-extra-param")},
		}, {
			"name": "xss-urls", "client_id": "plain", "client_secret": "xss-secret",
			"auth_url":       "https://auth.example/authorize?x=" + xssPayloads("app-auth-url")[1],
			"token_url":      "https://auth.example/token?x=" + xssPayloads("app-token-url")[2],
			"revocation_url": "https://auth.example/revoke?x=" + xssPayloads("app-revocation-url")[0],
		}},
		"policies": []map[string]any{{"name": "xss-policy", "description": xssAll("policy-desc"), "source": source}},
		"routes":   routes,
	}
	data, err := yaml.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	w.inst.cli(t, "", "apply", "-f", writeFile(t, "xss.yaml", string(data)), "--console-url", w.inst.URL)
}

// createPeople creates, with the CLI, users with payload display names
// (the plain user among them) and service accounts acting as the plain
// user, and returns the first account's token.
func (w *xssWorld) createPeople(t *testing.T) (token string) {
	t.Helper()
	for i, name := range xssValues("user-name", 200) {
		email := fmt.Sprintf("named%d@example.com", i)
		if i == 0 {
			email = w.plain.email
		}
		w.inst.cli(t, w.plain.password+"\n", "user", "create", "--email", email, "--name", name, "--password-stdin")
	}
	for i, name := range xssValues("sa-name", 100) {
		// Expiring within the week, so the dashboard lists them too.
		out := w.inst.cli(t, "", "service-account", "create", "--user", w.plain.email, "--name", name,
			"--description", xssAll("sa-desc"), "--expires", "7d", "--quiet", "--console-url", w.inst.URL)
		if i == 0 {
			token = strings.TrimSpace(out)
		}
	}
	return token
}

// yamlQuote is s as a single-quoted YAML scalar.
func yamlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// register registers MCP clients with /oauth/register as a client would,
// with payloads in every field the console shows, and checks that a
// javascript: URI in a field shown as a link is refused.
func (w *xssWorld) register(t *testing.T) {
	t.Helper()
	cb := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(rw, "Signed in. You can close this page.")
	}))
	t.Cleanup(cb.Close)
	w.callback = cb.URL + "/callback"
	body := func(name, clientURI, logoURI string, redirects ...string) map[string]any {
		return map[string]any{
			"client_name": name, "client_uri": clientURI, "logo_uri": logoURI,
			"redirect_uris":              append([]string{w.callback}, redirects...),
			"token_endpoint_auth_method": "none", "grant_types": []string{"authorization_code", "refresh_token"},
		}
	}
	for _, name := range xssValues("client-name", 200) {
		status, answer := w.postJSON(t, "/oauth/register", body(name,
			"https://client.example/?"+xssCompact("client-uri")[1], "https://client.example/logo.png?"+xssCompact("logo-uri")[0],
			"http://127.0.0.1:1/cb?x=\"><b/data-xss=redirect-uri>", "com.example.xss:/"+xssCompact("redirect-uri")[2]))
		var got struct {
			ClientID string `json:"client_id"`
		}
		if status != http.StatusCreated || json.Unmarshal(answer, &got) != nil || got.ClientID == "" {
			t.Fatalf("register a client named %q: %d %s", name, status, answer)
		}
		w.clientIDs = append(w.clientIDs, got.ClientID)
	}
	for field, b := range map[string]map[string]any{
		"client_uri":    body("js client", "javascript:window.__xss=1", ""),
		"logo_uri":      body("js logo", "", "javascript:window.__xss=1"),
		"redirect_uris": body("js redirect", "", "", "javascript:window.__xss=1"),
	} {
		if status, answer := w.postJSON(t, "/oauth/register", b); status != http.StatusBadRequest {
			t.Errorf("registration with a javascript: %s answered %d %s; want 400", field, status, answer)
		}
	}
}

// postJSON posts body to the console as JSON and returns the answer.
func (w *xssWorld) postJSON(t *testing.T, path string, body any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := dialAll(w.inst.URL).Post(w.inst.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, answer
}

// connectAgent connects the Go SDK client to the first route with a
// service account's token.
func (w *xssWorld) connectAgent(t *testing.T, token string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &recordingBearer{bearer: "Drawbridge-" + token, base: dialAll(w.inst.URL).Transport}}
	waitAccepted(t, client, w.routeURL)
	w.agentHTTP = client
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	s, err := sdk.NewClient(&sdk.Implementation{Name: "xss-agent", Version: "1"}, nil).Connect(ctx,
		&sdk.StreamableClientTransport{Endpoint: w.routeURL, HTTPClient: client, MaxRetries: -1, DisableStandaloneSSE: true}, nil)
	if err != nil {
		t.Fatalf("connect to %s with the service account: %v", w.routeURL, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	w.agent = s
}

// call calls the upstream's lookup tool with args; denied says whether
// the policy refuses it.
func (w *xssWorld) call(t *testing.T, args map[string]any, denied bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := w.agent.CallTool(ctx, &sdk.CallToolParams{Name: "lookup", Arguments: args})
	switch {
	case denied && (err == nil || !strings.Contains(err.Error(), "policy")):
		t.Fatalf("a call the policy denies answered %v %+v", err, res)
	case !denied && (err != nil || res.IsError):
		t.Fatalf("call lookup: %v %+v", err, res)
	}
}

// callBadName sends a tools/call naming a tool with a payload. The gateway
// refuses a message it cannot read before anything else, so the name
// reaches neither the upstream nor the audit log: no page can show it.
func (w *xssWorld) callBadName(t *testing.T) {
	t.Helper()
	msg, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 9, "method": "tools/call",
		"params": map[string]any{"name": xssPayloads("call-tool-name")[0], "arguments": map[string]any{}}})
	req, _ := http.NewRequest(http.MethodPost, w.routeURL, bytes.NewReader(msg))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := w.agentHTTP.Do(req)
	if err != nil {
		t.Fatalf("call a tool named with a payload: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a tool named with a payload answered %s; want 400", resp.Status)
	}
}

// startXSSUpstream starts an MCP server, with the official Go SDK, whose
// name, version, tool names, titles and descriptions are payloads. Only
// lookup has a name the specification allows; the gateway drops the
// others from tools/list, but the console's connection test shows them.
func startXSSUpstream(t *testing.T) string {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	server := sdk.NewServer(&sdk.Implementation{Name: xssAll("server-name"), Title: xssAll("server-title"),
		Version: xssPayloads("server-version")[1]}, &sdk.ServerOptions{Logger: logger})
	schema := map[string]any{"type": "object"}
	lookup := func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: xssAll("tool-result")}}}, nil
	}
	server.AddTool(&sdk.Tool{Name: "lookup", Title: xssAll("tool-title"), Description: xssAll("tool-desc"), InputSchema: schema,
		Annotations: &sdk.ToolAnnotations{Title: xssAll("tool-annotation-title")}}, lookup)
	for _, name := range xssPayloads("tool-name") {
		server.AddTool(&sdk.Tool{Name: name, Description: xssPayloads("tool-desc")[0], InputSchema: schema}, lookup)
	}
	handler := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return server },
		&sdk.StreamableHTTPOptions{Stateless: true, JSONResponse: true, Logger: logger})
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return srv.URL + "/mcp"
}

// startXSSProvider starts an upstream OAuth provider that signs everyone
// in at once and whose ID token names the account account: the portal
// and the console show that name, which the provider alone chose.
func startXSSProvider(t *testing.T, account string) string {
	t.Helper()
	claims, _ := json.Marshal(map[string]string{"sub": "outsider", "preferred_username": account})
	idToken := "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString(claims) + ".sig"
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", func(rw http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		back, err := url.Parse(q.Get("redirect_uri"))
		if err != nil {
			http.Error(rw, "bad redirect_uri", http.StatusBadRequest)
			return
		}
		back.RawQuery = url.Values{"code": {"xss-code"}, "state": {q.Get("state")}}.Encode()
		http.Redirect(rw, r, back.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(rw).Encode(map[string]any{"access_token": "xss-upstream-token", "token_type": "Bearer",
			"expires_in": 3600, "refresh_token": "xss-refresh", "id_token": idToken})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}
