package models

import (
	"context"
	"fmt"
)

// appColumns are the columns an update of an app writes; the secret is
// written apart, sealed.
var appColumns = []string{
	"name", "preset", "client_id", "auth_url", "token_url", "revocation_url",
	"scopes", "auth_style", "extra_auth_params", "pkce", "updated_at",
}

// appSnapshot is an upstream app as the history shows it: the secret only
// as a marker.
type appSnapshot struct {
	Name            string            `yaml:"name"`
	Preset          string            `yaml:"preset"`
	ClientID        string            `yaml:"client_id"`
	ClientSecret    string            `yaml:"client_secret"`
	AuthURL         string            `yaml:"auth_url"`
	TokenURL        string            `yaml:"token_url"`
	RevocationURL   string            `yaml:"revocation_url"`
	Scopes          []string          `yaml:"scopes"`
	AuthStyle       string            `yaml:"auth_style"`
	ExtraAuthParams map[string]string `yaml:"extra_params"`
	PKCE            bool              `yaml:"pkce"`
}

func snapshotApp(a *UpstreamApp, secret string) appSnapshot {
	s := appSnapshot{
		Name: a.Name, Preset: a.Preset, ClientID: a.ClientID, ClientSecret: secret,
		AuthURL: a.AuthURL, TokenURL: a.TokenURL, RevocationURL: a.RevocationURL,
		Scopes: a.Scopes, AuthStyle: a.AuthStyle, ExtraAuthParams: a.ExtraAuthParams, PKCE: a.PKCE,
	}
	if s.Scopes == nil {
		s.Scopes = []string{}
	}
	if s.ExtraAuthParams == nil {
		s.ExtraAuthParams = map[string]string{}
	}
	return s
}

// CreateUpstreamApp validates a and inserts it with its client secret
// encrypted, filling in its ID, timestamps and HasSecret. Invalid input is
// a *ValidationError naming every bad field; a name in use is a
// *ConflictError (ErrConflict).
func (s *Store) CreateUpstreamApp(ctx context.Context, a *UpstreamApp) error {
	if err := s.configWrite(ctx, func(w *configTx) error { return w.createUpstreamApp(a) }); err != nil {
		return fmt.Errorf("models: create upstream app %q: %w", a.Name, err)
	}
	return nil
}

// UpdateUpstreamApp replaces app a.ID with a, under the rules of
// CreateUpstreamApp, except that an empty ClientSecret keeps the stored
// one. The app missing is ErrNotFound. An update that changes nothing
// (the same secret included) writes nothing.
func (s *Store) UpdateUpstreamApp(ctx context.Context, a *UpstreamApp) error {
	if err := s.configWrite(ctx, func(w *configTx) error { return w.updateUpstreamApp(a) }); err != nil {
		return fmt.Errorf("models: update upstream app %d: %w", a.ID, err)
	}
	return nil
}

// DeleteUpstreamApp deletes the upstream app with id. While routes use it,
// it refuses with a *ConflictError naming them; a missing app is
// ErrNotFound.
func (s *Store) DeleteUpstreamApp(ctx context.Context, id uint) error {
	if err := s.configWrite(ctx, func(w *configTx) error { return w.deleteUpstreamApp(id) }); err != nil {
		return fmt.Errorf("models: delete upstream app %d: %w", id, err)
	}
	return nil
}

// appTaken returns a *ConflictError if another app than a has its name.
func (w *configTx) appTaken(a *UpstreamApp) error {
	var n int64
	if err := w.db.Model(&UpstreamApp{}).Where("name = ? AND id <> ?", a.Name, a.ID).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return &ConflictError{Field: "name", Message: "is already used by another upstream app"}
	}
	return nil
}

func (w *configTx) createUpstreamApp(a *UpstreamApp) error {
	a.ID = 0
	if err := checkUpstreamApp(a, true); err != nil {
		return err
	}
	if err := w.appTaken(a); err != nil {
		return err
	}
	a.CreatedAt, a.UpdatedAt = now(), now()
	if err := w.db.Create(a).Error; err != nil {
		return dbError(err)
	}
	// The secret's AAD names the row, so it is sealed once the row has
	// its ID.
	if err := w.store.storeAppSecret(w.db, a.ID, a.ClientSecret); err != nil {
		return fmt.Errorf("store client secret: %w", err)
	}
	a.ClientSecret, a.HasSecret = "", true
	after, err := snapshotText(snapshotApp(a, secretSet))
	if err != nil {
		return err
	}
	return w.record(ResourceUpstreamApp, a.ID, a.Name, ActionCreate, "", after)
}

func (w *configTx) updateUpstreamApp(a *UpstreamApp) error {
	old, err := findUpstreamApp(w.db, "id = ?", a.ID)
	if err != nil {
		return err
	}
	if err := checkUpstreamApp(a, false); err != nil {
		return err
	}
	if err := w.appTaken(a); err != nil {
		return err
	}
	replaced := false
	if a.ClientSecret != "" {
		// A stored secret that no longer decrypts (its key is gone) is
		// exactly what a new one should replace.
		current, err := w.store.appSecret(w.db, a.ID)
		replaced = err != nil || current != a.ClientSecret
	}
	a.HasSecret = old.HasSecret || replaced
	before, after, differ, err := snapshotPair(
		snapshotApp(old, secretMarker(old.HasSecret, false)),
		snapshotApp(a, secretMarker(a.HasSecret, replaced)))
	if err != nil || !differ {
		*a = *old
		return err
	}
	a.CreatedAt, a.UpdatedAt = old.CreatedAt, now()
	res := w.db.Model(a).Select(appColumns).Updates(a)
	if res.Error != nil {
		return dbError(res.Error)
	}
	if res.RowsAffected != 1 {
		return ErrNotFound
	}
	if replaced {
		if err := w.store.storeAppSecret(w.db, a.ID, a.ClientSecret); err != nil {
			return fmt.Errorf("store client secret: %w", err)
		}
	}
	a.ClientSecret = ""
	return w.record(ResourceUpstreamApp, a.ID, a.Name, ActionUpdate, before, after)
}

func (w *configTx) deleteUpstreamApp(id uint) error {
	old, err := findUpstreamApp(w.db, "id = ?", id)
	if err != nil {
		return err
	}
	users, err := routesWhere(w.db, "upstream_app_id = ?", id)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return &ConflictError{Field: "upstream_app", Message: usedBy(users)}
	}
	before, err := snapshotText(snapshotApp(old, secretMarker(old.HasSecret, false)))
	if err != nil {
		return err
	}
	if err := w.db.Delete(&UpstreamApp{}, id).Error; err != nil {
		return dbError(err)
	}
	return w.record(ResourceUpstreamApp, id, old.Name, ActionDelete, before, "")
}
