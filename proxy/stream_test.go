package proxy_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drawbridge/drawbridge/models"
)

// newStreamingUpstream is an MCP server with sessions (the 2025-06-18
// way): answers come as SSE, and its slow tool reports progress while it
// works. release lets the tool finish.
func newStreamingUpstream(t *testing.T, release <-chan struct{}) string {
	t.Helper()
	server := sdk.NewServer(&sdk.Implementation{Name: "streaming", Version: "1"}, nil)
	sdk.AddTool(server, &sdk.Tool{Name: "slow", Description: "reports progress, then answers"},
		func(ctx context.Context, req *sdk.CallToolRequest, _ echoIn) (*sdk.CallToolResult, echoOut, error) {
			for i := 1; i <= 2; i++ {
				_ = req.Session.NotifyProgress(ctx, &sdk.ProgressNotificationParams{
					ProgressToken: req.Params.GetProgressToken(), Progress: float64(i), Total: 3, Message: "working",
				})
			}
			select {
			case <-release:
			case <-ctx.Done():
				return nil, echoOut{}, ctx.Err()
			}
			return nil, echoOut{Text: "done"}, nil
		})
	sdk.AddTool(server, &sdk.Tool{Name: "broken", Description: "always fails"},
		func(context.Context, *sdk.CallToolRequest, echoIn) (*sdk.CallToolResult, echoOut, error) {
			return nil, echoOut{}, errors.New("it is broken")
		})
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return server },
		&sdk.StreamableHTTPOptions{Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestStreamsAreNotBuffered: with a session upstream, progress arrives
// through the gateway while the call is still running, the session id
// passes both ways, the client's GET stream is let through, and closing
// the session (DELETE) goes through.
func TestStreamsAreNotBuffered(t *testing.T) {
	g := newGateway(t)
	release := make(chan struct{})
	ctx := context.Background()
	p := &models.Policy{Name: "open", Source: openPolicy}
	if err := g.store.CreatePolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	route := &models.Route{Name: "Stream", From: g.routeURL("stream.localhost"), To: newStreamingUpstream(t, release),
		Kind: models.KindMCPServer, Enabled: true}
	if err := g.store.CreateRoute(ctx, route, []uint{p.ID}); err != nil {
		t.Fatal(err)
	}
	g.waitVersion()
	bearer, _ := g.token(route.From)

	progress := make(chan float64, 4)
	client := sdk.NewClient(&sdk.Implementation{Name: "test", Version: "1"}, &sdk.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, req *sdk.ProgressNotificationClientRequest) {
			progress <- req.Params.Progress
		},
	})
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	session, err := client.Connect(cctx, &sdk.StreamableClientTransport{Endpoint: route.From, HTTPClient: g.httpClient(bearer), MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if session.ID() == "" {
		t.Fatal("no Mcp-Session-Id came back through the gateway")
	}
	result := make(chan error, 1)
	go func() {
		params := &sdk.CallToolParams{Name: "slow", Arguments: map[string]any{"text": "x"}}
		params.SetProgressToken("p1")
		_, err := session.CallTool(cctx, params)
		result <- err
	}()
	for want := 1.0; want <= 2; want++ {
		select {
		case got := <-progress:
			if got != want {
				t.Errorf("progress %v, want %v", got, want)
			}
		case err := <-result:
			t.Fatalf("the call ended (%v) before its progress arrived: the stream was buffered", err)
		case <-time.After(10 * time.Second):
			t.Fatal("no progress through the gateway while the call runs: the stream is buffered")
		}
	}
	close(release)
	if err := <-result; err != nil {
		t.Fatalf("the call: %v", err)
	}
	// A failed call answered in a stream is recorded as failed.
	if res, err := session.CallTool(cctx, &sdk.CallToolParams{Name: "broken", Arguments: map[string]any{"text": "x"}}); err != nil || !res.IsError {
		t.Fatalf("broken tool: %v %+v", err, res)
	}
	deadline := time.Now().Add(5 * time.Second)
	for ev := g.auditEvent("broken"); ev.IsError == nil || !*ev.IsError; ev = g.auditEvent("broken") {
		if time.Now().After(deadline) {
			t.Fatalf("the streamed failure was recorded with isError %v", ev.IsError)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := session.Close(); err != nil {
		t.Errorf("closing the session (DELETE through the gateway): %v", err)
	}
}
