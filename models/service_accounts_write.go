package models

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"gorm.io/gorm"
)

// maxServiceAccountNameChars caps a service account's name.
const maxServiceAccountNameChars = 100

// serviceAccountSnapshot is a service account as the history shows it:
// its user by email, its routes by name ("all" when it has no limit), and
// its token only as a marker, never a digest.
type serviceAccountSnapshot struct {
	Name                    string `yaml:"name"`
	Description             string `yaml:"description"`
	User                    string `yaml:"user"`
	ExpiresAt               string `yaml:"expires_at"`
	Routes                  any    `yaml:"routes"`
	Token                   string `yaml:"token"`
	PreviousTokenValidUntil string `yaml:"previous_token_valid_until,omitempty"`
	RevokedAt               string `yaml:"revoked_at,omitempty"`
}

// snapshotServiceAccount needs a's UserEmail, and its routes' names in
// name order; token is a secretMarker.
func snapshotServiceAccount(a *ServiceAccount, routes []string, token string) serviceAccountSnapshot {
	s := serviceAccountSnapshot{
		Name: a.Name, Description: a.Description, User: a.UserEmail,
		ExpiresAt: "never", Routes: "all", Token: token,
	}
	if a.ExpiresAt != nil {
		s.ExpiresAt = a.ExpiresAt.UTC().Format(time.RFC3339)
	}
	if a.RoutesRestricted || len(routes) > 0 {
		s.Routes = routes
	}
	if a.PreviousTokenHash != "" && a.PreviousValidUntil != nil {
		s.PreviousTokenValidUntil = a.PreviousValidUntil.UTC().Format(time.RFC3339)
	}
	if a.RevokedAt != nil {
		s.RevokedAt = a.RevokedAt.UTC().Format(time.RFC3339)
	}
	return s
}

// CreateServiceAccount validates a and inserts it, limited to a.RouteIDs
// when there are any, with CreatedBy the actor in ctx; it fills in a's ID,
// timestamps, UserEmail and RoutesRestricted, and sorts RouteIDs. Invalid
// input is a *ValidationError naming every bad field: a user who does not
// exist or is disabled is "user", an expiry not in the future
// "expires_at", unknown routes "routes". A name already in use, in any
// case, is a *ConflictError (ErrConflict).
func (s *Store) CreateServiceAccount(ctx context.Context, a *ServiceAccount) error {
	if err := s.configWrite(ctx, func(w *configTx) error { return w.createServiceAccount(a) }); err != nil {
		return fmt.Errorf("models: create service account %q: %w", a.Name, err)
	}
	return nil
}

// MaxRotationGrace is the longest the old token may keep working after a
// rotation: a rotation is how a leaked token is cut off.
const MaxRotationGrace = 30 * 24 * time.Hour

// MintFunc makes the token of a new account, once its ID is known.
type MintFunc func(id uint) (token string, err error)

// CreateServiceAccountWithToken is CreateServiceAccount for a token that
// names the account's ID: mint makes it in the same transaction, after
// the row has its ID, and the account keeps its hash. It returns the
// token, which nothing stores.
func (s *Store) CreateServiceAccountWithToken(ctx context.Context, a *ServiceAccount, mint MintFunc) (string, error) {
	return s.createServiceAccountWithToken(ctx, a, mint, 0)
}

// CreateOwnServiceAccountWithToken is CreateServiceAccountWithToken for
// an account a user issues for themselves, of whom at most maxActive may
// be active at once: one more is a *ValidationError on "name". The count
// is made inside the write, so requests sent together cannot pass the
// cap together.
func (s *Store) CreateOwnServiceAccountWithToken(ctx context.Context, a *ServiceAccount, mint MintFunc, maxActive int) (string, error) {
	return s.createServiceAccountWithToken(ctx, a, mint, maxActive)
}

// createServiceAccountWithToken creates a and mints its token; maxActive,
// when positive, caps a's user's active accounts.
func (s *Store) createServiceAccountWithToken(ctx context.Context, a *ServiceAccount, mint MintFunc, maxActive int) (string, error) {
	var token string
	err := s.configWrite(ctx, func(w *configTx) error {
		if maxActive > 0 {
			var active int64
			err := w.db.Model(&ServiceAccount{}).
				Where("user_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)", a.UserID, now()).
				Count(&active).Error
			if err != nil {
				return err
			}
			if active >= int64(maxActive) {
				var v ValidationError
				v.Add("name", fmt.Sprintf("you have %d active service accounts already; revoke one first", maxActive))
				return v.Err()
			}
		}
		a.TokenHash = HashToken(rand.Text()) // held until the real one is minted
		if err := w.createServiceAccount(a); err != nil {
			return err
		}
		var err error
		if token, err = mint(a.ID); err != nil {
			return err
		}
		a.TokenHash = HashToken(token)
		return w.db.Model(&ServiceAccount{}).Where("id = ?", a.ID).Update("token_hash", a.TokenHash).Error
	})
	if err != nil {
		return "", fmt.Errorf("models: create service account %q: %w", a.Name, err)
	}
	return token, nil
}

