package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// Upstream paths.
const (
	pathEcho   = "/mcp"      // echo, and two more tools
	pathMany   = "/mcp-many" // --tools tools, half of them admin_
	pathStream = "/sse"      // answers with an event stream that never ends
)

// runUpstream is the MCP server behind every proxy: the official Go SDK,
// stateless, answering in JSON, as the demo server is.
func runUpstream(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("upstream", flag.ContinueOnError)
	tools := fs.Int("tools", 500, "how many tools "+pathMany+" lists; half are named admin_…")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	mux := http.NewServeMux()
	mux.Handle(pathEcho, sdkHandler(echoServer(logger), logger))
	mux.Handle(pathMany, sdkHandler(manyToolsServer(*tools, logger), logger))
	mux.HandleFunc(pathStream, holdStream)

	ln, err := listenLoopback(ctx)
	if err != nil {
		return err
	}
	if err := announce(stdout, ready{Addr: ln.Addr().String()}); err != nil {
		return err
	}
	return serveUntil(ctx, newServer(mux), ln)
}

func sdkHandler(server *sdk.Server, logger *slog.Logger) http.Handler {
	return sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return server },
		&sdk.StreamableHTTPOptions{Stateless: true, JSONResponse: true, Logger: logger})
}

type echoIn struct {
	Text string `json:"text" jsonschema:"the text to return"`
}

type echoOut struct {
	Text string `json:"text" jsonschema:"the text that was sent"`
}

// echoServer serves echo, the tool the load calls, beside two more so that
// its list is not trivially short.
func echoServer(logger *slog.Logger) *sdk.Server {
	server := sdk.NewServer(&sdk.Implementation{Name: "drawbench-upstream", Version: "1"}, &sdk.ServerOptions{Logger: logger})
	for _, name := range []string{"echo", "search", "admin_reset"} {
		sdk.AddTool(server, &sdk.Tool{Name: name, Description: "Returns its text."},
			func(_ context.Context, _ *sdk.CallToolRequest, in echoIn) (*sdk.CallToolResult, echoOut, error) {
				return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: in.Text}}}, echoOut{Text: in.Text}, nil
			})
	}
	return server
}

// manyToolsServer lists n tools: tool_000… and, for the policy to hide,
// as many admin_tool_000….
func manyToolsServer(n int, logger *slog.Logger) *sdk.Server {
	server := sdk.NewServer(&sdk.Implementation{Name: "drawbench-many", Version: "1"}, &sdk.ServerOptions{Logger: logger})
	schema := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"query": map[string]any{"type": "string", "description": "what to look for"},
			"limit": map[string]any{"type": "integer", "minimum": 1, "maximum": 50},
		},
	}
	handler := func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "ok"}}}, nil
	}
	for i := range n {
		name := fmt.Sprintf("tool_%03d", i/2)
		if i%2 == 1 {
			name = "admin_" + name
		}
		server.AddTool(&sdk.Tool{
			Name:        name,
			Description: "A tool of a large MCP server, described in about a hundred bytes, as real tools are.",
			InputSchema: schema,
		}, handler)
	}
	return server
}

// streamEvent is the one event a held stream sends.
const streamEvent = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"data\":\"ready\"}}\n\n"

// holdStream answers GET or POST with an event stream: one event, then
// nothing until the client leaves, as an idle MCP stream is.
func holdStream(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, streamEvent)
	_ = http.NewResponseController(w).Flush()
	// An hour is longer than any benchmark; the bound only keeps a lost
	// client from holding the goroutine for ever.
	select {
	case <-r.Context().Done():
	case <-time.After(time.Hour):
	}
}
