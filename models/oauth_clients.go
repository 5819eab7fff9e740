package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// How an OAuth client authenticates to the token endpoint.
const (
	// AuthMethodNone is a public client: it holds no secret and proves
	// itself by PKCE alone.
	AuthMethodNone = "none"
	// AuthMethodClientSecretBasic sends the secret as HTTP Basic
	// credentials.
	AuthMethodClientSecretBasic = "client_secret_basic"
	// AuthMethodClientSecretPost sends the secret in the form body.
	AuthMethodClientSecretPost = "client_secret_post"
)

// Where an OAuth client came from.
const (
	// ClientSourceDCR is a client that registered itself (RFC 7591).
	ClientSourceDCR = "dcr"
	// ClientSourceMetadataDocument is a client known by the URL of its
	// client ID metadata document, which is also its client ID.
	ClientSourceMetadataDocument = "metadata_document"
	// ClientSourceConsole is a client an admin made in the console.
	ClientSourceConsole = "console"
)

// Grant types a client may use.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
)

// OAuthClient is an MCP client: registered dynamically (RFC 7591), known
// by its client ID metadata document URL, or made in the console.
type OAuthClient struct {
	ID uint `json:"id"`
	// ClientID is unique: random for DCR clients, the https URL of the
	// metadata document for metadata-document clients.
	ClientID string `json:"client_id"`
	Name     string `json:"name"` // at most 200 characters; may be empty
	// ClientURI and LogoURI come from the registration, unchecked beyond
	// their length: show them as text, never follow them blindly.
	ClientURI string `json:"client_uri" gorm:"column:client_uri"`
	LogoURI   string `json:"logo_uri" gorm:"column:logo_uri"`
	// RedirectURIs are 1 to 20 URIs, each at most 2048 bytes, compared
	// exactly; the HTTP layer decides which ones are acceptable.
	RedirectURIs []string `json:"redirect_uris" gorm:"column:redirect_uris;serializer:json"`
	// GrantTypes are GrantAuthorizationCode and, optionally,
	// GrantRefreshToken.
	GrantTypes []string `json:"grant_types" gorm:"column:grant_types;serializer:json"`
	// TokenEndpointAuthMethod is AuthMethodNone, AuthMethodClientSecretBasic
	// or AuthMethodClientSecretPost.
	TokenEndpointAuthMethod string `json:"token_endpoint_auth_method"`
	// SecretHash is HashToken of the client secret: set for confidential
	// clients, "" for public ones.
	SecretHash string `json:"-"`
	// Source is ClientSourceDCR, ClientSourceMetadataDocument or
	// ClientSourceConsole.
	Source string `json:"source"`
	// Disabled clients can neither authorize nor refresh; disabling one
	// revokes its tokens.
	Disabled   bool       `json:"disabled"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"` // as TouchOAuthClient last set it
}

// TableName names the table; GORM would make it o_auth_clients.
func (OAuthClient) TableName() string { return "oauth_clients" }

// OAuthClientFilter selects a page of clients for ListOAuthClients.
type OAuthClientFilter struct {
	// Query, when set, keeps clients whose name, client ID or client URI
	// contains it, ignoring case.
	Query string
	// Source, when set, keeps clients from that source only.
	Source string
	// Offset skips that many clients; Limit caps the page (0: no cap).
	Offset, Limit int
}

// oauthClientColumns are what a refreshed metadata document replaces.
var oauthClientColumns = []string{
	"name", "client_uri", "logo_uri", "redirect_uris", "grant_types",
	"token_endpoint_auth_method", "secret_hash", "updated_at",
}

func (c *OAuthClient) normalize() {
	c.ClientID = strings.TrimSpace(c.ClientID)
	c.Name = strings.TrimSpace(c.Name)
	c.ClientURI = strings.TrimSpace(c.ClientURI)
	c.LogoURI = strings.TrimSpace(c.LogoURI)
	// Stored as JSON: [] rather than null.
	if c.RedirectURIs == nil {
		c.RedirectURIs = []string{}
	}
	if c.GrantTypes == nil {
		c.GrantTypes = []string{}
	}
}

