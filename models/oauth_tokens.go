package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// tokenFamily groups the refresh tokens that rotate from one authorization
// (one redeemed code) and the access tokens issued alongside them;
// revoking it revokes all of them, and refuses any token issued in it
// afterwards. RedeemAuthCode creates it.
type tokenFamily struct {
	ID           uint
	FamilyID     string
	ClientID     string
	UserID       uint
	Resource     string
	Scope        string
	CreatedAt    time.Time
	LastIssuedAt *time.Time // when a token was last issued in it
	RevokedAt    *time.Time
}

func (tokenFamily) TableName() string { return "oauth_token_families" }

// RefreshToken is stored by hash; each use rotates it: the token used is
// marked rotated and a new one, in the same family, takes its place.
type RefreshToken struct {
	ID        uint       `json:"id"`
	TokenHash string     `json:"-"` // HashToken of the token; unique
	FamilyID  string     `json:"family_id"`
	ClientID  string     `json:"client_id"`
	UserID    uint       `json:"user_id"`
	Resource  string     `json:"resource"`
	Scope     string     `json:"scope"`
	ExpiresAt time.Time  `json:"expires_at"`
	RotatedAt *time.Time `json:"rotated_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
}

// TableName names the table.
func (RefreshToken) TableName() string { return "oauth_refresh_tokens" }

// AccessTokenRecord remembers each issued access token by its jti, so it
// can be listed, counted and revoked at once.
type AccessTokenRecord struct {
	ID        uint       `json:"id"`
	JTI       string     `json:"jti" gorm:"column:jti"` // unique
	FamilyID  string     `json:"family_id"`
	ClientID  string     `json:"client_id"`
	UserID    uint       `json:"user_id"`
	Resource  string     `json:"resource"`
	ExpiresAt time.Time  `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
}

// TableName names the table.
func (AccessTokenRecord) TableName() string { return "oauth_access_tokens" }

// validateIssued checks what every issued token carries.
func validateIssued(v *ValidationError, familyID, clientID string, userID uint, resource string, expiresAt time.Time) {
	validateOAuthID(v, "family_id", familyID, 64)
	validateGrantRefs(v, clientID, userID)
	validateMaxLen(v, "resource", resource, maxResourceLen)
	if expiresAt.IsZero() {
		v.Add("expires_at", "is required")
	}
}

// issueIn records that a token is being issued at at in family familyID,
// which must exist for clientID and userID (else ErrNotFound) and not be
// revoked (else ErrTokenRevoked). It is an UPDATE, not a read, so that on
// PostgreSQL it waits for a revocation of the family in progress and then
// sees it, instead of issuing past it.
func issueIn(tx *gorm.DB, familyID, clientID string, userID uint, at time.Time) error {
	res := tx.Model(&tokenFamily{}).
		Where("family_id = ? AND client_id = ? AND user_id = ? AND revoked_at IS NULL", familyID, clientID, userID).
		UpdateColumn("last_issued_at", at)
	if res.Error != nil || res.RowsAffected == 1 {
		return res.Error
	}
	var f tokenFamily
	err := tx.Where("family_id = ? AND client_id = ? AND user_id = ?", familyID, clientID, userID).Take(&f).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("%w: no such token family for this client and user", ErrNotFound)
	case err != nil:
		return err
	}
	return ErrTokenRevoked
}

// issuedAt returns the creation time to store for a token: the caller's,
// or now.
func issuedAt(t time.Time) time.Time {
	if t.IsZero() {
		return now()
	}
	return dbTime(t)
}

// CreateRefreshToken stores t, the first refresh token of its family
// (later ones come from RotateRefreshToken), neither rotated nor revoked.
// Its family must have been started by RedeemAuthCode for the same client
// and user (else ErrNotFound) and not be revoked (else ErrTokenRevoked).
func (s *Store) CreateRefreshToken(ctx context.Context, t *RefreshToken) error {
	var v ValidationError
	validateHash(&v, "token_hash", t.TokenHash)
	validateIssued(&v, t.FamilyID, t.ClientID, t.UserID, t.Resource, t.ExpiresAt)
	validateMaxLen(&v, "scope", t.Scope, maxOAuthScopeLen)
	if err := v.Err(); err != nil {
		return fmt.Errorf("models: create refresh token: %w", err)
	}
	t.ID, t.RotatedAt, t.RevokedAt = 0, nil, nil
	t.CreatedAt, t.ExpiresAt = issuedAt(t.CreatedAt), dbTime(t.ExpiresAt)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := issueIn(tx, t.FamilyID, t.ClientID, t.UserID, t.CreatedAt); err != nil {
			return err
		}
		return oauthDBError(tx.Create(t).Error)
	})
	if err != nil {
		return fmt.Errorf("models: create refresh token: %w", err)
	}
	return nil
}

