package models

import (
	"time"

	"gorm.io/gorm"
)

// The types below are the schema as migration 2 created it. They are
// frozen: the live entities may change, these may not.
//
// Foreign keys keep references whole: a route's upstream app and a route's
// policies cannot be deleted from under it (RESTRICT; the store checks
// first, to say which routes), while a route's policy links go with it
// (CASCADE). Columns named from and to would be SQL keywords, hence
// from_url and to_url.

type upstreamAppV2 struct {
	ID       uint   `gorm:"primaryKey"`
	Name     string `gorm:"size:64;not null;uniqueIndex:idx_upstream_apps_name"`
	Preset   string `gorm:"size:64;not null"`
	ClientID string `gorm:"size:512;not null"`
	// ClientSecret holds the Cipher's sealed value, NULL until the store
	// writes it right after the insert: its AAD names the row's ID.
	ClientSecret    *string   `gorm:"type:text"`
	AuthURL         string    `gorm:"size:2048;not null"`
	TokenURL        string    `gorm:"size:2048;not null"`
	RevocationURL   string    `gorm:"size:2048;not null"`
	Scopes          string    `gorm:"type:text;not null"` // JSON array
	AuthStyle       string    `gorm:"size:16;not null"`
	ExtraAuthParams string    `gorm:"type:text;not null"` // JSON object
	PKCE            bool      `gorm:"column:pkce;not null"`
	CreatedAt       time.Time `gorm:"not null"`
	UpdatedAt       time.Time `gorm:"not null"`
}

func (upstreamAppV2) TableName() string { return "upstream_apps" }

type policyV2 struct {
	ID          uint      `gorm:"primaryKey"`
	Name        string    `gorm:"size:64;not null;uniqueIndex:idx_policies_name"`
	Description string    `gorm:"type:text;not null"`
	Source      string    `gorm:"type:text;not null"`
	CreatedAt   time.Time `gorm:"not null"`
	UpdatedAt   time.Time `gorm:"not null"`
}

func (policyV2) TableName() string { return "policies" }

// routeV2's name is unique ignoring case, like users' email; from is
// stored normalized, so plain uniqueness is enough.
type routeV2 struct {
	ID                uint           `gorm:"primaryKey"`
	Name              string         `gorm:"size:100;not null;index:idx_routes_name,unique,expression:lower(name)"`
	Description       string         `gorm:"type:text;not null"`
	From              string         `gorm:"column:from_url;size:2048;not null;uniqueIndex:idx_routes_from"`
	To                string         `gorm:"column:to_url;size:2048;not null"`
	Kind              string         `gorm:"size:16;not null"`
	UpstreamAppID     *uint          `gorm:"index:idx_routes_upstream_app"`
	UpstreamApp       *upstreamAppV2 `gorm:"constraint:OnDelete:RESTRICT"`
	TimeoutSeconds    int            `gorm:"not null"`
	MaxRequestBytes   int64          `gorm:"not null"`
	PassUpstreamToken bool           `gorm:"not null"`
	Enabled           bool           `gorm:"not null"`
	CreatedAt         time.Time      `gorm:"not null"`
	UpdatedAt         time.Time      `gorm:"not null"`
}

func (routeV2) TableName() string { return "routes" }

type routePolicyV2 struct {
	RouteID  uint     `gorm:"primaryKey;autoIncrement:false"`
	PolicyID uint     `gorm:"primaryKey;autoIncrement:false;index:idx_route_policies_policy"`
	Route    routeV2  `gorm:"constraint:OnDelete:CASCADE"`
	Policy   policyV2 `gorm:"constraint:OnDelete:RESTRICT"`
}

func (routePolicyV2) TableName() string { return "route_policies" }

// changeV2 is one row of the configuration history. Its rows are never
// updated; (resource, resource_id) finds one object's history.
type changeV2 struct {
	ID           uint      `gorm:"primaryKey"`
	At           time.Time `gorm:"not null"`
	Actor        string    `gorm:"size:320;not null;index:idx_changes_actor"`
	Resource     string    `gorm:"size:32;not null;index:idx_changes_resource,priority:1"`
	ResourceID   uint      `gorm:"not null;index:idx_changes_resource,priority:2"`
	ResourceName string    `gorm:"size:254;not null"`
	Action       string    `gorm:"size:16;not null"`
	Before       string    `gorm:"type:text;not null"`
	After        string    `gorm:"type:text;not null"`
}

func (changeV2) TableName() string { return "changes" }

func migrate2(tx *gorm.DB) error {
	// Referenced tables first, so the foreign keys have something to name.
	return tx.Migrator().CreateTable(&upstreamAppV2{}, &policyV2{}, &routeV2{}, &routePolicyV2{}, &changeV2{})
}