// RevokeServiceAccount revokes the service account with id from now on;
// revoking it again changes nothing. A missing account is ErrNotFound.
func (s *Store) RevokeServiceAccount(ctx context.Context, id uint) error {
	if err := s.configWrite(ctx, func(w *configTx) error { return w.revokeServiceAccount(id) }); err != nil {
		return fmt.Errorf("models: revoke service account %d: %w", id, err)
	}
	return nil
}

// RotateServiceAccount makes newHash, a HashToken digest, the account's
// token. With a grace period the old token keeps working for that long;
// without one it stops at once, as does any token an earlier rotation
// left working. A revoked account cannot be rotated (ErrConflict); a
// missing one is ErrNotFound.
func (s *Store) RotateServiceAccount(ctx context.Context, id uint, newHash string, grace time.Duration) error {
	err := s.configWrite(ctx, func(w *configTx) error { return w.rotateServiceAccount(id, newHash, grace) })
	if err != nil {
		return fmt.Errorf("models: rotate service account %d: %w", id, err)
	}
	return nil
}

// DeleteServiceAccount deletes the service account with id, or returns
// ErrNotFound.
func (s *Store) DeleteServiceAccount(ctx context.Context, id uint) error {
	if err := s.configWrite(ctx, func(w *configTx) error { return w.deleteServiceAccount(id) }); err != nil {
		return fmt.Errorf("models: delete service account %d: %w", id, err)
	}
	return nil
}

func (w *configTx) createServiceAccount(a *ServiceAccount) error {
	routes, err := w.checkServiceAccount(a)
	if err != nil {
		return err
	}
	var n int64
	if err := w.db.Model(&ServiceAccount{}).Where("lower(name) = ?", strings.ToLower(a.Name)).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return &ConflictError{Field: "name", Message: "is already used by another service account"}
	}
	a.ID, a.CreatedBy = 0, truncate(w.actor, maxActorLen)
	a.PreviousTokenHash, a.PreviousValidUntil, a.RevokedAt, a.LastUsedAt = "", nil, nil, nil
	a.RouteIDs = make([]uint, len(routes))
	names := make([]string, len(routes))
	for i, r := range routes {
		a.RouteIDs[i], names[i] = r.ID, r.Name
	}
	slices.Sort(a.RouteIDs)
	a.RoutesRestricted = len(routes) > 0
	a.CreatedAt, a.UpdatedAt = now(), now()
	if err := w.db.Create(a).Error; err != nil {
		return dbError(err)
	}
	if len(routes) > 0 {
		links := make([]serviceAccountRoute, len(routes))
		for i, r := range routes {
			links[i] = serviceAccountRoute{ServiceAccountID: a.ID, RouteID: r.ID}
		}
		if err := w.db.Create(&links).Error; err != nil {
			return fmt.Errorf("link routes: %w", err)
		}
	}
	after, err := snapshotText(snapshotServiceAccount(a, names, secretSet))
	if err != nil {
		return err
	}
	return w.record(ResourceServiceAccount, a.ID, a.Name, ActionCreate, "", after)
}

// checkServiceAccount normalizes a and reports every problem with it as a
// *ValidationError, looking its user and routes up in w's transaction. On
// success a.UserEmail is set and the routes are returned, ID and Name, in
// name order and once each.
func (w *configTx) checkServiceAccount(a *ServiceAccount) ([]Route, error) {
	a.Name, a.Description = strings.TrimSpace(a.Name), strings.TrimSpace(a.Description)
	var v ValidationError
	switch {
	case a.Name == "":
		v.Add("name", "is required")
	case strings.ContainsFunc(a.Name, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }):
		v.Add("name", "must not contain control or invisible formatting characters")
	case strings.Trim(a.Name, "0123456789") == "":
		v.Add("name", "must not be only digits, which read as an account ID")
	default:
		validateMaxChars(&v, "name", a.Name, maxServiceAccountNameChars)
	}
	validateMaxChars(&v, "description", a.Description, maxDescriptionChars)
	if a.UserID == 0 {
		v.Add("user", "is required")
	} else {
		var u User
		err := w.db.Select("id", "email", "disabled").Take(&u, a.UserID).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			v.Add("user", "does not exist")
		case err != nil:
			return nil, err
		case u.Disabled:
			v.Add("user", "is disabled")
		default:
			a.UserEmail = u.Email
		}
	}
	validateHash(&v, "token_hash", a.TokenHash)
	if a.ExpiresAt != nil {
		a.ExpiresAt = optionalTime(a.ExpiresAt)
		if !a.ExpiresAt.After(now()) {
			v.Add("expires_at", "must be in the future")
		}
	}
	routes := []Route{}
	if len(a.RouteIDs) > 0 {
		if err := w.db.Select("id", "name").Where("id IN ?", a.RouteIDs).Order("lower(name), id").Find(&routes).Error; err != nil {
			return nil, err
		}
		found := make([]uint, len(routes))
		for i, r := range routes {
			found[i] = r.ID
		}
		var missing []uint
		for _, id := range a.RouteIDs {
			if !slices.Contains(found, id) {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			slices.Sort(missing)
			v.Add("routes", "include IDs that name no route: "+joinIDs(slices.Compact(missing)))
		}
	}
	return routes, v.Err()
}

