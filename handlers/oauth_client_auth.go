package handlers

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/token"
)

// maxTokenRequestBytes caps a token or revocation request body. Real ones
// are a few hundred bytes.
const maxTokenRequestBytes = 16 << 10

// readTokenForm reads the form body of a token or revocation request
// strictly: the right content type, a capped size, no query string
// parameters standing in for body ones, and each parameter at most once
// (RFC 6749 section 3.2).
func readTokenForm(c echo.Context) (url.Values, *OAuthError) {
	r := c.Request()
	mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationForm {
		return nil, oauthErr(oauthInvalidRequest, "the body must be application/x-www-form-urlencoded")
	}
	if r.URL.RawQuery != "" {
		return nil, oauthErr(oauthInvalidRequest, "parameters go in the body, not the query string")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxTokenRequestBytes+1))
	if err != nil {
		return nil, oauthErr(oauthInvalidRequest, "the body could not be read")
	}
	if len(body) > maxTokenRequestBytes {
		return nil, &OAuthError{Status: http.StatusRequestEntityTooLarge, Code: oauthInvalidRequest, Description: "the body is larger than 16 KiB"}
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, oauthErr(oauthInvalidRequest, "the body is not valid form encoding")
	}
	for name, vs := range form {
		if len(vs) > 1 {
			return nil, oauthErr(oauthInvalidRequest, name+" is sent more than once")
		}
	}
	return form, nil
}

// errClientAuth is what every failed client authentication answers: the
// same words whether the client is unknown or its secret wrong.
var errClientAuth = &OAuthError{Status: http.StatusUnauthorized, Code: oauthInvalidClient, Description: "client authentication failed"}

// authenticateClient finds the client a token or revocation request comes
// from and checks that it authenticates the way it registered: a public
// client by its client_id alone, a confidential one by its secret in the
// Authorization header (client_secret_basic) or in the body
// (client_secret_post), never both, never another way.
func (s *OAuthServer) authenticateClient(c echo.Context, form url.Values) (*models.OAuthClient, *OAuthError) {
	basicID, basicSecret, hasBasic := c.Request().BasicAuth()
	if hasBasic {
		// RFC 6749 section 2.3.1: both are form-encoded before Basic.
		var err1, err2 error
		basicID, err1 = url.QueryUnescape(basicID)
		basicSecret, err2 = url.QueryUnescape(basicSecret)
		if err1 != nil || err2 != nil {
			return nil, errClientAuth
		}
	} else if c.Request().Header.Get(echo.HeaderAuthorization) != "" {
		return nil, oauthErrStatus(http.StatusUnauthorized, oauthInvalidClient, "only HTTP Basic client authentication is accepted in the Authorization header")
	}
	bodyID, bodySecret := form.Get("client_id"), form.Get("client_secret")
	clientID := bodyID
	switch {
	case hasBasic && bodySecret != "":
		return nil, oauthErrStatus(http.StatusBadRequest, oauthInvalidRequest, "use one client authentication method, not two")
	case hasBasic && bodyID != "" && bodyID != basicID:
		return nil, oauthErrStatus(http.StatusBadRequest, oauthInvalidRequest, "client_id in the body differs from the one in the Authorization header")
	case hasBasic:
		clientID = basicID
	}
	if clientID == "" {
		return nil, errClientAuth
	}
	client, err := s.Store.GetOAuthClient(c.Request().Context(), clientID)
	if err != nil {
		if !errors.Is(err, models.ErrNotFound) {
			s.Logger.Error("oauth: look up client", "error", err)
			return nil, &OAuthError{Status: http.StatusInternalServerError, Code: oauthServerError, Description: "the client could not be looked up"}
		}
		return nil, errClientAuth
	}
	if client.Disabled {
		return nil, errClientAuth
	}
	var presented string
	switch client.TokenEndpointAuthMethod {
	case models.AuthMethodNone:
		if hasBasic || bodySecret != "" {
			return nil, errClientAuth
		}
		return client, nil
	case models.AuthMethodClientSecretBasic:
		if !hasBasic {
			return nil, errClientAuth
		}
		presented = basicSecret
	case models.AuthMethodClientSecretPost:
		if hasBasic {
			return nil, errClientAuth
		}
		presented = bodySecret
	default:
		return nil, errClientAuth
	}
	if presented == "" || client.SecretHash == "" || !token.ConstantTimeEqualHash(token.HashSecret(presented), client.SecretHash) {
		return nil, errClientAuth
	}
	return client, nil
}

// oauthErrStatus builds an OAuthError with the given status.
func oauthErrStatus(status int, code, description string) *OAuthError {
	return &OAuthError{Status: status, Code: code, Description: description}
}
