package models

import (
	"time"

	"gorm.io/gorm"
)

// The types below are the schema as migration 3 created it: the OAuth
// authorization server's clients, codes, token families, tokens and
// consents. They are frozen: the live entities may change, these may not.
//
// Codes, families, refresh tokens and consents go with their client and
// their user (CASCADE). Access token records do not follow their client:
// they are the ledger the proxy reads revocations from, so a deleted
// client's tokens stay listed, revoked, until they expire and PurgeExpired
// drops them. client_id references oauth_clients.client_id, not its id,
// because that is the identifier every OAuth request carries.
//
// The foreign-key fields that name a column of the same name in the parent
// (client_id, family_id) are called ClientRef and FamilyRef here: were
// both sides' fields called ClientID, GORM would read the relation as
// has-one and point the key the wrong way.

type oauthClientV3 struct {
	ID                      uint       `gorm:"primaryKey"`
	ClientID                string     `gorm:"column:client_id;size:2048;not null;uniqueIndex:idx_oauth_clients_client_id"`
	Name                    string     `gorm:"size:200;not null"`
	ClientURI               string     `gorm:"column:client_uri;size:2048;not null"`
	LogoURI                 string     `gorm:"column:logo_uri;size:2048;not null"`
	RedirectURIs            string     `gorm:"column:redirect_uris;type:text;not null"` // JSON array
	GrantTypes              string     `gorm:"column:grant_types;type:text;not null"`   // JSON array
	TokenEndpointAuthMethod string     `gorm:"column:token_endpoint_auth_method;size:32;not null"`
	SecretHash              string     `gorm:"column:secret_hash;size:64;not null"`
	Source                  string     `gorm:"size:32;not null;index:idx_oauth_clients_source"`
	Disabled                bool       `gorm:"not null"`
	CreatedAt               time.Time  `gorm:"not null"`
	UpdatedAt               time.Time  `gorm:"not null"`
	LastUsedAt              *time.Time `gorm:"column:last_used_at"`
}

func (oauthClientV3) TableName() string { return "oauth_clients" }

// oauthAuthCodeV3's family_id names the token family its redemption
// starts, so that a replay can revoke what the first use was issued.
type oauthAuthCodeV3 struct {
	ID            uint          `gorm:"primaryKey"`
	CodeHash      string        `gorm:"column:code_hash;size:64;not null;uniqueIndex:idx_oauth_auth_codes_code_hash"`
	FamilyID      string        `gorm:"column:family_id;size:64;not null;uniqueIndex:idx_oauth_auth_codes_family"`
	ClientRef     string        `gorm:"column:client_id;size:2048;not null;index:idx_oauth_auth_codes_client_user,priority:1"`
	Client        oauthClientV3 `gorm:"foreignKey:ClientRef;references:ClientID;constraint:OnDelete:CASCADE"`
	UserID        uint          `gorm:"not null;index:idx_oauth_auth_codes_client_user,priority:2;index:idx_oauth_auth_codes_user"`
	User          userV1        `gorm:"constraint:OnDelete:CASCADE"`
	RedirectURI   string        `gorm:"column:redirect_uri;size:2048;not null"`
	CodeChallenge string        `gorm:"column:code_challenge;size:128;not null"`
	Resource      string        `gorm:"size:2048;not null"`
	Scope         string        `gorm:"type:text;not null"`
	ExpiresAt     time.Time     `gorm:"not null;index:idx_oauth_auth_codes_expires"`
	UsedAt        *time.Time
	CreatedAt     time.Time `gorm:"not null"`
}

func (oauthAuthCodeV3) TableName() string { return "oauth_auth_codes" }

// oauthTokenFamilyV3 is one authorization: the redemption of one code,
// and every refresh and access token that descends from it. Its
// revoked_at is what a token issued after the family's revocation is
// refused on.
type oauthTokenFamilyV3 struct {
	ID           uint          `gorm:"primaryKey"`
	FamilyID     string        `gorm:"column:family_id;size:64;not null;uniqueIndex:idx_oauth_token_families_family"`
	ClientRef    string        `gorm:"column:client_id;size:2048;not null;index:idx_oauth_token_families_client_user,priority:1"`
	Client       oauthClientV3 `gorm:"foreignKey:ClientRef;references:ClientID;constraint:OnDelete:CASCADE"`
	UserID       uint          `gorm:"not null;index:idx_oauth_token_families_client_user,priority:2;index:idx_oauth_token_families_user"`
	User         userV1        `gorm:"constraint:OnDelete:CASCADE"`
	Resource     string        `gorm:"size:2048;not null"`
	Scope        string        `gorm:"type:text;not null"`
	CreatedAt    time.Time     `gorm:"not null"`
	LastIssuedAt *time.Time    `gorm:"column:last_issued_at"`
	RevokedAt    *time.Time
}

