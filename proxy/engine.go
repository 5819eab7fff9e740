package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/drawbridge/drawbridge/proxy/token"
	"github.com/drawbridge/drawbridge/proxy/vault"
)

// PollInterval is how often the engine reads the configuration version to
// learn of changes other processes made.
const PollInterval = 250 * time.Millisecond

// Options configures an Engine.
type Options struct {
	Store Store
	// Verifier checks access tokens; IssuerURL is the console URL, the
	// authorization server every route names in its metadata.
	Verifier  *token.Verifier
	IssuerURL string
	// Asserter signs the X-Drawbridge-Assertion header each forwarded
	// request carries; nil sends none.
	Asserter *token.Asserter
	// Transport carries requests upstream; nil means a tuned default.
	Transport http.RoundTripper
	Logger    *slog.Logger
	// Audit records every decision; nil records nothing.
	Audit AuditSink
	// Metrics, when set, receives the engine's collectors.
	Metrics prometheus.Registerer
	// Vault supplies users' upstream tokens; nil refuses calls to routes
	// with an upstream app.
	Vault *vault.Vault
	// Sessions seals route hosts' browser sessions; nil refuses browser
	// sign-in on mcp_client and http routes.
	Sessions *RouteSessions
	// Issuer mints the access tokens that apps behind mcp_client routes
	// receive for their user; nil sends them none.
	Issuer *token.Issuer
	// ClientIP finds each request's client address (see ClientIP); the
	// zero value takes the connection's peer.
	ClientIP ClientIP
}

// Engine serves route hosts from the current snapshot.
type Engine struct {
	store     Store
	verifier  *token.Verifier
	asserter  *token.Asserter
	audit     AuditSink
	issuerURL string
	transport http.RoundTripper
	log       *slog.Logger
	metrics   *metrics
	buffers   *bufferPool
	vault     *vault.Vault
	sessions  *RouteSessions
	clientIP  ClientIP
	// consoleOrigin is issuerURL as an origin, for redirect checks.
	consoleOrigin string
	clientTokens  *clientTokens
	accountUse    usage

	snap    atomic.Pointer[Snapshot]
	wake    chan struct{} // a reload is wanted
	mu      sync.Mutex    // serialises reloads
	lastErr atomic.Pointer[reloadError]
	// serverMetadata makes the authorization server metadata route hosts
	// serve to 2025-03-26 clients.
	serverMetadata atomic.Pointer[func(ctx context.Context, resource string) ([]byte, error)]
}

// reloadError is the last failed build, kept until a build succeeds.
type reloadError struct {
	err error
	at  time.Time
}

// New returns an engine. Call Reload once before serving, and Run to keep
// the snapshot current.
func New(opts Options) *Engine {
	e := &Engine{
		store: opts.Store, verifier: opts.Verifier, asserter: opts.Asserter, audit: opts.Audit, issuerURL: opts.IssuerURL,
		transport: opts.Transport, log: opts.Logger, wake: make(chan struct{}, 1),
		metrics: newMetrics(opts.Metrics), buffers: newBufferPool(),
		vault: opts.Vault, sessions: opts.Sessions, clientTokens: newClientTokens(opts.Issuer),
		clientIP: opts.ClientIP,
	}
	if _, origin, err := ParseRedirect(opts.IssuerURL); err == nil {
		e.consoleOrigin = origin
	}
	if e.transport == nil {
		e.transport = NewTransport()
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	return e
}

// Snapshot returns the configuration being served, or nil before the
// first successful Reload.
func (e *Engine) Snapshot() *Snapshot { return e.snap.Load() }

// ServedVersion is the configuration version being served, or -1 before
// the first successful Reload.
func (e *Engine) ServedVersion() int64 {
	if s := e.snap.Load(); s != nil {
		return s.Version
	}
	return -1
}

// Changed asks for a reload soon; it never blocks. The store calls it
// after each committed configuration change in this process.
func (e *Engine) Changed() {
	select {
	case e.wake <- struct{}{}:
	default: // a reload is already pending; it will see this change too
	}
}

// Reload builds a snapshot and swaps it in if its version is newer than
// the one served. A build that fails leaves the last good snapshot in
// place and is remembered for LastError.
func (e *Engine) Reload(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.Build(ctx)
	if err != nil {
		e.lastErr.Store(&reloadError{err: err, at: time.Now()})
		e.metrics.reloadErrors.Inc()
		e.log.Error("proxy: configuration not applied; the last good one still serves", "error", err)
		return err
	}
	e.lastErr.Store(nil)
	if cur := e.snap.Load(); cur == nil || s.Version >= cur.Version {
		e.snap.Store(s)
		e.metrics.configVersion.Set(float64(s.Version))
		e.metrics.reloads.Inc()
	}
	return nil
}

// LastError returns why the newest configuration could not be applied,
// and when, or nil when the one served is the newest.
func (e *Engine) LastError() (error, time.Time) {
	if r := e.lastErr.Load(); r != nil {
		return r.err, r.at
	}
	return nil, time.Time{}
}

// Run keeps the snapshot current until ctx ends: at once when Changed is
// called, and otherwise when a poll finds the version moved. A version
// whose build failed is not retried until the version moves again.
func (e *Engine) Run(ctx context.Context) {
	tick := time.NewTicker(PollInterval)
	defer tick.Stop()
	var seen int64 = -1
	if cur := e.snap.Load(); cur != nil {
		seen = cur.Version
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.wake:
		case <-tick.C:
			v, err := e.store.ConfigVersion(ctx)
			if err != nil {
				if !errors.Is(err, context.Canceled) {
					e.log.Warn("proxy: read config version", "error", err)
				}
				continue
			}
			if v == seen {
				continue
			}
			seen = v
		}
		_ = e.Reload(ctx) // logged; the last good snapshot keeps serving
	}
}
