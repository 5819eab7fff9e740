package models

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"
)

// migration is one step of the schema's history. Once released, a
// migration never changes: it works on struct types frozen next to it,
// never on the live entities, so editing an entity cannot rewrite the past.
type migration struct {
	version int
	name    string
	up      func(tx *gorm.DB) error
}

// schemaMigration records one applied migration. Like a migration's own
// types, its shape is frozen.
type schemaMigration struct {
	Version   int       `gorm:"primaryKey;autoIncrement:false"`
	Name      string    `gorm:"size:200;not null"`
	AppliedAt time.Time `gorm:"not null"`
}

func (schemaMigration) TableName() string { return "schema_migrations" }

var errSchemaTooNew = errors.New("database schema is newer than this build of drawbridge")

// migrate applies, in order and each in its own transaction, every
// migration in list the database has not recorded yet. The list must be
// numbered 1, 2, 3… with no gaps.
//
// Several processes may start on one database at once. Each transaction
// below holds the migrations lock from its first statement (see
// lockExclusive; on SQLite, BEGIN IMMEDIATE does the same), so the
// checks in it are race-free: of processes racing, one applies each
// migration and the others find it applied.
func migrate(ctx context.Context, db *gorm.DB, list []migration, log *slog.Logger) error {
	db = db.WithContext(ctx)
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := lockExclusive(tx, lockMigrations); err != nil {
			return err
		}
		if tx.Migrator().HasTable(&schemaMigration{}) {
			return nil
		}
		return tx.Migrator().CreateTable(&schemaMigration{})
	})
	if err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	current, err := schemaVersion(db)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if current > len(list) {
		return fmt.Errorf("migrate: %w: database is at version %d, this build knows up to %d; run a newer drawbridge",
			errSchemaTooNew, current, len(list))
	}
	for _, m := range list[current:] {
		applied := false
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := lockExclusive(tx, lockMigrations); err != nil {
				return err
			}
			// Another process may have applied it since we looked.
			v, err := schemaVersion(tx)
			if err != nil || v >= m.version {
				return err
			}
			if err := m.up(tx); err != nil {
				return err
			}
			applied = true
			return tx.Create(&schemaMigration{Version: m.version, Name: m.name, AppliedAt: now()}).Error
		})
		if err != nil {
			return fmt.Errorf("migrate: %d %s: %w", m.version, m.name, err)
		}
		if applied {
			log.InfoContext(ctx, "models: applied migration", "version", m.version, "name", m.name)
		}
	}
	return nil
}

func schemaVersion(db *gorm.DB) (int, error) {
	var v int
	err := db.Model(&schemaMigration{}).Select("COALESCE(MAX(version), 0)").Scan(&v).Error
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// SchemaVersion returns the version of the newest migration applied to
// the database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	v, err := schemaVersion(s.db.WithContext(ctx))
	if err != nil {
		return 0, fmt.Errorf("models: %w", err)
	}
	return v, nil
}