func (oauthTokenFamilyV3) TableName() string { return "oauth_token_families" }

type oauthRefreshTokenV3 struct {
	ID        uint               `gorm:"primaryKey"`
	TokenHash string             `gorm:"column:token_hash;size:64;not null;uniqueIndex:idx_oauth_refresh_tokens_token_hash"`
	FamilyRef string             `gorm:"column:family_id;size:64;not null;index:idx_oauth_refresh_tokens_family"`
	Family    oauthTokenFamilyV3 `gorm:"foreignKey:FamilyRef;references:FamilyID;constraint:OnDelete:CASCADE"`
	ClientRef string             `gorm:"column:client_id;size:2048;not null;index:idx_oauth_refresh_tokens_client_user,priority:1"`
	Client    oauthClientV3      `gorm:"foreignKey:ClientRef;references:ClientID;constraint:OnDelete:CASCADE"`
	UserID    uint               `gorm:"not null;index:idx_oauth_refresh_tokens_client_user,priority:2;index:idx_oauth_refresh_tokens_user"`
	User      userV1             `gorm:"constraint:OnDelete:CASCADE"`
	Resource  string             `gorm:"size:2048;not null"`
	Scope     string             `gorm:"type:text;not null"`
	ExpiresAt time.Time          `gorm:"not null;index:idx_oauth_refresh_tokens_expires"`
	RotatedAt *time.Time
	RevokedAt *time.Time
	CreatedAt time.Time `gorm:"not null"`
}

func (oauthRefreshTokenV3) TableName() string { return "oauth_refresh_tokens" }

// oauthAccessTokenV3 has no key to its client or family, on purpose: see
// above. It does follow its user, whose deletion no token outlives.
type oauthAccessTokenV3 struct {
	ID        uint      `gorm:"primaryKey"`
	JTI       string    `gorm:"column:jti;size:255;not null;uniqueIndex:idx_oauth_access_tokens_jti"`
	FamilyID  string    `gorm:"column:family_id;size:64;not null;index:idx_oauth_access_tokens_family"`
	ClientID  string    `gorm:"column:client_id;size:2048;not null;index:idx_oauth_access_tokens_client_user,priority:1"`
	UserID    uint      `gorm:"not null;index:idx_oauth_access_tokens_client_user,priority:2;index:idx_oauth_access_tokens_user"`
	User      userV1    `gorm:"constraint:OnDelete:CASCADE"`
	Resource  string    `gorm:"size:2048;not null"`
	ExpiresAt time.Time `gorm:"not null;index:idx_oauth_access_tokens_expires"`
	RevokedAt *time.Time
	CreatedAt time.Time `gorm:"not null"`
}

func (oauthAccessTokenV3) TableName() string { return "oauth_access_tokens" }

type oauthConsentV3 struct {
	ID        uint          `gorm:"primaryKey"`
	UserID    uint          `gorm:"not null;uniqueIndex:idx_oauth_consents_user_client_resource,priority:1"`
	User      userV1        `gorm:"constraint:OnDelete:CASCADE"`
	ClientRef string        `gorm:"column:client_id;size:2048;not null;uniqueIndex:idx_oauth_consents_user_client_resource,priority:2;index:idx_oauth_consents_client"`
	Client    oauthClientV3 `gorm:"foreignKey:ClientRef;references:ClientID;constraint:OnDelete:CASCADE"`
	Resource  string        `gorm:"size:2048;not null;uniqueIndex:idx_oauth_consents_user_client_resource,priority:3"`
	Scope     string        `gorm:"type:text;not null"`
	CreatedAt time.Time     `gorm:"not null"`
}

func (oauthConsentV3) TableName() string { return "oauth_consents" }

func migrate3(tx *gorm.DB) error {
	// Referenced tables first, so the foreign keys have something to name.
	return tx.Migrator().CreateTable(&oauthClientV3{}, &oauthAuthCodeV3{}, &oauthTokenFamilyV3{},
		&oauthRefreshTokenV3{}, &oauthAccessTokenV3{}, &oauthConsentV3{})
}
