package webtest

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// withHeaders is a RoundTripper that sets fixed headers on every request.
type withHeaders struct {
	header http.Header
	next   http.RoundTripper
}

func (w withHeaders) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range w.header {
		r.Header[k] = v
	}
	return w.next.RoundTrip(r)
}

// connectEcho connects an SDK client to e that sends header with every request.
func connectEcho(t *testing.T, e *EchoMCP, header http.Header) *mcp.ClientSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "webtest-client", Version: "1"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:             e.URL,
		HTTPClient:           &http.Client{Timeout: 10 * time.Second, Transport: withHeaders{header, http.DefaultTransport}},
		MaxRetries:           -1,
		DisableStandaloneSSE: true,
	}, nil)
	if err != nil {
		t.Fatalf("connect to %s: %v", e.URL, err)
	}
	t.Cleanup(func() { session.Close() })
	return session
}

// callText calls a tool and returns its one text content.
func callText(t *testing.T, s *mcp.ClientSession, tool string, args any) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("call %s: %v", tool, err)
	}
	if res.IsError || len(res.Content) != 1 {
		t.Fatalf("call %s: error %v, %d contents, want one text", tool, res.IsError, len(res.Content))
	}
	text, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		t.Fatalf("call %s: content %T, want text", tool, res.Content[0])
	}
	return text.Text
}

func TestEchoMCP(t *testing.T) {
	e := StartEchoMCP(t)
	s := connectEcho(t, e, http.Header{"Authorization": {"Bearer upstream-token"}, "X-Drawbridge-Assertion": {"assertion-jwt"}})

	if got := callText(t, s, "whoami", nil); got != "Bearer upstream-token" {
		t.Errorf("whoami = %q, want the bearer header", got)
	}
	if got := callText(t, s, "echo", map[string]any{"text": "hello"}); got != "hello" {
		t.Errorf("echo = %q, want hello", got)
	}

	auths, assertions := e.Authorizations(), e.AssertionHeaders()
	// The client's own request to start, and two calls.
	if e.Requests() < 3 || len(auths) != e.Requests() || len(assertions) != e.Requests() {
		t.Fatalf("Requests() = %d with %d authorizations and %d assertions recorded", e.Requests(), len(auths), len(assertions))
	}
	for i := range auths {
		if auths[i] != "Bearer upstream-token" || assertions[i] != "assertion-jwt" {
			t.Errorf("request %d: Authorization %q, assertion %q", i, auths[i], assertions[i])
		}
	}
}

func TestEchoMCPWithoutAuthorization(t *testing.T) {
	e := StartEchoMCP(t)
	s := connectEcho(t, e, nil)
	if got := callText(t, s, "whoami", nil); got != "" {
		t.Errorf("whoami = %q, want empty", got)
	}
	if auths := e.Authorizations(); len(auths) == 0 || slices.IndexFunc(auths, func(a string) bool { return a != "" }) >= 0 {
		t.Errorf("Authorizations() = %q, want only empty values", auths)
	}
	if as := e.AssertionHeaders(); len(as) == 0 || slices.IndexFunc(as, func(a string) bool { return a != "" }) >= 0 {
		t.Errorf("AssertionHeaders() = %q, want only empty values", as)
	}
}

// TestEchoMCPConcurrentCallers shows that whoami answers the header of its
// own request, not of whichever request arrived last.
func TestEchoMCPConcurrentCallers(t *testing.T) {
	e := StartEchoMCP(t)
	const callers, calls = 4, 10
	var wg sync.WaitGroup
	for i := range callers {
		bearer := fmt.Sprintf("Bearer caller-%d", i)
		s := connectEcho(t, e, http.Header{"Authorization": {bearer}})
		wg.Go(func() {
			for range calls {
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
				res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "whoami"})
				cancel()
				if err != nil {
					t.Errorf("whoami as %s: %v", bearer, err)
					return
				}
				if len(res.Content) != 1 {
					t.Errorf("whoami as %s: %d contents, want one", bearer, len(res.Content))
					return
				}
				if got, _ := res.Content[0].(*mcp.TextContent); got == nil || got.Text != bearer {
					t.Errorf("whoami as %s = %#v", bearer, res.Content[0])
				}
			}
		})
	}
	wg.Wait()
	if got := e.Requests(); got < callers*(calls+1) {
		t.Errorf("Requests() = %d, want at least %d", got, callers*(calls+1))
	}
}
