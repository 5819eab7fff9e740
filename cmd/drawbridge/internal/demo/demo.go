// Package demo is a small MCP server, built with the official Go SDK, that
// gives the gateway a real upstream to show: a few harmless tools over a fixed
// list of fake orders, and one administrative tool for the policy demo to deny.
package demo

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Name and Version identify the demo server in its MCP serverInfo.
const (
	Name    = "drawbridge-demo"
	Version = "0.1.0"
)

const instructions = `Drawbridge demo server. All data is fictional.
- echo returns its text; add adds two numbers.
- search_orders searches a fixed list of fake orders by customer and status.
- admin_reset is an administrative tool that resets the demo data; it needs confirm: true.`

// Options configures the demo server.
type Options struct {
	// Logger receives the server's logs, and the SDK's at Warn and above;
	// nil discards them.
	Logger *slog.Logger
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// Handler returns the demo MCP server as an http.Handler speaking Streamable
// HTTP at whatever path it is mounted.
//
// The handler is stateless: no Mcp-Session-Id, one JSON-RPC exchange per POST,
// GET and DELETE answer 405. Responses are application/json rather than
// text/event-stream. That is the simplest upstream to proxy and audit, and
// the only mode in which this SDK also serves the sessionless 2026-07-28
// protocol its own client tries first.
//
// The SDK's DNS-rebinding protection stays on: a request that reaches a
// loopback listener with a non-loopback Host header is refused with 403.
func Handler(opts Options) http.Handler {
	// A stateless server connects and disconnects a session per request and
	// the SDK logs each at Info, which would drown everything else.
	logger := slog.New(minLevel{opts.logger().Handler(), slog.LevelWarn})
	server := newServer(logger)
	return mcp.NewStreamableHTTPHandler(
		func(*http.Request) *mcp.Server { return server },
		&mcp.StreamableHTTPOptions{
			Stateless:    true,
			JSONResponse: true,
			Logger:       logger,
		},
	)
}

func newServer(logger *slog.Logger) *mcp.Server {
	server := mcp.NewServer(
		&mcp.Implementation{Name: Name, Title: "Drawbridge demo", Version: Version},
		&mcp.ServerOptions{Instructions: instructions, Logger: logger},
	)
	addTools(server, newOrderBook())
	return server
}

// minLevel passes on the records of its Handler at min and above.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= h.min && h.Handler.Enabled(ctx, level)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(attrs), h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}