// GetRefreshToken returns the refresh token whose hash is tokenHash, or
// ErrNotFound, so that the revocation endpoint can check whose it is.
func (s *Store) GetRefreshToken(ctx context.Context, tokenHash string) (*RefreshToken, error) {
	var t RefreshToken
	if err := s.db.WithContext(ctx).Where("token_hash = ?", tokenHash).Take(&t).Error; err != nil {
		return nil, fmt.Errorf("models: get refresh token: %w", dbError(err))
	}
	return &t, nil
}

// RecordAccessToken stores r, an access token just issued, unrevoked.
// Like CreateRefreshToken, it needs r's family to exist for r's client and
// user and not be revoked.
func (s *Store) RecordAccessToken(ctx context.Context, r *AccessTokenRecord) error {
	var v ValidationError
	validateOAuthID(&v, "jti", r.JTI, maxJTILen)
	validateIssued(&v, r.FamilyID, r.ClientID, r.UserID, r.Resource, r.ExpiresAt)
	if err := v.Err(); err != nil {
		return fmt.Errorf("models: record access token: %w", err)
	}
	r.ID, r.RevokedAt = 0, nil
	r.CreatedAt, r.ExpiresAt = issuedAt(r.CreatedAt), dbTime(r.ExpiresAt)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := issueIn(tx, r.FamilyID, r.ClientID, r.UserID, r.CreatedAt); err != nil {
			return err
		}
		return oauthDBError(tx.Create(r).Error)
	})
	if err != nil {
		return fmt.Errorf("models: record access token: %w", err)
	}
	return nil
}

// RotateRefreshToken spends the refresh token whose hash is oldHash and
// stores next in its place, in one transaction, returning the old token.
// next needs only TokenHash and ExpiresAt: it takes the old token's
// family, client, user, resource and scope.
//
// The old token must exist and belong to clientID (else ErrNotFound: a
// client learns nothing of another's tokens), not be revoked
// (ErrTokenRevoked) and not be expired (ErrTokenExpired). One already
// rotated is a reuse: the whole family, refresh and access tokens, is
// revoked in the same transaction, and the error is ErrTokenReused. A
// reuse is reported as such even if the old token has since expired: a
// rotated token presented again is a sign of theft whatever its age.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash string, clientID string, next *RefreshToken, now time.Time) (*RefreshToken, error) {
	now = dbTime(now)
	var v ValidationError
	validateHash(&v, "token_hash", next.TokenHash)
	if !next.ExpiresAt.After(now) {
		v.Add("expires_at", "must be later than now")
	}
	if err := v.Err(); err != nil {
		return nil, fmt.Errorf("models: rotate refresh token: %w", err)
	}
	var (
		old     RefreshToken
		outcome error // returned after the transaction commits
	)
	err := s.revocationWrite(ctx, now, func(w *revocationTx) error {
		if err := w.db.Where("token_hash = ?", oldHash).Take(&old).Error; err != nil {
			return dbError(err)
		}
		// Lock the family before the token, in revoke's order (families,
		// then tokens): a revocation of the family under way and this
		// rotation would otherwise each hold a row the other waits for.
		if err := lockRows(w.db, &tokenFamily{}, "family_id = ?", old.FamilyID); err != nil {
			return err
		}
		switch {
		case old.ClientID != clientID:
			return ErrNotFound
		case old.RevokedAt != nil:
			return ErrTokenRevoked
		case old.RotatedAt != nil:
			outcome = ErrTokenReused
			return w.revoke("family_id = ?", old.FamilyID)
		case expired(old.ExpiresAt, now):
			return ErrTokenExpired
		}
		res := w.db.Model(&RefreshToken{}).Where("id = ? AND rotated_at IS NULL AND revoked_at IS NULL", old.ID).
			UpdateColumn("rotated_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			// Another transaction rotated or revoked it since the read
			// (possible on PostgreSQL): two uses of one token either way.
			outcome = ErrTokenReused
			return w.revoke("family_id = ?", old.FamilyID)
		}
		old.RotatedAt = &now
		*next = RefreshToken{
			TokenHash: next.TokenHash, FamilyID: old.FamilyID, ClientID: old.ClientID, UserID: old.UserID,
			Resource: old.Resource, Scope: old.Scope, ExpiresAt: dbTime(next.ExpiresAt), CreatedAt: now,
		}
		if err := issueIn(w.db, old.FamilyID, old.ClientID, old.UserID, now); err != nil {
			return err
		}
		return oauthDBError(w.db.Create(next).Error)
	})
	if err == nil {
		err = outcome
	}
	if err != nil {
		return nil, fmt.Errorf("models: rotate refresh token: %w", err)
	}
	return &old, nil
}
