// Package web assembles Drawbridge's HTTP server: configuration, the Echo
// instance, every route in routes.go, the middleware, and the dispatch
// between the console host and route hosts.
package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/handlers"
	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy"
	"github.com/drawbridge/drawbridge/proxy/audit"
	"github.com/drawbridge/drawbridge/proxy/vault"
)

// Deps is what the server is built from. cmd/drawbridge builds them in
// order and closes them in reverse.
type Deps struct {
	Config  Config
	Keys    Keys
	Store   *models.Store
	Logger  *slog.Logger
	Version string
	// OIDCClient talks to identity providers and UpstreamClient to MCP
	// upstreams (connection tests); nil means a client with a sensible
	// timeout.
	OIDCClient     *http.Client
	UpstreamClient *http.Client
	// UpstreamTransport carries proxied requests; nil means the engine's
	// tuned default.
	UpstreamTransport http.RoundTripper
	// AuditStream receives a copy of every audit event and outcome as a
	// JSON line (audit.stream); nil for none. The caller opens it, and
	// closes it after Close has written out what was queued.
	AuditStream io.Writer

	// Built by New from the above.
	tokens          *tokenKit
	metadataClients *handlers.MetadataClients
	engine          *proxy.Engine
	auditor         *audit.Writer
	vault           *vault.Vault
}

// Server is the assembled HTTP handler.
type Server struct {
	tokens      *tokenKit
	engine      *proxy.Engine
	audit       *audit.Writer
	vault       *vault.Vault
	store       *models.Store
	logger      *slog.Logger
	console     *echo.Echo
	consoleHost string
}

// New builds the server and its routes.
func New(d Deps) (*Server, error) {
	console, err := url.Parse(d.Config.Server.ConsoleURL)
	if err != nil {
		return nil, err
	}
	if d.OIDCClient == nil {
		d.OIDCClient = &http.Client{Timeout: 15 * time.Second}
	}
	if d.UpstreamClient == nil {
		d.UpstreamClient = &http.Client{Timeout: 15 * time.Second}
	}
	if d.tokens, err = newTokenKit(d.Keys, d.Config, d.Logger); err != nil {
		return nil, err
	}
	d.metadataClients = handlers.NewMetadataClients(d.Store, d.Config.OAuth.AllowPrivateClientMetadata)
	m := newMetrics()
	auditor := audit.New(d.Store, audit.Options{Logger: d.Logger, Metrics: m.registry, Stream: d.AuditStream})
	d.auditor = auditor
	d.vault = vault.New(vault.Options{Store: d.Store, Client: d.UpstreamClient, Logger: d.Logger})
	clientIP := proxy.NewClientIP(d.Config.TrustedProxyPrefixes())
	d.engine = proxy.New(proxy.Options{
		Store: d.Store, Verifier: d.tokens.verifier, Asserter: d.tokens.asserter, IssuerURL: d.Config.ConsoleBase(),
		Transport: d.UpstreamTransport, Logger: d.Logger, Metrics: m.registry, Audit: auditor,
		Vault: d.vault, Issuer: d.tokens.issuer, ClientIP: clientIP,
		Sessions: proxy.NewRouteSessions(d.Keys.SessionHash, d.Keys.SessionBlock, d.Config.Identity.Session.AbsoluteTimeout),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.engine.Reload(ctx); err != nil {
		auditor.Close(ctx)
		return nil, fmt.Errorf("load the configuration: %w", err)
	}
	d.Store.OnChange(d.engine.Changed)

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// X-Forwarded-For only from configured proxies: sign-in throttling
	// keys on the client address, and a header is anyone's to write.
	e.IPExtractor = func(r *http.Request) string {
		if a := clientIP.Of(r); a.IsValid() {
			return a.String()
		}
		return echo.ExtractIPDirect()(r)
	}
	ended := func(hash string) bool { return d.engine.Snapshot().SessionEnded(hash) } // loaded above
	sessions := NewSessions(d.Keys, d.Store, ended, d.Config.Identity.Session, console.Scheme == "https", d.Logger)
	base := handlers.Base{
		Sessions: sessions, Version: d.Version, Warning: handlers.AuditWarning(d.Store),
		ServiceAccountsInPortal: handlers.SelfServiceAccounts(d.Store),
	}
	e.HTTPErrorHandler = errorHandler(base, d.Logger)

	s := &Server{
		tokens: d.tokens, engine: d.engine, audit: auditor, vault: d.vault, store: d.Store, logger: d.Logger,
		console: e, consoleHost: strings.ToLower(console.Host),
	}
	routes(e, d, m, base, sessions, console.Scheme == "https")
	return s, nil
}

// usageFlush is how often the vault and the gateway record when
// connections and service accounts were last used.
const usageFlush = 10 * time.Second

// Run keeps the gateway's configuration and signing keys current, and
// records when upstream connections and service accounts were last used,
// until ctx ends. On PostgreSQL a change committed by another replica
// reaches the engine and the keys as that replica announces it; the poll
// of the version stays as the fallback.
func (s *Server) Run(ctx context.Context) {
	go runRetention(ctx, s.store, s.logger)
	keysChanged := make(chan struct{}, 1)
	go s.store.WatchConfig(ctx, s.logger, func() {
		s.engine.Changed()
		select {
		case keysChanged <- struct{}{}:
		default: // a look is already pending
		}
	})
	go s.watchKeys(ctx, keysChanged)
	go func() {
		t := time.NewTicker(usageFlush)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := s.vault.Flush(ctx); err != nil && ctx.Err() == nil {
					s.logger.Warn("record upstream connection use", "error", err)
				}
				if err := s.engine.FlushUsage(ctx); err != nil && ctx.Err() == nil {
					s.logger.Warn("record service account use", "error", err)
				}
			}
		}
	}()
	s.engine.Run(ctx)
}

// Close writes out what the audit log still holds, and when connections
// and service accounts were last used. Call it after the HTTP server has
// shut down, before the store closes.
func (s *Server) Close(ctx context.Context) error {
	if err := s.vault.Flush(ctx); err != nil {
		s.logger.Warn("record upstream connection use", "error", err)
	}
	if err := s.engine.FlushUsage(ctx); err != nil {
		s.logger.Warn("record service account use", "error", err)
	}
	return s.audit.Close(ctx)
}

// ServeHTTP sends the console host to the console and every other host to
// the gateway engine.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.isConsoleHost(r.Host) {
		if r.Method == http.MethodHead {
			// Answer HEAD as GET; the server drops the body, since w still
			// belongs to the HEAD request.
			r = r.Clone(r.Context())
			r.Method = http.MethodGet
		}
		s.console.ServeHTTP(w, r)
		return
	}
	s.engine.ServeHTTP(w, r)
}

func (s *Server) isConsoleHost(host string) bool {
	host = strings.ToLower(host)
	if host == s.consoleHost {
		return true
	}
	// Default ports may be left out on either side.
	h, port, err := net.SplitHostPort(s.consoleHost)
	if err == nil && (port == "80" || port == "443") {
		return host == h
	}
	return false
}
