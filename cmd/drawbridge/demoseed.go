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

// demoFrom is the demo route's public URL: demo.<console host>, or
// demo.localhost when the console is reached by IP address.
func demoFrom(consoleURL string) string {
	u, err := url.Parse(consoleURL)
	if err != nil {
		return "http://demo.localhost"
	}
	host := u.Hostname()
	if net.ParseIP(host) != nil {
		host = "localhost"
	}
	host = "demo." + host
	if port := u.Port(); port != "" {
		host = net.JoinHostPort(host, port)
	}
	return u.Scheme + "://" + host
}
