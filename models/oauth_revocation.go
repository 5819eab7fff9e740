package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// revocationTx is one revoking write in progress: the transaction, the
// instant the revocation takes effect, and how many rows it changed so
// far.
type revocationTx struct {
	db      *gorm.DB
	now     time.Time
	changes int64
}

// revocationWrite runs fn in a transaction that also bumps the
// configuration version when fn revoked something, so that every process
// watching the version (the proxy, which keeps the revoked access tokens
// in its snapshot) learns of the revocation within one poll. Unlike
// configWrite it records no history: revocations are not configuration,
// and a user's tokens are no admin's change to review. It is the one
// caller of bumpConfigVersion besides configWrite.
func (s *Store) revocationWrite(ctx context.Context, now time.Time, fn func(w *revocationTx) error) error {
	bumped := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		w := &revocationTx{db: tx, now: dbTime(now)}
		if err := fn(w); err != nil {
			return err
		}
		if w.changes == 0 {
			return nil
		}
		bumped = true
		return bumpConfigVersion(tx)
	})
	s.changed(err, bumped)
	return err
}

// revoke revokes the token families matching the condition, and every
// refresh and access token matching it that has not expired (an expired
// one needs no revoking). The condition may name family_id, client_id and
// user_id, which all three tables have. Families go first: on PostgreSQL,
// the family row locks make a token being issued in the family either
// finish before the token updates below (which then see it) or wait and
// be refused (see issueIn).
func (w *revocationTx) revoke(query string, args ...any) error {
	res := w.db.Model(&tokenFamily{}).Where(query, args...).Where("revoked_at IS NULL").
		UpdateColumn("revoked_at", w.now)
	if res.Error != nil {
		return fmt.Errorf("revoke token families: %w", res.Error)
	}
	w.changes += res.RowsAffected
	for _, model := range []any{&RefreshToken{}, &AccessTokenRecord{}} {
		res := w.db.Model(model).Where(query, args...).Where("revoked_at IS NULL AND expires_at > ?", w.now).
			UpdateColumn("revoked_at", w.now)
		if res.Error != nil {
			return fmt.Errorf("revoke tokens: %w", res.Error)
		}
		w.changes += res.RowsAffected
	}
	return nil
}

// deleteOpenCodes discards the unredeemed codes matching the condition,
// so that none of them yields a token after a revocation.
func (w *revocationTx) deleteOpenCodes(query string, args ...any) error {
	err := w.db.Where(query, args...).Where("used_at IS NULL").Delete(&AuthCode{}).Error
	if err != nil {
		return fmt.Errorf("discard authorization codes: %w", err)
	}
	return nil
}

// RevokeAccessToken revokes the access token with jti, from now, for
// every process. An unknown jti is ErrNotFound; a token already revoked or
// expired is left as it is.
func (s *Store) RevokeAccessToken(ctx context.Context, jti string, now time.Time) error {
	err := s.revocationWrite(ctx, now, func(w *revocationTx) error {
		var r AccessTokenRecord
		if err := w.db.Where("jti = ?", jti).Take(&r).Error; err != nil {
			return dbError(err)
		}
		res := w.db.Model(&AccessTokenRecord{}).Where("id = ? AND revoked_at IS NULL AND expires_at > ?", r.ID, w.now).
			UpdateColumn("revoked_at", w.now)
		if res.Error != nil {
			return res.Error
		}
		w.changes += res.RowsAffected
		return nil
	})
	if err != nil {
		return fmt.Errorf("models: revoke access token %q: %w", jti, err)
	}
	return nil
}

// RevokeRefreshToken revokes the refresh token whose hash is tokenHash
// and, with it, its whole family: the other refresh tokens and the access
// tokens issued in it. An unknown token is ErrNotFound; revoking again
// changes nothing. Check whose token it is first (GetRefreshToken), as RFC
// 7009 asks.
func (s *Store) RevokeRefreshToken(ctx context.Context, tokenHash string, now time.Time) error {
	err := s.revocationWrite(ctx, now, func(w *revocationTx) error {
		var t RefreshToken
		if err := w.db.Where("token_hash = ?", tokenHash).Take(&t).Error; err != nil {
			return dbError(err)
		}
		return w.revoke("family_id = ?", t.FamilyID)
	})
	if err != nil {
		return fmt.Errorf("models: revoke refresh token: %w", err)
	}
	return nil
}

