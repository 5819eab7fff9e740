package proxy

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/drawbridge/drawbridge/proxy/mcp"
	"github.com/drawbridge/drawbridge/proxy/vault"
)

// codeConnect is the JSON-RPC error code of a call refused because the
// user has no usable upstream token for the route.
const codeConnect = -32003

// upstreamToken returns the user's access token at the route's upstream
// app. When there is none to use, it has answered 401, saying how to
// connect, and returns false.
func (x *exchange) upstreamToken(w http.ResponseWriter) (string, bool) {
	var tok string
	err := errors.New("no vault")
	if x.e.vault != nil {
		tok, err = x.e.vault.Token(x.r.Context(), userNumber(x.id), x.route.App)
	}
	if err == nil {
		return tok, true
	}
	route := x.route.Name
	var msg string
	switch {
	case errors.Is(err, vault.ErrNotConnected):
		msg = "Connect your account to use " + route + ": open "
	case errors.Is(err, vault.ErrNeedsReconnect):
		msg = "The upstream no longer accepts the sign-in Drawbridge saved for you on " + route + ". Connect again: open "
	case errors.Is(err, vault.ErrUnavailable):
		x.e.log.Warn("proxy: upstream token unavailable", "route", route, "app", x.route.App.Name, "error", err)
		writeRPCError(w, http.StatusBadGateway, errorBody(codeUpstream,
			"Drawbridge could not renew your sign-in for "+route+" just now: the upstream's token endpoint did not answer. Try again in a moment."))
		return "", false
	default:
		x.e.log.Error("proxy: read upstream token", "route", route, "error", err)
		writeRPCError(w, http.StatusServiceUnavailable, errorBody(codeUpstream, "Drawbridge could not read your sign-in for "+route+"."))
		return "", false
	}
	connect := x.e.issuerURL + ConsoleConnect + "?" + url.Values{"route": {strconv.FormatUint(uint64(x.route.ID), 10)}}.Encode()
	portal := x.e.issuerURL + "/"
	msg += connect + " (or the portal, " + portal + ")."
	if x.id.ServiceAccount != "" {
		// An account never starts an OAuth flow: its user connects.
		msg = "The service account " + x.id.ServiceAccount + " acts as " + x.id.Email + ", who has no usable connection for " +
			route + ". Sign in to the portal as " + x.id.Email + " and connect " + route + " first: " + connect
		writeRPCError(w, http.StatusUnauthorized, mcp.ErrorResponse(nil, codeConnect, msg, map[string]string{
			"connect_url": connect, "portal_url": portal,
		}))
		return "", false
	}
	// The challenge makes an MCP client sign in again; the authorization
	// flow then runs Connect before the client gets its new token.
	w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+resourceMetadataURL(x.route)+`", scope="mcp", error="invalid_token", error_description="connect your upstream account in Drawbridge"`)
	w.Header().Set("Access-Control-Expose-Headers", "WWW-Authenticate")
	writeRPCError(w, http.StatusUnauthorized, mcp.ErrorResponse(nil, codeConnect, msg, map[string]string{
		"connect_url": connect, "portal_url": portal,
	}))
	return "", false
}
