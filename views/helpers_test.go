package views

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

const testCSRF = "csrf-token-123"

// hostile is text an attacker controls (an email, a name, a query) that must
// come out as text, never as markup.
const hostile = `<script>alert(1)</script>@x`

// render renders c and parses the result, failing the test on any error.
func render(t *testing.T, c templ.Component) (*goquery.Document, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	html := buf.String()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc, html
}

// testid selects elements by their data-testid.
func testid(id string) string {
	return `[data-testid="` + id + `"]`
}

// mustOne returns the single element matching sel, failing otherwise.
func mustOne(t *testing.T, doc *goquery.Document, sel string) *goquery.Selection {
	t.Helper()
	s := doc.Find(sel)
	if s.Length() != 1 {
		t.Fatalf("%s: found %d elements, want 1", sel, s.Length())
	}
	return s
}

// text is the element's text with runs of whitespace collapsed.
func text(s *goquery.Selection) string {
	return strings.Join(strings.Fields(s.Text()), " ")
}

// items is the text of each <li> under s, joined by spaces.
func items(s *goquery.Selection) string {
	return strings.Join(s.Find("li").Map(func(_ int, li *goquery.Selection) string { return text(li) }), " ")
}

func adminViewer() *Viewer {
	return &Viewer{Email: "alice@company.com", Name: "Alice Martin", IsAdmin: true}
}

func userViewer() *Viewer {
	return &Viewer{Email: "bob@company.com", Name: "Bob"}
}

// page is a Page as the handlers fill it for a signed-in viewer.
func page(section string, v *Viewer, flashes ...Flash) Page {
	return Page{
		Title:     "Test",
		Section:   section,
		Viewer:    v,
		CSRFToken: testCSRF,
		Flashes:   flashes,
		Version:   "v1.2.3",
		RequestID: "req-42",
	}
}