// RevokeClientTokens revokes every token of the client with client ID
// clientID or, when userID is set, that user's only, and discards their
// unredeemed codes. It returns how many tokens were outstanding, as
// CountActiveTokens counts them. An unknown client is ErrNotFound.
func (s *Store) RevokeClientTokens(ctx context.Context, clientID string, userID *uint, now time.Time) (int64, error) {
	var n int64
	err := s.revocationWrite(ctx, now, func(w *revocationTx) error {
		var exists int64
		if err := w.db.Model(&OAuthClient{}).Where("client_id = ?", clientID).Count(&exists).Error; err != nil {
			return err
		}
		if exists == 0 {
			return ErrNotFound
		}
		query, args := "client_id = ?", []any{clientID}
		if userID != nil {
			query, args = query+" AND user_id = ?", append(args, *userID)
		}
		var err error
		if n, err = countActive(w.db, w.now, query, args...); err != nil {
			return err
		}
		if err := w.deleteOpenCodes(query, args...); err != nil {
			return err
		}
		return w.revoke(query, args...)
	})
	if err != nil {
		return 0, fmt.Errorf("models: revoke tokens of oauth client %q: %w", clientID, err)
	}
	return n, nil
}

// RevokedAccessTokens returns, sorted, the jtis of the access tokens that
// are revoked and not yet expired at now: the list the proxy checks every
// token against. Expired tokens fail on their own and drop out.
func (s *Store) RevokedAccessTokens(ctx context.Context, now time.Time) ([]string, error) {
	jtis := []string{}
	err := s.db.WithContext(ctx).Model(&AccessTokenRecord{}).
		Where("revoked_at IS NOT NULL AND expires_at > ?", dbTime(now)).
		Order("jti").Pluck("jti", &jtis).Error
	if err != nil {
		return nil, fmt.Errorf("models: list revoked access tokens: %w", err)
	}
	return jtis, nil
}

// CountActiveTokens counts what the client holds outstanding at now: its
// live refresh token families (those whose current refresh token is
// neither rotated, revoked nor expired) plus its unexpired, unrevoked
// access tokens.
func (s *Store) CountActiveTokens(ctx context.Context, clientID string, now time.Time) (int64, error) {
	n, err := countActive(s.db.WithContext(ctx), dbTime(now), "client_id = ?", clientID)
	if err != nil {
		return 0, fmt.Errorf("models: count tokens of oauth client %q: %w", clientID, err)
	}
	return n, nil
}

// countActive is CountActiveTokens over the tokens matching the condition.
func countActive(db *gorm.DB, now time.Time, query string, args ...any) (int64, error) {
	var families, access int64
	err := db.Model(&RefreshToken{}).Where(query, args...).
		Where("rotated_at IS NULL AND revoked_at IS NULL AND expires_at > ?", now).
		Distinct("family_id").Count(&families).Error
	if err != nil {
		return 0, err
	}
	err = db.Model(&AccessTokenRecord{}).Where(query, args...).
		Where("revoked_at IS NULL AND expires_at > ?", now).Count(&access).Error
	if err != nil {
		return 0, err
	}
	return families + access, nil
}

// PurgeExpired deletes what expired more than keep before now: codes,
// access token records and refresh tokens, then the token families left
// with no tokens. A family's refresh tokens go together, once the last of
// them is that old, so that replaying an old rotated token is still
// caught as a reuse while its family lives. It returns how many rows it
// deleted. It revokes nothing, so it bumps no version.
func (s *Store) PurgeExpired(ctx context.Context, now time.Time, keep time.Duration) (int64, error) {
	cutoff := dbTime(now.Add(-max(keep, 0)))
	steps := []func(tx *gorm.DB) *gorm.DB{
		func(tx *gorm.DB) *gorm.DB { return tx.Where("expires_at < ?", cutoff).Delete(&AuthCode{}) },
		func(tx *gorm.DB) *gorm.DB { return tx.Where("expires_at < ?", cutoff).Delete(&AccessTokenRecord{}) },
		func(tx *gorm.DB) *gorm.DB {
			return tx.Where("expires_at < ?", cutoff).
				Where("family_id NOT IN (SELECT family_id FROM oauth_refresh_tokens WHERE expires_at >= ?)", cutoff).
				Delete(&RefreshToken{})
		},
		func(tx *gorm.DB) *gorm.DB {
			return tx.Where("created_at < ? AND (last_issued_at IS NULL OR last_issued_at < ?)", cutoff, cutoff).
				Where("family_id NOT IN (SELECT family_id FROM oauth_refresh_tokens)").
				Where("family_id NOT IN (SELECT family_id FROM oauth_access_tokens)").
				Delete(&tokenFamily{})
		},
	}
	var deleted int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, step := range steps {
			res := step(tx)
			if res.Error != nil {
				return res.Error
			}
			deleted += res.RowsAffected
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("models: purge expired oauth grants: %w", err)
	}
	return deleted, nil
}
