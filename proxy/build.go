package proxy

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/policy"
)

// Store is what the engine reads its configuration from.
type Store interface {
	ConfigVersion(ctx context.Context) (int64, error)
	ListRoutes(ctx context.Context, f models.RouteFilter) ([]models.Route, int64, error)
	AllPolicies(ctx context.Context) ([]models.Policy, error)
	ListUsers(ctx context.Context, f models.UserFilter) ([]models.User, int64, error)
	RevokedAccessTokens(ctx context.Context, now time.Time) ([]string, error)
	EndedSessions(ctx context.Context, now time.Time) ([]string, error)
	GetSettings(ctx context.Context) (models.Settings, error)
	// For the gateway's own paths: route host sign-in and the routes list.
	TakeRouteSignIn(ctx context.Context, codeHash string, now time.Time) (*models.RouteSignIn, error)
	ListUpstreamConnections(ctx context.Context, f models.ConnectionFilter) ([]models.UpstreamConnection, error)
	// Service accounts: every one not revoked, and when they were used.
	AllServiceAccounts(ctx context.Context) ([]models.ServiceAccount, error)
	TouchServiceAccounts(ctx context.Context, used map[uint]time.Time) error
}

// Build compiles a snapshot of the configuration in store. The version is
// read first: a change committed while Build reads is then picked up by
// the next reload, never lost. A policy that does not compile fails the
// whole build, so a broken configuration is never half applied.
func (e *Engine) Build(ctx context.Context) (*Snapshot, error) {
	version, err := e.store.ConfigVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("proxy: read config version: %w", err)
	}
	compiled, err := compilePolicies(ctx, e.store)
	if err != nil {
		return nil, err
	}
	rows, _, err := e.store.ListRoutes(ctx, models.RouteFilter{})
	if err != nil {
		return nil, fmt.Errorf("proxy: read routes: %w", err)
	}
	var routes []*Route
	for i := range rows {
		m := &rows[i]
		if !m.Enabled {
			continue
		}
		r, err := e.compileRoute(m, compiled)
		if err != nil {
			return nil, err
		}
		routes = append(routes, r)
	}
	s := &Snapshot{Version: version}
	s.index(routes)
	now := time.Now()
	jtis, err := e.store.RevokedAccessTokens(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("proxy: read revocations: %w", err)
	}
	s.revoked = stringSet(jtis)
	ended, err := e.store.EndedSessions(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("proxy: read ended sessions: %w", err)
	}
	s.ended = stringSet(ended)
	if s.users, err = userMap(ctx, e.store); err != nil {
		return nil, err
	}
	if s.accounts, err = accountMap(ctx, e.store); err != nil {
		return nil, fmt.Errorf("proxy: read service accounts: %w", err)
	}
	settings, err := e.store.GetSettings(ctx)
	if err != nil {
		return nil, fmt.Errorf("proxy: read settings: %w", err)
	}
	s.auditFailOpen = settings.AuditFailOpen
	return s, nil
}

// compilePolicies compiles every policy, by ID.
func compilePolicies(ctx context.Context, store Store) (map[uint]*policy.Policy, error) {
	all, err := store.AllPolicies(ctx)
	if err != nil {
		return nil, fmt.Errorf("proxy: read policies: %w", err)
	}
	out := make(map[uint]*policy.Policy, len(all))
	for _, p := range all {
		c, err := policy.Parse(p.Name, []byte(p.Source))
		if err != nil {
			return nil, fmt.Errorf("proxy: policy %s does not compile: %w", p.Name, err)
		}
		out[p.ID] = c
	}
	return out, nil
}

// compileRoute turns a stored route into the engine's.
func (e *Engine) compileRoute(m *models.Route, compiled map[uint]*policy.Policy) (*Route, error) {
	to, err := url.Parse(m.To)
	if err != nil || to.Host == "" {
		return nil, fmt.Errorf("proxy: route %s: bad upstream URL %q", m.Name, m.To)
	}
	host, prefix := splitFrom(m.From)
	r := &Route{
		ID: m.ID, Name: m.Name, Description: m.Description, From: m.From, Host: host, Prefix: prefix,
		Kind: m.Kind, Upstream: to, MaxRequestBytes: m.MaxRequestBytes, App: m.UpstreamApp,
	}
	if r.MaxRequestBytes <= 0 {
		r.MaxRequestBytes = models.DefaultMaxRequestBytes
	}
	for _, p := range m.Policies {
		c, ok := compiled[p.ID]
		if !ok {
			return nil, fmt.Errorf("proxy: route %s names policy %d, which does not exist", m.Name, p.ID)
		}
		r.Policies = append(r.Policies, c)
	}
	timeout := time.Duration(m.TimeoutSeconds) * time.Second
	r.forward = e.newForwarder(r, timeout)
	return r, nil
}

// stringSet is a set of keys.
func stringSet(keys []string) map[string]struct{} {
	set := make(map[string]struct{}, len(keys))
	for _, k := range keys {
		set[k] = struct{}{}
	}
	return set
}

func userMap(ctx context.Context, store Store) (map[uint]*User, error) {
	rows, _, err := store.ListUsers(ctx, models.UserFilter{})
	if err != nil {
		return nil, fmt.Errorf("proxy: read users: %w", err)
	}
	out := make(map[uint]*User, len(rows))
	for _, u := range rows {
		out[u.ID] = &User{ID: u.ID, Email: u.Email, Groups: u.Groups, Disabled: u.Disabled, SessionEpoch: u.SessionEpoch}
	}
	return out, nil
}
