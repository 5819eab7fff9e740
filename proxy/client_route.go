package proxy

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/policy"
	"github.com/drawbridge/drawbridge/proxy/token"
)

// serveBrowserRoute serves an mcp_client or http route: the browser
// session authenticates, the policies decide on the HTTP method and path,
// and the app behind an mcp_client route receives the user's access
// token, good on every MCP server route the user may use.
func (e *Engine) serveBrowserRoute(w http.ResponseWriter, r *http.Request, snap *Snapshot, route *Route, start time.Time) {
	id := e.browserIdentity(r, snap)
	if id == nil {
		e.count(route, "unauthenticated", http.StatusUnauthorized)
		e.askSignIn(w, r, route)
		return
	}
	in := policy.Input{
		Authenticated: true, UserID: id.UserID, Email: id.Email, Groups: id.Groups,
		SourceIP: e.clientIP.Of(r), HTTPMethod: r.Method, HTTPPath: r.URL.Path, Now: start,
	}
	if !safeMethod(r) && !sameOrigin(r, route) {
		// The session is a cookie, and the app gets a bearer token for
		// it: a request another site's page made must not become one.
		e.count(route, "invalid", http.StatusForbidden)
		gatewayPage(w, http.StatusForbidden, "Requests from web pages on other sites are refused.")
		return
	}
	if d := policy.Evaluate(route.Policies, &in); !d.Allow {
		e.count(route, "deny", http.StatusForbidden)
		e.log.Info("proxy: denied", "route", route.Name, "user", id.Email, "path", r.URL.Path, "reason", d.String())
		gatewayPage(w, http.StatusForbidden, "Drawbridge policy does not let "+id.Email+" use "+route.Name+".")
		return
	}
	st := &forwardState{route: route, input: in}
	var err error
	if e.asserter != nil {
		st.assertion, err = e.asserter.Sign(token.Assertion{
			Subject: id.UserID, Email: id.Email, Groups: id.Groups, Audience: route.From,
		})
	}
	if err == nil && route.Kind == models.KindMCPClient && e.clientTokens != nil {
		st.bearer, err = e.clientTokens.get(id, route)
	}
	if err != nil {
		e.log.Error("proxy: sign credentials for an app", "route", route.Name, "error", err)
		gatewayPage(w, http.StatusInternalServerError, "Drawbridge could not sign the request.")
		return
	}
	rec := &statusRecorder{ResponseWriter: w}
	route.forward.proxy.ServeHTTP(rec, r.WithContext(withForwardState(r.Context(), st)))
	e.count(route, "allow", rec.status())
}

// safeMethod is a request that changes nothing: a GET, HEAD or OPTIONS
// that is not a WebSocket upgrade.
func safeMethod(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return r.Header.Get("Upgrade") == ""
	}
	return false
}

// clientTokens mints the access tokens apps behind mcp_client routes
// receive, one per user and route, renewed once half its life is gone:
// short-lived, yet not a signature per request.
type clientTokens struct {
	issuer *token.Issuer
	mu     sync.Mutex
	held   map[clientTokenKey]clientToken
}

type clientTokenKey struct {
	user string
	from string // the route's URL, the tokens' audience
}

type clientToken struct {
	raw   string
	renew time.Time
}

func newClientTokens(issuer *token.Issuer) *clientTokens {
	if issuer == nil {
		return nil
	}
	return &clientTokens{issuer: issuer, held: map[clientTokenKey]clientToken{}}
}

// get returns a token for id at route. Its audience is the client route,
// which MCP server routes accept (Snapshot.clientAudience); its client is
// the route's URL, which is what the audit log and policies see.
func (c *clientTokens) get(id *Identity, route *Route) (string, error) {
	k := clientTokenKey{id.UserID, route.From}
	now := time.Now()
	c.mu.Lock()
	t, ok := c.held[k]
	c.mu.Unlock()
	if ok && now.Before(t.renew) {
		return t.raw, nil
	}
	raw, claims, err := c.issuer.Issue(token.Claims{
		Subject: id.UserID, Audience: route.From, ClientID: route.From, Scope: "mcp", Email: id.Email,
	})
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if len(c.held) > 100_000 { // a bound, not a policy: tokens are cheap to mint again
		clear(c.held)
	}
	c.held[k] = clientToken{raw: raw, renew: claims.IssuedAt.Add(claims.ExpiresAt.Sub(claims.IssuedAt) / 2)}
	c.mu.Unlock()
	return raw, nil
}

// userNumber is an Identity's user ID as stored.
func userNumber(id *Identity) uint {
	n, _ := strconv.ParseUint(id.UserID, 10, 64)
	return uint(n)
}
