package main

import (
	"context"
	"fmt"
	"net"
	"net/url"

	"github.com/drawbridge/drawbridge/models"
)

const (
	demoRouteName  = "Demo tools"
	demoPolicyName = "demo"
	demoPolicy     = `# The demo route: every signed-in user may use the demo tools,
# except the administrative ones.
allow:
  and:
    - authenticated_user: true
deny:
  or:
    - mcp_tool: {starts_with: admin_}
`
)

// seedDemo puts the demo MCP server behind a route, once: only when the
// database has never had a route, so a newcomer sees the product working
// at once and an admin who deleted the demo is not second-guessed.
func seedDemo(ctx context.Context, b *backend, demoURL string) error {
	_, routes, err := b.store.ListChanges(ctx, models.ChangeFilter{Resource: "route", Limit: 1})
	if err != nil || routes > 0 {
		return err
	}
	ctx = models.WithActor(ctx, "demo setup")
	p := &models.Policy{Name: demoPolicyName, Description: "Signed-in users may call the demo tools, except admin_*.", Source: demoPolicy}
	if err := b.store.CreatePolicy(ctx, p); err != nil {
		return fmt.Errorf("seed demo policy: %w", err)
	}
	r := &models.Route{
		Name: demoRouteName, Description: "The demo MCP server that serve --demo starts on loopback.",
		From: demoFrom(b.cfg.Server.ConsoleURL), To: demoURL, Kind: models.KindMCPServer, Enabled: true,
	}
	if err := b.store.CreateRoute(ctx, r, []uint{p.ID}); err != nil {
		return fmt.Errorf("seed demo route: %w", err)
	}
	b.logger.Info("seeded the demo route", "from", r.From, "to", r.To)
	return nil
}

// demoFrom is the demo route's public URL. On this machine, it is the
// console's other loopback name: a console at localhost puts the demo at
// 127.0.0.1 and the other way round. Both resolve everywhere, with no
// /etc/hosts entry (which *.localhost names need for many MCP clients),
// MCP SDKs accept plain http on loopback, and the two are distinct hosts
// to a browser, so the demo never sees the console's cookies. A console
// at a host name puts the demo at demo.<that name>.
func demoFrom(consoleURL string) string {
	u, err := url.Parse(consoleURL)
	if err != nil {
		return "http://127.0.0.1"
	}
	host := u.Hostname()
	switch ip := net.ParseIP(host); {
	case host == "localhost":
		host = "127.0.0.1"
	case ip != nil && ip.IsLoopback():
		host = "localhost"
	case ip != nil:
		host = "demo.localhost"
	default:
		host = "demo." + host
	}
	if port := u.Port(); port != "" {
		host = net.JoinHostPort(host, port)
	}
	return u.Scheme + "://" + host
}