// Validate reports every structural problem with a normalized c, as a
// *ValidationError. Which redirect URIs are acceptable (https, loopback,
// custom schemes) is the HTTP layer's rule, not the store's.
func (c *OAuthClient) Validate() error {
	var v ValidationError
	validateOAuthID(&v, "client_id", c.ClientID, maxOAuthClientIDLen)
	validateMaxChars(&v, "name", c.Name, maxClientNameChars)
	validateMaxLen(&v, "client_uri", c.ClientURI, maxURLLen)
	validateMaxLen(&v, "logo_uri", c.LogoURI, maxURLLen)
	switch n := len(c.RedirectURIs); {
	case n == 0:
		v.Add("redirect_uris", "must list at least one URI")
	case n > maxRedirectURIs:
		v.Add("redirect_uris", fmt.Sprintf("must list at most %d URIs", maxRedirectURIs))
	}
	for i, u := range c.RedirectURIs {
		switch {
		case u == "":
			v.Add("redirect_uris", fmt.Sprintf("URI %d is empty", i+1))
		case len(u) > maxURLLen:
			v.Add("redirect_uris", fmt.Sprintf("URI %d must be at most %d bytes", i+1, maxURLLen))
		}
	}
	if len(c.GrantTypes) == 0 {
		v.Add("grant_types", "must list at least one grant type")
	}
	for _, g := range c.GrantTypes {
		if g != GrantAuthorizationCode && g != GrantRefreshToken {
			v.Add("grant_types", fmt.Sprintf("must be %s or %s, not %q", GrantAuthorizationCode, GrantRefreshToken, g))
		}
	}
	switch c.TokenEndpointAuthMethod {
	case AuthMethodNone:
		if c.SecretHash != "" {
			v.Add("secret_hash", "must be empty for a public client")
		}
	case AuthMethodClientSecretBasic, AuthMethodClientSecretPost:
		if c.SecretHash == "" {
			v.Add("secret_hash", "is required for a confidential client")
		} else {
			validateHash(&v, "secret_hash", c.SecretHash)
		}
	default:
		v.Add("token_endpoint_auth_method", fmt.Sprintf("must be %s, %s or %s",
			AuthMethodNone, AuthMethodClientSecretBasic, AuthMethodClientSecretPost))
	}
	if !slices.Contains([]string{ClientSourceDCR, ClientSourceMetadataDocument, ClientSourceConsole}, c.Source) {
		v.Add("source", fmt.Sprintf("must be %s, %s or %s", ClientSourceDCR, ClientSourceMetadataDocument, ClientSourceConsole))
	}
	return v.Err()
}

// CreateOAuthClient validates c and inserts it, filling in its ID and
// timestamps. Invalid input is a *ValidationError; a client ID in use is
// a *ConflictError (ErrConflict).
//
// Clients are not configuration: registering one bumps no version and
// records no history, since anyone may register (RFC 7591).
func (s *Store) CreateOAuthClient(ctx context.Context, c *OAuthClient) error {
	c.normalize()
	if err := c.Validate(); err != nil {
		return fmt.Errorf("models: create oauth client %q: %w", c.ClientID, err)
	}
	c.ID, c.LastUsedAt = 0, nil
	if err := s.db.WithContext(ctx).Create(c).Error; err != nil {
		return fmt.Errorf("models: create oauth client %q: %w", c.ClientID, clientIDConflict(dbError(err)))
	}
	return nil
}

// clientIDConflict names the field of an ErrConflict.
func clientIDConflict(err error) error {
	if errors.Is(err, ErrConflict) {
		return &ConflictError{Field: "client_id", Message: "is already registered"}
	}
	return err
}

