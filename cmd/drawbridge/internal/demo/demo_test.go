package demo

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// testTimeout bounds every test's conversation with the server.
const testTimeout = 30 * time.Second

// legacyProtocol is a protocol version negotiated with initialize, as most
// deployed clients still do; the SDK client's default is the sessionless
// 2026-07-28 protocol (server/discover).
const legacyProtocol = "2025-06-18"

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func testOptions(t *testing.T) Options {
	return Options{Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
}

// startServer serves Handler on a loopback httptest server and returns its URL.
func startServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(Handler(testOptions(t)))
	t.Cleanup(srv.Close)
	return srv.URL
}

// connect opens an SDK client session to endpoint; protocol "" is the SDK's default.
func connect(t *testing.T, ctx context.Context, endpoint, protocol string) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "demo-test", Version: "0"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint},
		&mcp.ClientSessionOptions{ProtocolVersion: protocol})
	if err != nil {
		t.Fatalf("connect to %s: %v", endpoint, err)
	}
	t.Cleanup(func() { session.Close() })
	return session
}

var protocols = []struct{ name, version string }{
	{"default", ""},
	{"legacy", legacyProtocol},
}

func TestListTools(t *testing.T) {
	url := startServer(t)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			ctx := testContext(t)
			session := connect(t, ctx, url, p.version)

			init := session.InitializeResult()
			if init.ServerInfo.Name != Name || init.ServerInfo.Version != Version {
				t.Errorf("serverInfo = %s %s, want %s %s", init.ServerInfo.Name, init.ServerInfo.Version, Name, Version)
			}
			if !strings.Contains(init.Instructions, "admin_reset") {
				t.Errorf("instructions = %q, want them to mention admin_reset", init.Instructions)
			}

			res, err := session.ListTools(ctx, nil)
			if err != nil {
				t.Fatalf("ListTools: %v", err)
			}
			var names []string
			for _, tool := range res.Tools {
				names = append(names, tool.Name)
				schema := asMap(t, tool.InputSchema)
				if schema["type"] != "object" {
					t.Errorf("%s: input schema type = %v, want object", tool.Name, schema["type"])
				}
				if tool.OutputSchema == nil {
					t.Errorf("%s: no output schema", tool.Name)
				}
				if tool.Description == "" {
					t.Errorf("%s: no description", tool.Name)
				}
			}
			slices.Sort(names)
			want := []string{ToolAdd, ToolAdminReset, ToolEcho, ToolSearchOrders}
			if !slices.Equal(names, want) {
				t.Fatalf("tools = %v, want %v", names, want)
			}
		})
	}
}

func TestSearchOrdersSchema(t *testing.T) {
	ctx := testContext(t)
	session := connect(t, ctx, startServer(t), "")
	res, err := session.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("ListTools: %v", err)
	}
	i := slices.IndexFunc(res.Tools, func(tool *mcp.Tool) bool { return tool.Name == ToolSearchOrders })
	if i < 0 {
		t.Fatalf("no %s tool", ToolSearchOrders)
	}
	props := asMap(t, res.Tools[i].InputSchema)["properties"].(map[string]any)
	status := props["status"].(map[string]any)
	if got := status["enum"]; !slices.Equal(asStrings(got), []string{"open", "shipped", "cancelled"}) {
		t.Errorf("status enum = %v", got)
	}
	limit := props["limit"].(map[string]any)
	if limit["minimum"] != 1.0 || limit["maximum"] != 50.0 || limit["default"] != 10.0 {
		t.Errorf("limit = %v, want minimum 1, maximum 50, default 10", limit)
	}
}

