package views

import "time"

// AuditBase is the audit log's path; filter links and chips are built on it.
const AuditBase = "/admin/audit"

// AuditDefaultRange is the time range the audit log shows when the URL
// names none.
const AuditDefaultRange = "24h"

// Values of the audit log's outcome filter (AuditFilterForm.Outcome).
const (
	AuditOutcomeOK        = "ok"         // HTTP 2xx, no JSON-RPC error, not isError
	AuditOutcomeRPCError  = "rpc_error"  // the answer carried a JSON-RPC error
	AuditOutcomeToolError = "tool_error" // a tools/call result with isError: true
	AuditOutcomeHTTPError = "http_error" // HTTP status 400 or above
	AuditOutcomePending   = "pending"    // no outcome written yet
)

// Kinds of audit event, as AuditRow.Kind and AuditFilterForm.Kind hold
// them.
const (
	AuditKindMCP        = "mcp"
	AuditKindSignIn     = "sign_in"
	AuditKindConsent    = "consent"
	AuditKindToken      = "token"
	AuditKindRevocation = "revocation"
	AuditKindRefused    = "refused"
	AuditKindConnection = "connection"
)

// AuditLogProps renders /admin/audit: events newest first, filtered, paged by keyset.
type AuditLogProps struct {
	Page
	Filter AuditFilterForm
	Routes []Option // value: route id, label: name
	Events []AuditRow
	// OlderURL is the next page (older events), "" on the last page; NewestURL goes back to the first page, "" when on it.
	OlderURL, NewestURL string
	// Truncated: the free-text search stopped at its scan bound; the page
	// says so and suggests narrowing the time range.
	Truncated bool
	// ExportAction is where the Export buttons POST (CSRF field) the
	// filters in force, as hidden fields named like the query's, and
	// format=csv or format=jsonl from the button pressed; "" hides them.
	// A POST, not a link: each export is recorded as an audit event, and
	// a GET could be made to happen from another site.
	ExportAction string
	// TailURL streams server-sent events of new rows matching the filters:
	// each an event named "row" whose data is AuditTableRow's HTML, on one
	// line or several "data:" lines. The Live button shows on the first page
	// only (NewestURL == ""), where new rows belong on top; "" hides it.
	TailURL string
	// Chains is what the last verification found in each writer's chain,
	// in writer order: stored with it, so it shows after a reload.
	Chains []AuditChainRow
	// LastVerified is the last verification of the chains; nil: never verified.
	LastVerified *AuditVerification
	// VerifyAction is the POST target (CSRF field) that verifies the chains
	// now; "" hides the button.
	VerifyAction string
	// Now is the moment relative times count from; the zero time shows dates.
	Now time.Time
}

// AuditFilterForm is the filter bar; every field is a GET parameter of the same name, so a view is a shareable URL.
// The parameter names are range, from, to, user, service_account, route,
// tool, method, decision, outcome, client, kind and text.
type AuditFilterForm struct {
	Range    string // "1h", "24h", "7d", "30d", "all" or "custom" (default "24h")
	From, To string // datetime-local values (UTC, "2006-01-02T15:04") for custom
	// User is an email, ServiceAccount a name, Route a route id, Tool a
	// prefix, Method an MCP method, Decision allow, deny or error, Outcome one of the AuditOutcome values,
	// Client a client id, Kind an AuditRow kind and Text a search in the
	// arguments.
	User, ServiceAccount, Route, Tool, Method, Decision, Outcome, Client, Kind, Text string
}

// AuditRow is one event of the audit log, as a table row and in the
// detail page.
type AuditRow struct {
	ID             uint64
	At             time.Time
	Kind           string // mcp, sign_in, consent, token, revocation, refused, connection
	UserEmail      string
	ServiceAccount string // the account's name when one made the call; UserEmail is the user it acts as
	ClientID       string
	RouteName      string
	HTTPMethod     string
	MCPMethod      string
	Tool           string
	Decision       string // allow, deny, error
	Status         *int   // HTTP status, nil until the outcome is written
	RPCErrorCode   *int   // JSON-RPC error code of the answer, if any
	IsError        *bool  // a tools/call result's isError
	DurationMicros *int64
	DetailURL      string
}

