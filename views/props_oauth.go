package views

// ConsentProps renders the page where a user lets an MCP client act for
// them on one route.
type ConsentProps struct {
	Page
	ClientName string // as the client gave it; may be empty
	ClientID   string
	// Source is how the client is known: models.ClientSourceDCR
	// ("dcr"), metadata document or console.
	Source string
	// MetadataHost is the host serving the client's metadata document,
	// for clients known that way.
	MetadataHost     string
	RedirectHost     string // where the answer goes, as a host or an app scheme
	RouteName        string
	RouteDescription string
	RouteURL         string
	UserEmail        string
	// Fields are the authorization request, posted back with the answer.
	Fields []HiddenField
}

// HiddenField is one hidden input of a form.
type HiddenField struct {
	Name  string
	Value string
}

// AuthorizeProblemProps renders why an authorization request stops at
// Drawbridge instead of going back to the app.
type AuthorizeProblemProps struct {
	Page
	Heading string
	Message string
}
