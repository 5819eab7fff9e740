package models

import (
	"time"

	"gorm.io/gorm"
)

// The types below are the schema as migration 6 created it: the upstream
// token vault, the pending Connect flows that fill it, and the one-time
// codes that carry a console sign-in over to a route's host. They are
// frozen: the live entities may change, these may not.
//
// Everything here goes with its user (CASCADE), and a connection or a
// pending flow goes with its upstream app: tokens for an app that no
// longer exists can never be used. A pending flow outlives its route
// (SET NULL), since the route only says where to send the browser back
// to; a route sign-in is for that route alone, so it goes with it.
//
// Tokens and PKCE verifiers are stored sealed by the Cipher, in columns
// named *_sealed so no reader mistakes them for plaintext; "" means none.

// upstreamConnectionV6 is one user's tokens at one upstream app: at most
// one row per (user, app). app_id leads an index of its own for the
// per-app counts and for the cascade from upstream_apps; user_id leads
// the unique index.
type upstreamConnectionV6 struct {
	ID                 uint          `gorm:"primaryKey"`
	UserID             uint          `gorm:"not null;uniqueIndex:idx_upstream_connections_user_app,priority:1"`
	User               userV1        `gorm:"constraint:OnDelete:CASCADE"`
	AppID              uint          `gorm:"not null;uniqueIndex:idx_upstream_connections_user_app,priority:2;index:idx_upstream_connections_app"`
	App                upstreamAppV2 `gorm:"foreignKey:AppID;constraint:OnDelete:CASCADE"`
	AccessTokenSealed  string        `gorm:"column:access_token_sealed;type:text;not null"`
	RefreshTokenSealed string        `gorm:"column:refresh_token_sealed;type:text;not null"`
	TokenType          string        `gorm:"size:64;not null"`
	ExpiresAt          *time.Time
	Scopes             string `gorm:"type:text;not null"` // JSON array
	Account            string `gorm:"size:320;not null"`
	Status             string `gorm:"size:32;not null"`
	Version            int64  `gorm:"not null"`
	// The refresh lease: who is refreshing the tokens now, and until when
	// others must wait. "" and NULL when nobody is.
	RefreshLeaseOwner string `gorm:"size:128;not null"`
	RefreshLeaseUntil *time.Time
	LastRefreshedAt   *time.Time
	LastUsedAt        *time.Time
	CreatedAt         time.Time `gorm:"not null"`
	UpdatedAt         time.Time `gorm:"not null"`
}

func (upstreamConnectionV6) TableName() string { return "upstream_connections" }

// upstreamAuthStateV6 is one pending Connect flow, found by the hash of
// the state parameter the provider hands back. Rows live minutes: the
// cascades' scans of user_id, app_id and route_id, which have no index,
// stay short.
type upstreamAuthStateV6 struct {
	ID                 uint          `gorm:"primaryKey"`
	StateHash          string        `gorm:"size:64;not null;uniqueIndex:idx_upstream_auth_states_state_hash"`
	UserID             uint          `gorm:"not null"`
	User               userV1        `gorm:"constraint:OnDelete:CASCADE"`
	AppID              uint          `gorm:"not null"`
	App                upstreamAppV2 `gorm:"foreignKey:AppID;constraint:OnDelete:CASCADE"`
	RouteID            *uint
	Route              *routeV2  `gorm:"constraint:OnDelete:SET NULL"`
	SessionHash        string    `gorm:"size:64;not null"`
	RedirectURL        string    `gorm:"column:redirect_url;size:2048;not null"`
	CodeVerifierSealed string    `gorm:"column:code_verifier_sealed;type:text;not null"`
	ExpiresAt          time.Time `gorm:"not null;index:idx_upstream_auth_states_expires"`
	CreatedAt          time.Time `gorm:"not null"`
}

func (upstreamAuthStateV6) TableName() string { return "upstream_auth_states" }

// routeSignInV6 is a one-time code that hands a console sign-in to a
// route's host. Like the auth states, its rows live minutes.
type routeSignInV6 struct {
	ID         uint      `gorm:"primaryKey"`
	CodeHash   string    `gorm:"size:64;not null;uniqueIndex:idx_route_sign_ins_code_hash"`
	UserID     uint      `gorm:"not null"`
	User       userV1    `gorm:"constraint:OnDelete:CASCADE"`
	RouteID    uint      `gorm:"not null"`
	Route      routeV2   `gorm:"constraint:OnDelete:CASCADE"`
	ReturnPath string    `gorm:"size:2048;not null"`
	ExpiresAt  time.Time `gorm:"not null;index:idx_route_sign_ins_expires"`
	CreatedAt  time.Time `gorm:"not null"`
}

func (routeSignInV6) TableName() string { return "route_sign_ins" }

func migrate6(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&upstreamConnectionV6{}, &upstreamAuthStateV6{}, &routeSignInV6{})
}
