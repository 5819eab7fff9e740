package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// How an upstream app authenticates to its token endpoint.
const (
	// AuthStyleAuto tries the Authorization header, then the form body,
	// and remembers what worked.
	AuthStyleAuto = "auto"
	// AuthStyleHeader sends HTTP Basic credentials.
	AuthStyleHeader = "header"
	// AuthStyleParams sends client_id and client_secret in the form body.
	AuthStyleParams = "params"
)

// UpstreamApp is an OAuth client registered at an upstream provider
// (GitHub, Notion, …), through which users connect their own accounts so
// the gateway can call the upstream as them.
type UpstreamApp struct {
	ID uint `json:"id"`
	// Name is unique: a lowercase slug, [a-z0-9][a-z0-9_-]{0,63}.
	Name     string `json:"name"`
	Preset   string `json:"preset"` // the well-known provider it was set up from, e.g. "github", or ""
	ClientID string `json:"client_id"`
	// ClientSecret is write-only input: required on create; on update, ""
	// keeps the stored secret. The store encrypts it at rest, clears this
	// field once it is stored, and never fills it on reads: see
	// UpstreamAppSecret.
	ClientSecret string `json:"-" gorm:"-"`
	// HasSecret reports, on reads, whether a client secret is stored.
	HasSecret bool `json:"has_secret" gorm:"-"`
	// AuthURL, TokenURL and RevocationURL (optional) must be https,
	// except on loopback hosts (localhost, *.localhost, 127.0.0.1, ::1).
	AuthURL       string   `json:"auth_url"`
	TokenURL      string   `json:"token_url"`
	RevocationURL string   `json:"revocation_url"`
	Scopes        []string `json:"scopes" gorm:"serializer:json"`
	AuthStyle     string   `json:"auth_style"` // AuthStyleAuto (the default), AuthStyleHeader or AuthStyleParams
	// ExtraAuthParams are added to the authorization request, such as
	// access_type=offline; they cannot override the parameters the
	// gateway sets itself.
	ExtraAuthParams map[string]string `json:"extra_auth_params" gorm:"serializer:json"`
	PKCE            bool              `json:"pkce" gorm:"column:pkce"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
}

// AppFilter selects a page of upstream apps for ListUpstreamApps.
type AppFilter struct {
	// Query, when set, keeps apps whose name, preset or client ID
	// contains it, ignoring case.
	Query string
	// Offset skips that many apps; Limit caps the page (0: no cap).
	Offset, Limit int
}

// clientSecretAAD binds an app's sealed client secret to its row.
func clientSecretAAD(id uint) string {
	return "upstream_apps.client_secret:" + strconv.FormatUint(uint64(id), 10)
}

// GetUpstreamApp returns the upstream app with id, or ErrNotFound.
func (s *Store) GetUpstreamApp(ctx context.Context, id uint) (*UpstreamApp, error) {
	a, err := findUpstreamApp(s.db.WithContext(ctx), "id = ?", id)
	if err != nil {
		return nil, fmt.Errorf("models: get upstream app %d: %w", id, err)
	}
	return a, nil
}

// GetUpstreamAppByName returns the upstream app named name, or
// ErrNotFound.
func (s *Store) GetUpstreamAppByName(ctx context.Context, name string) (*UpstreamApp, error) {
	a, err := findUpstreamApp(s.db.WithContext(ctx), "name = ?", strings.TrimSpace(name))
	if err != nil {
		return nil, fmt.Errorf("models: get upstream app %q: %w", name, err)
	}
	return a, nil
}

func findUpstreamApp(db *gorm.DB, query any, args ...any) (*UpstreamApp, error) {
	var a UpstreamApp
	if err := db.Where(query, args...).Take(&a).Error; err != nil {
		return nil, dbError(err)
	}
	if err := fillHasSecret(db, []*UpstreamApp{&a}); err != nil {
		return nil, err
	}
	return &a, nil
}

// ListUpstreamApps returns one page of the apps matching f, ordered by
// name, and how many apps match f in all.
func (s *Store) ListUpstreamApps(ctx context.Context, f AppFilter) ([]UpstreamApp, int64, error) {
	db := s.db.WithContext(ctx)
	q := whereContains(db.Model(&UpstreamApp{}), f.Query, "name", "preset", "client_id")
	apps, total, err := listPage[UpstreamApp](q, "name", f.Offset, f.Limit)
	if err == nil {
		err = fillHasSecret(db, pointers(apps))
	}
	if err != nil {
		return nil, 0, fmt.Errorf("models: list upstream apps: %w", err)
	}
	return apps, total, nil
}

// AllUpstreamApps returns every upstream app, ordered by name, for a
// select.
func (s *Store) AllUpstreamApps(ctx context.Context) ([]UpstreamApp, error) {
	db := s.db.WithContext(ctx)
	apps := []UpstreamApp{}
	err := db.Order("name").Find(&apps).Error
	if err == nil {
		err = fillHasSecret(db, pointers(apps))
	}
	if err != nil {
		return nil, fmt.Errorf("models: all upstream apps: %w", err)
	}
	return apps, nil
}

func pointers[T any](s []T) []*T {
	out := make([]*T, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

// fillHasSecret sets HasSecret on apps from the stored secrets, without
// reading the secrets themselves.
func fillHasSecret(db *gorm.DB, apps []*UpstreamApp) error {
	if len(apps) == 0 {
		return nil
	}
	ids := make([]uint, len(apps))
	for i, a := range apps {
		ids[i] = a.ID
	}
	var withSecret []uint
	err := db.Model(&UpstreamApp{}).
		Where("id IN ? AND client_secret IS NOT NULL AND client_secret <> ''", ids).
		Pluck("id", &withSecret).Error
	if err != nil {
		return fmt.Errorf("read which apps have a secret: %w", err)
	}
	for _, a := range apps {
		a.HasSecret = false
		for _, id := range withSecret {
			a.HasSecret = a.HasSecret || id == a.ID
		}
	}
	return nil
}

// UpstreamAppSecret returns the decrypted client secret of upstream app
// id: "" if none is stored, ErrNotFound if there is no such app.
func (s *Store) UpstreamAppSecret(ctx context.Context, id uint) (string, error) {
	secret, err := s.appSecret(s.db.WithContext(ctx), id)
	if err != nil {
		return "", fmt.Errorf("models: read secret of upstream app %d: %w", id, err)
	}
	return secret, nil
}

func (s *Store) appSecret(db *gorm.DB, id uint) (string, error) {
	var sealed sql.NullString
	err := db.Raw("SELECT client_secret FROM upstream_apps WHERE id = ?", id).Row().Scan(&sealed)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", ErrNotFound
	case err != nil:
		return "", err
	case sealed.String == "":
		return "", nil
	}
	plain, err := s.cipher.Decrypt(sealed.String, clientSecretAAD(id))
	if err != nil {
		return "", err
	}
	return string(plain), nil
}

// storeAppSecret seals secret for app id and writes it in tx.
func (s *Store) storeAppSecret(tx *gorm.DB, id uint, secret string) error {
	sealed, err := s.cipher.Encrypt([]byte(secret), clientSecretAAD(id))
	if err != nil {
		return err
	}
	return tx.Exec("UPDATE upstream_apps SET client_secret = ? WHERE id = ?", sealed, id).Error
}
