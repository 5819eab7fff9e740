package models

import (
	"time"

	"gorm.io/gorm"
)

// migrations is the schema's history, oldest first. Append new steps; never
// edit or reorder a released one (a database that applied it would not
// apply it again).
var migrations = []migration{
	{version: 1, name: "config versions and users", up: migrate1},
	{version: 2, name: "routes, policies, upstream apps and history", up: migrate2},
	{version: 3, name: "oauth clients, codes, tokens and consents", up: migrate3},
	{version: 4, name: "settings", up: migrate4},
	{version: 5, name: "audit events", up: migrate5},
	{version: 6, name: "upstream connections, connect states and route sign-ins", up: migrate6},
	{version: 7, name: "service accounts", up: migrate7},
	{version: 8, name: "audit log readers: auditor role, retention checkpoints, verifications, dashboard indexes", up: migrate8},
	{version: 9, name: "what each audit verification found, per chain", up: migrate9},
	{version: 10, name: "keys the processes sharing the database share", up: migrate10},
	{version: 11, name: "sign-in failures, counted alike by every process sharing the database", up: migrate11},
	{version: 12, name: "the audit journal, SQLite's fast path for events", up: migrate12},
	{version: 13, name: "the audit journal assigns its own ids and holds outcomes", up: migrate13},
	{version: 14, name: "console sessions signed out of, which end their route hosts' sessions too", up: migrate14},
}

// The types below are the schema as migration 1 created it. They are frozen:
// the live entities may change, these may not.

type configVersionV1 struct {
	ID        uint      `gorm:"primaryKey;autoIncrement:false"`
	Version   int64     `gorm:"not null"`
	UpdatedAt time.Time `gorm:"not null"`
}

func (configVersionV1) TableName() string { return "config_versions" }

// userV1's email is unique on lower(email), so that even a row written
// without the store's normalization cannot duplicate an address in another
// case. (provider, subject) is unique only where a subject is set: local
// users all share provider "local" and subject "". Columns have no DEFAULT:
// GORM's SQLite dialect would quote string defaults as "", which SQLite
// reads as an identifier first, and the store writes every column anyway.
type userV1 struct {
	ID           uint   `gorm:"primaryKey"`
	Email        string `gorm:"size:254;not null;index:idx_users_email,unique,expression:lower(email)"`
	Name         string `gorm:"size:200;not null"`
	PasswordHash string `gorm:"size:255;not null"`
	IsAdmin      bool   `gorm:"not null"`
	Disabled     bool   `gorm:"not null"`
	Provider     string `gorm:"size:64;not null;index:idx_users_provider_subject,unique,priority:1,where:subject <> ''"`
	Subject      string `gorm:"size:255;not null;index:idx_users_provider_subject,priority:2"`
	Groups       string `gorm:"type:text;not null"`
	SessionEpoch int    `gorm:"not null"`
	LastSignInAt *time.Time
	CreatedAt    time.Time `gorm:"not null"`
	UpdatedAt    time.Time `gorm:"not null"`
}

func (userV1) TableName() string { return "users" }

func migrate1(tx *gorm.DB) error {
	if err := tx.Migrator().CreateTable(&configVersionV1{}, &userV1{}); err != nil {
		return err
	}
	return tx.Create(&configVersionV1{ID: 1, Version: 1, UpdatedAt: now()}).Error
}