func TestCallTool(t *testing.T) {
	tests := []struct {
		name string
		tool string
		args map[string]any
		// For a success, want is the structured output and text a substring
		// of the text content; for an error result, text is a substring of
		// the error message.
		wantError bool
		want      any
		text      string
	}{
		{name: "echo", tool: ToolEcho, args: map[string]any{"text": "hello, drawbridge"},
			want: EchoOutput{Text: "hello, drawbridge"}, text: "hello, drawbridge"},
		{name: "echo without text", tool: ToolEcho, args: map[string]any{},
			wantError: true, text: "text"},
		{name: "add", tool: ToolAdd, args: map[string]any{"a": 2, "b": 3.5},
			want: AddOutput{Sum: 5.5}, text: "5.5"},
		{name: "add negative", tool: ToolAdd, args: map[string]any{"a": -2, "b": -0.25},
			want: AddOutput{Sum: -2.25}, text: "-2.25"},
		{name: "add a string", tool: ToolAdd, args: map[string]any{"a": "two", "b": 3},
			wantError: true, text: "a"},
		{name: "search everything", tool: ToolSearchOrders, args: map[string]any{},
			want: searchResult(t, 20, "ORD-1001", "ORD-1002", "ORD-1003", "ORD-1004", "ORD-1005",
				"ORD-1006", "ORD-1007", "ORD-1008", "ORD-1009", "ORD-1010"),
			text: "20 orders match; showing the first 10"},
		{name: "search by customer, ignoring case", tool: ToolSearchOrders, args: map[string]any{"customer": "ACME"},
			want: searchResult(t, 4, "ORD-1001", "ORD-1004", "ORD-1010", "ORD-1016"), text: "4 orders match:"},
		{name: "search by status with a limit", tool: ToolSearchOrders, args: map[string]any{"status": "shipped", "limit": 3},
			want: searchResult(t, 9, "ORD-1001", "ORD-1005", "ORD-1006"), text: "9 orders match; showing the first 3"},
		{name: "search by customer and status", tool: ToolSearchOrders, args: map[string]any{"customer": "acme", "status": "open"},
			want: searchResult(t, 1, "ORD-1004"), text: "ORD-1004"},
		{name: "search with the largest limit", tool: ToolSearchOrders, args: map[string]any{"status": "cancelled", "limit": 50},
			want: searchResult(t, 4, "ORD-1003", "ORD-1010", "ORD-1014", "ORD-1018"), text: "4 orders match:"},
		{name: "search without matches", tool: ToolSearchOrders, args: map[string]any{"customer": "nobody"},
			want: SearchOrdersOutput{Orders: []Order{}}, text: "No orders match."},
		{name: "search with an unknown status", tool: ToolSearchOrders, args: map[string]any{"status": "lost"},
			wantError: true, text: "status"},
		{name: "search with limit 0", tool: ToolSearchOrders, args: map[string]any{"limit": 0},
			wantError: true, text: "limit"},
		{name: "search with limit 51", tool: ToolSearchOrders, args: map[string]any{"limit": 51},
			wantError: true, text: "limit"},
		{name: "admin_reset confirmed", tool: ToolAdminReset, args: map[string]any{"confirm": true},
			want: AdminResetOutput{Reset: true, Orders: 20}, text: "20 orders restored"},
		{name: "admin_reset not confirmed", tool: ToolAdminReset, args: map[string]any{"confirm": false},
			wantError: true, text: "confirm: true"},
		{name: "admin_reset without confirm", tool: ToolAdminReset, args: map[string]any{},
			wantError: true, text: "confirm: true"},
	}

	url := startServer(t)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			ctx := testContext(t)
			session := connect(t, ctx, url, p.version)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: tt.tool, Arguments: tt.args})
					if err != nil {
						t.Fatalf("CallTool: protocol error %v, want a tool result", err)
					}
					text := resultText(t, res)
					if res.IsError != tt.wantError {
						t.Fatalf("isError = %v, want %v (content %q)", res.IsError, tt.wantError, text)
					}
					if !strings.Contains(text, tt.text) {
						t.Errorf("content = %q, want it to contain %q", text, tt.text)
					}
					if tt.wantError {
						return
					}
					if got, want := asJSON(t, res.StructuredContent), asJSON(t, tt.want); got != want {
						t.Errorf("structured content =\n%s\nwant\n%s", got, want)
					}
				})
			}
		})
	}
}

// TestHTTP pins the HTTP behaviour a proxy in front of Handler relies on.
func TestHTTP(t *testing.T) {
	const listTools = `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`
	tests := []struct {
		name       string
		method     string
		host       string // "" keeps the server's own loopback host
		wantStatus int
		wantType   string
	}{
		{name: "stateless POST answers in JSON", method: http.MethodPost,
			wantStatus: http.StatusOK, wantType: "application/json"},
		{name: "non-loopback Host is refused", method: http.MethodPost, host: "drawbridge.example",
			wantStatus: http.StatusForbidden},
		{name: "localhost Host is accepted", method: http.MethodPost, host: "localhost",
			wantStatus: http.StatusOK, wantType: "application/json"},
		{name: "GET has no stream", method: http.MethodGet, wantStatus: http.StatusMethodNotAllowed},
		{name: "DELETE has no session", method: http.MethodDelete, wantStatus: http.StatusMethodNotAllowed},
	}
	url := startServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(testContext(t), tt.method, url, strings.NewReader(listTools))
			if err != nil {
				t.Fatal(err)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("MCP-Protocol-Version", legacyProtocol)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %q", resp.StatusCode, tt.wantStatus, body)
			}
			if resp.Header.Get("Mcp-Session-Id") != "" {
				t.Errorf("Mcp-Session-Id = %q, want none from a stateless server", resp.Header.Get("Mcp-Session-Id"))
			}
			if tt.wantType == "" {
				return
			}
			if got := resp.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			if !strings.Contains(string(body), ToolAdminReset) {
				t.Errorf("body = %s, want the tool list", body)
			}
		})
	}
}

func searchResult(t *testing.T, matched int, ids ...string) SearchOrdersOutput {
	t.Helper()
	all := newOrderBook().orders
	out := SearchOrdersOutput{Orders: []Order{}, Matched: matched}
	for _, id := range ids {
		i := slices.IndexFunc(all, func(o Order) bool { return o.ID == id })
		if i < 0 {
			t.Fatalf("no order %s in the demo data", id)
		}
		out.Orders = append(out.Orders, all[i])
	}
	return out
}

func resultText(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	var parts []string
	for _, c := range res.Content {
		text, ok := c.(*mcp.TextContent)
		if !ok {
			t.Fatalf("content %T, want text", c)
		}
		parts = append(parts, text.Text)
	}
	return strings.Join(parts, "\n")
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	var m any // round-trip so field order and number formatting agree
	if err := json.Unmarshal([]byte(mustMarshal(t, v)), &m); err != nil {
		t.Fatal(err)
	}
	return mustMarshal(t, m)
}

func asMap(t *testing.T, v any) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(mustMarshal(t, v)), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func asStrings(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
