package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/web/webtest"
)

// The bypass catalogue's world: the whole server (real SQLite, real
// gateway, real authorization server) with two MCP server routes on
// *.localhost names of the console's port, each to its own upstream built
// with the official Go SDK, behind a recorder of everything that reaches
// it.
//
//   - Tools (guarded): authenticated users, but no admin_ tool, and no call
//     whose argument stack is prod, or whose argument "file/path" (pointer
//     file~1path) starts with /etc.
//   - Open: any authenticated user, any tool. It is what an attacker would
//     like a guarded call to be judged as.
type bypassWorld struct {
	app                   *testApp
	port                  string
	hosts                 *http.Client // reaches route hosts; follows no redirects
	tools, open           *models.Route
	toolsUp, openUp       *recordedUpstream
	alice                 *browser // signed in at the console
	client                testClient
	toolsToken, openToken string // alice's access tokens, one per route
}

const guardedPolicy = "allow:\n  and:\n    - authenticated_user: true\n" +
	"deny:\n  or:\n    - mcp_tool: {starts_with: admin_}\n" +
	"    - mcp_argument/stack: {is: prod}\n    - mcp_argument/file~1path: {starts_with: /etc}\n"

func newBypassWorld(t *testing.T) *bypassWorld {
	t.Helper()
	app := newTestApp(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(app.URL, "http://"))
	w := &bypassWorld{app: app, port: port, toolsUp: startRecordedUpstream(t), openUp: startRecordedUpstream(t)}
	w.hosts = &http.Client{
		Transport:     &http.Transport{DialContext: (&connectWorld{app: app, port: port}).hostDialer()},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	w.tools = w.route(t, "Tools", "tools", w.toolsUp, guardedPolicy)
	w.open = w.route(t, "Open", "open", w.openUp, "allow:\n  and:\n    - authenticated_user: true\n")
	app.user(t, "alice@example.com", false)
	app.waitForGateway(t)
	w.alice = app.browser(t)
	w.alice.login("alice@example.com")
	w.client = app.client(t, "Claude", models.AuthMethodNone)
	w.toolsToken, w.openToken = w.accessToken(t, w.tools), w.accessToken(t, w.open)
	return w
}

// route adds an MCP server route from http://<sub>.localhost:<port> to up,
// under a policy of its own.
func (w *bypassWorld) route(t *testing.T, name, sub string, up *recordedUpstream, policy string) *models.Route {
	t.Helper()
	ctx := context.Background()
	p := &models.Policy{Name: strings.ToLower(name), Source: policy}
	if err := w.app.Store.CreatePolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	r := &models.Route{Name: name, From: "http://" + sub + ".localhost:" + w.port, To: up.URL, Kind: models.KindMCPServer, Enabled: true}
	if err := w.app.Store.CreateRoute(ctx, r, []uint{p.ID}); err != nil {
		t.Fatal(err)
	}
	return r
}

// accessToken runs the authorization flow as alice for route.
func (w *bypassWorld) accessToken(t *testing.T, route *models.Route) string {
	t.Helper()
	code, p := w.alice.codeFor(w.client, route.From)
	tok := w.app.exchange(t, w.client, code, p)
	if tok.AccessToken == "" {
		t.Fatalf("no access token for %s: %+v", route.Name, tok)
	}
	return tok.AccessToken
}

// toolCall is a tools/call request with id 1.
func toolCall(tool, args string) string {
	return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":` + args + `}}`
}

// mcpRequest is a POST of body to url as an MCP client on 2025-06-18
// sends it, with alice's token for the Tools route; set changes headers
// after that ("" removes one).
func (w *bypassWorld) mcpRequest(method, url, body string, set map[string]string) *http.Request {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body == "" {
		req.Body = nil
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-06-18")
	req.Header.Set("Authorization", "Bearer "+w.toolsToken)
	for k, v := range set {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return req
}

// send sends req to a route host and reads the answer.
func (w *bypassWorld) send(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := w.hosts.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// upstreamCounts is how many requests each upstream has received.
func (w *bypassWorld) upstreamCounts() [2]int {
	return [2]int{w.toolsUp.count(), w.openUp.count()}
}

// wantRefused fails unless the answer is status with a JSON-RPC error of
// code (any code when code is 0), and no upstream received anything since
// before was taken.
func (w *bypassWorld) wantRefused(t *testing.T, resp *http.Response, body []byte, before [2]int, status, code int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status %d, want %d; body %.200s", resp.StatusCode, status, body)
	}
	var answer struct {
		JSONRPC string `json:"jsonrpc"`
		Error   *struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || answer.JSONRPC != "2.0" || answer.Error == nil {
		t.Errorf("the refusal is not a JSON-RPC error: %.200s", body)
	} else if code != 0 && answer.Error.Code != code {
		t.Errorf("JSON-RPC error %d, want %d; body %.200s", answer.Error.Code, code, body)
	}
	if after := w.upstreamCounts(); after != before {
		t.Errorf("the upstreams received %d and %d request(s)", after[0]-before[0], after[1]-before[1])
	}
}

// bypassCase is one request the gateway must refuse: a POST of body to
// the Tools route with mcpRequest's headers, changed by set and then edit;
// sent through client when it is set.
type bypassCase struct {
	name   string
	body   string
	set    map[string]string
	edit   func(r *http.Request)
	client *http.Client
	status int
	code   int // the JSON-RPC error code of the refusal
}

// refuseAll runs each case as a subtest: it must be refused with its
// status and code, and no upstream may receive anything.
func (w *bypassWorld) refuseAll(t *testing.T, cases []bypassCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := w.mcpRequest(http.MethodPost, w.tools.From, tc.body, tc.set)
			if tc.edit != nil {
				tc.edit(req)
			}
			client := w.hosts
			if tc.client != nil {
				client = tc.client
			}
			before := w.upstreamCounts()
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			w.wantRefused(t, resp, body, before, tc.status, tc.code)
		})
	}
}

// wantAllowed fails unless an allowed call goes through to the Tools
// upstream: the control that shows the refusals are the gateway's, and
// that the recorder sees what reaches the upstream.
func (w *bypassWorld) wantAllowed(t *testing.T, req *http.Request) {
	t.Helper()
	before := w.toolsUp.count()
	resp, body := w.send(t, req)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"result"`) {
		t.Fatalf("allowed call: status %d, body %.300s", resp.StatusCode, body)
	}
	if got := w.toolsUp.count() - before; got != 1 {
		t.Fatalf("the allowed call reached the upstream %d times, want once", got)
	}
}

// recordedUpstream is a webtest.EchoMCP behind a recorder of every request
// that reaches it, headers and body.
type recordedUpstream struct {
	URL  string
	mu   sync.Mutex
	seen []seenRequest
}

type seenRequest struct {
	Method string
	Header http.Header
	Body   []byte
}

func startRecordedUpstream(t *testing.T) *recordedUpstream {
	t.Helper()
	echo := webtest.StartEchoMCP(t)
	target, _ := url.Parse(echo.URL)
	u := &recordedUpstream{}
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(&url.URL{Scheme: target.Scheme, Host: target.Host})
	}}
	ts := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.seen = append(u.seen, seenRequest{Method: r.Method, Header: r.Header.Clone(), Body: body})
		u.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(rw, r)
	}))
	t.Cleanup(ts.Close)
	u.URL = ts.URL + target.Path
	return u
}

func (u *recordedUpstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.seen)
}

// last is the latest request the upstream received.
func (u *recordedUpstream) last(t *testing.T) seenRequest {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.seen) == 0 {
		t.Fatal("the upstream received nothing")
	}
	return u.seen[len(u.seen)-1]
}
