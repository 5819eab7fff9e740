// Package vault hands the gateway each user's upstream access token,
// refreshing it before it expires. The tokens live sealed in the store;
// the vault keeps the ones in use in memory for a moment, so a busy route
// does not read the database on every call.
//
// A refresh is done once however many calls want it: calls in this
// process wait on one flight, and processes sharing the database take a
// lease on the connection's row first, so that a rotated refresh token is
// never spent twice.
package vault

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"github.com/drawbridge/drawbridge/models"
)

// Errors Token returns, for the gateway to explain.
var (
	// ErrNotConnected: the user has not connected this app.
	ErrNotConnected = errors.New("vault: not connected")
	// ErrNeedsReconnect: the upstream refused the saved sign-in (its
	// refresh token was revoked or expired); the user must Connect again.
	ErrNeedsReconnect = errors.New("vault: the upstream needs a new sign-in")
	// ErrUnavailable: the upstream's token endpoint could not be reached
	// and the token held has expired. Trying again later may work.
	ErrUnavailable = errors.New("vault: the upstream token endpoint is unavailable")
)

// errStillValid: a refresh failed, but the token held has not expired
// yet, so it serves a while longer.
var errStillValid = errors.New("vault: refresh failed; the current token still holds")

// Tuning. Skew refreshes a token this long before it expires, so a call
// never leaves with a token about to lapse; CacheFor bounds how long a
// token is served from memory before the row is read again, and so how
// long a Disconnect made in another process takes to be obeyed here.
const (
	Skew     = time.Minute
	CacheFor = 2 * time.Second
	// leaseFor is how long a process may hold a refresh before another
	// may take it over; refreshTimeout bounds the refresh itself.
	leaseFor       = 30 * time.Second
	refreshTimeout = 20 * time.Second
	// retryAfter spaces refreshes that failed while the token held.
	retryAfter = 5 * time.Second
	// waitPoll is how often a process that lost the lease looks for the
	// winner's result.
	waitPoll = 50 * time.Millisecond
)

// Store is what the vault needs of the database.
type Store interface {
	GetUpstreamConnection(ctx context.Context, userID, appID uint) (*models.UpstreamConnection, error)
	DeleteUpstreamConnection(ctx context.Context, userID, appID uint) (*models.UpstreamConnection, error)
	ClaimUpstreamRefresh(ctx context.Context, userID, appID uint, version int64, owner string, until time.Time) (bool, error)
	FinishUpstreamRefresh(ctx context.Context, c *models.UpstreamConnection, owner string) error
	FailUpstreamRefresh(ctx context.Context, userID, appID uint, owner string, needsReconnect bool) error
	UpstreamAppSecret(ctx context.Context, appID uint) (string, error)
	TouchUpstreamConnections(ctx context.Context, used map[models.ConnectionKey]time.Time) error
}

