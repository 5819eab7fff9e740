package proxy_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy"
	"github.com/drawbridge/drawbridge/proxy/audit"
	"github.com/drawbridge/drawbridge/proxy/token"
)

const issuerURL = "http://console.localhost"

// gateway is an engine serving route hosts on a real listener, over a
// real SQLite store, in front of a real MCP server.
type gateway struct {
	t        *testing.T
	store    *models.Store
	engine   *proxy.Engine
	issuer   *token.Issuer
	addr     string // the listener, which serves every host
	upstream *upstream
	user     *models.User
	dsn      string
	cipher   *models.Cipher
	keys     *token.KeySet
	audit    *audit.Writer
	// auditMetrics holds the audit writer's collectors.
	auditMetrics *prometheus.Registry
}

// upstream is an MCP server made with the official Go SDK, remembering
// the headers of what reached it.
type upstream struct {
	URL string
	mu  sync.Mutex
	got []http.Header
}

func (u *upstream) headers() []http.Header {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]http.Header(nil), u.got...)
}

type echoIn struct {
	Text string `json:"text"`
}

type echoOut struct {
	Text string `json:"text"`
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	server := sdk.NewServer(&sdk.Implementation{Name: "upstream", Version: "1"}, nil)
	for _, name := range []string{"echo", "search", "admin_reset"} {
		sdk.AddTool(server, &sdk.Tool{Name: name, Description: name}, func(_ context.Context, _ *sdk.CallToolRequest, in echoIn) (*sdk.CallToolResult, echoOut, error) {
			return nil, echoOut{Text: name + ":" + in.Text}, nil
		})
	}
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return server },
		&sdk.StreamableHTTPOptions{Stateless: true, JSONResponse: true, Logger: slog.New(slog.DiscardHandler)})
	u := &upstream{}
	mux := http.NewServeMux()
	mux.Handle("/mcp", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.got = append(u.got, r.Header.Clone())
		u.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	u.URL = srv.URL + "/mcp"
	return u
}

