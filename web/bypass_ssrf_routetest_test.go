package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drawbridge/drawbridge/models"
)

// Bypass catalogue, SSRF through the route editor's "Test connection":
// the admin's click makes Drawbridge call the route's upstream. Where
// that upstream is, loopback and private addresses included, is the
// admin's to choose (upstreams usually run beside the gateway), so a test
// of a loopback upstream is no attack and every upstream here is on
// loopback. The attacks are the upstream's: making the test carry the
// admin's session or a stored secret to it, or redirecting the test to
// another host (an internal one, say) which the admin never named. Each
// case fails if a secret or cookie reaches the upstream, or if the
// redirect's target is reached.
func TestBypassSSRFTestConnection(t *testing.T) {
	app, admin := adminBrowser(t)
	ctx := context.Background()
	const appSecret = "upstream-app-secret-7f3a"
	upstreamApp := &models.UpstreamApp{Name: "octo", ClientID: "octo", ClientSecret: appSecret,
		AuthURL: "https://octo.example/authorize", TokenURL: "https://octo.example/token", Scopes: []string{"repo"}}
	if err := app.Store.CreateUpstreamApp(ctx, upstreamApp); err != nil {
		t.Fatal(err)
	}
	mcpHandler := mcpUpstreamHandler()
	test := func(t *testing.T, name, to string) string {
		t.Helper()
		r := &models.Route{Name: name, From: "http://" + strings.ToLower(name) + ".localhost:8080", To: to, Kind: models.KindMCPServer,
			UpstreamAppID: &upstreamApp.ID, Enabled: true}
		if err := app.Store.CreateRoute(ctx, r, nil); err != nil {
			t.Fatal(err)
		}
		resp, body := admin.post(fmt.Sprintf("/admin/routes/%d/test", r.ID), url.Values{})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("Test connection: status %d", resp.StatusCode)
		}
		return strings.Join(strings.Fields(doc(t, body).Find(`[data-testid="test-result"]`).Text()), " ")
	}

	t.Run("Test connection sends no secret and none of the admin's cookies", func(t *testing.T) {
		var mu sync.Mutex
		var seen []*http.Request
		upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			seen = append(seen, r.Clone(context.WithValue(context.Background(), requestBody{}, string(body))))
			mu.Unlock()
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			mcpHandler.ServeHTTP(w, r)
		}))
		t.Cleanup(upstream.Close)
		if res := test(t, "Recorded", upstream.URL); !strings.Contains(res, "ping") {
			t.Fatalf("the test did not reach the upstream: %q", res)
		}
		secrets := []string{appSecret, app.sessionCookie(t, admin), admin.csrf()}
		mu.Lock()
		defer mu.Unlock()
		for _, r := range seen {
			for _, h := range []string{"Cookie", "Authorization", "X-Drawbridge-Assertion"} {
				if v := r.Header.Get(h); v != "" {
					t.Errorf("the upstream received %s: %.100s", h, v)
				}
			}
			all := fmt.Sprint(r.Header) + " " + r.URL.String() + " " + r.Context().Value(requestBody{}).(string)
			for _, secret := range secrets {
				if strings.Contains(all, secret) {
					t.Errorf("the upstream received a secret (%.6s…)", secret)
				}
			}
		}
	})

	t.Run("Test connection does not follow a redirect to another host", func(t *testing.T) {
		var reached atomic.Int64
		internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reached.Add(1)
			mcpHandler.ServeHTTP(w, r)
		}))
		t.Cleanup(internal.Close)
		bouncer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, internal.URL+"/mcp", http.StatusTemporaryRedirect)
		}))
		t.Cleanup(bouncer.Close)
		res := test(t, "Bouncer", bouncer.URL+"/mcp")
		if n := reached.Load(); n != 0 {
			t.Errorf("the redirect's target was reached %d times; result %q", n, res)
		}
		if !strings.Contains(res, "another host") {
			t.Errorf("the result does not say why the test stopped: %q", res)
		}
	})

	t.Run("control: Test connection follows a redirect on the upstream's own host", func(t *testing.T) {
		mux := http.NewServeMux()
		mux.Handle("/mcp", mcpHandler)
		mux.Handle("/old", http.RedirectHandler("/mcp", http.StatusPermanentRedirect))
		upstream := httptest.NewServer(mux)
		t.Cleanup(upstream.Close)
		if res := test(t, "Moved", upstream.URL+"/old"); !strings.Contains(res, "ping") {
			t.Errorf("a redirect within the upstream: %q", res)
		}
	})
}

// requestBody keys the body of a recorded request in its context.
type requestBody struct{}

// mcpUpstreamHandler is a stateless MCP server with one tool, ping.
func mcpUpstreamHandler() http.Handler {
	server := mcp.NewServer(&mcp.Implementation{Name: "upstream-under-test", Version: "1"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "ping", Description: "Answers pong."}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, struct{}, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "pong"}}}, struct{}{}, nil
	})
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
}
