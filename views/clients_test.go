package views

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// Values a client chose for itself, as an attacker would choose them.
const (
	hostileClientURI = "javascript:alert(1)//https://evil.example/home"
	hostileLogoURI   = "https://evil.example/track.png?who=admin"
)

func sampleClients() []ClientRow {
	return []ClientRow{
		{ID: 1, ClientID: "b1946ac92492d2347c6235b4d2611184", Name: "Claude Code", Source: clientSourceDCR,
			RedirectHosts: []string{"localhost:33418"}, CreatedAt: *ptime("2026-03-01T10:00:00Z"), ActiveTokens: 3},
		{ID: 2, ClientID: "https://vscode.dev/oauth/client-metadata.json", Name: "Visual Studio Code", Source: clientSourceMetadataDocument,
			RedirectHosts: []string{"127.0.0.1", "vscode.dev"}, CreatedAt: *ptime("2026-02-20T08:30:00Z"), LastUsedAt: ptime("2026-03-02T09:14:00Z"), ActiveTokens: 1},
		{ID: 3, ClientID: "chat-app", Source: clientSourceConsole, RedirectHosts: []string{"com.example.chat:"},
			CreatedAt: *ptime("2026-01-05T12:00:00Z"), Disabled: true},
		{ID: 4, ClientID: hostile, Name: hostile, Source: clientSourceDCR, RedirectHosts: []string{hostile}, CreatedAt: *ptime("2026-03-03T00:00:00Z")},
	}
}

func sampleClientDetail() ClientDetail {
	return ClientDetail{
		ClientRow: ClientRow{ID: 7, ClientID: "c-7f3a", Name: hostile, Source: clientSourceDCR, RedirectHosts: []string{"localhost:33418"},
			CreatedAt: *ptime("2026-03-01T10:00:00Z"), LastUsedAt: ptime("2026-03-02T09:14:00Z"), ActiveTokens: 3},
		ClientURI: hostileClientURI, LogoURI: hostileLogoURI,
		RedirectURIs:            []string{"http://localhost:33418/callback", "http://127.0.0.1:33418/callback"},
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		TokenEndpointAuthMethod: "none",
		UpdatedAt:               *ptime("2026-03-01T11:00:00Z"),
	}
}

func sampleAuthorizedApps() AuthorizedAppsSection {
	return AuthorizedAppsSection{CSRFToken: testCSRF, ReturnTo: "/", Apps: []AuthorizedApp{
		{ClientID: "b1946ac9", Name: "Claude Code", Source: clientSourceDCR, AuthorizedAt: *ptime("2026-03-01T10:00:00Z"),
			Resources: []AuthorizedResource{{Name: "GitHub", URL: "http://github.localhost:8080"}, {URL: "http://gone.localhost:8080"}}},
		{ClientID: "https://vscode.dev/oauth/client-metadata.json", Source: clientSourceMetadataDocument, AuthorizedAt: *ptime("2026-02-20T08:30:00Z"),
			LastUsedAt: ptime("2026-03-02T09:14:00Z"), Resources: []AuthorizedResource{{Name: "Linear", URL: "http://linear.localhost:8080"}}},
		{ClientID: "chat-app", Name: hostile, Source: clientSourceConsole, AuthorizedAt: *ptime("2026-01-05T12:00:00Z"),
			Resources: []AuthorizedResource{{Name: hostile, URL: "http://chat.localhost:8080"}}},
	}}
}

func clientRowByID(t *testing.T, doc *goquery.Document, id string) *goquery.Selection {
	t.Helper()
	return mustOne(t, doc, testid("client-row")+`[data-client-id="`+id+`"]`)
}

