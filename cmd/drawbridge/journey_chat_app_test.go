package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// chatApp is the app behind TestChatAppJourney's mcp_client route: the
// small front end a company writes for its chat assistant. Drawbridge
// signs its users in and hands it, on every request, the user's access
// token; with that token the app lists the user's MCP servers, sends the
// user to Connect the ones that need it, and calls their tools with the
// official Go SDK, as it would on an LLM's behalf.
type chatApp struct {
	publicURL string       // the chat route's URL, as browsers see it
	client    *http.Client // reaches the route hosts

	mu     sync.Mutex
	visits []chatVisit
}

// chatVisit is what one request reaching the app carried.
type chatVisit struct {
	Path          string
	Authorization string
	Assertion     string
	Cookies       []string // names
	Drawbridge    []string // names of X-Drawbridge-* headers
}

// chatServer is one entry of /.drawbridge/mcp/routes.
type chatServer struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	URL         string `json:"url"`
	Connected   bool   `json:"connected"`
	NeedsOAuth  bool   `json:"needs_oauth"`
	// ConnectURL is where the app sends the user to connect; the app
	// fills it in.
	ConnectURL string `json:"-"`
}

// startChatApp serves the app on loopback until the test ends and returns
// it and its address, the route's upstream.
func startChatApp(t *testing.T, publicURL string, client *http.Client) (*chatApp, string) {
	a := &chatApp{publicURL: publicURL, client: client}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /call", a.call)
	srv := httptest.NewServer(a.record(mux))
	t.Cleanup(srv.Close)
	return a, srv.URL
}

// record notes what every request brought, whatever its path.
func (a *chatApp) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := chatVisit{Path: r.URL.Path, Authorization: r.Header.Get("Authorization"), Assertion: r.Header.Get("X-Drawbridge-Assertion")}
		for _, c := range r.Cookies() {
			v.Cookies = append(v.Cookies, c.Name)
		}
		for name := range r.Header {
			if strings.HasPrefix(strings.ToLower(name), "x-drawbridge-") {
				v.Drawbridge = append(v.Drawbridge, name)
			}
		}
		slices.Sort(v.Drawbridge)
		a.mu.Lock()
		a.visits = append(a.visits, v)
		a.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// seen returns every visit so far.
func (a *chatApp) seen() []chatVisit {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.visits)
}

