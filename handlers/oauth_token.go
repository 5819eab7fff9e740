package handlers

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/token"
)

// tokenResponse is the successful answer of RFC 6749 section 5.1.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
}

// grant is what a successful grant hands on to issueTokens.
type grant struct {
	client   *models.OAuthClient
	familyID string
	userID   uint
	resource string
	scope    string
	// refresh is the rotated refresh token to return, if the grant made one.
	refresh string
}

// Token serves POST /oauth/token: authorization_code and refresh_token.
// Every failure is an RFC 6749 error body; nothing is cached.
func (s *OAuthServer) Token(c echo.Context) error {
	form, e := readTokenForm(c)
	if e != nil {
		return writeOAuthError(c, e)
	}
	client, e := s.authenticateClient(c, form)
	if e != nil {
		audit(c, s.Audit, s.Logger, &models.AuditEvent{Kind: models.AuditKindRefused, ClientID: form.Get("client_id"), Decision: models.AuditDeny},
			"token request: "+e.Code+": "+e.Description)
		return writeOAuthError(c, e)
	}
	grantType := form.Get("grant_type")
	if grantType == "" {
		return writeOAuthError(c, oauthErr(oauthInvalidRequest, "grant_type is required"))
	}
	if grantType != models.GrantAuthorizationCode && grantType != models.GrantRefreshToken {
		return writeOAuthError(c, oauthErr(oauthUnsupportedGrantType, "grant_type must be authorization_code or refresh_token"))
	}
	if !slices.Contains(client.GrantTypes, grantType) {
		return writeOAuthError(c, oauthErr(oauthUnauthorizedClient, "this client did not register the "+grantType+" grant"))
	}
	var g *grant
	if grantType == models.GrantAuthorizationCode {
		g, e = s.codeGrant(c, client, form)
	} else {
		g, e = s.refreshGrant(c, client, form)
	}
	if e != nil {
		s.Logger.Info("oauth: token request refused", "client_id", client.ClientID, "grant_type", grantType, "error", e.Code, "reason", e.Description)
		audit(c, s.Audit, s.Logger, &models.AuditEvent{Kind: models.AuditKindRefused, ClientID: client.ClientID, Decision: models.AuditDeny},
			grantType+": "+e.Code+": "+e.Description)
		return writeOAuthError(c, e)
	}
	resp, err := s.issueTokens(c, g)
	if err != nil {
		var oe *OAuthError
		if errors.As(err, &oe) {
			return writeOAuthError(c, oe)
		}
		return err
	}
	audit(c, s.Audit, s.Logger, &models.AuditEvent{Kind: models.AuditKindToken, UserID: &g.userID, ClientID: client.ClientID},
		"access token issued by the "+grantType+" grant, for "+g.resource)
	if err := s.Store.TouchOAuthClient(c.Request().Context(), client.ClientID, s.now()); err != nil {
		s.Logger.Warn("oauth: record client use", "client_id", client.ClientID, "error", err)
	}
	return writeOAuthJSON(c, http.StatusOK, resp)
}

// codeGrant redeems an authorization code. The code is spent by the first
// attempt, right or wrong; a second attempt revokes what the first got.
func (s *OAuthServer) codeGrant(c echo.Context, client *models.OAuthClient, form url.Values) (*grant, *OAuthError) {
	code, redirectURI, verifier := form.Get("code"), form.Get("redirect_uri"), form.Get("code_verifier")
	switch {
	case code == "":
		return nil, oauthErr(oauthInvalidRequest, "code is required")
	case redirectURI == "":
		return nil, oauthErr(oauthInvalidRequest, "redirect_uri is required")
	case verifier == "":
		return nil, oauthErr(oauthInvalidRequest, "code_verifier is required (PKCE)")
	case !validVerifier(verifier):
		return nil, oauthErr(oauthInvalidRequest, "code_verifier must be 43 to 128 unreserved characters")
	}
	ac, err := s.Store.RedeemAuthCode(c.Request().Context(), token.HashSecret(code), s.now())
	switch {
	case errors.Is(err, models.ErrNotFound):
		return nil, oauthErr(oauthInvalidGrant, "the authorization code is not valid")
	case errors.Is(err, models.ErrCodeReused):
		s.Logger.Warn("oauth: authorization code reused; its tokens are revoked", "client_id", client.ClientID)
		return nil, oauthErr(oauthInvalidGrant, "the authorization code was already used")
	case errors.Is(err, models.ErrCodeExpired):
		return nil, oauthErr(oauthInvalidGrant, "the authorization code has expired")
	case err != nil:
		s.Logger.Error("oauth: redeem code", "error", err)
		return nil, oauthErrStatus(http.StatusInternalServerError, oauthServerError, "the code could not be redeemed")
	}
	switch {
	case ac.ClientID != client.ClientID:
		return nil, oauthErr(oauthInvalidGrant, "the authorization code was issued to another client")
	case ac.RedirectURI != redirectURI:
		return nil, oauthErr(oauthInvalidGrant, "redirect_uri differs from the one in the authorization request")
	case !pkceMatches(verifier, ac.CodeChallenge):
		return nil, oauthErr(oauthInvalidGrant, "code_verifier does not match the code_challenge")
	}
	if e := s.checkResourceParam(c, form, ac.Resource); e != nil {
		return nil, e
	}
	return &grant{client: client, familyID: ac.FamilyID, userID: ac.UserID, resource: ac.Resource, scope: ac.Scope}, nil
}

