// Package views holds the templ components of the console, the portal and
// the sign-in pages. Components take typed props and render; they never see
// an echo.Context or the database.
package views

import "time"

// Sections of the console navigation. Page.Section names the active one.
const (
	SectionPortal          = "portal"
	SectionAuthorizations  = "authorizations"
	SectionDashboard       = "dashboard"
	SectionRoutes          = "routes"
	SectionPolicies        = "policies"
	SectionApps            = "apps"
	SectionClients         = "clients"
	SectionServiceAccounts = "service-accounts"
	SectionUsers           = "users"
	SectionAudit           = "audit"
	SectionSettings        = "settings"
)

// Page is what every full page shares: its title, the signed-in viewer, the
// CSRF token forms must carry, and the flash messages to show once.
type Page struct {
	Title     string
	Section   string
	Viewer    *Viewer // nil on pages shown before sign-in
	CSRFToken string
	Flashes   []Flash
	Version   string
	RequestID string
	// Warning is shown at the top of every console page while it holds:
	// a setting that weakens the gateway, say.
	Warning string
	// ServiceAccountsInPortal shows the portal's Service accounts link.
	ServiceAccountsInPortal bool
}

// Viewer is the signed-in person, as the layout shows them.
type Viewer struct {
	Email   string
	Name    string
	IsAdmin bool
	// IsAuditor reads the audit log and the dashboard, and changes nothing.
	IsAuditor bool
}

// Flash kinds.
const (
	FlashSuccess = "success"
	FlashError   = "error"
	FlashInfo    = "info"
)

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	Kind    string
	Message string
}

// LoginProps renders the sign-in page.
type LoginProps struct {
	Page
	Email         string // echoed back after a failed attempt
	Error         string // one message for every failure, never which part was wrong
	Next          string // same-origin path to return to, already validated
	LocalAccounts bool
	Providers     []LoginProvider
}

// LoginProvider is one OIDC provider button on the sign-in page.
type LoginProvider struct {
	Name        string
	DisplayName string
	URL         string // starts the provider's sign-in, carries next
}

// Pagination describes one page of a longer list.
type Pagination struct {
	Page    int // 1-based
	PerPage int
	Total   int
	PrevURL string // "" on the first page
	NextURL string // "" on the last page
}

// First is the 1-based index of the first row shown, 0 when empty.
func (p Pagination) First() int {
	if p.Total == 0 {
		return 0
	}
	return (p.Page-1)*p.PerPage + 1
}

// Last is the 1-based index of the last row shown.
func (p Pagination) Last() int {
	return min(p.Page*p.PerPage, p.Total)
}

// UsersProps renders the Users page: a searchable, paged list.
type UsersProps struct {
	Page
	Query      string
	Users      []UserRow
	Pagination Pagination
	// ReturnTo is the list URL with its current query and page, to come
	// back to after an action. Every row's action form posts it as return_to.
	ReturnTo string
}

// UserRow is one user in the list. The action URLs take a POST with the
// CSRF token: /admin/users/{ID}/disable, /enable, /grant-admin, /revoke-admin.
type UserRow struct {
	ID         uint
	Email      string
	Name       string
	Provider   string // "local" or an OIDC provider name
	Groups     []string
	IsAdmin    bool
	IsAuditor  bool
	Disabled   bool
	IsSelf     bool // the viewer: they may not disable or demote themselves
	LastSignIn *time.Time
	CreatedAt  time.Time
}

// UserForm is the create-user form; Errors holds a message per field name
// (email, name, password).
type UserForm struct {
	Email   string
	Name    string
	IsAdmin bool
	Errors  map[string]string
}

// NewUserProps renders the create-user page, posting to /admin/users.
type NewUserProps struct {
	Page
	Form UserForm
}

// DashboardProps renders the console's landing page.
type DashboardProps struct {
	Page
	Users      int
	Admins     int
	Disabled   int
	ConsoleURL string
	Steps      []SetupStep
	// Activity; nil when there is nothing recorded yet (the checklist shows instead).
	Activity *DashboardActivity
	// Now is the moment relative times (accounts expiring) count from; the
	// zero time shows dates.
	Now time.Time
}

// SetupStep is one item of the getting-started checklist.
type SetupStep struct {
	Title string
	Body  string
	URL   string
	Done  bool
}

// PortalProps renders the portal at / for every signed-in user.
type PortalProps struct {
	Page
	Servers []PortalServer // empty until routes exist
	// AuthorizedApps are the MCP clients that act for the viewer; nil
	// leaves the section out.
	AuthorizedApps *AuthorizedAppsSection
	// Now is the moment "3 hours ago" and "expires in 40 minutes" count
	// from. The zero time shows dates instead, so a page rendered without
	// it is still right.
	Now time.Time
}

// PortalServer is one route the viewer may use.
type PortalServer struct {
	RouteID     uint
	Name        string
	Description string
	URL         string // the route URL (for mcp_server: the MCP endpoint clients use)
	Kind        string // mcp_server, mcp_client or http
	// NeedsOAuth: the route reaches its upstream with the user's own account at AppName.
	NeedsOAuth bool
	AppName    string
	Status     string     // ConnectionConnected, ConnectionNotConnected or ConnectionNeedsReconnect; "" when !NeedsOAuth
	Account    string     // the upstream account, when known
	ExpiresAt  *time.Time // when the upstream access token expires, if known
	LastUsed   *time.Time // the viewer's last call through this route, if any
	// SharedWith names the viewer's other routes that use the same connection,
	// so Disconnect can say what else it affects.
	SharedWith []string
	ConnectURL string // GET: starts Connect and comes back to the portal
}

// Connection states of a person's sign-in at an upstream app, as
// PortalServer.Status and AppConnectionRow.Status hold them.
const (
	ConnectionConnected      = "connected"
	ConnectionNotConnected   = "not_connected"
	ConnectionNeedsReconnect = "needs_reconnect"
)

// PlaceholderProps renders a console section that is not built yet, saying
// so plainly.
type PlaceholderProps struct {
	Page
	Heading string
	Body    string
}

// SettingsProps renders the read-only settings page.
type SettingsProps struct {
	Page
	ConsoleURL    string
	DataDir       string
	Database      string
	LocalAccounts bool
	Providers     []string
	Admins        []string
	ConfigVersion int64
	// AuditFailOpen: calls go through when the audit log cannot be
	// written.
	AuditFailOpen bool
	// SelfServiceAccounts: users may issue service accounts acting as
	// themselves, from the portal.
	SelfServiceAccounts bool
	// AuditRetentionDays: audit events older than this are deleted; 0
	// keeps them for ever.
	AuditRetentionDays int
}

// ErrorProps renders a 4xx/5xx page.
type ErrorProps struct {
	Page
	Status  int
	Heading string
	Message string
}