func ptime(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

// sampleUsers covers every row state: self, plain user, admin, disabled,
// never signed in, and a hostile email.
func sampleUsers() []UserRow {
	return []UserRow{
		{ID: 1, Email: "alice@company.com", Name: "Alice Martin", Provider: "corp", Groups: []string{"eng"}, IsAdmin: true, IsSelf: true, LastSignIn: ptime("2026-03-02T09:14:00Z")},
		{ID: 2, Email: "bob@company.com", Name: "Bob", Provider: "corp", Groups: []string{"eng", "ops"}, LastSignIn: ptime("2026-03-01T17:40:00Z")},
		{ID: 3, Email: "carol@company.com", Name: "Carol", Provider: "local", IsAdmin: true, LastSignIn: ptime("2026-02-27T08:02:00Z")},
		{ID: 4, Email: "dave@company.com", Provider: "local", Disabled: true},
		{ID: 5, Email: hostile, Name: hostile, Provider: "local", Groups: []string{hostile}},
	}
}

// allPages is every exported page component, rendered with props that
// exercise their richest branches (and attacker-controlled text), for the
// checks that apply to every page.
func allPages() map[string]templ.Component {
	admin := adminViewer()
	flash := Flash{Kind: FlashError, Message: hostile}
	pages := map[string]templ.Component{
		"login": LoginPage(LoginProps{
			Page: page("", nil, flash), Email: hostile, Error: hostile, Next: hostile, LocalAccounts: true,
			Providers: []LoginProvider{{Name: "corp", DisplayName: hostile, URL: "/auth/corp/start"}},
		}),
		"login-none": LoginPage(LoginProps{Page: page("", nil)}),
		"dashboard": DashboardPage(DashboardProps{
			Page: page(SectionDashboard, admin, flash), Users: 3, Admins: 1, Disabled: 1, ConsoleURL: hostile,
			Steps: []SetupStep{{Title: hostile, Body: hostile, URL: "/admin/routes"}, {Title: "Done", Done: true}},
		}),
		"users": UsersPage(UsersProps{
			Page: page(SectionUsers, admin, flash), Query: hostile, Users: sampleUsers(),
			Pagination: Pagination{Page: 2, PerPage: 5, Total: 12, PrevURL: "/admin/users?page=1", NextURL: "/admin/users?page=3"},
		}),
		"users-empty": UsersPage(UsersProps{Page: page(SectionUsers, admin), Query: hostile}),
		"new-user": NewUserPage(NewUserProps{
			Page: page(SectionUsers, admin, flash),
			Form: UserForm{Email: hostile, Name: hostile, IsAdmin: true, Errors: map[string]string{"email": hostile, "name": hostile, "password": hostile}},
		}),
		"portal-admin":      PortalPage(PortalProps{Page: page(SectionPortal, admin, flash), Servers: samplePortalServers(), Now: portalNow}),
		"portal-user":       PortalPage(PortalProps{Page: page(SectionPortal, userViewer(), flash), Servers: samplePortalServers()}),
		"portal-user-empty": PortalPage(PortalProps{Page: page(SectionPortal, userViewer(), flash)}),
		"placeholder":       PlaceholderPage(PlaceholderProps{Page: page(SectionRoutes, admin, flash), Heading: hostile, Body: hostile}),
		"settings": SettingsPage(SettingsProps{
			Page: page(SectionSettings, admin, flash), ConsoleURL: hostile, DataDir: hostile, Database: hostile,
			LocalAccounts: true, Providers: []string{hostile}, Admins: []string{hostile}, ConfigVersion: 7,
		}),
		"error-anon":  ErrorPage(ErrorProps{Page: page("", nil, flash), Status: 404, Heading: hostile, Message: hostile}),
		"error-admin": ErrorPage(ErrorProps{Page: page("", admin, flash), Status: 500, Heading: hostile, Message: hostile}),
		"error-user":  ErrorPage(ErrorProps{Page: page("", userViewer()), Status: 403}),
		"consent": ConsentPage(ConsentProps{
			Page: page("", userViewer(), flash), ClientName: hostile, ClientID: hostile, Source: "dcr",
			RedirectHost: hostile, RouteName: hostile, RouteDescription: hostile, RouteURL: hostile, UserEmail: hostile,
			Fields: []HiddenField{{Name: "state", Value: hostile}},
		}),
		"consent-metadata": ConsentPage(ConsentProps{
			Page: page("", userViewer()), ClientID: "https://app.example.com/client.json", Source: "metadata_document",
			MetadataHost: hostile, RedirectHost: "app.example.com", RouteName: "GitHub", UserEmail: "ada@example.com",
		}),
		"authorize-problem": AuthorizeProblemPage(AuthorizeProblemProps{Page: page("", nil, flash), Heading: hostile, Message: hostile}),
	}
	pages["app-edit-connections"] = AppFormPage(AppFormProps{Page: page(SectionApps, admin, flash), ID: 3, Presets: samplePresets(),
		Form: AppForm{Name: hostile, ClientID: "abc"}, Connections: sampleConnections(), Now: portalNow})
	for name, c := range configPages() {
		pages[name] = c
	}
	for name, c := range serviceAccountPages() {
		pages[name] = c
	}
	for name, c := range auditPages() {
		pages[name] = c
	}
	return pages
}

func TestShowingText(t *testing.T) {
	tests := []struct {
		p    Pagination
		want string
	}{
		{Pagination{Page: 1, PerPage: 25, Total: 0}, "No results"},
		{Pagination{Page: 1, PerPage: 25, Total: 7}, "Showing 1–7 of 7"},
		{Pagination{Page: 2, PerPage: 25, Total: 60}, "Showing 26–50 of 60"},
		{Pagination{Page: 3, PerPage: 25, Total: 60}, "Showing 51–60 of 60"},
	}
	for _, tt := range tests {
		if got := showingText(tt.p); got != tt.want {
			t.Errorf("showingText(%+v) = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestInitials(t *testing.T) {
	tests := []struct {
		v    Viewer
		want string
	}{
		{Viewer{Name: "Alice Martin", Email: "a@x"}, "AM"},
		{Viewer{Name: "cher", Email: "c@x"}, "C"},
		{Viewer{Email: "bob.nguyen@company.com"}, "BN"},
		{Viewer{Email: "@x"}, "?"},
		{Viewer{Name: "Élodie de la Tour"}, "ÉD"},
	}
	for _, tt := range tests {
		if got := initials(&tt.v); got != tt.want {
			t.Errorf("initials(%+v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
