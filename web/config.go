package web

import (
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Config is everything Drawbridge reads at start: the YAML file, then
// DRAWBRIDGE_* environment variables, then flags. cmd/drawbridge loads it;
// everything else receives the parts it needs through constructors.
type Config struct {
	Server   ServerConfig   `yaml:"server"`
	Database DatabaseConfig `yaml:"database"`
	Identity IdentityConfig `yaml:"identity"`
	Admins   []string       `yaml:"admins"`
	// Auditors read the audit log and the dashboard, and change nothing.
	Auditors []string    `yaml:"auditors"`
	OAuth    OAuthConfig `yaml:"oauth"`
	Log      LogConfig   `yaml:"log"`
	Audit    AuditConfig `yaml:"audit"`
}

// AuditConfig is where the audit log goes besides the database.
type AuditConfig struct {
	// Stream copies every audit event, and each outcome, as a JSON line
	// to standard output ("-" or "stdout") or to a file (appended,
	// created 0600, closed at shutdown), for a SIEM to pick up. ""
	// streams nothing.
	Stream string `yaml:"stream"`
}

// OAuthConfig tunes the authorization server MCP clients sign in through.
type OAuthConfig struct {
	// AccessTokenTTL is how long an access token lives: at most an hour,
	// so that a leaked one is soon worthless.
	AccessTokenTTL time.Duration `yaml:"access_token_ttl"`
	// RefreshTokenTTL is how long a refresh token lives unused; each use
	// replaces it with a new one that lives as long again.
	RefreshTokenTTL time.Duration `yaml:"refresh_token_ttl"`
	// AllowPrivateClientMetadata lets clients identify themselves by a
	// metadata document on a loopback or private address. Off, such
	// documents are never fetched, so a client ID cannot be used to make
	// Drawbridge reach inside the network.
	AllowPrivateClientMetadata bool `yaml:"allow_private_client_metadata"`
}

// ServerConfig says where Drawbridge listens and how people reach it.
type ServerConfig struct {
	Address    string `yaml:"address"`
	ConsoleURL string `yaml:"console_url"`
	DataDir    string `yaml:"data_dir"`
	// Demo starts the demo MCP server on loopback beside the gateway, at
	// DemoAddress, and seeds a route to it on an empty database.
	Demo        bool   `yaml:"demo"`
	DemoAddress string `yaml:"demo_address"`
	// TrustedProxies are the load balancers and reverse proxies in front
	// of Drawbridge, as addresses or CIDR prefixes: from these peers the
	// client's address is read from X-Forwarded-For (see
	// proxy.ClientIP). None by default: the peer is the client. Any host
	// they cover can name any client address, so a prefix should cover
	// proxies only.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// DatabaseConfig selects the store: SQLite, in the data directory unless
// DSN names another file, or PostgreSQL, which DSN locates (required; it
// may hold a password, so DRAWBRIDGE_DATABASE_DSN can supply it instead
// of the file). Several replicas may share one PostgreSQL database.
type DatabaseConfig struct {
	Driver string `yaml:"driver"` // sqlite or postgres
	DSN    string `yaml:"dsn"`
}

// IdentityConfig says how people sign in.
type IdentityConfig struct {
	// LocalAccounts enables email + password sign-in; nil means true.
	LocalAccounts *bool          `yaml:"local_accounts"`
	OIDC          []OIDCProvider `yaml:"oidc"`
	Session       SessionConfig  `yaml:"session"`
}

// LocalAccountsEnabled reports whether email + password sign-in is on.
func (c IdentityConfig) LocalAccountsEnabled() bool {
	return c.LocalAccounts == nil || *c.LocalAccounts
}

// OIDCProvider is one OpenID Connect identity provider people sign in with.
type OIDCProvider struct {
	Name         string   `yaml:"name"`
	DisplayName  string   `yaml:"display_name"`
	Issuer       string   `yaml:"issuer"`
	ClientID     string   `yaml:"client_id"`
	ClientSecret string   `yaml:"client_secret"`
	Scopes       []string `yaml:"scopes"`
	GroupsClaim  string   `yaml:"groups_claim"`
}

// Label is the name shown on the sign-in button.
func (p OIDCProvider) Label() string {
	if p.DisplayName != "" {
		return p.DisplayName
	}
	return p.Name
}

// SessionConfig bounds how long a console session lives.
type SessionConfig struct {
	IdleTimeout     time.Duration `yaml:"idle_timeout"`
	AbsoluteTimeout time.Duration `yaml:"absolute_timeout"`
}

// LogConfig shapes the process log.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// DefaultFirstAdmin is the first admin's email when admins lists none.
const DefaultFirstAdmin = "admin@drawbridge.localhost"

// DefaultConfig is the embedded default `make run` starts with.
func DefaultConfig() Config {
	return Config{
		Server: ServerConfig{
			Address:     "127.0.0.1:8080",
			ConsoleURL:  "http://localhost:8080",
			DataDir:     "./data",
			DemoAddress: "127.0.0.1:9001",
		},
		Database: DatabaseConfig{Driver: "sqlite"},
		Identity: IdentityConfig{Session: SessionConfig{
			IdleTimeout:     8 * time.Hour,
			AbsoluteTimeout: 24 * time.Hour,
		}},
		OAuth: OAuthConfig{AccessTokenTTL: time.Hour, RefreshTokenTTL: 30 * 24 * time.Hour},
		Log:   LogConfig{Level: "info", Format: "text"},
	}
}

// FirstAdminEmail is the account created when the database has no users.
func (c Config) FirstAdminEmail() string {
	if len(c.Admins) > 0 {
		return strings.ToLower(strings.TrimSpace(c.Admins[0]))
	}
	return DefaultFirstAdmin
}

// ConsoleBase is the console URL without a trailing slash: the OAuth
// issuer, and the base of every absolute URL Drawbridge writes.
func (c Config) ConsoleBase() string { return strings.TrimSuffix(c.Server.ConsoleURL, "/") }

// IsAuditorEmail reports whether email is listed under auditors.
func (c Config) IsAuditorEmail(email string) bool {
	for _, a := range c.Auditors {
		if strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(email)) {
			return true
		}
	}
	return false
}

// IsAdminEmail reports whether email is listed under admins.
func (c Config) IsAdminEmail(email string) bool {
	for _, a := range c.Admins {
		if strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(email)) {
			return true
		}
	}
	return false
}