func TestClientsTableRows(t *testing.T) {
	doc, _ := render(t, ClientsPage(ClientsProps{Page: page(SectionClients, adminViewer()), Clients: sampleClients(),
		Pagination: Pagination{Page: 1, PerPage: 25, Total: 4}}))
	if n := doc.Find(testid("clients-table") + " " + testid("client-row")).Length(); n != 4 {
		t.Fatalf("%d rows, want 4", n)
	}
	tests := []struct {
		id, name, clientID, source, badge, hosts, lastUsed, tokens, status string
	}{
		{"1", "Claude Code", "b1946ac92492d2347c6235b4d2611184", "dcr", "Registered", "localhost:33418", "never", "3", "active"},
		{"2", "Visual Studio Code", "https://vscode.dev/oauth/client-metadata.json", "metadata_document", "Metadata document", "127.0.0.1 vscode.dev", "2 Mar 2026 09:14 UTC", "1", "active"},
		// Unnamed: the client ID stands for the name, and is not repeated.
		{"3", "chat-app", "", "console", "Console", "com.example.chat:", "never", "0", "turned off"},
		{"4", hostile, hostile, "dcr", "Registered", hostile, "never", "0", "active"},
	}
	for _, tt := range tests {
		row := clientRowByID(t, doc, tt.id)
		name := row.Find("a" + testid("client-name"))
		if text(name) != tt.name {
			t.Errorf("client %s name = %q, want %q", tt.id, text(name), tt.name)
		}
		if href, _ := name.Attr("href"); href != "/admin/clients/"+tt.id {
			t.Errorf("client %s links to %q", tt.id, href)
		}
		cid := row.Find("code" + testid("client-id"))
		if got := text(cid); got != tt.clientID {
			t.Errorf("client %s client id = %q, want %q", tt.id, got, tt.clientID)
		}
		if title, _ := cid.Attr("title"); title != tt.clientID {
			t.Errorf("client %s client id title = %q: a truncated ID must be whole in its title", tt.id, title)
		}
		if src, _ := row.Find(testid("client-source")).Attr("data-source"); src != tt.source {
			t.Errorf("client %s source = %q, want %q", tt.id, src, tt.source)
		}
		for id, want := range map[string]string{"client-source-badge": tt.badge, "client-redirect-hosts": tt.hosts,
			"last-used": tt.lastUsed, "client-tokens": tt.tokens, "client-status": tt.status} {
			got := text(row.Find(testid(id)))
			if id == "client-redirect-hosts" {
				got = items(row.Find(testid(id)))
			}
			if got != want {
				t.Errorf("client %s %s = %q, want %q", tt.id, id, got, want)
			}
		}
		if unverified := row.Find(testid("client-unverified")).Length() == 1; unverified != (tt.source == "dcr") {
			t.Errorf("client %s flagged unverified: %v", tt.id, unverified)
		}
	}
	if got := text(clientRowByID(t, doc, "2").Find(testid("client-document-host"))); got != "vscode.dev" {
		t.Errorf("metadata document host = %q", got)
	}
	if class, _ := clientRowByID(t, doc, "3").Attr("class"); !strings.Contains(class, "row-muted") {
		t.Error("a turned-off client's row is not muted")
	}
	mustOne(t, doc, testid("client-filter"))
	mustOne(t, doc, testid("client-settings"))
	if doc.Find(testid("empty-state")).Length() != 0 {
		t.Error("empty state shown with clients")
	}
}

func TestClientsFilterKeepsChoices(t *testing.T) {
	doc, _ := render(t, ClientsPage(ClientsProps{Page: page(SectionClients, adminViewer()), Query: "code", Source: clientSourceMetadataDocument,
		Clients: sampleClients()[1:2], Pagination: Pagination{Page: 1, PerPage: 25, Total: 1}}))
	filter := mustOne(t, doc, testid("client-filter"))
	if m, _ := filter.Attr("method"); m != "get" {
		t.Errorf("filter method = %q", m)
	}
	if v, _ := filter.Find(`input[name="q"]`).Attr("value"); v != "code" {
		t.Errorf("query = %q", v)
	}
	var values []string
	filter.Find(`select[name="source"] option`).Each(func(_ int, o *goquery.Selection) {
		v, _ := o.Attr("value")
		values = append(values, v)
	})
	if strings.Join(values, ",") != ",dcr,metadata_document,console" {
		t.Errorf("source options = %v", values)
	}
	if v, _ := filter.Find(`option[selected]`).Attr("value"); v != clientSourceMetadataDocument {
		t.Errorf("selected source = %q", v)
	}
	if href, _ := mustOne(t, doc, testid("clear-filters")).Attr("href"); href != "/admin/clients" {
		t.Errorf("clear href = %q", href)
	}
}

