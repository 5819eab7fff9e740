package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
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
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: t.httpClient(), MaxRetries: -1, DisableStandaloneSSE: true}, nil)
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

// httpClient is t.Client (or the default client) following redirects
// only within the origin of the request redirected. The admin chose the
// upstream's address, loopback and private ones included; the upstream
// must not choose another for the test to reach, such as an internal
// service, with a redirect. The gateway itself follows none: it hands
// them to the client.
func (t *MCPTester) httpClient() *http.Client {
	base := t.Client
	if base == nil {
		base = http.DefaultClient
	}
	c := *base
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		from := via[len(via)-1].URL
		if req.URL.Scheme != from.Scheme || !strings.EqualFold(req.URL.Host, from.Host) {
			return fmt.Errorf("the upstream redirected to another host (%s://%s); Drawbridge does not follow it", req.URL.Scheme, req.URL.Host)
		}
		if base.CheckRedirect != nil {
			return base.CheckRedirect(req, via)
		}
		if len(via) >= 10 {
			return errors.New("the upstream redirected more than 10 times")
		}
		return nil
	}
	return &c
}

// describeTestError keeps the message useful to an admin: what failed,
// without a Go stack of wrapped errors when a plainer cause is known.
func describeTestError(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("The upstream did not answer within %s.", testTimeout)
	}
	return err.Error()
}