// Problem is one thing wrong with the configuration, by key.
type Problem struct {
	Key     string // dotted path, e.g. identity.oidc[0].issuer
	Message string
}

// Problems is every problem Validate found; it is an error.
type Problems []Problem

func (p Problems) Error() string {
	lines := make([]string, len(p))
	for i, pr := range p {
		lines[i] = pr.Key + ": " + pr.Message
	}
	return "invalid configuration:\n  " + strings.Join(lines, "\n  ")
}

var providerName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// Validate reports every problem at once, each naming its key.
func (c Config) Validate() error {
	var ps Problems
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
	}

	if _, _, err := net.SplitHostPort(c.Server.Address); err != nil {
		add("server.address", "must be host:port or :port, got %q", c.Server.Address)
	}
	if msg := checkConsoleURL(c.Server.ConsoleURL); msg != "" {
		add("server.console_url", "%s", msg)
	}
	if host, _, err := net.SplitHostPort(c.Server.DemoAddress); err != nil || !isLoopbackHost(host) {
		add("server.demo_address", "must be a loopback host:port such as 127.0.0.1:9001, got %q", c.Server.DemoAddress)
	}
	if strings.TrimSpace(c.Server.DataDir) == "" {
		add("server.data_dir", "must not be empty")
	}
	for i, p := range c.Server.TrustedProxies {
		if _, err := parseTrustedProxy(p); err != nil {
			add(fmt.Sprintf("server.trusted_proxies[%d]", i), "must be an IP address or a CIDR prefix such as 10.0.0.0/8, got %q", p)
		}
	}

	switch c.Database.Driver {
	case "sqlite":
	case "postgres":
		if msg := checkPostgresDSN(c.Database.DSN); msg != "" {
			add("database.dsn", "%s", msg)
		}
	default:
		add("database.driver", "must be sqlite or postgres, got %q", c.Database.Driver)
	}

	seen := map[string]bool{}
	for i, p := range c.Identity.OIDC {
		key := fmt.Sprintf("identity.oidc[%d]", i)
		switch {
		case !providerName.MatchString(p.Name):
			add(key+".name", "must be 1-32 lowercase letters, digits, - or _, got %q", p.Name)
		case seen[p.Name]:
			add(key+".name", "%q is used by another provider", p.Name)
		}
		seen[p.Name] = true
		if u, err := url.Parse(p.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add(key+".issuer", "must be an absolute http(s) URL, got %q", p.Issuer)
		}
		if p.ClientID == "" {
			add(key+".client_id", "is required")
		}
		if p.ClientSecret == "" {
			add(key+".client_secret", "is required")
		}
	}
	if !c.Identity.LocalAccountsEnabled() && len(c.Identity.OIDC) == 0 {
		add("identity", "local_accounts is false and no oidc provider is configured: nobody could sign in")
	}
	if c.Identity.Session.IdleTimeout < time.Minute {
		add("identity.session.idle_timeout", "must be at least 1m, got %s", c.Identity.Session.IdleTimeout)
	}
	if c.Identity.Session.AbsoluteTimeout < c.Identity.Session.IdleTimeout {
		add("identity.session.absolute_timeout", "must be at least idle_timeout (%s), got %s",
			c.Identity.Session.IdleTimeout, c.Identity.Session.AbsoluteTimeout)
	}

	if c.OAuth.AccessTokenTTL < time.Minute || c.OAuth.AccessTokenTTL > time.Hour {
		add("oauth.access_token_ttl", "must be from 1m to 1h, got %s", c.OAuth.AccessTokenTTL)
	}
	if c.OAuth.RefreshTokenTTL < time.Hour || c.OAuth.RefreshTokenTTL > 365*24*time.Hour {
		add("oauth.refresh_token_ttl", "must be from 1h to 8760h (a year), got %s", c.OAuth.RefreshTokenTTL)
	}

	for i, a := range c.Admins {
		if addr, err := mail.ParseAddress(a); err != nil || addr.Address != strings.TrimSpace(a) {
			add(fmt.Sprintf("admins[%d]", i), "must be an email address, got %q", a)
		}
	}
	for i, a := range c.Auditors {
		if addr, err := mail.ParseAddress(a); err != nil || addr.Address != strings.TrimSpace(a) {
			add(fmt.Sprintf("auditors[%d]", i), "must be an email address, got %q", a)
		}
	}

	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		add("log.format", "must be text or json, got %q", c.Log.Format)
	}
	if st := c.Audit.Stream; st != "" && st != "-" && st != "stdout" {
		if info, err := os.Stat(filepath.Dir(st)); err != nil || !info.IsDir() {
			add("audit.stream", "must be - or stdout (standard output), or a file in an existing directory, got %q", st)
		}
	}

	if len(ps) > 0 {
		return ps
	}
	return nil
}

