package handlers

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"
)

// Error codes of RFC 6749 section 5.2, RFC 7591 section 3.2.2, RFC 7009
// and RFC 8707 that the authorization server answers with.
const (
	oauthInvalidRequest         = "invalid_request"
	oauthInvalidClient          = "invalid_client"
	oauthInvalidGrant           = "invalid_grant"
	oauthUnauthorizedClient     = "unauthorized_client"
	oauthUnsupportedGrantType   = "unsupported_grant_type"
	oauthUnsupportedTokenType   = "unsupported_token_type"
	oauthUnsupportedResponse    = "unsupported_response_type"
	oauthInvalidScope           = "invalid_scope"
	oauthInvalidTarget          = "invalid_target"
	oauthAccessDenied           = "access_denied"
	oauthServerError            = "server_error"
	oauthInvalidRedirectURI     = "invalid_redirect_uri"
	oauthInvalidClientMetadata  = "invalid_client_metadata"
	oauthTemporarilyUnavailable = "temporarily_unavailable"
)

// OAuthError is an error the authorization server sends to a client as
// the JSON body RFC 6749 section 5.2 describes. Description is meant for
// the developer of the client: it says what was wrong and never echoes
// secrets back.
type OAuthError struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (e *OAuthError) Error() string { return e.Code + ": " + e.Description }

// oauthErr builds an OAuthError with status 400, the usual one.
func oauthErr(code, description string) *OAuthError {
	return &OAuthError{Status: http.StatusBadRequest, Code: code, Description: description}
}

// writeOAuthError sends e as JSON, uncached. A 401 for client
// authentication carries the Basic challenge RFC 6749 asks for.
func writeOAuthError(c echo.Context, e *OAuthError) error {
	h := c.Response().Header()
	if e.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Basic realm="drawbridge", charset="UTF-8"`)
	}
	return writeOAuthJSON(c, e.Status, e)
}

// writeOAuthJSON sends v as JSON with the headers every token-bearing
// answer needs (RFC 6749 section 5.1): never stored by a cache.
func writeOAuthJSON(c echo.Context, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	h.Set(echo.HeaderCacheControl, "no-store")
	h.Set("Pragma", "no-cache")
	return c.Blob(status, echo.MIMEApplicationJSON, body)
}