// Options configures a Vault.
type Options struct {
	Store Store
	// Client reaches the upstreams' token endpoints; nil is a default
	// with a timeout.
	Client *http.Client
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Vault serves upstream access tokens.
type Vault struct {
	store  Store
	client *http.Client
	log    *slog.Logger
	now    func() time.Time
	// owner names this process in refresh leases.
	owner   string
	flights singleflight.Group

	mu    sync.Mutex
	cache map[models.ConnectionKey]*entry
	used  map[models.ConnectionKey]time.Time // since the last Flush
	// configs are the apps' OAuth clients, kept so that the way an app
	// authenticates, once auto-detected, is remembered.
	configs map[uint]appConfig
}

// appConfig is an app's OAuth client as of the app's last change.
type appConfig struct {
	updated time.Time
	cfg     *oauth2.Config
}

// entry is a token held in memory.
type entry struct {
	token string
	// due is when the token should be refreshed; zero: the upstream gave
	// no expiry, so never.
	due    time.Time
	readAt time.Time
	// retryAt, after a refresh failed while the token still held, is
	// when to try again: an upstream that is down is not asked on every
	// call.
	retryAt time.Time
}

// New returns a vault.
func New(opts Options) *Vault {
	v := &Vault{
		store: opts.Store, client: opts.Client, log: opts.Logger, now: opts.Now,
		owner: "vault-" + rand.Text()[:12],
		cache: map[models.ConnectionKey]*entry{}, used: map[models.ConnectionKey]time.Time{},
		configs: map[uint]appConfig{},
	}
	if v.client == nil {
		v.client = &http.Client{Timeout: refreshTimeout}
	}
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v
}

// Token returns user's access token at app, refreshed first when it is
// due. It fails with ErrNotConnected, ErrNeedsReconnect or ErrUnavailable
// (wrapped), or an error of the store.
func (v *Vault) Token(ctx context.Context, userID uint, app *models.UpstreamApp) (string, error) {
	k := models.ConnectionKey{UserID: userID, AppID: app.ID}
	now := v.now()
	v.mu.Lock()
	e := v.cache[k]
	v.used[k] = now
	v.mu.Unlock()
	if e != nil && now.Sub(e.readAt) < CacheFor && (!isDue(e.due, now) || now.Before(e.retryAt)) {
		return e.token, nil
	}
	// The flight is shared: the first caller's going away must not fail
	// the others.
	ctx = context.WithoutCancel(ctx)
	tok, err, _ := v.flights.Do(flightKey(k), func() (any, error) { return v.load(ctx, k, app, false) })
	if err != nil {
		return "", err
	}
	return tok.(string), nil
}

// Refresh refreshes user's token at app now, due or not: the portal's
// "Refresh now".
func (v *Vault) Refresh(ctx context.Context, userID uint, app *models.UpstreamApp) error {
	k := models.ConnectionKey{UserID: userID, AppID: app.ID}
	ctx = context.WithoutCancel(ctx)
	// A flight of its own: joining a plain load would not refresh.
	_, err, _ := v.flights.Do("refresh "+flightKey(k), func() (any, error) { return v.load(ctx, k, app, true) })
	return err
}

// Forget drops what the vault holds for user at app, after a Disconnect.
func (v *Vault) Forget(userID, appID uint) {
	v.mu.Lock()
	delete(v.cache, models.ConnectionKey{UserID: userID, AppID: appID})
	v.mu.Unlock()
}

// Flush records when each connection was last used: one write for every
// use since the last Flush. The gateway calls it every few seconds.
func (v *Vault) Flush(ctx context.Context) error {
	v.mu.Lock()
	used := v.used
	v.used = map[models.ConnectionKey]time.Time{}
	v.mu.Unlock()
	if len(used) == 0 {
		return nil
	}
	return v.store.TouchUpstreamConnections(ctx, used)
}

// load reads the connection and refreshes it if it is due (or force),
// then caches the token. Only one load per connection runs at a time in
// this process.
func (v *Vault) load(ctx context.Context, k models.ConnectionKey, app *models.UpstreamApp, force bool) (string, error) {
	c, err := v.read(ctx, k)
	if err != nil {
		return "", err
	}
	e := &entry{}
	if force || isDue(refreshAt(c), v.now()) {
		refreshed, err := v.refresh(ctx, c, app)
		switch {
		case errors.Is(err, errStillValid) && force:
			return "", fmt.Errorf("%w: %s", ErrUnavailable, app.Name)
		case errors.Is(err, errStillValid):
			e.retryAt = v.now().Add(retryAfter)
		case err != nil:
			return "", err
		default:
			c = refreshed
		}
	}
	e.token, e.due, e.readAt = c.AccessToken, refreshAt(c), v.now()
	v.mu.Lock()
	v.cache[k] = e
	v.mu.Unlock()
	return c.AccessToken, nil
}

// read returns the stored connection, or why it cannot be used.
func (v *Vault) read(ctx context.Context, k models.ConnectionKey) (*models.UpstreamConnection, error) {
	c, err := v.store.GetUpstreamConnection(ctx, k.UserID, k.AppID)
	switch {
	case errors.Is(err, models.ErrNotFound):
		v.Forget(k.UserID, k.AppID)
		return nil, ErrNotConnected
	case err != nil:
		return nil, err
	case c.Status == models.ConnectionNeedsReconnect:
		v.Forget(k.UserID, k.AppID)
		return nil, ErrNeedsReconnect
	}
	return c, nil
}

// refresh gets c a new access token. The process that wins the row's
// lease asks the upstream; the others wait for its result. The work runs
// on its own clock: a caller that gives up must not strand a rotated
// refresh token half saved.
func (v *Vault) refresh(ctx context.Context, c *models.UpstreamConnection, app *models.UpstreamApp) (*models.UpstreamConnection, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
	defer cancel()
	if c.RefreshToken == "" {
		if v.now().Before(expiry(c)) || expiry(c).IsZero() {
			return c, nil // nothing to refresh with; use it while it lasts
		}
		// Expired for good: say so in the row, under its lease, so the
		// portal and the authorization flow send the user to Connect.
		claimed, err := v.store.ClaimUpstreamRefresh(ctx, c.UserID, c.AppID, c.Version, v.owner, v.now().Add(leaseFor))
		if err == nil && claimed {
			err = v.store.FailUpstreamRefresh(ctx, c.UserID, c.AppID, v.owner, true)
		}
		if err != nil {
			return nil, err
		}
		return nil, ErrNeedsReconnect
	}
	for {
		claimed, err := v.store.ClaimUpstreamRefresh(ctx, c.UserID, c.AppID, c.Version, v.owner, v.now().Add(leaseFor))
		if err != nil {
			return nil, err
		}
		if claimed {
			return v.exchange(ctx, c, app)
		}
		if v.now().Before(expiry(c)) {
			// Another process is refreshing, and this token still holds:
			// use it rather than wait.
			return nil, errStillValid
		}
		// Another process holds the lease, or has just refreshed: wait
		// for the row to move on, then use what it wrote.
		next, err := v.awaitOther(ctx, c)
		if err != nil {
			return nil, err
		}
		if !isDue(refreshAt(next), v.now()) {
			return next, nil
		}
		c = next // its lease lapsed without a result: try ourselves
	}
}

// awaitOther polls the row until its version moves or its lease lapses.
func (v *Vault) awaitOther(ctx context.Context, c *models.UpstreamConnection) (*models.UpstreamConnection, error) {
	t := time.NewTicker(waitPoll)
	defer t.Stop()
	deadline := v.now().Add(leaseFor)
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: waiting for another refresh: %v", ErrUnavailable, ctx.Err())
		case <-t.C:
		}
		next, err := v.read(ctx, models.ConnectionKey{UserID: c.UserID, AppID: c.AppID})
		if err != nil {
			return nil, err
		}
		if next.Version != c.Version || v.now().After(deadline) {
			return next, nil
		}
	}
}