// GetOAuthClient returns the client whose client ID is clientID, or
// ErrNotFound. Disabled clients are returned too: check Disabled.
func (s *Store) GetOAuthClient(ctx context.Context, clientID string) (*OAuthClient, error) {
	if cleanText(clientID) != clientID {
		// Anyone may send one (it comes from the request), no client can
		// have it, and PostgreSQL would refuse it as a parameter.
		return nil, fmt.Errorf("models: get oauth client %q: %w", clientID, ErrNotFound)
	}
	var c OAuthClient
	if err := s.db.WithContext(ctx).Where("client_id = ?", clientID).Take(&c).Error; err != nil {
		return nil, fmt.Errorf("models: get oauth client %q: %w", clientID, dbError(err))
	}
	return &c, nil
}

// GetOAuthClientByID returns the client with id, or ErrNotFound.
func (s *Store) GetOAuthClientByID(ctx context.Context, id uint) (*OAuthClient, error) {
	var c OAuthClient
	if err := s.db.WithContext(ctx).Take(&c, id).Error; err != nil {
		return nil, fmt.Errorf("models: get oauth client %d: %w", id, dbError(err))
	}
	return &c, nil
}

// ListOAuthClients returns one page of the clients matching f, ordered by
// name, and how many clients match f in all.
func (s *Store) ListOAuthClients(ctx context.Context, f OAuthClientFilter) ([]OAuthClient, int64, error) {
	q := whereContains(s.db.WithContext(ctx).Model(&OAuthClient{}), f.Query, "name", "client_id", "client_uri")
	if f.Source != "" {
		q = q.Where("source = ?", f.Source)
	}
	clients, total, err := listPage[OAuthClient](q, "lower(name), id", f.Offset, f.Limit)
	if err != nil {
		return nil, 0, fmt.Errorf("models: list oauth clients: %w", err)
	}
	return clients, total, nil
}

// UpsertMetadataClient stores c, a client described by the metadata
// document at c.ClientID, as ClientSourceMetadataDocument: it inserts it
// the first time, and later replaces what the document says (name, URIs,
// redirect URIs, grant types, auth method) from a re-fetched copy, keeping
// its ID, Disabled, CreatedAt and LastUsedAt. c is loaded with the stored
// client. A client ID already taken by a client of another source is a
// *ConflictError: a document cannot take over a client registered
// otherwise.
func (s *Store) UpsertMetadataClient(ctx context.Context, c *OAuthClient) error {
	c.Source = ClientSourceMetadataDocument
	c.normalize()
	if err := c.Validate(); err != nil {
		return fmt.Errorf("models: upsert oauth client %q: %w", c.ClientID, err)
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		t := now()
		row := *c
		row.ID, row.Disabled, row.LastUsedAt, row.CreatedAt, row.UpdatedAt = 0, false, nil, t, t
		// One statement, so two processes fetching the same document at
		// once cannot both insert; the WHERE leaves other sources alone.
		err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "client_id"}},
			Where:     clause.Where{Exprs: []clause.Expression{clause.Eq{Column: clause.Column{Table: "oauth_clients", Name: "source"}, Value: ClientSourceMetadataDocument}}},
			DoUpdates: clause.AssignmentColumns(oauthClientColumns),
		}).Create(&row).Error
		if err != nil {
			return dbError(err)
		}
		var stored OAuthClient
		if err := tx.Where("client_id = ?", c.ClientID).Take(&stored).Error; err != nil {
			return dbError(err)
		}
		if stored.Source != ClientSourceMetadataDocument {
			return &ConflictError{Field: "client_id", Message: "is already registered by another kind of client"}
		}
		*c = stored
		return nil
	})
	if err != nil {
		return fmt.Errorf("models: upsert oauth client %q: %w", c.ClientID, err)
	}
	return nil
}

// TouchOAuthClient records that the client was used at at (a token
// issued, say). Like a sign-in, it is not configuration: no version bump.
func (s *Store) TouchOAuthClient(ctx context.Context, clientID string, at time.Time) error {
	res := s.db.WithContext(ctx).Model(&OAuthClient{}).Where("client_id = ?", clientID).
		UpdateColumn("last_used_at", dbTime(at))
	if res.Error != nil {
		return fmt.Errorf("models: touch oauth client %q: %w", clientID, dbError(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("models: touch oauth client %q: %w", clientID, ErrNotFound)
	}
	return nil
}
