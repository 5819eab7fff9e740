package models

import (
	"time"

	"gorm.io/gorm"
)

// The type below is the schema as migration 11 created it: the failed
// sign-in attempts that throttling counts, kept in the database so that
// every process sharing it counts the same attempts (see
// RecordSignInFailure). It is frozen: the live entity may change, this
// may not.

// signInFailureV11 is one failed attempt against one key: an account (the
// email typed) or a client address, as scope says. The key itself is not
// stored, only its SHA-256 in hex: people mistype their email, or type a
// password into its field, and neither should sit in the database in
// clear for the hour or so the row lives.
//
// Two indexes: (scope, key_hash, at) counts one key's recent failures,
// and deletes its old ones, as a range of one key; (at) lets the sweep
// delete every old row without reading the rest.
type signInFailureV11 struct {
	ID      uint64    `gorm:"primaryKey"`
	Scope   string    `gorm:"size:16;not null;index:idx_sign_in_failures_key,priority:1"`
	KeyHash string    `gorm:"size:64;not null;index:idx_sign_in_failures_key,priority:2"`
	At      time.Time `gorm:"not null;index:idx_sign_in_failures_key,priority:3;index:idx_sign_in_failures_at"`
}

func (signInFailureV11) TableName() string { return "sign_in_failures" }

func migrate11(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&signInFailureV11{})
}
