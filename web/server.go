// Package web assembles Drawbridge's HTTP server: configuration, the Echo
// instance, every route in routes.go, the middleware, and the dispatch
// between the console host and route hosts.
package web

import (
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/handlers"
	"github.com/drawbridge/drawbridge/models"
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
}

// Server is the assembled HTTP handler.
type Server struct {
	console     *echo.Echo
	consoleHost string
	consoleURL  string
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
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// Never trust X-Forwarded-For by default: sign-in throttling keys on
	// the client address, and a header is anyone's to write.
	e.IPExtractor = echo.ExtractIPDirect()
	sessions := NewSessions(d.Keys, d.Store, d.Config.Identity.Session, console.Scheme == "https", d.Logger)
	base := handlers.Base{Sessions: sessions, Version: d.Version}
	e.HTTPErrorHandler = errorHandler(base, d.Logger)

	s := &Server{console: e, consoleHost: strings.ToLower(console.Host), consoleURL: strings.TrimSuffix(console.String(), "/")}
	routes(e, d, base, sessions, console.Scheme == "https")
	return s, nil
}

// ServeHTTP sends the console host to the console and every other host to
// the proxy engine (which arrives with the routes work; until then such
// hosts get a plain 404 naming the console).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.isConsoleHost(r.Host) {
		s.console.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte("Drawbridge has no route for this host. The console is at " + s.consoleURL + "\n"))
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
