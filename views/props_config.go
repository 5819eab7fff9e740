package views

import "time"

// SectionHistory is the configuration change history in the navigation.
const SectionHistory = "history"

// Option is one choice in a select or checkbox list.
type Option struct {
	Value    string
	Label    string
	Selected bool
	Hint     string // optional second line, e.g. a route's from URL
}

// RoutesProps renders the routes list at /admin/routes.
type RoutesProps struct {
	Page
	Query      string
	Routes     []RouteRow
	Pagination Pagination
}

// RouteRow is one route in the list; its edit page is /admin/routes/{ID}.
type RouteRow struct {
	ID          uint
	Name        string
	Description string
	From        string
	To          string
	Kind        string // mcp_server, mcp_client, http
	Policies    []string
	UpstreamApp string // "" when none
	Enabled     bool
}

// RouteForm holds what the route form shows and posts. Field names in the
// form and keys of Errors: name, description, from, to, kind, policies
// (checkbox values are policy IDs), upstream_app (an app ID, "" for none),
// timeout_seconds, max_request_bytes, enabled, pass_upstream_token.
type RouteForm struct {
	Name              string
	Description       string
	From              string
	To                string
	Kind              string
	TimeoutSeconds    string
	MaxRequestBytes   string
	Enabled           bool
	PassUpstreamToken bool
	Errors            map[string]string
}

// RouteFormProps renders /admin/routes/new (posting to /admin/routes) and
// /admin/routes/{ID} (posting to /admin/routes/{ID}, with delete at
// /admin/routes/{ID}/delete and "Test connection" at /admin/routes/{ID}/test).
type RouteFormProps struct {
	Page
	IsNew    bool
	ID       uint
	Form     RouteForm
	Kinds    []Option
	Policies []Option // every policy; Selected marks the route's
	Apps     []Option // every upstream app; Selected marks the route's
	Test     *ConnectionTest
	History  []ChangeRow // this route's recent changes
}

// ConnectionTest is the result of "Test connection": an MCP initialize and
// tools/list against the route's upstream.
type ConnectionTest struct {
	OK              bool
	Error           string
	ServerName      string
	ServerVersion   string
	ProtocolVersion string
	Tools           []ToolInfo
	Duration        time.Duration
}

// ToolInfo is one tool an upstream offers.
type ToolInfo struct {
	Name        string
	Description string
}

// PoliciesProps renders the policies list at /admin/policies.
type PoliciesProps struct {
	Page
	Query      string
	Policies   []PolicyRow
	Pagination Pagination
}

// PolicyRow is one policy in the list; its edit page is /admin/policies/{ID}.
type PolicyRow struct {
	ID          uint
	Name        string
	Description string
	Routes      []string // names of the routes that use it
	UpdatedAt   time.Time
}

// PolicyForm holds the policy editor. Field names: name, description,
// source (the YAML). SourceErrors are the language's errors, each at its
// line, for the editor to mark.
type PolicyForm struct {
	Name         string
	Description  string
	Source       string
	Errors       map[string]string
	SourceErrors []SourceError
}

// SourceError is one problem in a policy's YAML.
type SourceError struct {
	Line    int
	Column  int
	Message string
}

// PolicyFormProps renders /admin/policies/new (posting to /admin/policies)
// and /admin/policies/{ID} (posting to /admin/policies/{ID}, delete at
// /admin/policies/{ID}/delete).
type PolicyFormProps struct {
	Page
	IsNew   bool
	ID      uint
	Form    PolicyForm
	Routes  []RouteRow // routes that use this policy
	History []ChangeRow
}

// SimulatorForm is the policy simulator's input, posted to
// /admin/policies/simulate. Field names: user (a user ID, "" to type an
// identity), email, groups (comma-separated), route (a route ID),
// http_method, mcp_method, tool, arguments (a JSON object).
type SimulatorForm struct {
	UserID     string
	Email      string
	Groups     string
	RouteID    string
	HTTPMethod string
	MCPMethod  string
	Tool       string
	Arguments  string
	Errors     map[string]string
}

// SimulatorProps renders the simulator at /admin/policies/simulate.
type SimulatorProps struct {
	Page
	Form   SimulatorForm
	Users  []Option
	Routes []Option
	Result *SimulationResult // nil before the first run
}

// SimulationResult is the decision and why, rule by rule.
type SimulationResult struct {
	Allow   bool
	Summary string // one sentence, e.g. "Denied by company-only: deny.or[0] mcp_tool starts_with admin_"
	Steps   []SimulationStep
}

