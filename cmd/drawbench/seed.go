package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"strconv"
	"time"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/policy"
	"github.com/drawbridge/drawbridge/proxy/token"
)

// issuerURL is the console the gateway's tokens name; nothing serves it,
// since the benchmark issues its tokens itself.
const issuerURL = "http://console.localhost"

// benchEmail and benchGroup are the one user's, which the policy checks.
const (
	benchEmail = "bench@example.com"
	benchGroup = "engineering"
)

// benchPolicy is the route's policy: five rules, three to allow and two to
// deny, as a real route's might be. The deny rule on admin_ hides half of
// the many-tools server's list. With denyEcho, echo is denied too: the
// reload measurement switches between the two.
func benchPolicy(denyEcho bool) string {
	denied := "[delete_repo, drop_table]"
	if denyEcho {
		denied = "[delete_repo, drop_table, echo]"
	}
	return "allow:\n" +
		"  and:\n" +
		"    - authenticated_user: true\n" +
		"    - domain: {is: example.com}\n" +
		"    - groups: {has: " + benchGroup + "}\n" +
		"deny:\n" +
		"  or:\n" +
		"    - mcp_tool: {starts_with: admin_}\n" +
		"    - mcp_tool: {in: " + denied + "}\n"
}

// validatePolicy checks a policy as the engine will compile it.
func validatePolicy(name string, source []byte) error {
	_, err := policy.Parse(name, source)
	return err
}

func newKeySet() (*token.KeySet, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return token.NewKeySet(key)
}

// seeded is what seedGateway made, or joinGateway found.
type seeded struct {
	policyID uint
	routes   map[string]routeInfo
}

// benchRoutes are the gateway's routes: what each is for, its host, and
// the upstream path it goes to.
var benchRoutes = []struct{ key, host, path string }{
	{routeEcho, "bench.localhost", pathEcho},
	{routeList, "list.localhost", pathMany},
	{routeStream, "stream.localhost", pathStream},
}

// seedGateway stores the user, the policy and one route per upstream path,
// each on its own host at port, the port clients reach the gateway on,
// and issues an access token for each route, as the authorization server
// would.
func seedGateway(ctx context.Context, store *models.Store, keys *token.KeySet, upstream, port string) (*seeded, error) {
	user := &models.User{Email: benchEmail, Name: "Bench", Provider: models.ProviderLocal, Groups: []string{benchGroup}}
	if err := store.CreateUser(ctx, user); err != nil {
		return nil, err
	}
	p := &models.Policy{Name: "bench", Source: benchPolicy(false)}
	if err := store.CreatePolicy(ctx, p); err != nil {
		return nil, err
	}
	var routes []*models.Route
	for _, r := range benchRoutes {
		route := &models.Route{
			Name: "bench-" + r.key, From: "http://" + r.host + ":" + port, To: upstream + r.path,
			Kind: models.KindMCPServer, Enabled: true,
		}
		if err := store.CreateRoute(ctx, route, []uint{p.ID}); err != nil {
			return nil, err
		}
		routes = append(routes, route)
	}
	return issueTokens(keys, user, p, routes)
}

// joinGateway finds what another gateway's seedGateway stored in the
// database they share, and issues tokens for its routes: a replica
// joining the first.
func joinGateway(ctx context.Context, store *models.Store, keys *token.KeySet) (*seeded, error) {
	user, err := store.GetUserByEmail(ctx, benchEmail)
	if err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	p, err := store.GetPolicyByName(ctx, "bench")
	if err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	var routes []*models.Route
	for _, r := range benchRoutes {
		route, err := store.GetRouteByName(ctx, "bench-"+r.key)
		if err != nil {
			return nil, fmt.Errorf("join: %w", err)
		}
		routes = append(routes, route)
	}
	return issueTokens(keys, user, p, routes)
}

// issueTokens issues the user an access token for each route, in
// benchRoutes' order.
func issueTokens(keys *token.KeySet, user *models.User, p *models.Policy, routes []*models.Route) (*seeded, error) {
	issuer, err := token.NewIssuer(keys, issuerURL, time.Hour)
	if err != nil {
		return nil, err
	}
	out := &seeded{policyID: p.ID, routes: map[string]routeInfo{}}
	for i, route := range routes {
		raw, _, err := issuer.Issue(token.Claims{
			Subject: strconv.FormatUint(uint64(user.ID), 10), Audience: route.From, ClientID: "drawbench", Scope: "mcp",
		})
		if err != nil {
			return nil, err
		}
		out.routes[benchRoutes[i].key] = routeInfo{URL: route.From, Bearer: raw}
	}
	return out, nil
}