func TestClientsEmptyState(t *testing.T) {
	t.Run("with a route", func(t *testing.T) {
		doc, _ := render(t, ClientsPage(ClientsProps{Page: page(SectionClients, adminViewer()), RouteURL: "http://github.localhost:8080"}))
		empty := mustOne(t, doc, testid("empty-state"))
		for _, want := range []string{"No MCP clients yet", "Claude Code", "Codex", "Cursor", "VS Code", "MCP Inspector", "register", "metadata document"} {
			if !strings.Contains(text(empty), want) {
				t.Errorf("empty state lacks %q: %s", want, text(empty))
			}
		}
		if got := text(empty.Find(testid("example-route-url"))); got != "http://github.localhost:8080" {
			t.Errorf("route URL to give clients = %q", got)
		}
		if href, _ := mustOne(t, doc, testid("open-portal")).Attr("href"); href != "/" {
			t.Errorf("portal link = %q", href)
		}
		if doc.Find(testid("client-filter")).Length() != 0 {
			t.Error("filter shown with no clients")
		}
		// The settings stay reachable with no clients: they decide whether
		// any client can appear.
		mustOne(t, doc, testid("client-settings"))
	})
	t.Run("without a route", func(t *testing.T) {
		doc, _ := render(t, ClientsPage(ClientsProps{Page: page(SectionClients, adminViewer())}))
		if href, _ := mustOne(t, doc, testid("empty-state")+" "+testid("empty-new-route")).Attr("href"); href != "/admin/routes/new" {
			t.Errorf("new route href = %q", href)
		}
		if doc.Find(testid("example-route-url")).Length() != 0 {
			t.Error("an empty route URL offered")
		}
	})
	t.Run("filtered", func(t *testing.T) {
		doc, _ := render(t, ClientsPage(ClientsProps{Page: page(SectionClients, adminViewer()), Query: hostile}))
		if got := text(mustOne(t, doc, testid("empty-state"))); !strings.Contains(got, "No clients match") {
			t.Errorf("empty state = %q", got)
		}
		mustOne(t, doc, testid("clear-filters-empty"))
		mustOne(t, doc, testid("client-filter"))
	})
}

func TestClientSettingsCard(t *testing.T) {
	form := ClientSettingsForm{RegistrationEnabled: false, MetadataDocumentsEnabled: true, MetadataDocumentHosts: "vscode.dev\n*.example.com"}
	doc, _ := render(t, ClientsPage(ClientsProps{Page: page(SectionClients, adminViewer()), Settings: form}))
	card := mustOne(t, doc, "form"+testid("client-settings"))
	if a, _ := card.Attr("action"); a != "/admin/clients/settings" {
		t.Errorf("settings action = %q", a)
	}
	if m, _ := card.Attr("method"); m != "post" {
		t.Errorf("settings method = %q", m)
	}
	if v, _ := card.Find(`input[name="_csrf"]`).Attr("value"); v != testCSRF {
		t.Errorf("csrf = %q", v)
	}
	if _, checked := card.Find(`input[name="registration_enabled"]`).Attr("checked"); checked {
		t.Error("registration shown on")
	}
	if _, checked := card.Find(`input[name="metadata_documents_enabled"]`).Attr("checked"); !checked {
		t.Error("metadata documents shown off")
	}
	if got := strings.TrimPrefix(card.Find(`textarea[name="metadata_document_hosts"]`).Text(), "\n"); got != form.MetadataDocumentHosts {
		t.Errorf("hosts = %q", got)
	}
	if card.Find(testid("field-error-metadata_document_hosts")).Length() != 0 {
		t.Error("an error shown on a good form")
	}

	form.Errors = map[string]string{"metadata_document_hosts": "Line 2, “" + hostile + "”, must be a host name."}
	doc, html := render(t, ClientsPage(ClientsProps{Page: page(SectionClients, adminViewer()), Settings: form}))
	msg := mustOne(t, doc, testid("field-error-metadata_document_hosts"))
	if !strings.Contains(text(msg), "Line 2") || !strings.Contains(text(msg), hostile) {
		t.Errorf("error = %q", text(msg))
	}
	area := doc.Find(`textarea[name="metadata_document_hosts"]`)
	if v, _ := area.Attr("aria-invalid"); v != "true" {
		t.Error("the bad field is not marked invalid")
	}
	if v, _ := area.Attr("aria-describedby"); v != "metadata_document_hosts-error" {
		t.Errorf("aria-describedby = %q", v)
	}
	if strings.Contains(html, "<script>alert") {
		t.Error("hostile text in the error rendered as markup")
	}
}

