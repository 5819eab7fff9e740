package models

import (
	"time"

	"gorm.io/gorm"
)

// settingV4 is the schema as migration 4 created it: one row per admin
// setting, its value as JSON. A setting with no row reads as its default,
// so adding a setting later needs no migration, and a database written by
// a newer build keeps rows this one ignores. Frozen: the live type may
// change, this may not.
type settingV4 struct {
	Name      string    `gorm:"primaryKey;size:64"`
	Value     string    `gorm:"type:text;not null"` // JSON
	UpdatedAt time.Time `gorm:"not null"`
}

func (settingV4) TableName() string { return "settings" }

func migrate4(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&settingV4{})
}
