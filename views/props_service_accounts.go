package views

import "time"

// SectionPortalServiceAccounts marks the portal's own Service accounts
// page, so that its top-nav link shows as current while the console's
// navigation (SectionServiceAccounts) is left alone.
const SectionPortalServiceAccounts = "portal-service-accounts"

// Service account states, as ServiceAccountRow.Status holds them.
const (
	ServiceAccountActive  = "active"
	ServiceAccountExpired = "expired"
	ServiceAccountRevoked = "revoked"
)

// ServiceAccountsProps renders the service accounts list and its create form, at
// /admin/service-accounts (Admin true) or the portal's /service-accounts.
// The handler sets Page.Section to SectionServiceAccounts in the console and
// to SectionPortalServiceAccounts in the portal.
//
// Every form posts under Base: the create form to Base, an account's
// Rotate to Base/{ID}/rotate (with grace, in seconds: 0, 3600, 86400 or
// 604800) and its Revoke to Base/{ID}/revoke.
type ServiceAccountsProps struct {
	Page
	Admin bool   // console: the user field, the "acts as" column and who created each show
	Base  string // "/admin/service-accounts" or "/service-accounts": every form posts under it
	// Filters, all in the URL (GET form): q (name/description/user), user (email), status.
	Query, User, Status string
	// Accounts is the current page of the list, filtered.
	Accounts []ServiceAccountRow
	// Pagination carries the filters in its URLs.
	Pagination Pagination
	// Now is the moment relative times count from; the zero time shows dates.
	Now time.Time
	// The create form (a card beside or above the list), its errors by field
	// name (name, description, user, expires_at, routes) and what it offers.
	Form   ServiceAccountForm
	Errors map[string]string
	Routes []RouteOption // routes to restrict an account to, by name
	// SelfService: users may create their own (admins see a hint linking to /admin/settings when off).
	SelfService bool
}

// ServiceAccountRow is one service account in the list.
type ServiceAccountRow struct {
	ID          uint
	Name        string
	Description string
	UserEmail   string // the user it acts as
	CreatedBy   string // the email of whoever created it
	CreatedAt   time.Time
	// ExpiresAt is nil for a token that never expires; LastUsedAt is nil
	// until its first call; RevokedAt is set once revoked;
	// PreviousValidUntil is when the token it replaced at its last
	// rotation stops working, nil when that one stopped at once.
	ExpiresAt, LastUsedAt, RevokedAt, PreviousValidUntil *time.Time
	// Status is "active", "expired" or "revoked".
	Status string
	// Routes are the names of the routes it may use; empty = every route the user may use.
	Routes []string
}

// ServiceAccountForm is what the create form shows and posts. Field
// names: name, description, user (the user's email; admins only),
// expiry ("never", "30", "90", "365" or "date"), expiry_date
// (YYYY-MM-DD, read when expiry is "date") and routes (route IDs, one
// value per ticked route). Errors about either expiry field are keyed
// expires_at.
type ServiceAccountForm struct {
	Name, Description string
	UserEmail         string // admin only
	Expiry            string // "never", "30", "90", "365" (days) or "date"; "" selects the first, never
	ExpiryDate        string // YYYY-MM-DD when Expiry is "date"
	RouteIDs          []uint // the ticked routes
}

// RouteOption is a route an account may be restricted to.
type RouteOption struct {
	ID   uint
	Name string
	URL  string // the route's URL, as MCP clients use it
}

// ServiceAccountTokenProps shows a new or rotated token, once.
type ServiceAccountTokenProps struct {
	Page
	Base    string // where Done leads: the list the account is in
	Account ServiceAccountRow
	Token   string        // the bare JWT (without the Drawbridge- prefix)
	Routes  []RouteOption // the routes the account may reach, for the setup snippets
	Rotated bool          // the token replaces the account's previous one
	// GraceUntil: after a rotation, when the old token stops working (nil: at once).
	GraceUntil *time.Time
	// Now is the moment relative times count from; the zero time shows dates.
	Now time.Time
}
