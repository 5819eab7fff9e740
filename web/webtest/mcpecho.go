package webtest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// assertionHeader is the header in which Drawbridge tells an upstream MCP
// server who is calling.
const assertionHeader = "X-Drawbridge-Assertion"

// EchoMCP is an MCP server, made with the official Go SDK, that shows which
// credentials reached it. Its tools:
//
//   - whoami, without arguments, answers one text content that is exactly
//     the Authorization header of the HTTP request that called it ("" when
//     there was none);
//   - echo {"text": string} answers the text.
//
// It is stateless and answers application/json, like the demo server.
type EchoMCP struct {
	// URL is the MCP endpoint, http://127.0.0.1:PORT/mcp.
	URL string

	mu             sync.Mutex
	authorizations []string
	assertions     []string
}

type echoArgs struct {
	Text string `json:"text" jsonschema:"the text to answer"`
}

// StartEchoMCP starts an EchoMCP on 127.0.0.1 and stops it when the test ends.
func StartEchoMCP(t testing.TB) *EchoMCP {
	t.Helper()
	// A stateless server opens and closes a session per request, and the
	// SDK logs each at Info.
	logger := slog.New(slog.DiscardHandler)
	server := mcp.NewServer(&mcp.Implementation{Name: "webtest-echo", Version: "1"}, &mcp.ServerOptions{Logger: logger})
	mcp.AddTool(server, &mcp.Tool{Name: "whoami", Description: "Answers the Authorization header this call arrived with."},
		func(_ context.Context, req *mcp.CallToolRequest, _ any) (*mcp.CallToolResult, any, error) {
			var authorization string
			// The SDK hands each call the header of its own HTTP request.
			if req.Extra != nil {
				authorization = req.Extra.Header.Get("Authorization")
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: authorization}}}, nil, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "echo", Description: "Answers its text."},
		func(_ context.Context, _ *mcp.CallToolRequest, in echoArgs) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}, nil, nil
		})
	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true, Logger: logger})

	e := &EchoMCP{}
	mux := http.NewServeMux()
	mux.Handle("/mcp", handler)
	srv := httptest.NewServer(e.record(mux))
	t.Cleanup(srv.Close)
	e.URL = srv.URL + "/mcp"
	return e
}

// record notes the headers of every request, whatever its path or method.
func (e *EchoMCP) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.authorizations = append(e.authorizations, r.Header.Get("Authorization"))
		e.assertions = append(e.assertions, r.Header.Get(assertionHeader))
		e.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// Authorizations returns the Authorization header of every HTTP request the
// server has received, in order, "" where there was none. Besides tool calls
// they include the MCP client's own requests, such as initialization.
func (e *EchoMCP) Authorizations() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.authorizations...)
}

// AssertionHeaders returns the X-Drawbridge-Assertion header of every HTTP
// request the server has received, in order, "" where there was none.
func (e *EchoMCP) AssertionHeaders() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.assertions...)
}

// Requests is the number of HTTP requests the server has received.
func (e *EchoMCP) Requests() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.authorizations)
}