func (w *configTx) revokeServiceAccount(id uint) error {
	old, names, err := w.serviceAccountForUpdate(id)
	if err != nil || old.RevokedAt != nil {
		return err
	}
	t := now()
	if err := w.db.Model(&ServiceAccount{}).Where("id = ?", id).
		Updates(map[string]any{"revoked_at": t, "updated_at": t}).Error; err != nil {
		return dbError(err)
	}
	revoked := *old
	revoked.RevokedAt = &t
	before, after, _, err := snapshotPair(
		snapshotServiceAccount(old, names, secretSet), snapshotServiceAccount(&revoked, names, secretSet))
	if err != nil {
		return err
	}
	return w.record(ResourceServiceAccount, id, old.Name, ActionUpdate, before, after)
}

func (w *configTx) rotateServiceAccount(id uint, newHash string, grace time.Duration) error {
	var v ValidationError
	validateHash(&v, "token_hash", newHash)
	if err := v.Err(); err != nil {
		return err
	}
	old, names, err := w.serviceAccountForUpdate(id)
	if err != nil {
		return err
	}
	if old.RevokedAt != nil {
		return fmt.Errorf("%w: service account %s is revoked, and a revoked account's token cannot be rotated; create a new account", ErrConflict, old.Name)
	}
	if newHash == old.TokenHash {
		v.Add("token_hash", "must differ from the current token's")
		return v.Err()
	}
	if grace > MaxRotationGrace {
		v.Add("grace", fmt.Sprintf("must be at most %s", MaxRotationGrace))
		return v.Err()
	}
	t := now()
	rotated := *old
	rotated.TokenHash, rotated.PreviousTokenHash, rotated.PreviousValidUntil = newHash, "", nil
	switch {
	case grace > 0 && old.PreviousValidUntil != nil && old.PreviousValidUntil.After(t):
		// A rotation during another's grace (a second click, say): the
		// token still deployed is the older one, so it keeps its grace,
		// and the token never picked up is the one replaced.
		rotated.PreviousTokenHash, rotated.PreviousValidUntil = old.PreviousTokenHash, old.PreviousValidUntil
	case grace > 0:
		until := dbTime(t.Add(grace))
		rotated.PreviousTokenHash, rotated.PreviousValidUntil = old.TokenHash, &until
	}
	err = w.db.Model(&ServiceAccount{}).Where("id = ?", id).Updates(map[string]any{
		"token_hash":           rotated.TokenHash,
		"previous_token_hash":  rotated.PreviousTokenHash,
		"previous_valid_until": rotated.PreviousValidUntil,
		"updated_at":           t,
	}).Error
	if err != nil {
		return dbError(err)
	}
	before, after, _, err := snapshotPair(
		snapshotServiceAccount(old, names, secretSet), snapshotServiceAccount(&rotated, names, secretChanged))
	if err != nil {
		return err
	}
	return w.record(ResourceServiceAccount, id, old.Name, ActionUpdate, before, after)
}

func (w *configTx) deleteServiceAccount(id uint) error {
	old, names, err := w.serviceAccountForUpdate(id)
	if err != nil {
		return err
	}
	before, err := snapshotText(snapshotServiceAccount(old, names, secretSet))
	if err != nil {
		return err
	}
	// The foreign key would cascade; deleting the links first does not
	// depend on it.
	if err := w.db.Where("service_account_id = ?", id).Delete(&serviceAccountRoute{}).Error; err != nil {
		return err
	}
	if err := w.db.Delete(&ServiceAccount{}, id).Error; err != nil {
		return dbError(err)
	}
	return w.record(ResourceServiceAccount, id, old.Name, ActionDelete, before, "")
}

// serviceAccountForUpdate reads account id in w's transaction, with the
// names of its routes in name order, or returns ErrNotFound.
func (w *configTx) serviceAccountForUpdate(id uint) (*ServiceAccount, []string, error) {
	a, err := findServiceAccount(w.db, "a.id = ?", id)
	if err != nil {
		return nil, nil, err
	}
	names := []string{}
	err = w.db.Model(&Route{}).Where("id IN (SELECT route_id FROM service_account_routes WHERE service_account_id = ?)", id).
		Order("lower(name), id").Pluck("name", &names).Error
	return a, names, err
}