var chatPage = template.Must(template.New("chat").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Chat</title></head>
<body><main>
<h1>Chat</h1>
{{with .Error}}<p data-testid="chat-error">{{.}}</p>{{end}}
{{with .Servers}}<h2>Your MCP servers</h2>
<ul>{{range .}}
  <li data-testid="chat-server" data-name="{{.Name}}" data-url="{{.URL}}" data-connected="{{.Connected}}">
    <strong>{{.Name}}</strong> {{.Description}}
    <span data-testid="chat-server-state">{{if .Connected}}connected{{else}}not connected{{end}}</span>
    {{if .Connected}}<a data-testid="chat-call" href="/call?server={{.Name}}">Call whoami</a>
    {{else}}<a data-testid="chat-connect" href="{{.ConnectURL}}">Connect</a>{{end}}
  </li>{{end}}
</ul>{{end}}
{{if .Called}}<h2>whoami on {{.Called}}</h2>
<p>The MCP server received this Authorization header:</p>
<pre data-testid="chat-result">{{.Result}}</pre>
<p><a data-testid="chat-back" href="/">Back</a></p>{{end}}
</main></body></html>
`))

type chatPageProps struct {
	Servers        []chatServer
	Called, Result string
	Error          string
}

// home lists the user's servers: Connect for those that need it, a
// tool call for the rest.
func (a *chatApp) home(w http.ResponseWriter, r *http.Request) {
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		a.render(w, http.StatusUnauthorized, chatPageProps{Error: "Drawbridge sent no access token."})
		return
	}
	servers, err := a.servers(r.Context(), bearer)
	if err != nil {
		a.render(w, http.StatusBadGateway, chatPageProps{Error: err.Error()})
		return
	}
	// The app remembers something of its own: its cookies reach it,
	// Drawbridge's do not.
	http.SetCookie(w, &http.Cookie{Name: "chat_seen", Value: "1", Path: "/", HttpOnly: true})
	a.render(w, http.StatusOK, chatPageProps{Servers: servers})
}

// call calls the whoami tool on the server named in ?server=.
func (a *chatApp) call(w http.ResponseWriter, r *http.Request) {
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		a.render(w, http.StatusUnauthorized, chatPageProps{Error: "Drawbridge sent no access token."})
		return
	}
	servers, err := a.servers(r.Context(), bearer)
	if err != nil {
		a.render(w, http.StatusBadGateway, chatPageProps{Error: err.Error()})
		return
	}
	name := r.URL.Query().Get("server")
	i := slices.IndexFunc(servers, func(s chatServer) bool { return s.Name == name })
	if i < 0 {
		a.render(w, http.StatusNotFound, chatPageProps{Error: "You have no MCP server named " + name + "."})
		return
	}
	got, err := a.whoami(r.Context(), servers[i].URL, bearer)
	if err != nil {
		a.render(w, http.StatusBadGateway, chatPageProps{Error: name + ": " + err.Error()})
		return
	}
	a.render(w, http.StatusOK, chatPageProps{Called: name, Result: got})
}

// servers asks Drawbridge, on the app's own host, which MCP servers the
// user may use.
func (a *chatApp) servers(ctx context.Context, bearer string) ([]chatServer, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.publicURL+"/.drawbridge/mcp/routes", nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	var list struct {
		Servers []chatServer `json:"servers"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &list) != nil {
		return nil, fmt.Errorf("the routes list answered %s: %.200s", resp.Status, body)
	}
	for i, s := range list.Servers {
		if s.NeedsOAuth && !s.Connected {
			list.Servers[i].ConnectURL = s.URL + "/.drawbridge/mcp/connect?redirect_url=" + url.QueryEscape(a.publicURL+"/")
		}
	}
	return list.Servers, nil
}

// whoami opens an MCP session to serverURL with the user's token and
// calls the echo server's whoami tool.
func (a *chatApp) whoami(ctx context.Context, serverURL, bearer string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	hc := &http.Client{Transport: bearerTransport{bearer: bearer, base: a.client.Transport}}
	s, err := sdk.NewClient(&sdk.Implementation{Name: "chat-app", Version: "1"}, nil).Connect(ctx,
		&sdk.StreamableClientTransport{Endpoint: serverURL, HTTPClient: hc, MaxRetries: -1, DisableStandaloneSSE: true}, nil)
	if err != nil {
		return "", err
	}
	defer s.Close()
	return callWhoami(s)
}

func (a *chatApp) render(w http.ResponseWriter, status int, p chatPageProps) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = chatPage.Execute(w, p)
}

// chatClaims are the claims of an access token or assertion header that
// an app reads, once it has checked them against the console's JWKS.
type chatClaims struct {
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"`
	Audience  string `json:"aud"`
	ClientID  string `json:"client_id"`
	Email     string `json:"email"`
	IssuedAt  int64  `json:"iat"`
	ExpiresAt int64  `json:"exp"`
}

// fetchJWKS reads the console's published keys, as an app would.
func fetchJWKS(t *testing.T, client *http.Client, consoleURL string) *jose.JSONWebKeySet {
	t.Helper()
	resp, err := client.Get(consoleURL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("the JWKS: %s, %v, %d keys", resp.Status, err, len(set.Keys))
	}
	return &set
}

// verifiedClaims checks raw's signature against the JWKS and its JOSE
// type, and returns its claims.
func verifiedClaims(t *testing.T, jwks *jose.JSONWebKeySet, raw, typ string) chatClaims {
	t.Helper()
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatalf("parse a %s: %v", typ, err)
	}
	if got, _ := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType].(string); got != typ {
		t.Errorf("typ is %q, want %q", got, typ)
	}
	payload, err := jws.Verify(jwks)
	if err != nil {
		t.Fatalf("a %s does not verify with the JWKS: %v", typ, err)
	}
	var c chatClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	return c
}