// refreshGrant rotates a refresh token: the one presented is spent and a
// new one returned. A spent one presented again revokes its family.
func (s *OAuthServer) refreshGrant(c echo.Context, client *models.OAuthClient, form url.Values) (*grant, *OAuthError) {
	presented := form.Get("refresh_token")
	if presented == "" {
		return nil, oauthErr(oauthInvalidRequest, "refresh_token is required")
	}
	next, hash, err := token.NewSecret(token.PrefixRefreshToken)
	if err != nil {
		return nil, oauthErrStatus(http.StatusInternalServerError, oauthServerError, "no refresh token could be made")
	}
	now := s.now()
	rotated := &models.RefreshToken{TokenHash: hash, ExpiresAt: now.Add(s.refreshTTL())}
	old, err := s.Store.RotateRefreshToken(c.Request().Context(), token.HashSecret(presented), client.ClientID, rotated, now)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return nil, oauthErr(oauthInvalidGrant, "the refresh token is not valid")
	case errors.Is(err, models.ErrTokenReused):
		s.Logger.Warn("oauth: refresh token reused; its family is revoked", "client_id", client.ClientID)
		return nil, oauthErr(oauthInvalidGrant, "the refresh token was already used; sign in again")
	case errors.Is(err, models.ErrTokenRevoked):
		return nil, oauthErr(oauthInvalidGrant, "the refresh token was revoked; sign in again")
	case errors.Is(err, models.ErrTokenExpired):
		return nil, oauthErr(oauthInvalidGrant, "the refresh token has expired; sign in again")
	case err != nil:
		s.Logger.Error("oauth: rotate refresh token", "error", err)
		return nil, oauthErrStatus(http.StatusInternalServerError, oauthServerError, "the refresh token could not be used")
	}
	if e := s.checkResourceParam(c, form, old.Resource); e != nil {
		return nil, e
	}
	return &grant{client: client, familyID: old.FamilyID, userID: old.UserID, resource: old.Resource, scope: old.Scope, refresh: next}, nil
}

// checkResourceParam holds a token request's optional resource to the one
// the grant was made for.
func (s *OAuthServer) checkResourceParam(c echo.Context, form url.Values, granted string) *OAuthError {
	raw := form.Get("resource")
	if raw == "" {
		return nil
	}
	route, err := resolveResource(c.Request().Context(), s.Store, raw)
	if err != nil {
		return oauthErr(oauthInvalidTarget, err.Error())
	}
	if route.From != granted {
		return oauthErr(oauthInvalidTarget, "resource differs from the one the user authorized")
	}
	return nil
}

// issueTokens signs an access token for the grant and records it, and
// adds a refresh token when the client uses them. The user must still be
// allowed to sign in.
func (s *OAuthServer) issueTokens(c echo.Context, g *grant) (*tokenResponse, error) {
	ctx := c.Request().Context()
	u, err := s.Store.GetUser(ctx, g.userID)
	if errors.Is(err, models.ErrNotFound) || (err == nil && u.Disabled) {
		return nil, oauthErr(oauthInvalidGrant, "the user who authorized this client can no longer sign in")
	}
	if err != nil {
		return nil, err
	}
	raw, claims, err := s.Issuer.Issue(token.Claims{
		Subject: userSubject(u), Audience: g.resource, ClientID: g.client.ClientID, Scope: g.scope, Email: u.Email,
	})
	if err != nil {
		return nil, err
	}
	err = s.Store.RecordAccessToken(ctx, &models.AccessTokenRecord{
		JTI: claims.ID, FamilyID: g.familyID, ClientID: g.client.ClientID, UserID: u.ID,
		Resource: g.resource, ExpiresAt: claims.ExpiresAt, CreatedAt: claims.IssuedAt,
	})
	if errors.Is(err, models.ErrTokenRevoked) {
		return nil, oauthErr(oauthInvalidGrant, "this authorization was revoked; sign in again")
	}
	if err != nil {
		return nil, err
	}
	resp := &tokenResponse{
		AccessToken: raw, TokenType: "Bearer", Scope: g.scope,
		ExpiresIn:    int64(claims.ExpiresAt.Sub(claims.IssuedAt) / time.Second),
		RefreshToken: g.refresh,
	}
	if resp.RefreshToken == "" && slices.Contains(g.client.GrantTypes, models.GrantRefreshToken) {
		secret, hash, err := token.NewSecret(token.PrefixRefreshToken)
		if err != nil {
			return nil, err
		}
		err = s.Store.CreateRefreshToken(ctx, &models.RefreshToken{
			TokenHash: hash, FamilyID: g.familyID, ClientID: g.client.ClientID, UserID: u.ID,
			Resource: g.resource, Scope: g.scope, ExpiresAt: s.now().Add(s.refreshTTL()),
		})
		if err != nil {
			return nil, err
		}
		resp.RefreshToken = secret
	}
	return resp, nil
}

func (s *OAuthServer) refreshTTL() time.Duration {
	if s.RefreshTokenTTL > 0 {
		return s.RefreshTokenTTL
	}
	return DefaultRefreshTokenTTL
}

// pkceMatches checks an S256 verifier against its challenge, in constant
// time.
func pkceMatches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	return token.ConstantTimeEqualHash(base64.RawURLEncoding.EncodeToString(sum[:]), challenge)
}

// userSubject is the sub claim of a user's tokens: the user's ID, which,
// unlike an email address, never passes to another person.
func userSubject(u *models.User) string { return strconv.FormatUint(uint64(u.ID), 10) }