// AuditChainRow is the state of one writer's hash chain.
type AuditChainRow struct {
	Writer  string
	Events  int64
	LastSeq uint64
	OK      bool
	Problem string // what is wrong, naming the first broken link, when !OK
	// BrokenID is the event at the first broken link, and BrokenURL its
	// page; 0 and "" when the chain verifies or the problem is not at
	// one event.
	BrokenID  uint64
	BrokenURL string
	// CheckpointSeq is where the chain starts being checked, after
	// retention removed what came before; 0 when nothing was removed.
	CheckpointSeq uint64
}

// AuditVerification is one check of every chain.
type AuditVerification struct {
	At time.Time
	By string // who ran it: an email, or "drawbridge audit verify"
	OK bool
}

// AuditEventProps renders /admin/audit/{id}.
type AuditEventProps struct {
	Page
	Event AuditRow
	// RequestID ties the messages of one HTTP request together; Writer,
	// Seq, Hash and PrevHash place the event in its hash chain; SourceIP is
	// the caller's address.
	RequestID, Writer, Hash, PrevHash, SourceIP string
	Seq                                         uint64
	// ConfigVersion is the configuration the call was decided under; 0
	// when not recorded.
	ConfigVersion int64
	// ResponseBytes is the size of the answer, and OutcomeAt when the
	// outcome was written; nil until it is.
	ResponseBytes *int64
	OutcomeAt     *time.Time
	// Arguments pretty-printed JSON as stored (already redacted); "" when none. ArgumentsHidden: the viewer may not see them (only admins and auditors may).
	Arguments       string
	ArgumentsHidden bool
	Reasons         []AuditReason
	// Links ("" when there is nothing to link to). The user, account,
	// route and client links show only when the event names them.
	UserURL, RouteURL, ClientURL, AccountURL, ChangeURL, SameRequestURL string
	// BackURL is the list the viewer came from, filters kept; "" for the
	// audit log's first page.
	BackURL string
	// Now is the moment relative times count from; the zero time shows dates.
	Now time.Time
}

// AuditReason is one step of the policy decision: which policy, which
// block and rule, and what matched.
type AuditReason struct{ Policy, Block, Rule, Criterion, Matched, Detail string }

// DashboardActivity is what the audit log says about one window of time,
// for the dashboard.
type DashboardActivity struct {
	Window  string           // "24h" or "7d" (a toggle, GET /admin?window=)
	Buckets []ActivityBucket // oldest first, of equal length
	// Calls counts the window's events (the bars' sum), Denials those
	// decided deny, Errors those decided error (the chart's error part);
	// the tiles link to the audit log with range=Window and no decision,
	// decision=deny and decision=error.
	Calls, Denials, Errors int
	TopTools, TopUsers     []RankedCount
	RouteErrors            []RouteErrorRow
	NeedsReconnect         int               // upstream connections needing re-Connect
	AppsURL                string            // where they are listed; "" for viewers who may not go there
	ExpiringAccounts       []ExpiringAccount // service accounts expiring within 14 days
}

// ActivityBucket is one bar of the activity chart.
type ActivityBucket struct {
	Start              time.Time
	Allow, Deny, Error int
	URL                string // the audit log filtered to this bucket
}

// RankedCount is one line of a top list.
type RankedCount struct {
	Label string
	Count int
	URL   string // the audit log filtered to it
}

// RouteErrorRow is one route's error rate over the window.
type RouteErrorRow struct {
	Route         string
	Calls, Errors int
	URL           string // the audit log filtered to the route's errors
}

// ExpiringAccount is a service account that stops working soon.
type ExpiringAccount struct {
	Name, UserEmail string
	ExpiresAt       time.Time
	URL             string
}
