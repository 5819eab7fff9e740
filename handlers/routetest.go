package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drawbridge/drawbridge/views"
)

// MCPTester checks an upstream the way an MCP client would: it connects
// (initialize, or discovery on the newest revision), lists the tools, and
// hangs up. It uses the official MCP SDK, so a pass here means real
// clients will get as far.
type MCPTester struct {
	Client  *http.Client
	Version string
}

// testTimeout bounds the whole check, whatever the upstream does.
const testTimeout = 10 * time.Second

// maxToolPages bounds tools/list pagination against a misbehaving upstream.
const maxToolPages = 20

// TestConnection reports what the upstream at url says about itself.
func (t *MCPTester) TestConnection(ctx context.Context, url string) views.ConnectionTest {
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	start := time.Now()
	result := func(err error) views.ConnectionTest {
		return views.ConnectionTest{Error: describeTestError(err), Duration: time.Since(start)}
	}

	client := mcp.NewClient(&mcp.Implementation{Name: "drawbridge-connection-test", Version: t.Version}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: t.Client, MaxRetries: -1, DisableStandaloneSSE: true}, nil)
	if err != nil {
		return result(err)
	}
	defer session.Close()

	out := views.ConnectionTest{OK: true}
	if init := session.InitializeResult(); init != nil {
		out.ProtocolVersion = init.ProtocolVersion
		if init.ServerInfo != nil {
			out.ServerName, out.ServerVersion = init.ServerInfo.Name, init.ServerInfo.Version
		}
	}
	params := &mcp.ListToolsParams{}
	for range maxToolPages {
		page, err := session.ListTools(ctx, params)
		if err != nil {
			return result(fmt.Errorf("tools/list: %w", err))
		}
		for _, tool := range page.Tools {
			out.Tools = append(out.Tools, views.ToolInfo{Name: tool.Name, Description: tool.Description})
		}
		if page.NextCursor == "" {
			break
		}
		params.Cursor = page.NextCursor
	}
	out.Duration = time.Since(start)
	return out
}

// describeTestError keeps the message useful to an admin: what failed,
// without a Go stack of wrapped errors when a plainer cause is known.
func describeTestError(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("The upstream did not answer within %s.", testTimeout)
	}
	return err.Error()
}
