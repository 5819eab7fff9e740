package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// Consent remembers that a user let a client reach a resource.
type Consent struct {
	ID        uint      `json:"id"`
	UserID    uint      `json:"user_id"`
	ClientID  string    `json:"client_id"`
	Resource  string    `json:"resource"`
	Scope     string    `json:"scope"`
	CreatedAt time.Time `json:"created_at"` // when the user first consented
}

// TableName names the table.
func (Consent) TableName() string { return "oauth_consents" }

// ConsentView is a consent as the portal lists it.
type ConsentView struct {
	Consent
	ClientName string `json:"client_name" gorm:"column:client_name"`
	ClientURI  string `json:"client_uri" gorm:"column:client_uri"`
	LogoURI    string `json:"logo_uri" gorm:"column:logo_uri"`
	// LastUsedAt is when the client was last issued a token for this user
	// and resource; nil if never, or if that was long enough ago that
	// PurgeExpired has dropped the record.
	LastUsedAt *time.Time `json:"last_used_at,omitempty" gorm:"-"`
}

// GrantConsent records c, or, when the user already consented to that
// client for that resource, replaces the consent's scope; c is loaded with
// the stored consent. An unknown client or user is ErrNotFound.
func (s *Store) GrantConsent(ctx context.Context, c *Consent) error {
	var v ValidationError
	validateGrantRefs(&v, c.ClientID, c.UserID)
	if c.Resource == "" {
		v.Add("resource", "is required")
	}
	validateMaxLen(&v, "resource", c.Resource, maxResourceLen)
	validateMaxLen(&v, "scope", c.Scope, maxOAuthScopeLen)
	if err := v.Err(); err != nil {
		return fmt.Errorf("models: grant consent: %w", err)
	}
	row := Consent{UserID: c.UserID, ClientID: c.ClientID, Resource: c.Resource, Scope: c.Scope, CreatedAt: now()}
	db := s.db.WithContext(ctx)
	err := db.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "user_id"}, {Name: "client_id"}, {Name: "resource"}},
		DoUpdates: clause.AssignmentColumns([]string{"scope"}),
	}).Create(&row).Error
	if err == nil {
		// Read back: after an update, the row's ID and CreatedAt are the
		// first grant's.
		err = db.Where("user_id = ? AND client_id = ? AND resource = ?", c.UserID, c.ClientID, c.Resource).Take(c).Error
	}
	if err != nil {
		return fmt.Errorf("models: grant consent: %w", oauthDBError(err))
	}
	return nil
}

// HasConsent reports whether the user consented to the client reaching
// resource. It does not compare scopes.
func (s *Store) HasConsent(ctx context.Context, userID uint, clientID, resource string) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&Consent{}).
		Where("user_id = ? AND client_id = ? AND resource = ?", userID, clientID, resource).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("models: check consent: %w", err)
	}
	return n > 0, nil
}

// ListConsents returns the user's consents with their clients' names,
// ordered by client name, then resource.
func (s *Store) ListConsents(ctx context.Context, userID uint) ([]ConsentView, error) {
	db := s.db.WithContext(ctx)
	views := []ConsentView{}
	err := db.Table("oauth_consents AS c").
		Select("c.*, cl.name AS client_name, cl.client_uri, cl.logo_uri").
		Joins("JOIN oauth_clients AS cl ON cl.client_id = c.client_id").
		Where("c.user_id = ?", userID).
		Order("lower(cl.name), cl.client_id, c.resource").
		Scan(&views).Error
	if err != nil {
		return nil, fmt.Errorf("models: list consents of user %d: %w", userID, err)
	}
	// Last use per client and resource, from the families' issue times;
	// the maximum is taken here because SQLite returns MAX() of a
	// timestamp as text.
	var families []tokenFamily
	err = db.Select("client_id", "resource", "last_issued_at").
		Where("user_id = ? AND last_issued_at IS NOT NULL", userID).Find(&families).Error
	if err != nil {
		return nil, fmt.Errorf("models: list consents of user %d: %w", userID, err)
	}
	type key struct{ client, resource string }
	last := map[key]time.Time{}
	for _, f := range families {
		k := key{f.ClientID, f.Resource}
		if t, ok := last[k]; !ok || f.LastIssuedAt.After(t) {
			last[k] = *f.LastIssuedAt
		}
	}
	for i := range views {
		if t, ok := last[key{views[i].ClientID, views[i].Resource}]; ok {
			views[i].LastUsedAt = &t
		}
	}
	return views, nil
}

// WithdrawConsent forgets every consent the user gave the client, revokes
// the tokens the client holds for the user, and discards their unredeemed
// codes, at once for every process. It is ErrNotFound when the user had
// neither a consent nor a live token for the client.
func (s *Store) WithdrawConsent(ctx context.Context, userID uint, clientID string, now time.Time) error {
	err := s.revocationWrite(ctx, now, func(w *revocationTx) error {
		res := w.db.Where("user_id = ? AND client_id = ?", userID, clientID).Delete(&Consent{})
		if res.Error != nil {
			return res.Error
		}
		if err := w.deleteOpenCodes("client_id = ? AND user_id = ?", clientID, userID); err != nil {
			return err
		}
		if err := w.revoke("client_id = ? AND user_id = ?", clientID, userID); err != nil {
			return err
		}
		if res.RowsAffected == 0 && w.changes == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("models: withdraw consent of user %d for oauth client %q: %w", userID, clientID, err)
	}
	return nil
}
