package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/token"
)

// Revoke serves POST /oauth/revoke (RFC 7009). A client revokes its own
// access or refresh token; revoking a refresh token revokes its whole
// family. The answer is 200 whether or not the token was known, so the
// endpoint tells nobody which tokens exist; only a client that fails to
// authenticate, or a malformed request, gets an error.
func (s *OAuthServer) Revoke(c echo.Context) error {
	form, e := readTokenForm(c)
	if e != nil {
		return writeOAuthError(c, e)
	}
	client, e := s.authenticateClient(c, form)
	if e != nil {
		return writeOAuthError(c, e)
	}
	raw := form.Get("token")
	if raw == "" {
		return writeOAuthError(c, oauthErr(oauthInvalidRequest, "token is required"))
	}
	revoked, err := s.revokeOwnToken(c, client, raw)
	if err != nil {
		return err
	}
	if revoked {
		s.Logger.Info("oauth: token revoked by its client", "client_id", client.ClientID)
		audit(c, s.Audit, s.Logger, &models.AuditEvent{Kind: models.AuditKindRevocation, ClientID: client.ClientID},
			"the client revoked one of its tokens")
	}
	return writeOAuthJSON(c, http.StatusOK, struct{}{})
}

// revokeOwnToken revokes raw if it is a token of client's, and reports
// whether it did. Refresh tokens are known by their prefix; anything else
// must be an access token we signed.
func (s *OAuthServer) revokeOwnToken(c echo.Context, client *models.OAuthClient, raw string) (bool, error) {
	ctx := c.Request().Context()
	if !strings.HasPrefix(raw, token.PrefixRefreshToken) {
		claims, err := s.Verifier.Inspect(raw)
		if err != nil || claims.ClientID != client.ClientID {
			return false, nil
		}
		err = s.Store.RevokeAccessToken(ctx, claims.ID, s.now())
		if errors.Is(err, models.ErrNotFound) { // expired and purged
			return false, nil
		}
		return err == nil, err
	}
	hash := token.HashSecret(raw)
	rt, err := s.Store.GetRefreshToken(ctx, hash)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	case rt.ClientID != client.ClientID:
		return false, nil
	}
	return true, s.Store.RevokeRefreshToken(ctx, hash, s.now())
}
