package handlers

import (
	"context"
	"log/slog"
	"time"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/token"
)

// OAuthStore is what the authorization server needs of the store.
type OAuthStore interface {
	RouteLister
	GetOAuthClient(ctx context.Context, clientID string) (*models.OAuthClient, error)
	TouchOAuthClient(ctx context.Context, clientID string, at time.Time) error
	GetSettings(ctx context.Context) (models.Settings, error)
	GetUser(ctx context.Context, id uint) (*models.User, error)

	GetUpstreamConnection(ctx context.Context, userID, appID uint) (*models.UpstreamConnection, error)
	HasConsent(ctx context.Context, userID uint, clientID, resource string) (bool, error)
	GrantConsent(ctx context.Context, c *models.Consent) error

	CreateAuthCode(ctx context.Context, c *models.AuthCode) error
	RedeemAuthCode(ctx context.Context, codeHash string, now time.Time) (*models.AuthCode, error)
	CreateRefreshToken(ctx context.Context, t *models.RefreshToken) error
	RotateRefreshToken(ctx context.Context, oldHash, clientID string, next *models.RefreshToken, now time.Time) (*models.RefreshToken, error)
	GetRefreshToken(ctx context.Context, tokenHash string) (*models.RefreshToken, error)
	RecordAccessToken(ctx context.Context, r *models.AccessTokenRecord) error
	RevokeAccessToken(ctx context.Context, jti string, now time.Time) error
	RevokeRefreshToken(ctx context.Context, tokenHash string, now time.Time) error
}

// ClientResolver turns a client ID that is a metadata document URL into a
// client, fetching the document when it must. *MetadataClients is one.
type ClientResolver interface {
	Resolve(ctx context.Context, clientID string, hosts []string) (*models.OAuthClient, error)
}

// Lifetimes of what the authorization server issues.
const (
	// CodeTTL is how long an authorization code may wait to be redeemed.
	// A client redeems it within a second of receiving it.
	CodeTTL = time.Minute
	// DefaultAccessTokenTTL and DefaultRefreshTokenTTL apply when the
	// configuration does not set them.
	DefaultAccessTokenTTL  = time.Hour
	DefaultRefreshTokenTTL = 30 * 24 * time.Hour
)

// OAuthServer is Drawbridge's OAuth 2.1 authorization server for MCP
// clients: metadata, authorization with consent, the token and revocation
// endpoints. Registration (RFC 7591) is Registration's.
type OAuthServer struct {
	Base
	Store OAuthStore
	// Issuer signs access tokens; Verifier reads them back for
	// revocation; Keys publishes the public keys, the current ones at
	// each request (a rotation swaps them while the server runs).
	Issuer   *token.Issuer
	Verifier *token.Verifier
	Keys     token.KeySource
	// IssuerURL is the console URL, without a trailing slash: the "iss"
	// of every token and the base of every endpoint.
	IssuerURL string
	// MetadataClients resolves clients known by a metadata document URL;
	// nil turns that kind of client off.
	MetadataClients ClientResolver
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	Logger          *slog.Logger
	Now             func() time.Time
	// Audit records consents, tokens issued and revoked, and refusals.
	Audit Auditor
}

func (s *OAuthServer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// endpoint is the absolute URL of one of the server's paths.
func (s *OAuthServer) endpoint(path string) string { return s.IssuerURL + path }