// SimulationStep is one rule the evaluation visited.
type SimulationStep struct {
	Policy  string
	Rule    string // path, e.g. deny.or[1].mcp_tool
	Line    int
	Matched bool
	Detail  string // e.g. `"admin_reset" starts with "admin_"`
	Depth   int    // nesting, for indentation
	Decides bool   // this step decided the outcome
}

// AppsProps renders the upstream OAuth apps list at /admin/apps.
type AppsProps struct {
	Page
	Query      string
	Apps       []AppRow
	Pagination Pagination
	// Presets are the well-known upstreams: the empty state offers one
	// card each, linking /admin/apps/new?preset={Key}, and the list shows a
	// row's preset by its Label.
	Presets []AppPreset
}

// AppRow is one upstream app; its edit page is /admin/apps/{ID}.
type AppRow struct {
	ID        uint
	Name      string
	Preset    string
	ClientID  string
	HasSecret bool
	AuthURL   string
	Routes    []string
	// Connected counts the people whose sign-in at the app works;
	// NeedsReconnect those whose sign-in the app refused.
	Connected, NeedsReconnect int
}

// AppForm holds the upstream app form. The client secret is write-only:
// the form never shows it, only whether one is set; leaving the field
// empty on edit keeps the stored one. Field names: name, preset,
// client_id, client_secret, auth_url, token_url, revocation_url, scopes
// (space-separated), auth_style (auto, header, params), extra_params
// (key=value, one per line), pkce.
type AppForm struct {
	Name          string
	Preset        string
	ClientID      string
	HasSecret     bool
	AuthURL       string
	TokenURL      string
	RevocationURL string
	Scopes        string
	AuthStyle     string
	ExtraParams   string
	PKCE          bool
	Errors        map[string]string
}

// AppPreset fills the provider URLs of a well-known upstream; without JS,
// /admin/apps/new?preset={Key} prefills the form.
type AppPreset struct {
	Key           string
	Label         string
	AuthURL       string
	TokenURL      string
	RevocationURL string
	Scopes        string
	AuthStyle     string
	ExtraParams   string // key=value lines, as in AppForm
	PKCE          bool
	DocsURL       string // where to register the OAuth app
}

// AppFormProps renders /admin/apps/new (posting to /admin/apps) and
// /admin/apps/{ID} (posting to /admin/apps/{ID}, delete at
// /admin/apps/{ID}/delete). CallbackURL is the redirect URI to register
// at the provider.
type AppFormProps struct {
	Page
	IsNew       bool
	ID          uint
	Form        AppForm
	Presets     []AppPreset
	CallbackURL string
	Routes      []RouteRow
	History     []ChangeRow
	// Connections are the people signed in to the app through Drawbridge.
	// Each row's Disconnect posts to
	// /admin/apps/{ID}/connections/{UserID}/disconnect.
	Connections []AppConnectionRow
	// Now is the moment relative times count from; zero shows dates.
	Now time.Time
}

// AppConnectionRow is one person's connection to an upstream app.
type AppConnectionRow struct {
	UserID          uint
	UserEmail       string
	Account         string     // the upstream account, when known
	Status          string     // ConnectionConnected or ConnectionNeedsReconnect
	ExpiresAt       *time.Time // when the upstream access token expires, if known
	LastRefreshedAt *time.Time
	LastUsedAt      *time.Time
}

// HistoryProps renders the change history at /admin/history, filtered by
// ?resource= (route, policy, upstream_app, user), ?actor= and ?q=.
type HistoryProps struct {
	Page
	Resource   string
	Actor      string
	Query      string
	Resources  []Option
	Changes    []ChangeRow
	Pagination Pagination
}

// ChangeRow is one configuration change; its page is /admin/history/{ID}.
type ChangeRow struct {
	ID           uint
	At           time.Time
	Actor        string
	Resource     string // route, policy, upstream_app, user
	ResourceName string
	ResourceURL  string // "" when the object no longer exists
	Action       string // create, update, delete
}

// ChangeProps renders one change with a readable diff of before and after.
type ChangeProps struct {
	Page
	Change ChangeRow
	Diff   []DiffLine
}

// DiffLine is one line of a before/after diff.
type DiffLine struct {
	Op   string // " " unchanged, "-" removed, "+" added
	Text string
}