func TestClientPage(t *testing.T) {
	c := sampleClientDetail()
	doc, _ := render(t, ClientPage(ClientProps{Page: page(SectionClients, adminViewer()), Client: c}))
	if got := text(mustOne(t, doc, "h1")); got != hostile {
		t.Errorf("heading = %q", got)
	}
	if got := text(mustOne(t, doc, testid("client-id-value"))); got != "c-7f3a" {
		t.Errorf("client id = %q", got)
	}
	if target, _ := mustOne(t, doc, "button[data-copy]").Attr("data-copy-target"); target != "client-id-value" {
		t.Errorf("copy target = %q", target)
	}
	for id, want := range map[string]string{
		"client-detail-name":    hostile,
		"client-uri":            hostileClientURI,
		"logo-uri":              hostileLogoURI,
		"client-auth-method":    "none Public client: no secret, PKCE only",
		"client-created":        "1 Mar 2026 10:00 UTC",
		"client-updated":        "1 Mar 2026 11:00 UTC",
		"last-used":             "2 Mar 2026 09:14 UTC",
		"client-tokens":         "3",
		"client-source-badge":   "Registered",
		"client-status":         "active",
		"client-tokens-summary": "3 tokens outstanding: access tokens, and refresh tokens still able to renew them.",
	} {
		if got := text(mustOne(t, doc, testid(id))); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	if got := items(mustOne(t, doc, testid("client-redirect-uris"))); got != "http://localhost:33418/callback http://127.0.0.1:33418/callback" {
		t.Errorf("redirect URIs = %q", got)
	}
	if got := items(mustOne(t, doc, testid("client-grant-types"))); got != "authorization_code refresh_token" {
		t.Errorf("grant types = %q", got)
	}
	mustOne(t, doc, testid("client-unverified-notice"))

	// What the client says about itself is text: nothing on the page
	// loads its logo or links to its URI.
	if n := doc.Find("img, picture, object, embed, iframe").Length(); n != 0 {
		t.Errorf("%d embedded resources on a client's page", n)
	}
	doc.Find("[src], [href], [srcset], [action], [data]").Each(func(_ int, s *goquery.Selection) {
		for _, attr := range []string{"src", "href", "srcset", "action", "data"} {
			if v, ok := s.Attr(attr); ok && (strings.Contains(v, "evil.example") || strings.Contains(v, "javascript:")) {
				t.Errorf("<%s %s=%q> points where the client said", goquery.NodeName(s), attr, v)
			}
		}
	})

	actions := map[string]string{}
	doc.Find(`form[method="post"]`).Each(func(_ int, f *goquery.Selection) {
		a, _ := f.Attr("action")
		tok, _ := f.Find(`input[name="_csrf"]`).Attr("value")
		actions[a] = tok
	})
	for _, a := range []string{"/admin/clients/7/revoke-tokens", "/admin/clients/7/disable", "/admin/clients/7/delete", "/logout"} {
		if tok, ok := actions[a]; !ok || tok != testCSRF {
			t.Errorf("no POST form to %s with the CSRF token (have %v)", a, actions)
		}
	}
	if _, ok := actions["/admin/clients/7/enable"]; ok {
		t.Error("an active client offers to turn on")
	}
	// Each destructive action asks first, and says what happens.
	for id, want := range map[string]string{
		"confirm-revoke-tokens": "stop working at once",
		"confirm-disable":       "Its tokens stop working at once",
		"confirm-delete":        "may register again",
	} {
		confirm := mustOne(t, doc, "details"+testid(id))
		if !strings.Contains(text(confirm.Find(".confirm-message")), want) {
			t.Errorf("%s says %q, want it to mention %q", id, text(confirm.Find(".confirm-message")), want)
		}
		if confirm.Find("summary").Length() != 1 {
			t.Errorf("%s has no summary to open it", id)
		}
	}
}

func TestClientPageTurnedOff(t *testing.T) {
	c := sampleClientDetail()
	c.Disabled, c.Name, c.Source, c.ClientURI, c.LogoURI = true, "", clientSourceMetadataDocument, "", ""
	c.ClientID = "https://vscode.dev/oauth/client-metadata.json"
	doc, _ := render(t, ClientPage(ClientProps{Page: page(SectionClients, adminViewer()), Client: c}))
	if got := text(mustOne(t, doc, "h1")); got != c.ClientID {
		t.Errorf("an unnamed client is headed %q, want its client ID", got)
	}
	if a, _ := mustOne(t, doc, testid("action-enable")).Attr("action"); a != "/admin/clients/7/enable" {
		t.Errorf("turn on action = %q", a)
	}
	if doc.Find(testid("confirm-disable")).Length() != 0 {
		t.Error("a turned-off client offers to turn off")
	}
	if got := text(mustOne(t, doc, ".page-title "+testid("client-status"))); got != "turned off" {
		t.Errorf("status = %q", got)
	}
	if doc.Find(testid("client-unverified-notice")).Length() != 0 {
		t.Error("a metadata document client flagged as having registered itself")
	}
	if got := text(mustOne(t, doc, testid("client-details")+" "+testid("client-document-host"))); got != "vscode.dev" {
		t.Errorf("document host = %q", got)
	}
	for _, id := range []string{"client-uri", "logo-uri"} {
		if got := text(mustOne(t, doc, testid(id))); got != "Not given" {
			t.Errorf("%s = %q", id, got)
		}
	}
}

func TestAuthorizedAppsSection(t *testing.T) {
	doc, html := render(t, PortalPage(PortalProps{Page: page(SectionPortal, userViewer()), AuthorizedApps: ptr(sampleAuthorizedApps())}))
	section := mustOne(t, doc, "section"+testid("authorized-apps"))
	if got := text(section.Find("h2").First()); got != "Authorized apps" {
		t.Errorf("section heading = %q", got)
	}
	rows := section.Find(testid("authorized-app"))
	if rows.Length() != 3 {
		t.Fatalf("%d apps, want 3", rows.Length())
	}
	tests := []struct {
		i                                          int
		clientID, name, source, resources, lastUse string
	}{
		{0, "b1946ac9", "Claude Code", "Registered itself: its name is unverified", "GitHub http://github.localhost:8080 http://gone.localhost:8080", "never"},
		{1, "https://vscode.dev/oauth/client-metadata.json", "https://vscode.dev/oauth/client-metadata.json", "Described by vscode.dev", "Linear http://linear.localhost:8080", "2 Mar 2026 09:14 UTC"},
		{2, "chat-app", hostile, "Added by an administrator", hostile + " http://chat.localhost:8080", "never"},
	}
	for _, tt := range tests {
		row := rows.Eq(tt.i)
		if id, _ := row.Attr("data-client-id"); id != tt.clientID {
			t.Errorf("row %d client = %q", tt.i, id)
		}
		for id, want := range map[string]string{"authorized-app-name": tt.name, "authorized-app-source": tt.source, "last-used": tt.lastUse} {
			if got := text(row.Find(testid(id))); got != want {
				t.Errorf("row %d %s = %q, want %q", tt.i, id, got, want)
			}
		}
		if got := items(row.Find(testid("authorized-app-resources"))); got != tt.resources {
			t.Errorf("row %d resources = %q, want %q", tt.i, got, tt.resources)
		}
		confirm := row.Find("details" + testid("confirm-revoke"))
		form := confirm.Find(`form[method="post"]`)
		if a, _ := form.Attr("action"); a != "/authorizations/revoke" {
			t.Errorf("row %d revoke action = %q", tt.i, a)
		}
		for name, want := range map[string]string{"client_id": tt.clientID, "return": "/", "_csrf": testCSRF} {
			if v, _ := form.Find(`input[type="hidden"][name="` + name + `"]`).Attr("value"); v != want {
				t.Errorf("row %d revoke %s = %q, want %q", tt.i, name, v, want)
			}
		}
	}
	if got := text(rows.Eq(0).Find(testid("authorized-at"))); got != "1 Mar 2026 10:00 UTC" {
		t.Errorf("authorized at = %q", got)
	}
	if strings.Contains(html, "<script>alert") {
		t.Error("hostile client name rendered as markup")
	}
	// The portal's own content is still there.
	mustOne(t, doc, "h1")
}

func TestAuthorizedAppsEmpty(t *testing.T) {
	for name, c := range map[string]templ.Component{
		"portal": PortalPage(PortalProps{Page: page(SectionPortal, userViewer()), AuthorizedApps: &AuthorizedAppsSection{ReturnTo: "/"},
			Servers: []PortalServer{{Name: "Docs", URL: "http://docs.localhost:8080/mcp"}}}),
		"page": AuthorizationsPage(AuthorizationsProps{Page: page(SectionPortal, userViewer()), Section: AuthorizedAppsSection{ReturnTo: "/authorizations"}}),
	} {
		t.Run(name, func(t *testing.T) {
			doc, _ := render(t, c)
			empty := mustOne(t, doc, testid("authorized-apps")+" "+testid("empty-state"))
			if got := text(empty.Find("h2")); got != "No apps act for you yet" {
				t.Errorf("empty state heading = %q", got)
			}
			if got := text(empty.Find("p")); got != "When an MCP client asks to use Drawbridge for you, you approve it on a consent page, and it shows up here." {
				t.Errorf("empty state = %q", got)
			}
			if doc.Find(testid("authorized-app")).Length() != 0 {
				t.Error("rows shown with no apps")
			}
		})
	}
}

func TestAuthorizationsPage(t *testing.T) {
	s := sampleAuthorizedApps()
	s.ReturnTo = "/authorizations"
	doc, _ := render(t, AuthorizationsPage(AuthorizationsProps{Page: page(SectionPortal, userViewer()), Section: s}))
	if got := text(mustOne(t, doc, "h1")); got != "Authorized apps" {
		t.Errorf("heading = %q", got)
	}
	if n := doc.Find(testid("authorized-app")).Length(); n != 3 {
		t.Errorf("%d apps, want 3", n)
	}
	doc.Find(`input[name="return"]`).Each(func(_ int, in *goquery.Selection) {
		if v, _ := in.Attr("value"); v != "/authorizations" {
			t.Errorf("return = %q", v)
		}
	})
}

func TestPortalWithoutAuthorizedApps(t *testing.T) {
	doc, _ := render(t, PortalPage(PortalProps{Page: page(SectionPortal, userViewer())}))
	if doc.Find(testid("authorized-apps")).Length() != 0 {
		t.Error("the section is shown when the portal did not ask for it")
	}
}

// The rules every page keeps (see TestNoInlineScriptsOrStyles and
// TestHostileTextIsEscaped), for the pages of this file.
func TestClientPagesAreSafe(t *testing.T) {
	admin := adminViewer()
	flash := Flash{Kind: FlashSuccess, Message: hostile}
	pages := map[string]templ.Component{
		"clients": ClientsPage(ClientsProps{Page: page(SectionClients, admin, flash), Query: hostile, Clients: sampleClients(),
			Settings: ClientSettingsForm{MetadataDocumentHosts: hostile, Errors: map[string]string{"metadata_document_hosts": hostile}}}),
		"clients-empty":  ClientsPage(ClientsProps{Page: page(SectionClients, admin, flash), RouteURL: hostile}),
		"client":         ClientPage(ClientProps{Page: page(SectionClients, admin, flash), Client: sampleClientDetail()}),
		"authorizations": AuthorizationsPage(AuthorizationsProps{Page: page(SectionPortal, userViewer(), flash), Section: sampleAuthorizedApps()}),
	}
	for name, c := range pages {
		t.Run(name, func(t *testing.T) {
			doc, html := render(t, c)
			if n := doc.Find("[style], style").Length(); n != 0 {
				t.Errorf("%d inline styles", n)
			}
			if n := doc.Find("script").Length(); n != 1 {
				t.Errorf("%d <script> elements, want only app.js", n)
			}
			if strings.Contains(html, "<script>alert") {
				t.Error("hostile text rendered as markup")
			}
			if !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Error("hostile text not rendered (escaped) at all")
			}
			doc.Find("*").Each(func(_ int, s *goquery.Selection) {
				for _, a := range s.Nodes[0].Attr {
					if strings.HasPrefix(strings.ToLower(a.Key), "on") {
						t.Errorf("<%s> has an inline event handler %s", goquery.NodeName(s), a.Key)
					}
					if v := strings.ToLower(strings.TrimSpace(a.Val)); strings.HasPrefix(v, "javascript:") {
						t.Errorf("<%s %s> is a script URL", goquery.NodeName(s), a.Key)
					}
				}
			})
		})
	}
}

func ptr[T any](v T) *T { return &v }
