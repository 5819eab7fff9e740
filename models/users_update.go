package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// bumpEpoch is the update that voids every session a user holds.
var bumpEpoch = gorm.Expr("session_epoch + 1")

// SetPasswordHash replaces the user's password hash, a HashPassword result,
// and voids the user's sessions.
func (s *Store) SetPasswordHash(ctx context.Context, id uint, hash string) error {
	if !isPasswordHash(hash) {
		var v ValidationError
		v.Add("password", "must be stored as a HashPassword hash")
		return v.Err()
	}
	return s.updateUser(ctx, "set password of", id, map[string]any{
		"password_hash": hash,
		"session_epoch": bumpEpoch,
	})
}

// SetAdmin grants or revokes the user's admin role.
func (s *Store) SetAdmin(ctx context.Context, id uint, admin bool) error {
	return s.updateUser(ctx, "set admin on", id, map[string]any{"is_admin": admin})
}

// SetDisabled disables or re-enables the user, and voids the user's
// sessions either way.
func (s *Store) SetDisabled(ctx context.Context, id uint, disabled bool) error {
	return s.updateUser(ctx, "set disabled on", id, map[string]any{
		"disabled":      disabled,
		"session_epoch": bumpEpoch,
	})
}

// updateUser applies changes to user id as one configuration write.
func (s *Store) updateUser(ctx context.Context, op string, id uint, changes map[string]any) error {
	err := s.configWrite(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&User{}).Where("id = ?", id).Updates(changes)
		if res.Error != nil {
			return dbError(res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("models: %s user %d: %w", op, id, err)
	}
	return nil
}

// RecordSignIn stores when the user last signed in.
//
// Unlike the other user writes it does not bump the configuration version:
// the sign-in time decides no access, and bumping would make every sign-in
// rebuild the proxy's configuration on every replica.
func (s *Store) RecordSignIn(ctx context.Context, id uint, at time.Time) error {
	res := s.db.WithContext(ctx).Model(&User{}).Where("id = ?", id).
		UpdateColumn("last_sign_in_at", dbTime(at))
	if res.Error != nil {
		return fmt.Errorf("models: record sign-in of user %d: %w", id, dbError(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("models: record sign-in of user %d: %w", id, ErrNotFound)
	}
	return nil
}
