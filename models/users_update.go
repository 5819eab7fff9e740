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
	return s.updateUser(ctx, "set password of", id, nil, map[string]any{
		"password_hash": hash,
		"session_epoch": bumpEpoch,
	})
}

// SetAdmin grants or revokes the user's admin role. Granting it to an
// admin, or revoking it from someone who is not one, changes nothing.
func (s *Store) SetAdmin(ctx context.Context, id uint, admin bool) error {
	unchanged := func(u *User) bool { return u.IsAdmin == admin }
	return s.updateUser(ctx, "set admin on", id, unchanged, map[string]any{"is_admin": admin})
}

// SetAuditor grants or revokes the user's auditor role: reading the
// audit log and the dashboard. Like SetAdmin, it is a configuration
// change, recorded in the history; granting it to an auditor, or
// revoking it from someone who is not one, changes nothing.
func (s *Store) SetAuditor(ctx context.Context, id uint, auditor bool) error {
	unchanged := func(u *User) bool { return u.IsAuditor == auditor }
	return s.updateUser(ctx, "set auditor on", id, unchanged, map[string]any{"is_auditor": auditor})
}

// SetDisabled disables or re-enables the user, and voids the user's
// sessions either way.
func (s *Store) SetDisabled(ctx context.Context, id uint, disabled bool) error {
	return s.updateUser(ctx, "set disabled on", id, nil, map[string]any{
		"disabled":      disabled,
		"session_epoch": bumpEpoch,
	})
}

// updateUser applies changes to user id as one configuration write,
// unless unchanged (when given) says the user already is as asked.
func (s *Store) updateUser(ctx context.Context, op string, id uint, unchanged func(*User) bool, changes map[string]any) error {
	err := s.configWrite(ctx, func(w *configTx) error {
		return w.updateUser(id, unchanged, changes)
	})
	if err != nil {
		return fmt.Errorf("models: %s user %d: %w", op, id, err)
	}
	return nil
}

func (w *configTx) updateUser(id uint, unchanged func(*User) bool, changes map[string]any) error {
	var before, after User
	if err := w.db.Take(&before, id).Error; err != nil {
		return dbError(err)
	}
	if unchanged != nil && unchanged(&before) {
		return nil
	}
	if err := w.db.Model(&User{}).Where("id = ?", id).Updates(changes).Error; err != nil {
		return dbError(err)
	}
	// Read back rather than predict: changes may be SQL expressions.
	if err := w.db.Take(&after, id).Error; err != nil {
		return dbError(err)
	}
	return w.recordUserUpdate(&before, &after)
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
