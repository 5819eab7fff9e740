package models

import (
	"time"

	"gorm.io/gorm"
)

// endedSessionV14 is a console session its user signed out of before it
// expired, as migration 14 created it (see ended_sessions.go). Frozen: the
// live entity may change, this may not.
type endedSessionV14 struct {
	ID          uint      `gorm:"primaryKey"`
	SessionHash string    `gorm:"size:64;not null;uniqueIndex:idx_ended_sessions_hash"`
	EndedAt     time.Time `gorm:"not null"`
	ExpiresAt   time.Time `gorm:"not null;index:idx_ended_sessions_expires"`
}

func (endedSessionV14) TableName() string { return "ended_sessions" }

// migrate14 creates ended_sessions, and gives each route sign-in the
// console session it hands over, so that the route host's session ends
// with it. A sign-in in flight across the migration (they live a minute)
// has none, and its route host refuses it: the user loads the page again.
func migrate14(tx *gorm.DB) error {
	if err := tx.Migrator().CreateTable(&endedSessionV14{}); err != nil {
		return err
	}
	return tx.Exec("ALTER TABLE route_sign_ins ADD COLUMN session_hash varchar(64) NOT NULL DEFAULT ''").Error
}
