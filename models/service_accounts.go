package models

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// ResourceServiceAccount is the resource of a Change to a service account.
const ResourceServiceAccount = "service_account"

// Service account statuses, as Status reports them.
const (
	ServiceAccountActive  = "active"
	ServiceAccountExpired = "expired"
	ServiceAccountRevoked = "revoked"
)

// ServiceAccount is a long-lived credential that acts as one user, for CI
// pipelines and agents. The token is a JWT minted elsewhere; the store
// keeps its HashToken digest, and the gateway accepts a presented token
// only when its digest matches a live account, so rotating the signing
// key never breaks an account.
type ServiceAccount struct {
	ID          uint   `json:"id"`
	Name        string `json:"name"`        // unique ignoring case; 1 to 100 characters
	Description string `json:"description"` // at most 1000 characters
	// UserID is the user the account acts as; UserEmail is filled on
	// reads.
	UserID    uint   `json:"user_id"`
	UserEmail string `json:"user_email" gorm:"-"`
	CreatedBy string `json:"created_by"` // the actor who created it
	// TokenHash is the HashToken digest of the current token.
	TokenHash string `json:"-"`
	// PreviousTokenHash is the digest of the token the last rotation
	// replaced, accepted until PreviousValidUntil; "" and nil when none.
	PreviousTokenHash  string     `json:"-"`
	PreviousValidUntil *time.Time `json:"previous_valid_until,omitempty"`
	ExpiresAt          *time.Time `json:"expires_at,omitempty"` // nil: never
	RevokedAt          *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt         *time.Time `json:"last_used_at,omitempty"`
	// RouteIDs, filled on reads and in order, are the only routes the
	// account may use; empty means every route its user's policies allow,
	// unless RoutesRestricted.
	RouteIDs []uint `json:"route_ids" gorm:"-"`
	// RoutesRestricted, set by CreateServiceAccount when RouteIDs is not
	// empty, keeps the account limited once its routes are deleted: with
	// it and no RouteIDs left, the account may use no route at all.
	RoutesRestricted bool      `json:"routes_restricted"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// Status is ServiceAccountActive, ServiceAccountExpired or
// ServiceAccountRevoked at now.
func (a *ServiceAccount) Status(now time.Time) string {
	switch {
	case a.RevokedAt != nil:
		return ServiceAccountRevoked
	case a.ExpiresAt != nil && !now.Before(*a.ExpiresAt):
		return ServiceAccountExpired
	default:
		return ServiceAccountActive
	}
}

// ServiceAccountFilter selects a page of service accounts for
// ListServiceAccounts.
type ServiceAccountFilter struct {
	// Query, when set, keeps accounts whose name, description or user's
	// email contains it, ignoring case.
	Query  string
	UserID uint   // 0: any user
	Status string // "": any; else one of the statuses, at the time of the call
	// Offset skips that many accounts; Limit caps the page (0: no cap).
	Offset, Limit int
}

// serviceAccountRoute is one row of the service_account_routes join table.
type serviceAccountRoute struct {
	ServiceAccountID uint
	RouteID          uint
}

func (serviceAccountRoute) TableName() string { return "service_account_routes" }

// serviceAccountRow is a service account as reads select it: with its
// user's email, from the join.
type serviceAccountRow struct {
	ServiceAccount
	ListedUserEmail string `gorm:"column:listed_user_email"`
}

// serviceAccountsQuery selects accounts, as "a", joined to their users,
// as "u".
func serviceAccountsQuery(db *gorm.DB) *gorm.DB {
	return db.Table("service_accounts AS a").Joins("JOIN users AS u ON u.id = a.user_id")
}

// selectServiceAccounts is the scope of a read of serviceAccountRows.
func selectServiceAccounts(db *gorm.DB) *gorm.DB {
	return db.Select("a.*, u.email AS listed_user_email")
}

// readServiceAccounts turns rows into accounts with UserEmail and
// RouteIDs filled; links selects the join rows that may concern them.
func readServiceAccounts(links *gorm.DB, rows []serviceAccountRow) ([]ServiceAccount, error) {
	out := make([]ServiceAccount, len(rows))
	for i, r := range rows {
		out[i] = r.ServiceAccount
		out[i].UserEmail = r.ListedUserEmail
	}
	if len(out) == 0 {
		return out, nil
	}
	var found []serviceAccountRoute
	if err := links.Order("service_account_id, route_id").Find(&found).Error; err != nil {
		return nil, err
	}
	byAccount := map[uint][]uint{}
	for _, l := range found {
		byAccount[l.ServiceAccountID] = append(byAccount[l.ServiceAccountID], l.RouteID)
	}
	for i := range out {
		out[i].RouteIDs = byAccount[out[i].ID]
		if out[i].RouteIDs == nil {
			out[i].RouteIDs = []uint{}
		}
	}
	return out, nil
}

// findServiceAccount returns the one account matching the conditions on
// "a" and "u", read in full, or ErrNotFound.
func findServiceAccount(db *gorm.DB, query any, args ...any) (*ServiceAccount, error) {
	var rows []serviceAccountRow
	err := serviceAccountsQuery(db).Scopes(selectServiceAccounts).Where(query, args...).Limit(1).Find(&rows).Error
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, ErrNotFound
	}
	accounts, err := readServiceAccounts(db.Where("service_account_id = ?", rows[0].ID), rows)
	if err != nil {
		return nil, err
	}
	return &accounts[0], nil
}

// GetServiceAccount returns the service account with id, or ErrNotFound.
func (s *Store) GetServiceAccount(ctx context.Context, id uint) (*ServiceAccount, error) {
	a, err := findServiceAccount(s.db.WithContext(ctx), "a.id = ?", id)
	if err != nil {
		return nil, fmt.Errorf("models: get service account %d: %w", id, err)
	}
	return a, nil
}

// FindServiceAccount returns the service account whose ID is nameOrID, in
// decimal, or else the one named nameOrID, ignoring case and surrounding
// spaces; ErrNotFound if neither exists.
func (s *Store) FindServiceAccount(ctx context.Context, nameOrID string) (*ServiceAccount, error) {
	db := s.db.WithContext(ctx)
	key := strings.TrimSpace(nameOrID)
	if id, err := strconv.ParseUint(key, 10, 32); err == nil {
		a, err := findServiceAccount(db, "a.id = ?", uint(id))
		if !errors.Is(err, ErrNotFound) {
			return a, wrapFindError(nameOrID, err)
		}
		// A name may be all digits.
	}
	a, err := findServiceAccount(db, "lower(a.name) = ?", strings.ToLower(key))
	return a, wrapFindError(nameOrID, err)
}

func wrapFindError(nameOrID string, err error) error {
	if err != nil {
		return fmt.Errorf("models: find service account %q: %w", nameOrID, err)
	}
	return nil
}

// ListServiceAccounts returns one page of the service accounts matching
// f, newest first, and how many match f in all. An unknown f.Status is a
// *ValidationError.
func (s *Store) ListServiceAccounts(ctx context.Context, f ServiceAccountFilter) ([]ServiceAccount, int64, error) {
	db := s.db.WithContext(ctx)
	q := whereContains(serviceAccountsQuery(db), f.Query, "a.name", "a.description", "u.email")
	if f.UserID != 0 {
		q = q.Where("a.user_id = ?", f.UserID)
	}
	t := now()
	switch f.Status {
	case "":
	case ServiceAccountActive:
		q = q.Where("a.revoked_at IS NULL AND (a.expires_at IS NULL OR a.expires_at > ?)", t)
	case ServiceAccountExpired:
		q = q.Where("a.revoked_at IS NULL AND a.expires_at <= ?", t)
	case ServiceAccountRevoked:
		q = q.Where("a.revoked_at IS NOT NULL")
	default:
		var v ValidationError
		v.Add("status", fmt.Sprintf("must be %s, %s or %s", ServiceAccountActive, ServiceAccountExpired, ServiceAccountRevoked))
		return nil, 0, fmt.Errorf("models: list service accounts: %w", v.Err())
	}
	rows, total, err := listPage[serviceAccountRow](q, "a.created_at DESC, a.id DESC", f.Offset, f.Limit, selectServiceAccounts)
	if err != nil {
		return nil, 0, fmt.Errorf("models: list service accounts: %w", err)
	}
	ids := make([]uint, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	accounts, err := readServiceAccounts(db.Where("service_account_id IN ?", ids), rows)
	if err != nil {
		return nil, 0, fmt.Errorf("models: list service accounts: %w", err)
	}
	return accounts, total, nil
}

// AllServiceAccounts returns every service account that is not revoked,
// for the gateway's snapshot, expired ones included (they expire between
// snapshots anyway), ordered by ID. It leaves out an account limited to
// routes that have all been deleted: it may use nothing, and a gateway
// reading an empty RouteIDs as no limit must not see it.
func (s *Store) AllServiceAccounts(ctx context.Context) ([]ServiceAccount, error) {
	db := s.db.WithContext(ctx)
	var rows []serviceAccountRow
	err := serviceAccountsQuery(db).Scopes(selectServiceAccounts).Where("a.revoked_at IS NULL").Order("a.id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("models: all service accounts: %w", err)
	}
	all, err := readServiceAccounts(db.Where("service_account_id IN (SELECT id FROM service_accounts WHERE revoked_at IS NULL)"), rows)
	if err != nil {
		return nil, fmt.Errorf("models: all service accounts: %w", err)
	}
	return slices.DeleteFunc(all, func(a ServiceAccount) bool { return a.RoutesRestricted && len(a.RouteIDs) == 0 }), nil
}

// TouchServiceAccounts records when accounts were last used: each account
// in used gets its time as last_used_at, unless it already holds a later
// one. One transaction writes the batch; like a sign-in, use is not
// configuration, so it bumps no version and records no history. Accounts
// that no longer exist are skipped.
func (s *Store) TouchServiceAccounts(ctx context.Context, used map[uint]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	// One order for every writer, so that databases that lock rows one by
	// one cannot deadlock two batches.
	ids := slices.Sorted(maps.Keys(used))
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, id := range ids {
			at := dbTime(used[id])
			err := tx.Table("service_accounts").
				Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", id, at).
				Update("last_used_at", at).Error
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("models: touch service accounts: %w", err)
	}
	return nil
}
