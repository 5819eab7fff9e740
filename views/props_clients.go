package views

import "time"

// Where an MCP client came from, as ClientRow.Source holds it (the
// store's names for them).
const (
	clientSourceDCR              = "dcr"
	clientSourceMetadataDocument = "metadata_document"
	clientSourceConsole          = "console"
)

// ClientsProps renders the MCP clients list at /admin/clients, filtered by
// ?q= and ?source=, with the client registration settings above it.
type ClientsProps struct {
	Page
	Query      string
	Source     string // "" for every source
	Clients    []ClientRow
	Pagination Pagination
	Settings   ClientSettingsForm
	// RouteURL is an MCP server's URL to give MCP clients, shown in the
	// empty state; "" when no route exists yet.
	RouteURL string
}

// ClientRow is one MCP client; its page is /admin/clients/{ID}.
type ClientRow struct {
	ID       uint
	ClientID string
	Name     string // "" when the client gave none
	Source   string
	// RedirectHosts are where the client's redirect URIs lead: a host,
	// or an app's own scheme ("com.example.app:").
	RedirectHosts []string
	CreatedAt     time.Time
	LastUsedAt    *time.Time // nil: never
	ActiveTokens  int64
	Disabled      bool
}

// ClientDetail is every field of one MCP client. ClientURI and LogoURI are
// the client's own claims: they are shown as text and never fetched or
// linked.
type ClientDetail struct {
	ClientRow
	ClientURI               string
	LogoURI                 string
	RedirectURIs            []string
	GrantTypes              []string
	TokenEndpointAuthMethod string
	UpdatedAt               time.Time
}

// ClientProps renders /admin/clients/{ID}. Its actions POST to
// /admin/clients/{ID}/revoke-tokens, /disable, /enable and /delete.
type ClientProps struct {
	Page
	Client ClientDetail
}

// ClientSettingsForm is the "Client registration" card, posting to
// /admin/clients/settings. Field names and keys of Errors:
// registration_enabled, metadata_documents_enabled (checkboxes posting
// "true"), metadata_document_hosts (one host per line).
type ClientSettingsForm struct {
	RegistrationEnabled      bool
	MetadataDocumentsEnabled bool
	MetadataDocumentHosts    string
	Errors                   map[string]string
}

// AuthorizedAppsSection is the "Authorized apps" part of the portal: the
// MCP clients the viewer let act for them. Each row's Revoke posts
// client_id and return (ReturnTo) to /authorizations/revoke.
type AuthorizedAppsSection struct {
	Apps      []AuthorizedApp
	CSRFToken string
	ReturnTo  string // the page to come back to: "/" or "/authorizations"
}

// AuthorizedApp is one MCP client the viewer authorized, with every
// resource they let it reach.
type AuthorizedApp struct {
	ClientID     string
	Name         string // "" when the client gave none
	Source       string // "" when unknown
	Resources    []AuthorizedResource
	AuthorizedAt time.Time  // the first consent
	LastUsedAt   *time.Time // nil: never, or too long ago to know
}

// AuthorizedResource is one route or resource an app may use for the
// viewer.
type AuthorizedResource struct {
	Name string // the route's name; "" when no route has this URL
	URL  string
}

// AuthorizationsProps renders /authorizations: the Authorized apps
// section on a page of its own.
type AuthorizationsProps struct {
	Page
	Section AuthorizedAppsSection
}