// checkPostgresDSN returns why dsn cannot locate a PostgreSQL database,
// or "". It never repeats the DSN, which may hold a password; the store
// checks the rest when it connects.
func checkPostgresDSN(dsn string) string {
	const want = "a postgres:// URL or key=value settings such as host=db dbname=drawbridge"
	dsn = strings.TrimSpace(dsn)
	if dsn == "" {
		return "is required with driver postgres: " + want + " (or set DRAWBRIDGE_DATABASE_DSN)"
	}
	scheme, _, ok := strings.Cut(dsn, "://")
	if ok && urlScheme.MatchString(scheme) && scheme != "postgres" && scheme != "postgresql" {
		return fmt.Sprintf("must be %s, not a %s:// URL", want, scheme)
	}
	return ""
}

// urlScheme matches what RFC 3986 allows a URL's scheme to be.
var urlScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*$`)

// checkConsoleURL returns why raw cannot be the console URL, or "".
func checkConsoleURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "":
		return fmt.Sprintf("must be an absolute URL like https://drawbridge.example.com, got %q", raw)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("scheme must be http or https, got %q", u.Scheme)
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "", u.User != nil:
		return fmt.Sprintf("must be scheme://host[:port] only, got %q", raw)
	}
	return ""
}

// isLoopbackHost reports whether host names this machine only.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// TrustedProxyPrefixes are server.trusted_proxies as prefixes, an address
// standing for itself alone. Validate refuses the entries it skips.
func (c Config) TrustedProxyPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, p := range c.Server.TrustedProxies {
		if prefix, err := parseTrustedProxy(p); err == nil {
			out = append(out, prefix)
		}
	}
	return out
}

// parseTrustedProxy reads one trusted_proxies entry: a CIDR prefix, whose
// address must be its first (10.0.0.0/8, not 10.1.2.3/8, which reads as a
// mistake), or an address.
func parseTrustedProxy(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if p.Masked() != p {
			return netip.Prefix{}, fmt.Errorf("%s has host bits set", s)
		}
		if p.Addr().Is4In6() {
			return netip.Prefix{}, fmt.Errorf("%s: write IPv4 prefixes as IPv4", s)
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("not an address: %q", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
