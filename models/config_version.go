package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// configVersion is the single row whose version goes up with every
// configuration change. The proxy engine compares it with the version its
// snapshot was built from, which is how a change made by another process or
// replica reaches it.
type configVersion struct {
	ID        uint
	Version   int64
	UpdatedAt time.Time
}

// configVersionID is the primary key of the one config_versions row.
const configVersionID = 1

// ConfigVersion returns the current configuration version.
func (s *Store) ConfigVersion(ctx context.Context) (int64, error) {
	var cv configVersion
	if err := s.db.WithContext(ctx).Take(&cv, configVersionID).Error; err != nil {
		return 0, fmt.Errorf("models: get config version: %w", dbError(err))
	}
	return cv.Version, nil
}

// configWrite runs fn in a transaction that also bumps the configuration
// version, so a reader never sees the change without the new version, nor
// the new version without the change. If fn fails, neither happens. Every
// store method that changes configuration (users, routes, policies, apps,
// service accounts) goes through it.
func (s *Store) configWrite(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := fn(tx); err != nil {
			return err
		}
		return bumpConfigVersion(tx)
	})
}

// bumpConfigVersion increments the version inside tx. Use configWrite
// unless a method must decide mid-transaction whether anything changed.
func bumpConfigVersion(tx *gorm.DB) error {
	res := tx.Model(&configVersion{}).Where("id = ?", configVersionID).
		Update("version", gorm.Expr("version + 1"))
	if res.Error != nil {
		return fmt.Errorf("bump config version: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("bump config version: the config_versions row is missing")
	}
	return nil
}
