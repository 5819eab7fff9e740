package proxy

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/drawbridge/drawbridge/proxy/token"
)

// Identity is who a request acts for, once authenticated.
type Identity struct {
	UserID         string
	Email          string
	Groups         []string
	ClientID       string
	ServiceAccount string
	// Routes, when not nil, are the only routes a service account may
	// use, whatever its user's policies allow.
	Routes map[uint]bool
}

// authenticate checks the request's bearer token for route. On failure it
// has answered 401 with the challenge that sends an MCP client to the
// route's protected resource metadata, and returns false.
func (e *Engine) authenticate(w http.ResponseWriter, r *http.Request, snap *Snapshot, route *Route) (*Identity, bool) {
	raw, problem := bearerToken(r)
	if raw == "" {
		e.challenge(w, route, problem)
		return nil, false
	}
	// Any issuer: what decides is the hash, so a console URL changed
	// since the token was issued does not break it.
	if jwt, sa, err := token.ParseServiceAccount(raw, ""); !errors.Is(err, token.ErrNotServiceAccount) {
		if err == nil {
			var id *Identity
			if id, err = e.serviceAccount(snap, route, jwt, sa); err == nil {
				return id, true
			}
		} else {
			err = errAccountUnknown
		}
		refuseServiceAccount(w, err)
		return nil, false
	}
	claims, err := e.verifier.VerifyFor(raw, route.From, snap.clientAudience, snap.Revoked)
	if err != nil {
		e.challenge(w, route, tokenProblem(err))
		return nil, false
	}
	id, err := strconv.ParseUint(claims.Subject, 10, 64)
	u := snap.User(uint(id))
	if err != nil || u == nil || u.Disabled {
		e.challenge(w, route, "the user this token was issued to can no longer sign in")
		return nil, false
	}
	return &Identity{
		UserID: claims.Subject, Email: u.Email, Groups: u.Groups,
		ClientID: claims.ClientID, ServiceAccount: claims.ServiceAccount,
	}, true
}

// bearerToken reads the one Authorization header. It returns "" and why
// when there is no usable token; "" and "" when there is none at all.
func bearerToken(r *http.Request) (string, string) {
	values := r.Header.Values("Authorization")
	switch {
	case len(values) == 0:
		return "", ""
	case len(values) > 1:
		return "", "send one Authorization header"
	}
	scheme, raw, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" || strings.ContainsAny(raw, " \t") {
		return "", "the Authorization header must be Bearer followed by an access token"
	}
	return raw, ""
}

// tokenProblem is the error_description for a refused token. token's
// messages never repeat the token's bytes.
func tokenProblem(err error) string {
	switch {
	case errors.Is(err, token.ErrExpired):
		return "the access token has expired"
	case errors.Is(err, token.ErrRevoked):
		return "the access token was revoked"
	case errors.Is(err, token.ErrAudience):
		return "the access token was issued for another MCP server"
	}
	return "the access token is not valid"
}

// challenge answers 401 with the WWW-Authenticate header of RFC 9728
// section 5.1: where the route's metadata is, the scope to ask for, and,
// when a token was presented, why it was refused (RFC 6750).
func (e *Engine) challenge(w http.ResponseWriter, route *Route, problem string) {
	v := `Bearer resource_metadata="` + resourceMetadataURL(route) + `", scope="mcp"`
	if problem != "" {
		v += `, error="invalid_token", error_description="` + problem + `"`
	}
	h := w.Header()
	h.Set("WWW-Authenticate", v)
	h.Set("Access-Control-Expose-Headers", "WWW-Authenticate")
	msg := "Sign in to use this MCP server: your client should follow the WWW-Authenticate header."
	if problem != "" {
		msg = "Unauthorized: " + problem + "."
	}
	writeRPCError(w, http.StatusUnauthorized, errorBody(codeUnauthorized, msg))
}

// codeUnauthorized is the JSON-RPC error code of a missing or bad token.
const codeUnauthorized = -32002

// resourceMetadataURL is where route's protected resource metadata lives:
// the well-known path, suffixed with the route's prefix (RFC 9728 3.1).
func resourceMetadataURL(route *Route) string {
	scheme := route.From[:strings.Index(route.From, "://")]
	return scheme + "://" + route.Host + wellKnownResource + route.Prefix
}
