package models

import (
	"time"

	"gorm.io/gorm"
)

// The types below are the schema as migration 7 created it: service
// accounts, the long-lived credentials CI pipelines and agents use to act
// as one user, and the routes an account is limited to. They are frozen:
// the live entities may change, these may not.
//
// An account goes with its user (CASCADE), and its route links go with
// the account and with the route. The token itself is never stored: only
// its HashToken digest, unique, and the digest of the token a rotation
// replaced, which keeps working until previous_valid_until ("" and NULL
// when there is none).

// serviceAccountV7's name is unique ignoring case, like routes' names.
// routes_restricted says the account was created limited to the routes in
// service_account_routes: once those routes are all deleted, it may use
// none, rather than every route its user may.
type serviceAccountV7 struct {
	ID                 uint   `gorm:"primaryKey"`
	Name               string `gorm:"size:100;not null;index:idx_service_accounts_name,unique,expression:lower(name)"`
	Description        string `gorm:"size:1000;not null"`
	UserID             uint   `gorm:"not null;index:idx_service_accounts_user"`
	User               userV1 `gorm:"constraint:OnDelete:CASCADE"`
	CreatedBy          string `gorm:"size:320;not null"`
	TokenHash          string `gorm:"size:64;not null;uniqueIndex:idx_service_accounts_token_hash"`
	PreviousTokenHash  string `gorm:"size:64;not null"`
	PreviousValidUntil *time.Time
	RoutesRestricted   bool `gorm:"not null"`
	ExpiresAt          *time.Time
	RevokedAt          *time.Time
	LastUsedAt         *time.Time
	CreatedAt          time.Time `gorm:"not null"`
	UpdatedAt          time.Time `gorm:"not null"`
}

func (serviceAccountV7) TableName() string { return "service_accounts" }

// serviceAccountRouteV7 is one route an account may use. route_id leads
// an index of its own for the cascade from routes. The key's columns are
// NOT NULL explicitly: SQLite would otherwise let a composite primary key
// hold NULLs.
type serviceAccountRouteV7 struct {
	ServiceAccountID uint             `gorm:"primaryKey;autoIncrement:false;not null"`
	RouteID          uint             `gorm:"primaryKey;autoIncrement:false;not null;index:idx_service_account_routes_route"`
	ServiceAccount   serviceAccountV7 `gorm:"constraint:OnDelete:CASCADE"`
	Route            routeV2          `gorm:"constraint:OnDelete:CASCADE"`
}

func (serviceAccountRouteV7) TableName() string { return "service_account_routes" }

func migrate7(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&serviceAccountV7{}, &serviceAccountRouteV7{})
}
