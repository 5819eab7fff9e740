package models

import (
	"context"
	"fmt"

	"gorm.io/gorm/clause"
)

// The two client writes that take tokens away, and so go through
// revocationWrite: every process stops honouring the client's access
// tokens as soon as they commit.

// DisableOAuthClient disables or re-enables the client with id. Disabling
// also revokes every token the client holds and discards its unredeemed
// codes, at once for every process; re-enabling gives nothing back. Asking
// for the state the client is already in changes nothing.
func (s *Store) DisableOAuthClient(ctx context.Context, id uint, disabled bool) error {
	t := now()
	err := s.revocationWrite(ctx, t, func(w *revocationTx) error {
		// FOR UPDATE: whether the client is disabled decides what is
		// written, and a second disable or a delete of the client waits.
		var c OAuthClient
		if err := w.db.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&c, id).Error; err != nil {
			return dbError(err)
		}
		if c.Disabled == disabled {
			return nil
		}
		err := w.db.Model(&OAuthClient{}).Where("id = ?", id).
			UpdateColumns(map[string]any{"disabled": disabled, "updated_at": t}).Error
		if err != nil {
			return err
		}
		w.changes++
		if !disabled {
			return nil
		}
		if err := w.deleteOpenCodes("client_id = ?", c.ClientID); err != nil {
			return err
		}
		return w.revoke("client_id = ?", c.ClientID)
	})
	if err != nil {
		return fmt.Errorf("models: disable oauth client %d: %w", id, err)
	}
	return nil
}

// DeleteOAuthClient deletes the client with id, with its codes, refresh
// tokens and consents, or returns ErrNotFound. Its access tokens are
// revoked in the same transaction and stay listed as revoked until they
// expire, so that the proxy keeps refusing them.
func (s *Store) DeleteOAuthClient(ctx context.Context, id uint) error {
	err := s.revocationWrite(ctx, now(), func(w *revocationTx) error {
		// FOR UPDATE, as DisableOAuthClient reads it: both lock the
		// client's row first, so on one client they run one at a time.
		var c OAuthClient
		if err := w.db.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&c, id).Error; err != nil {
			return dbError(err)
		}
		if err := w.revoke("client_id = ?", c.ClientID); err != nil {
			return err
		}
		if err := w.db.Delete(&OAuthClient{}, id).Error; err != nil {
			return err
		}
		w.changes++
		return nil
	})
	if err != nil {
		return fmt.Errorf("models: delete oauth client %d: %w", id, err)
	}
	return nil
}
