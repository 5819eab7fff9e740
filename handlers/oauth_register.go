package handlers

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/token"
)

// Limits on a registration request. Anyone on the internet may send one.
const (
	maxRegistrationBytes = 16 << 10
	maxRegisteredURIs    = 20
	maxClientNameLen     = 200 // characters, as the store counts them
	maxClientURILen      = 2048
)

// clientIDPrefix starts every registered client ID, so that one reads as
// Drawbridge's and never as a metadata document URL or a secret.
const clientIDPrefix = "mcp_"

// RegistrationStore is what Registration needs of the store.
type RegistrationStore interface {
	CreateOAuthClient(ctx context.Context, c *models.OAuthClient) error
	GetSettings(ctx context.Context) (models.Settings, error)
}

// Registration serves POST /oauth/register: dynamic client registration
// (RFC 7591) for MCP clients. It needs no session: a client registers
// before anyone has signed in, and proves nothing by registering.
type Registration struct {
	Store RegistrationStore
	// Limit caps registrations per client address (see addressKey),
	// counted in the database alike by every process sharing it; nil
	// allows any.
	Limit  *Throttle
	Logger *slog.Logger
}

// NewRegistration returns a Registration that allows each client address
// (an IPv4 address, or an IPv6 /64) ten registrations in any minute,
// across every replica: plenty for a person setting up clients, too few
// to fill the database. events is where they are counted.
func NewRegistration(store RegistrationStore, events ThrottleStore, logger *slog.Logger) *Registration {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Registration{Store: store, Limit: NewThrottle(events, models.RegistrationScopeAddress, 10, time.Minute), Logger: logger}
}

// clientMetadata is a registration request as checked and completed with
// RFC 7591's defaults: what the client will be stored with.
type clientMetadata struct {
	RedirectURIs  []string
	Name          string
	ClientURI     string
	LogoURI       string
	GrantTypes    []string
	ResponseTypes []string
	AuthMethod    string
}

// registrationResponse is the client information response of RFC 7591
// section 3.2.1. The secret and its expiry (0: never) are there for
// confidential clients only.
type registrationResponse struct {
	ClientID                string   `json:"client_id"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	ClientSecretExpiresAt   *int64   `json:"client_secret_expires_at,omitempty"`
	ClientName              string   `json:"client_name,omitempty"`
	ClientURI               string   `json:"client_uri,omitempty"`
	LogoURI                 string   `json:"logo_uri,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
}

// Register registers the client the JSON body describes and answers 201
// with its client ID and, for a confidential client, its secret, shown
// this once. Every refusal is an OAuth error body.
func (r *Registration) Register(c echo.Context) error {
	ctx := c.Request().Context()
	if e := r.limit(c); e != nil {
		return writeOAuthError(c, e)
	}
	settings, err := r.Store.GetSettings(ctx)
	if err != nil {
		return r.serverError(c, "read settings", err)
	}
	if !settings.RegistrationEnabled {
		return writeOAuthError(c, &OAuthError{Status: http.StatusForbidden, Code: oauthAccessDenied,
			Description: "Dynamic client registration is turned off on this Drawbridge; ask an administrator to register your client"})
	}
	body, e := readRegistrationBody(c.Request())
	if e != nil {
		return writeOAuthError(c, e)
	}
	m, e := parseRegistration(body)
	if e != nil {
		return writeOAuthError(c, e)
	}
	client := &models.OAuthClient{
		ClientID:                clientIDPrefix + rand.Text(),
		Name:                    m.Name,
		ClientURI:               m.ClientURI,
		LogoURI:                 m.LogoURI,
		RedirectURIs:            m.RedirectURIs,
		GrantTypes:              m.GrantTypes,
		TokenEndpointAuthMethod: m.AuthMethod,
		Source:                  models.ClientSourceDCR,
	}
	var secret string
	if m.AuthMethod != models.AuthMethodNone {
		if secret, client.SecretHash, err = token.NewSecret(token.PrefixClientSecret); err != nil {
			return r.serverError(c, "new client secret", err)
		}
	}
	if err := r.Store.CreateOAuthClient(ctx, client); err != nil {
		// parseRegistration checks at least what the store does, so a
		// refusal here is a bug on this side.
		return r.serverError(c, "create client", err)
	}
	r.Logger.InfoContext(ctx, "oauth: client registered", "client_id", client.ClientID, "client_name", client.Name,
		"auth_method", client.TokenEndpointAuthMethod, "ip", c.RealIP())
	resp := registrationResponse{
		ClientID:                client.ClientID,
		ClientIDIssuedAt:        client.CreatedAt.Unix(),
		ClientName:              client.Name,
		ClientURI:               client.ClientURI,
		LogoURI:                 client.LogoURI,
		RedirectURIs:            client.RedirectURIs,
		GrantTypes:              client.GrantTypes,
		ResponseTypes:           m.ResponseTypes,
		TokenEndpointAuthMethod: client.TokenEndpointAuthMethod,
	}
	if secret != "" {
		never := int64(0)
		resp.ClientSecret, resp.ClientSecretExpiresAt = secret, &never
	}
	return writeOAuthJSON(c, http.StatusCreated, resp)
}

// limit counts the registration against the client's address, and
// refuses it, before anything else is read, when the address has used up
// its registrations or the count cannot be taken. An uncounted
// registration would be a free one, so a store that does not answer
// means no registrations, not unlimited ones.
func (r *Registration) limit(c echo.Context) *OAuthError {
	if r.Limit == nil {
		return nil
	}
	a, err := r.Limit.Attempt(c.Request().Context(), addressKey(c.RealIP()))
	if err != nil {
		r.Logger.ErrorContext(c.Request().Context(), "oauth: registration failed", "step", "count registrations", "err", err,
			"id", c.Response().Header().Get(echo.HeaderXRequestID))
		return &OAuthError{Status: http.StatusServiceUnavailable, Code: oauthTemporarilyUnavailable,
			Description: "Drawbridge cannot take registrations right now; try again later"}
	}
	if a.Blocked {
		// Whole seconds, rounded up, and never 0: a client told to retry
		// at once would only be refused again.
		c.Response().Header().Set("Retry-After", strconv.Itoa(max(int((a.Wait+time.Second-1)/time.Second), 1)))
		return &OAuthError{Status: http.StatusTooManyRequests, Code: oauthTemporarilyUnavailable,
			Description: "Too many registrations from this address; try again after the time in Retry-After"}
	}
	return nil
}

// serverError logs what failed inside and tells the client only that it
// did, in the OAuth shape it expects.
func (r *Registration) serverError(c echo.Context, what string, err error) error {
	r.Logger.ErrorContext(c.Request().Context(), "oauth: registration failed", "step", what, "err", err,
		"id", c.Response().Header().Get(echo.HeaderXRequestID))
	return writeOAuthError(c, &OAuthError{Status: http.StatusInternalServerError, Code: oauthServerError,
		Description: "Drawbridge could not register the client; try again later"})
}
