package proxy_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestAnswerBuffersStayTheirOwn: answers read whole are read into pooled
// buffers. Many lists filtered two ways at once, interleaved with calls,
// must each come back as their own route's policy filtered them: a buffer
// handed back while its answer was still being sent would show up here as
// another answer's tools.
func TestAnswerBuffersStayTheirOwn(t *testing.T) {
	g := newGateway(t)
	open := g.route("open", "open.localhost", openPolicy)
	noEcho := g.route("noecho", "noecho.localhost",
		"allow:\n  and:\n    - authenticated_user: true\ndeny:\n  or:\n    - mcp_tool: {is: echo}\n")
	var wg sync.WaitGroup
	for _, tc := range []struct {
		from, want string
	}{{open.From, "echo,search"}, {noEcho.From, "admin_reset,search"}} {
		bearer, _ := g.token(tc.from)
		for worker := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				session, err := g.connect(tc.from, bearer)
				if err != nil {
					t.Error(err)
					return
				}
				defer session.Close()
				ctx := context.Background()
				for i := range 25 {
					list, err := session.ListTools(ctx, nil)
					if err != nil {
						t.Error(err)
						return
					}
					if got := toolNames(list.Tools); got != tc.want {
						t.Errorf("%s listed %s, want %s", tc.from, got, tc.want)
						return
					}
					if tc.from != open.From {
						continue
					}
					// A call's answer is read whole for its outcome and
					// passed on unchanged: its buffer is held until sent.
					text := fmt.Sprintf("worker %d, call %d: %s", worker, i, strings.Repeat("x", 3000))
					res, err := session.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": text}})
					if err != nil || len(res.Content) != 1 {
						t.Errorf("echo: %v %+v", err, res)
						return
					}
					if got, _ := res.Content[0].(*sdk.TextContent); got == nil || !strings.Contains(got.Text, text) {
						t.Errorf("echo of %.20q answered %+v", text, res.Content[0])
						return
					}
				}
			}()
		}
	}
	wg.Wait()
}
