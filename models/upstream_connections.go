package models

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Connection statuses.
const (
	// ConnectionConnected means the tokens work, or can be refreshed.
	ConnectionConnected = "connected"
	// ConnectionNeedsReconnect means the provider refused a refresh: only
	// the user, connecting again, can mend it.
	ConnectionNeedsReconnect = "needs_reconnect"
)

// Limits on what a provider's token response may leave in the vault.
const (
	maxUpstreamTokenLen  = 16 << 10
	maxTokenTypeLen      = 64
	maxConnectionAccount = 320
	maxConnectionScopes  = 64
	maxRefreshLeaseOwner = 128
)

const upstreamConnectionsTb = "upstream_connections"

// UpstreamConnection is one user's tokens at one upstream app, which the
// gateway presents to the upstream on the user's behalf. There is at most
// one per user and app.
//
// None of the methods that write connections bump the configuration
// version: tokens are not configuration.
type UpstreamConnection struct {
	ID     uint `json:"id"`
	UserID uint `json:"user_id"`
	AppID  uint `json:"app_id"`
	// AccessToken and RefreshToken are plaintext in memory only. The store
	// seals them with the Cipher (the AAD binds each to its column, user
	// and app, e.g. "upstream_connections.access_token_sealed:<user>:<app>")
	// and never writes them in clear. GetUpstreamConnection and
	// DeleteUpstreamConnection fill them; lists leave them "".
	AccessToken     string     `json:"-" gorm:"-"`
	RefreshToken    string     `json:"-" gorm:"-"`
	HasRefreshToken bool       `json:"has_refresh_token" gorm:"-"`
	TokenType       string     `json:"token_type"`
	ExpiresAt       *time.Time `json:"expires_at,omitempty"` // nil: the provider gave no expiry
	Scopes          []string   `json:"scopes" gorm:"serializer:json"`
	Account         string     `json:"account"` // the upstream account's login, email or name, when the provider says
	Status          string     `json:"status"`  // ConnectionConnected or ConnectionNeedsReconnect
	Version         int64      `json:"version"` // +1 on every write; refreshes compare-and-swap on it
	LastRefreshedAt *time.Time `json:"last_refreshed_at,omitempty"`
	LastUsedAt      *time.Time `json:"last_used_at,omitempty"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	// Filled by ListUpstreamConnections.
	UserEmail string `json:"user_email,omitempty" gorm:"-"`
	AppName   string `json:"app_name,omitempty" gorm:"-"`
}

// TableName names the table.
func (UpstreamConnection) TableName() string { return upstreamConnectionsTb }

// ConnectionFilter selects connections for ListUpstreamConnections; a zero
// field matches any.
type ConnectionFilter struct{ UserID, AppID uint }

// ConnectionCounts counts one app's connections by status.
type ConnectionCounts struct{ Connected, NeedsReconnect int }

// ConnectionKey names one connection: a user's at an app.
type ConnectionKey struct{ UserID, AppID uint }

// connectionRow is a connection as its table holds it: tokens sealed, and
// the refresh lease beside them.
type connectionRow struct {
	UpstreamConnection
	AccessTokenSealed  string     `gorm:"column:access_token_sealed"`
	RefreshTokenSealed string     `gorm:"column:refresh_token_sealed"`
	RefreshLeaseOwner  string     `gorm:"column:refresh_lease_owner"`
	RefreshLeaseUntil  *time.Time `gorm:"column:refresh_lease_until"`
}

// connectionTokenAAD binds a sealed token to its column and connection, as
// "<table>.<column>:<user>:<app>": the shape ReencryptSecrets' AADs take,
// with "user_id || ':' || app_id" as the row's id. The row's own id is not
// known before the insert of a new connection, and (user, app) names the
// row just as well, forever.
func connectionTokenAAD(column string, userID, appID uint) string {
	return upstreamConnectionsTb + "." + column + ":" +
		strconv.FormatUint(uint64(userID), 10) + ":" + strconv.FormatUint(uint64(appID), 10)
}

// validateGrant reports every problem with the tokens and grant c carries.
func (c *UpstreamConnection) validateGrant(v *ValidationError) {
	if c.UserID == 0 {
		v.Add("user_id", "is required")
	}
	if c.AppID == 0 {
		v.Add("app_id", "is required")
	}
	if c.AccessToken == "" {
		v.Add("access_token", "is required")
	}
	validateMaxLen(v, "access_token", c.AccessToken, maxUpstreamTokenLen)
	validateMaxLen(v, "refresh_token", c.RefreshToken, maxUpstreamTokenLen)
	validateMaxLen(v, "token_type", c.TokenType, maxTokenTypeLen)
	switch {
	case len(c.Scopes) > maxConnectionScopes:
		v.Add("scopes", fmt.Sprintf("must be at most %d", maxConnectionScopes))
	case slices.ContainsFunc(c.Scopes, func(s string) bool { return len(s) > maxScopeLen }):
		v.Add("scopes", fmt.Sprintf("must each be at most %d bytes", maxScopeLen))
	}
}

// validateLeaseOwner reports an owner no lease can have: "" is what an
// unleased row holds, so it would match every one of them.
func validateLeaseOwner(v *ValidationError, owner string) {
	if owner == "" {
		v.Add("owner", "is required")
	}
	validateMaxLen(v, "owner", owner, maxRefreshLeaseOwner)
}

// sealTokens seals c's tokens for its connection; no refresh token seals
// to "".
func (s *Store) sealTokens(c *UpstreamConnection) (access, refresh string, err error) {
	access, err = s.cipher.Encrypt([]byte(c.AccessToken), connectionTokenAAD("access_token_sealed", c.UserID, c.AppID))
	if err != nil || c.RefreshToken == "" {
		return access, "", err
	}
	refresh, err = s.cipher.Encrypt([]byte(c.RefreshToken), connectionTokenAAD("refresh_token_sealed", c.UserID, c.AppID))
	return access, refresh, err
}

// openTokens decrypts row's tokens into it. A token that does not decrypt
// is an error naming the row: an empty token would read as "no token".
func (s *Store) openTokens(row *connectionRow) error {
	c := &row.UpstreamConnection
	access, err := s.cipher.Decrypt(row.AccessTokenSealed, connectionTokenAAD("access_token_sealed", c.UserID, c.AppID))
	if err != nil {
		return fmt.Errorf("upstream connection %d (user %d, app %d): access token: %w", c.ID, c.UserID, c.AppID, err)
	}
	c.AccessToken, c.RefreshToken, c.HasRefreshToken = string(access), "", row.RefreshTokenSealed != ""
	if c.HasRefreshToken {
		refresh, err := s.cipher.Decrypt(row.RefreshTokenSealed, connectionTokenAAD("refresh_token_sealed", c.UserID, c.AppID))
		if err != nil {
			return fmt.Errorf("upstream connection %d (user %d, app %d): refresh token: %w", c.ID, c.UserID, c.AppID, err)
		}
		c.RefreshToken = string(refresh)
	}
	return nil
}

// refsDBError is dbError, plus a foreign key violation read as
// ErrNotFound: one of the rows refs lists, which the row written names,
// does not exist.
func refsDBError(err error, refs string) error {
	if errors.Is(err, gorm.ErrForeignKeyViolated) {
		return fmt.Errorf("%w: no such %s", ErrNotFound, refs)
	}
	return dbError(err)
}

// optionalTime normalizes t for storage, keeping nil as NULL.
func optionalTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := dbTime(*t)
	return &v
}

// savedConnectionColumns are the columns a save overwrites on an existing
// connection; created_at and the usage times stay.
var savedConnectionColumns = []string{
	"access_token_sealed", "refresh_token_sealed", "token_type", "expires_at", "scopes", "account",
	"status", "refresh_lease_owner", "refresh_lease_until", "updated_at",
}

// SaveUpstreamConnection stores c's tokens as the user's connection to
// the app, replacing any connection they had there, in one transaction:
// the connection is then connected, at the version after the one it
// replaced (1 when new), with no refresh lease, and keeps its CreatedAt.
// It fills in c's ID, Status, Version, timestamps and HasRefreshToken.
// Invalid input is a *ValidationError naming every bad field; an unknown
// user or app is ErrNotFound.
func (s *Store) SaveUpstreamConnection(ctx context.Context, c *UpstreamConnection) error {
	var v ValidationError
	c.validateGrant(&v)
	validateMaxLen(&v, "account", c.Account, maxConnectionAccount)
	err := v.Err()
	if err == nil {
		err = s.saveConnection(ctx, c)
	}
	if err != nil {
		return fmt.Errorf("models: save upstream connection of user %d at app %d: %w", c.UserID, c.AppID, err)
	}
	return nil
}

func (s *Store) saveConnection(ctx context.Context, c *UpstreamConnection) error {
	access, refresh, err := s.sealTokens(c)
	if err != nil {
		return err
	}
	if c.Scopes == nil {
		c.Scopes = []string{}
	}
	at := now()
	row := connectionRow{UpstreamConnection: *c, AccessTokenSealed: access, RefreshTokenSealed: refresh}
	row.ID, row.Status, row.Version, row.ExpiresAt = 0, ConnectionConnected, 1, optionalTime(c.ExpiresAt)
	row.LastRefreshedAt, row.LastUsedAt, row.CreatedAt, row.UpdatedAt = nil, nil, at, at
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Clauses(clause.OnConflict{
			Columns: []clause.Column{{Name: "user_id"}, {Name: "app_id"}},
			DoUpdates: append(clause.AssignmentColumns(savedConnectionColumns),
				clause.Assignment{Column: clause.Column{Name: "version"}, Value: gorm.Expr(upstreamConnectionsTb + ".version + 1")}),
		}).Create(&row).Error
		if err != nil {
			return refsDBError(err, "user or upstream app")
		}
		// Read back: after an update, the ID, version and CreatedAt are
		// the stored connection's.
		return tx.Where("user_id = ? AND app_id = ?", c.UserID, c.AppID).Take(&row).Error
	})
	if err != nil {
		return err
	}
	c.ID, c.Status, c.Version, c.ExpiresAt = row.ID, row.Status, row.Version, row.ExpiresAt
	c.LastRefreshedAt, c.LastUsedAt, c.CreatedAt, c.UpdatedAt = row.LastRefreshedAt, row.LastUsedAt, row.CreatedAt, row.UpdatedAt
	c.HasRefreshToken = c.RefreshToken != ""
	return nil
}

// GetUpstreamConnection returns the user's connection to the app, tokens
// decrypted, or ErrNotFound.
func (s *Store) GetUpstreamConnection(ctx context.Context, userID, appID uint) (*UpstreamConnection, error) {
	c, err := s.findConnection(s.db.WithContext(ctx), userID, appID)
	if err != nil {
		return nil, fmt.Errorf("models: get upstream connection of user %d at app %d: %w", userID, appID, err)
	}
	return c, nil
}

func (s *Store) findConnection(db *gorm.DB, userID, appID uint) (*UpstreamConnection, error) {
	var row connectionRow
	if err := db.Where("user_id = ? AND app_id = ?", userID, appID).Take(&row).Error; err != nil {
		return nil, dbError(err)
	}
	if err := s.openTokens(&row); err != nil {
		return nil, err
	}
	return &row.UpstreamConnection, nil
}

// DeleteUpstreamConnection deletes the user's connection to the app and
// returns it, tokens decrypted, so that the caller can revoke them at the
// provider. A missing connection is ErrNotFound, and so is one that
// another caller deleted first: only one caller gets the tokens. A
// connection whose tokens no longer decrypt is an error and stays; saving
// a new connection replaces it.
func (s *Store) DeleteUpstreamConnection(ctx context.Context, userID, appID uint) (*UpstreamConnection, error) {
	var c *UpstreamConnection
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if c, err = s.findConnection(tx, userID, appID); err != nil {
			return err
		}
		res := tx.Delete(&UpstreamConnection{}, c.ID)
		if res.Error == nil && res.RowsAffected != 1 {
			return ErrNotFound
		}
		return res.Error
	})
	if err != nil {
		return nil, fmt.Errorf("models: delete upstream connection of user %d at app %d: %w", userID, appID, err)
	}
	return c, nil
}

// ClaimUpstreamRefresh takes the refresh lease of the user's connection to
// the app for owner until until, and reports whether it did: only if the
// connection is still connected at version, and nobody holds a lease that
// has not expired. One conditional UPDATE decides, so of many callers at
// once (in any process) exactly one wins. A missing connection is no
// lease, not an error.
func (s *Store) ClaimUpstreamRefresh(ctx context.Context, userID, appID uint, version int64, owner string, until time.Time) (bool, error) {
	var v ValidationError
	validateLeaseOwner(&v, owner)
	if err := v.Err(); err != nil {
		return false, fmt.Errorf("models: claim refresh of upstream connection of user %d at app %d: %w", userID, appID, err)
	}
	res := s.db.WithContext(ctx).Table(upstreamConnectionsTb).
		Where("user_id = ? AND app_id = ? AND version = ? AND status = ?", userID, appID, version, ConnectionConnected).
		Where("(refresh_lease_until IS NULL OR refresh_lease_until < ?)", now()).
		Updates(map[string]any{"refresh_lease_owner": owner, "refresh_lease_until": dbTime(until)})
	if res.Error != nil {
		return false, fmt.Errorf("models: claim refresh of upstream connection of user %d at app %d: %w", userID, appID, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// FinishUpstreamRefresh stores the tokens a refresh returned, sealed, and
// releases the lease, in one conditional UPDATE: c carries the user and
// app, the new AccessToken, the RefreshToken to keep ("" for none),
// TokenType, ExpiresAt, Scopes (nil keeps the stored ones), and the
// Version the lease was claimed at. Unless owner still holds the lease at
// that version, nothing is written and the error is ErrConflict. On
// success, c's Version, Status, LastRefreshedAt, UpdatedAt and
// HasRefreshToken are set.
func (s *Store) FinishUpstreamRefresh(ctx context.Context, c *UpstreamConnection, owner string) error {
	if err := s.finishRefresh(ctx, c, owner); err != nil {
		return fmt.Errorf("models: finish refresh of upstream connection of user %d at app %d: %w", c.UserID, c.AppID, err)
	}
	return nil
}

func (s *Store) finishRefresh(ctx context.Context, c *UpstreamConnection, owner string) error {
	var v ValidationError
	c.validateGrant(&v)
	validateLeaseOwner(&v, owner)
	if err := v.Err(); err != nil {
		return err
	}
	access, refresh, err := s.sealTokens(c)
	if err != nil {
		return err
	}
	at := now()
	c.ExpiresAt = optionalTime(c.ExpiresAt)
	set := map[string]any{
		"access_token_sealed": access, "refresh_token_sealed": refresh, "token_type": c.TokenType,
		"expires_at": nil, "last_refreshed_at": at, "updated_at": at, "version": gorm.Expr("version + 1"),
		"refresh_lease_owner": "", "refresh_lease_until": nil,
	}
	if c.ExpiresAt != nil {
		set["expires_at"] = *c.ExpiresAt
	}
	if c.Scopes != nil {
		scopes, err := json.Marshal(c.Scopes)
		if err != nil {
			return err
		}
		set["scopes"] = string(scopes)
	}
	res := s.db.WithContext(ctx).Table(upstreamConnectionsTb).
		Where("user_id = ? AND app_id = ? AND version = ? AND refresh_lease_owner = ?", c.UserID, c.AppID, c.Version, owner).
		Updates(set)
	switch {
	case res.Error != nil:
		return res.Error
	case res.RowsAffected != 1:
		return fmt.Errorf("%w: the refresh lease at version %d is not %q's", ErrConflict, c.Version, owner)
	}
	c.Version++
	c.Status, c.LastRefreshedAt, c.UpdatedAt, c.HasRefreshToken = ConnectionConnected, &at, at, refresh != ""
	return nil
}

// FailUpstreamRefresh releases owner's refresh lease of the user's
// connection to the app after a refresh that failed; with needsReconnect
// (the provider refused the refresh token), it also marks the connection
// ConnectionNeedsReconnect, at the next version. If owner holds no lease
// there, it writes nothing: whoever took the lease over decides.
func (s *Store) FailUpstreamRefresh(ctx context.Context, userID, appID uint, owner string, needsReconnect bool) error {
	var v ValidationError
	validateLeaseOwner(&v, owner)
	err := v.Err()
	if err == nil {
		set := map[string]any{"refresh_lease_owner": "", "refresh_lease_until": nil}
		if needsReconnect {
			set["status"], set["version"], set["updated_at"] = ConnectionNeedsReconnect, gorm.Expr("version + 1"), now()
		}
		err = s.db.WithContext(ctx).Table(upstreamConnectionsTb).
			Where("user_id = ? AND app_id = ? AND refresh_lease_owner = ?", userID, appID, owner).
			Updates(set).Error
	}
	if err != nil {
		return fmt.Errorf("models: fail refresh of upstream connection of user %d at app %d: %w", userID, appID, err)
	}
	return nil
}

// connectionListRow is a listed connection with what the joins add. The
// aliases differ from UpstreamConnection's own (ignored) field names, so
// GORM cannot mistake one for the other.
type connectionListRow struct {
	UpstreamConnection
	ListedHasRefresh bool   `gorm:"column:listed_has_refresh"`
	ListedUserEmail  string `gorm:"column:listed_user_email"`
	ListedAppName    string `gorm:"column:listed_app_name"`
}

// ListUpstreamConnections returns the connections f selects, without
// their tokens but with HasRefreshToken, UserEmail and AppName, ordered by
// app name, then user email.
func (s *Store) ListUpstreamConnections(ctx context.Context, f ConnectionFilter) ([]UpstreamConnection, error) {
	q := s.db.WithContext(ctx).Table(upstreamConnectionsTb + " AS c").
		Select(`c.id, c.user_id, c.app_id, c.token_type, c.expires_at, c.scopes, c.account, c.status, c.version,
			c.last_refreshed_at, c.last_used_at, c.created_at, c.updated_at,
			c.refresh_token_sealed <> '' AS listed_has_refresh, u.email AS listed_user_email, a.name AS listed_app_name`).
		Joins("JOIN users AS u ON u.id = c.user_id").
		Joins("JOIN upstream_apps AS a ON a.id = c.app_id")
	if f.UserID != 0 {
		q = q.Where("c.user_id = ?", f.UserID)
	}
	if f.AppID != 0 {
		q = q.Where("c.app_id = ?", f.AppID)
	}
	var rows []connectionListRow
	if err := q.Order("a.name, u.email").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("models: list upstream connections: %w", err)
	}
	out := make([]UpstreamConnection, len(rows))
	for i, r := range rows {
		out[i] = r.UpstreamConnection
		out[i].HasRefreshToken, out[i].UserEmail, out[i].AppName = r.ListedHasRefresh, r.ListedUserEmail, r.ListedAppName
	}
	return out, nil
}

// UpstreamConnectionCounts counts the connections of each app that has
// any, by status, keyed by app ID.
func (s *Store) UpstreamConnectionCounts(ctx context.Context) (map[uint]ConnectionCounts, error) {
	type group struct {
		AppID  uint
		Status string
		N      int
	}
	var groups []group
	err := s.db.WithContext(ctx).Table(upstreamConnectionsTb).
		Select("app_id, status, COUNT(*) AS n").Group("app_id, status").Scan(&groups).Error
	if err != nil {
		return nil, fmt.Errorf("models: count upstream connections: %w", err)
	}
	counts := map[uint]ConnectionCounts{}
	for _, g := range groups {
		c := counts[g.AppID]
		switch g.Status {
		case ConnectionConnected:
			c.Connected += g.N
		case ConnectionNeedsReconnect:
			c.NeedsReconnect += g.N
		}
		counts[g.AppID] = c
	}
	return counts, nil
}

// TouchUpstreamConnections records when connections were last used: each
// connection in used gets its time as last_used_at, unless it already
// holds a later one. One transaction writes the batch; it changes no
// version, since use is not a change of the tokens. Connections that no
// longer exist are skipped.
func (s *Store) TouchUpstreamConnections(ctx context.Context, used map[ConnectionKey]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	// One order for every writer, so that databases that lock rows one
	// by one cannot deadlock two batches.
	keys := slices.SortedFunc(maps.Keys(used), func(a, b ConnectionKey) int {
		return cmp.Or(cmp.Compare(a.UserID, b.UserID), cmp.Compare(a.AppID, b.AppID))
	})
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, k := range keys {
			at := dbTime(used[k])
			err := tx.Table(upstreamConnectionsTb).
				Where("user_id = ? AND app_id = ? AND (last_used_at IS NULL OR last_used_at < ?)", k.UserID, k.AppID, at).
				Update("last_used_at", at).Error
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("models: touch upstream connections: %w", err)
	}
	return nil
}
