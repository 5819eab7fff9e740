package models

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// AuthCode is a one-use authorization code, stored by hash.
type AuthCode struct {
	ID       uint   `json:"id"`
	CodeHash string `json:"-"` // HashToken of the code; unique
	// FamilyID names the token family that redeeming the code starts:
	// every refresh and access token issued from it carries this ID, so a
	// replay of the code can revoke them all. CreateAuthCode sets it.
	FamilyID    string `json:"family_id"`
	ClientID    string `json:"client_id"`
	UserID      uint   `json:"user_id"`
	RedirectURI string `json:"redirect_uri"`
	// CodeChallenge is the PKCE S256 challenge: 43 base64url characters.
	CodeChallenge string     `json:"code_challenge"`
	Resource      string     `json:"resource"` // RFC 8707
	Scope         string     `json:"scope"`
	ExpiresAt     time.Time  `json:"expires_at"`
	UsedAt        *time.Time `json:"used_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
}

// TableName names the table.
func (AuthCode) TableName() string { return "oauth_auth_codes" }

// Validate reports every structural problem with c, as a *ValidationError.
func (c *AuthCode) Validate() error {
	var v ValidationError
	validateHash(&v, "code_hash", c.CodeHash)
	validateGrantRefs(&v, c.ClientID, c.UserID)
	switch {
	case c.RedirectURI == "":
		v.Add("redirect_uri", "is required")
	case len(c.RedirectURI) > maxURLLen:
		v.Add("redirect_uri", fmt.Sprintf("must be at most %d bytes", maxURLLen))
	}
	if len(c.CodeChallenge) != pkceS256ChallengeLen || strings.Trim(c.CodeChallenge, base64URLAlphabet) != "" {
		v.Add("code_challenge", fmt.Sprintf("must be an S256 challenge: %d base64url characters", pkceS256ChallengeLen))
	}
	validateMaxLen(&v, "resource", c.Resource, maxResourceLen)
	validateMaxLen(&v, "scope", c.Scope, maxOAuthScopeLen)
	if c.ExpiresAt.IsZero() {
		v.Add("expires_at", "is required")
	}
	return v.Err()
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// CreateAuthCode validates c and inserts it unused, filling in its ID,
// FamilyID and CreatedAt. Invalid input is a *ValidationError; an unknown
// client or user is ErrNotFound; a hash already stored is ErrConflict.
func (s *Store) CreateAuthCode(ctx context.Context, c *AuthCode) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("models: create authorization code: %w", err)
	}
	c.ID, c.FamilyID, c.UsedAt, c.CreatedAt = 0, newFamilyID(), nil, now()
	c.ExpiresAt = dbTime(c.ExpiresAt)
	if err := s.db.WithContext(ctx).Create(c).Error; err != nil {
		return fmt.Errorf("models: create authorization code: %w", oauthDBError(err))
	}
	return nil
}

// RedeemAuthCode marks the code whose hash is codeHash used at now, starts
// its token family, and returns the code, for the caller to check its
// client, redirect URI and PKCE verifier against (a failed check still
// spends the code, which is what one use means).
//
// An unknown code is ErrNotFound. A code redeemed before is ErrCodeReused:
// in the same transaction, every token of its family is revoked (RFC 6749
// section 4.1.2), and tokens issued in that family later are refused,
// since the family itself is marked revoked. An unused code past its
// ExpiresAt is ErrCodeExpired; a used one is a reuse whatever its age.
func (s *Store) RedeemAuthCode(ctx context.Context, codeHash string, now time.Time) (*AuthCode, error) {
	now = dbTime(now)
	var (
		code    AuthCode
		outcome error // returned after the transaction commits
	)
	err := s.revocationWrite(ctx, now, func(w *revocationTx) error {
		if err := w.db.Where("code_hash = ?", codeHash).Take(&code).Error; err != nil {
			return dbError(err)
		}
		if code.UsedAt == nil {
			if expired(code.ExpiresAt, now) {
				return ErrCodeExpired
			}
			// The condition, not the read above, decides who wins: on a
			// database that lets two transactions read the code unused,
			// only one of their updates still matches.
			res := w.db.Model(&AuthCode{}).Where("id = ? AND used_at IS NULL", code.ID).UpdateColumn("used_at", now)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 1 {
				code.UsedAt = &now
				family := tokenFamily{FamilyID: code.FamilyID, ClientID: code.ClientID, UserID: code.UserID,
					Resource: code.Resource, Scope: code.Scope, CreatedAt: now}
				return oauthDBError(w.db.Create(&family).Error)
			}
		}
		outcome = ErrCodeReused
		return w.revoke("family_id = ?", code.FamilyID)
	})
	if err == nil {
		err = outcome
	}
	if err != nil {
		return nil, fmt.Errorf("models: redeem authorization code: %w", err)
	}
	return &code, nil
}