// exchange spends c's refresh token at the upstream, holding the lease,
// and saves the result.
func (v *Vault) exchange(ctx context.Context, c *models.UpstreamConnection, app *models.UpstreamApp) (*models.UpstreamConnection, error) {
	cfg, err := v.config(ctx, app)
	if err != nil {
		v.release(ctx, c, false)
		return nil, err
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, v.client)
	src := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: c.RefreshToken, Expiry: time.Unix(1, 0)})
	tok, err := src.Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			v.log.Info("vault: the upstream refused a refresh token; the user must connect again",
				"app", app.Name, "user_id", c.UserID)
			v.release(ctx, c, true)
			return nil, ErrNeedsReconnect
		}
		v.log.Warn("vault: refresh failed", "app", app.Name, "user_id", c.UserID, "error", refreshProblem(err))
		v.release(ctx, c, false)
		if v.now().Before(expiry(c)) {
			return nil, errStillValid
		}
		return nil, fmt.Errorf("%w: %s", ErrUnavailable, app.Name)
	}
	next := Connection(c.UserID, c.AppID, tok, c.RefreshToken)
	next.Version, next.Account = c.Version, c.Account
	if next.Scopes == nil {
		next.Scopes = c.Scopes
	}
	// The upstream may have spent the old refresh token: the new one must
	// be saved, on a clock of its own, however long the exchange took.
	var saveErr error
	for range 3 {
		save, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		saveErr = v.store.FinishUpstreamRefresh(save, next, v.owner)
		cancel()
		if saveErr == nil || errors.Is(saveErr, models.ErrConflict) {
			break
		}
	}
	if saveErr != nil {
		v.log.Error("vault: a refreshed token could not be saved; it serves from memory until it expires",
			"app", app.Name, "user_id", c.UserID, "error", saveErr)
		return next, nil
	}
	return next, nil
}

// refreshProblem is what to log of a failed refresh: the OAuth error
// code and status, never the body, which may echo credentials.
func refreshProblem(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return fmt.Sprintf("token endpoint answered %d %s", status, re.ErrorCode)
	}
	return err.Error()
}

// config returns app's OAuth client, built once per change of the app.
func (v *Vault) config(ctx context.Context, app *models.UpstreamApp) (*oauth2.Config, error) {
	v.mu.Lock()
	c, ok := v.configs[app.ID]
	v.mu.Unlock()
	if ok && c.updated.Equal(app.UpdatedAt) {
		return c.cfg, nil
	}
	secret, err := v.store.UpstreamAppSecret(ctx, app.ID)
	if err != nil {
		return nil, err
	}
	c = appConfig{updated: app.UpdatedAt, cfg: OAuth2Config(app, secret, "")}
	v.mu.Lock()
	v.configs[app.ID] = c
	v.mu.Unlock()
	return c.cfg, nil
}

// release gives the lease back after a failed refresh.
func (v *Vault) release(ctx context.Context, c *models.UpstreamConnection, needsReconnect bool) {
	if err := v.store.FailUpstreamRefresh(ctx, c.UserID, c.AppID, v.owner, needsReconnect); err != nil {
		v.log.Error("vault: release refresh lease", "user_id", c.UserID, "app_id", c.AppID, "error", err)
	}
}

// refreshAt is when c's token is due for refresh: Skew before it
// expires, or halfway through a lifetime shorter than twice Skew, so a
// short-lived token is not refreshed on every call. Zero: never.
func refreshAt(c *models.UpstreamConnection) time.Time {
	exp := expiry(c)
	if exp.IsZero() {
		return exp
	}
	got := c.UpdatedAt
	if c.LastRefreshedAt != nil {
		got = *c.LastRefreshedAt
	}
	skew := Skew
	if life := exp.Sub(got); life < 2*skew {
		skew = max(life/2, 0)
	}
	return exp.Add(-skew)
}

// isDue reports whether a token due at due should be refreshed at now.
func isDue(due, now time.Time) bool { return !due.IsZero() && !now.Before(due) }

func expiry(c *models.UpstreamConnection) time.Time {
	if c.ExpiresAt == nil {
		return time.Time{}
	}
	return *c.ExpiresAt
}

func flightKey(k models.ConnectionKey) string {
	return strconv.FormatUint(uint64(k.UserID), 10) + "/" + strconv.FormatUint(uint64(k.AppID), 10)
}
