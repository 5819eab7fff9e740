package models

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"gorm.io/gorm"
)

// RouteSignIn is a one-time code that hands a user's console sign-in to a
// route's host, which has cookies of its own: the console redirects the
// browser there with the code, and the route host takes it
// (TakeRouteSignIn) to start its own session.
type RouteSignIn struct {
	ID       uint
	CodeHash string // HashToken(code); unique
	UserID   uint
	RouteID  uint
	// SessionHash is HashToken of the console session's id: the route
	// host's session ends when it does (see EndSession).
	SessionHash string
	ReturnPath  string // path (and query) on the route host, starting with "/"
	ExpiresAt   time.Time
	CreatedAt   time.Time
}

// TableName names the table.
func (RouteSignIn) TableName() string { return "route_sign_ins" }

// validate reports every structural problem with si, as a
// *ValidationError.
func (si *RouteSignIn) validate() error {
	var v ValidationError
	validateHash(&v, "code_hash", si.CodeHash)
	validateHash(&v, "session_hash", si.SessionHash)
	if si.UserID == 0 {
		v.Add("user_id", "is required")
	}
	if si.RouteID == 0 {
		v.Add("route_id", "is required")
	}
	p := si.ReturnPath
	switch {
	case !strings.HasPrefix(p, "/"):
		v.Add("return_path", `must be a path starting with "/"`)
	// "//host" and "/\host" are URLs of another host to a browser.
	case strings.HasPrefix(p, "//") || strings.HasPrefix(p, `/\`):
		v.Add("return_path", "must be a path on the route's host, not another host")
	case strings.ContainsFunc(p, unicode.IsControl):
		v.Add("return_path", "must not contain control characters")
	}
	validateMaxLen(&v, "return_path", p, maxURLLen)
	if si.ExpiresAt.IsZero() {
		v.Add("expires_at", "is required")
	}
	return v.Err()
}

// CreateRouteSignIn validates si and stores it, filling in its ID and
// CreatedAt; like CreateUpstreamAuthState, it also deletes the sign-ins
// that have expired. Invalid input is a *ValidationError; an unknown user
// or route is ErrNotFound; a code hash already stored is ErrConflict.
func (s *Store) CreateRouteSignIn(ctx context.Context, si *RouteSignIn) error {
	err := si.validate()
	if err == nil {
		si.ID, si.ExpiresAt, si.CreatedAt = 0, dbTime(si.ExpiresAt), now()
		err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Where("expires_at <= ?", si.CreatedAt).Delete(&RouteSignIn{}).Error; err != nil {
				return err
			}
			return refsDBError(tx.Create(si).Error, "user or route")
		})
	}
	if err != nil {
		return fmt.Errorf("models: create route sign-in: %w", err)
	}
	return nil
}

// TakeRouteSignIn deletes the sign-in whose hash is codeHash and returns
// it: a code signs in once, even when presented twice at once. An unknown
// code is ErrNotFound, and so is one expired at now, which is deleted all
// the same.
func (s *Store) TakeRouteSignIn(ctx context.Context, codeHash string, now time.Time) (*RouteSignIn, error) {
	var si RouteSignIn
	if err := takeOnce(s.db.WithContext(ctx), &si, &si.ExpiresAt, now, "code_hash = ?", codeHash); err != nil {
		return nil, fmt.Errorf("models: take route sign-in: %w", err)
	}
	return &si, nil
}
