package models

import (
	"time"

	"gorm.io/gorm"
)

// The type below is the schema as migration 10 created it: keys that
// every process sharing the database must hold alike, such as the
// session cookie key and the JWT signing keys of replicas on one
// PostgreSQL database (see SharedKey). It is frozen: the live entity may
// change, this may not.

// sharedKeyV10 is one shared key, by name. Value is what the store's
// Cipher sealed, with the AAD "shared_keys.value:<name>", like every
// other sealed column (see sealedColumns): the keys are secrets, and the
// database may be read by more people than the replicas' configuration.
type sharedKeyV10 struct {
	Name      string    `gorm:"primaryKey;size:64"`
	Value     string    `gorm:"type:text;not null"`
	CreatedAt time.Time `gorm:"not null"`
	UpdatedAt time.Time `gorm:"not null"`
}

func (sharedKeyV10) TableName() string { return "shared_keys" }

func migrate10(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&sharedKeyV10{})
}