func newGateway(t *testing.T) *gateway {
	t.Helper()
	ctx := context.Background()
	secret := make([]byte, 32)
	rand.Read(secret)
	cipher, err := models.NewCipher(models.Key{ID: "test", Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	dsn := filepath.Join(t.TempDir(), "db.sqlite")
	store, err := models.Open(ctx, models.Options{Driver: "sqlite", DSN: dsn, Cipher: cipher})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	keys, err := token.NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := token.NewIssuer(keys, issuerURL, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	g := &gateway{t: t, store: store, issuer: issuer, upstream: newUpstream(t), dsn: dsn, cipher: cipher}
	asserter, err := token.NewAsserter(keys, issuerURL, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	g.keys = keys
	g.auditMetrics = prometheus.NewRegistry()
	g.audit = audit.New(store, audit.Options{Writer: "test", Metrics: g.auditMetrics})
	t.Cleanup(func() { g.audit.Close(context.Background()) })
	g.engine = proxy.New(proxy.Options{Store: store, Verifier: token.NewVerifier(keys, issuerURL, token.VerifierOptions{}),
		Asserter: asserter, Audit: g.audit, IssuerURL: issuerURL})
	store.OnChange(g.engine.Changed)
	g.user = &models.User{Email: "ada@example.com", Name: "Ada", Provider: models.ProviderLocal, Groups: []string{"eng"}}
	if err := store.CreateUser(ctx, g.user); err != nil {
		t.Fatal(err)
	}
	if err := g.engine.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { g.engine.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	srv := httptest.NewServer(g.engine)
	t.Cleanup(srv.Close)
	g.addr = srv.Listener.Addr().String()
	return g
}

// routeURL is the URL of a route host on the gateway's port.
func (g *gateway) routeURL(host string) string {
	_, port, _ := net.SplitHostPort(g.addr)
	return "http://" + host + ":" + port
}

// route adds an MCP route from host to the upstream, with one policy.
func (g *gateway) route(name, host, policySource string) *models.Route {
	g.t.Helper()
	return g.routeTo(name, host, g.upstream.URL, policySource)
}

// routeTo adds an MCP route from host to the upstream at to, with one
// policy.
func (g *gateway) routeTo(name, host, to, policySource string) *models.Route {
	g.t.Helper()
	ctx := context.Background()
	p := &models.Policy{Name: strings.ToLower(name) + "-policy", Source: policySource}
	if err := g.store.CreatePolicy(ctx, p); err != nil {
		g.t.Fatal(err)
	}
	r := &models.Route{Name: name, From: g.routeURL(host), To: to, Kind: models.KindMCPServer, Enabled: true}
	if err := g.store.CreateRoute(ctx, r, []uint{p.ID}); err != nil {
		g.t.Fatal(err)
	}
	g.waitVersion()
	return r
}

// waitVersion waits until the engine serves the store's version.
func (g *gateway) waitVersion() {
	g.t.Helper()
	want, err := g.store.ConfigVersion(context.Background())
	if err != nil {
		g.t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for g.engine.Snapshot().Version < want {
		if time.Now().After(deadline) {
			g.t.Fatalf("the engine still serves version %d, want %d", g.engine.Snapshot().Version, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// token issues an access token for the user, for resource.
func (g *gateway) token(resource string) (string, token.Claims) {
	g.t.Helper()
	raw, c, err := g.issuer.Issue(token.Claims{
		Subject: strconv.FormatUint(uint64(g.user.ID), 10), Audience: resource, ClientID: "test-client", Scope: "mcp",
	})
	if err != nil {
		g.t.Fatal(err)
	}
	return raw, c
}

// httpClient reaches every host through the gateway's listener, adding
// the bearer token when there is one.
func (g *gateway) httpClient(bearer string) *http.Client {
	base := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, g.addr)
	}}
	return &http.Client{Timeout: 10 * time.Second, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if bearer != "" {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+bearer)
		}
		return base.RoundTrip(r)
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// connect opens an MCP session through the gateway with the official
// client.
func (g *gateway) connect(url, bearer string) (*sdk.ClientSession, error) {
	client := sdk.NewClient(&sdk.Implementation{Name: "test-client", Version: "1"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return client.Connect(ctx, &sdk.StreamableClientTransport{
		Endpoint: url, HTTPClient: g.httpClient(bearer), MaxRetries: -1, DisableStandaloneSSE: true,
	}, nil)
}

const openPolicy = "allow:\n  and:\n    - authenticated_user: true\ndeny:\n  or:\n    - mcp_tool: {starts_with: admin_}\n"

func toolNames(tools []*sdk.Tool) string {
	var names []string
	for _, t := range tools {
		names = append(names, t.Name)
	}
	return strings.Join(names, ",")
}

// otherProcess opens the gateway's database a second time, as another
// process (or replica) would, with no hook into this engine.
func (g *gateway) otherProcess() *models.Store {
	g.t.Helper()
	s, err := models.Open(context.Background(), models.Options{Driver: "sqlite", DSN: g.dsn, Cipher: g.cipher})
	if err != nil {
		g.t.Fatal(err)
	}
	g.t.Cleanup(func() { s.Close() })
	return s
}

// recordedToken issues a token the store knows of, as the authorization
// server does: a client, a redeemed code, and the token in its family.
func (g *gateway) recordedToken(resource string) (string, token.Claims) {
	g.t.Helper()
	ctx := context.Background()
	client := &models.OAuthClient{ClientID: "client-" + strings.ToLower(rand.Text()), RedirectURIs: []string{"http://127.0.0.1/cb"},
		GrantTypes: []string{models.GrantAuthorizationCode}, TokenEndpointAuthMethod: models.AuthMethodNone, Source: models.ClientSourceDCR}
	if err := g.store.CreateOAuthClient(ctx, client); err != nil {
		g.t.Fatal(err)
	}
	_, hash, _ := token.NewSecret(token.PrefixAuthorizationCode)
	code := &models.AuthCode{CodeHash: hash, ClientID: client.ClientID, UserID: g.user.ID, RedirectURI: "http://127.0.0.1/cb",
		CodeChallenge: strings.Repeat("A", 43), Resource: resource, ExpiresAt: time.Now().Add(time.Minute)}
	if err := g.store.CreateAuthCode(ctx, code); err != nil {
		g.t.Fatal(err)
	}
	redeemed, err := g.store.RedeemAuthCode(ctx, hash, time.Now())
	if err != nil {
		g.t.Fatal(err)
	}
	raw, c, err := g.issuer.Issue(token.Claims{
		Subject: strconv.FormatUint(uint64(g.user.ID), 10), Audience: resource, ClientID: client.ClientID, Scope: "mcp",
	})
	if err != nil {
		g.t.Fatal(err)
	}
	err = g.store.RecordAccessToken(ctx, &models.AccessTokenRecord{JTI: c.ID, FamilyID: redeemed.FamilyID, ClientID: client.ClientID,
		UserID: g.user.ID, Resource: resource, ExpiresAt: c.ExpiresAt})
	if err != nil {
		g.t.Fatal(err)
	}
	return raw, c
}
