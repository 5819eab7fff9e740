package views

import (
	"encoding/json"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

const (
	adminSABase  = "/admin/service-accounts"
	portalSABase = "/service-accounts"
	// hostileSA is attacker text with both quotes, for names, emails and
	// route names on the service account pages.
	hostileSA = `<script>alert(1)</script>"'`
	// sampleJWT stands for a token: three base64url parts.
	sampleJWT = "eyJhbGciOiJFUzI1NiIsInR5cCI6ImRyYXdicmlkZ2Utc2Erand0In0.eyJzdWIiOiI3In0.c2lnbmF0dXJl"
)

// sampleServiceAccounts covers every status, a running and a finished
// grace period, no routes and some, and text made to break out.
func sampleServiceAccounts(name string) []ServiceAccountRow {
	return []ServiceAccountRow{
		{ID: 7, Name: "ci-deploy", Description: "GitHub Actions, deploy workflow", UserEmail: "deploy-bot@company.com", CreatedBy: "alice@company.com",
			CreatedAt: at("2026-02-01T10:00:00Z"), ExpiresAt: ptime("2026-05-02T10:00:00Z"), LastUsedAt: ptime("2026-03-02T11:40:00Z"),
			PreviousValidUntil: ptime("2026-03-02T13:00:00Z"), Status: ServiceAccountActive, Routes: []string{"GitHub", "Linear"}},
		{ID: 8, Name: "nightly-agent", UserEmail: "bob@company.com", CreatedBy: "bob@company.com",
			CreatedAt: at("2026-02-27T08:00:00Z"), PreviousValidUntil: ptime("2026-03-01T08:00:00Z"), Status: ServiceAccountActive},
		{ID: 9, Name: "old-ci", Description: "Jenkins", UserEmail: "deploy-bot@company.com", CreatedBy: "carol@company.com",
			CreatedAt: at("2025-11-02T08:00:00Z"), ExpiresAt: ptime("2026-02-28T08:00:00Z"), LastUsedAt: ptime("2026-02-27T23:00:00Z"), Status: ServiceAccountExpired},
		{ID: 10, Name: "leaked", UserEmail: "bob@company.com", CreatedBy: "alice@company.com",
			CreatedAt: at("2026-01-15T08:00:00Z"), RevokedAt: ptime("2026-03-01T09:30:00Z"), Status: ServiceAccountRevoked, Routes: []string{"Docs"}},
		{ID: 11, Name: name, Description: name, UserEmail: name, CreatedBy: name, CreatedAt: at("2026-03-02T11:00:00Z"),
			ExpiresAt: ptime("2026-03-09T11:00:00Z"), Status: ServiceAccountActive, Routes: []string{name}},
	}
}

// sampleRouteOptions are routes to restrict an account to, one of them
// hostile.
func sampleRouteOptions(name string) []RouteOption {
	return []RouteOption{
		{ID: 1, Name: "GitHub", URL: "http://github.localhost:8080/mcp"},
		{ID: 2, Name: "Linear", URL: "http://linear.localhost:8080/mcp"},
		{ID: 3, Name: name, URL: `http://evil.localhost:8080/it's/"x"/` + name},
	}
}

// saAdminProps is the console list with the given name in every field a
// person types.
func saAdminProps(name string, flashes ...Flash) ServiceAccountsProps {
	return ServiceAccountsProps{
		Page: page(SectionServiceAccounts, adminViewer(), flashes...), Admin: true, Base: adminSABase,
		Query: name, User: name, Status: ServiceAccountActive,
		Accounts:   sampleServiceAccounts(name),
		Pagination: Pagination{Page: 1, PerPage: 25, Total: 5},
		Now:        portalNow,
		Form:       ServiceAccountForm{Name: name, Description: name, UserEmail: name, Expiry: "date", ExpiryDate: "2026-04-01", RouteIDs: []uint{3}},
		Errors:     map[string]string{"name": name, "description": name, "user": name, "expires_at": name, "routes": name},
		Routes:     sampleRouteOptions(name),
	}
}

// saPortalProps is the portal list of a user who may create their own.
func saPortalProps(name string, flashes ...Flash) ServiceAccountsProps {
	p := page(SectionPortalServiceAccounts, userViewer(), flashes...)
	p.ServiceAccountsInPortal = true
	accounts := sampleServiceAccounts(name)
	for i := range accounts {
		accounts[i].UserEmail, accounts[i].CreatedBy = "bob@company.com", "bob@company.com"
	}
	return ServiceAccountsProps{
		Page: p, Base: portalSABase, Query: name, Accounts: accounts, Now: portalNow, SelfService: true,
		Pagination: Pagination{Page: 2, PerPage: 5, Total: 12, PrevURL: "/service-accounts?page=1", NextURL: "/service-accounts?page=3"},
		Form:       ServiceAccountForm{Name: name, Expiry: "90"},
		Routes:     sampleRouteOptions(name),
	}
}

// saTokenProps is the token page after a rotation with a grace period.
func saTokenProps(name string, flashes ...Flash) ServiceAccountTokenProps {
	account := sampleServiceAccounts(name)[4]
	return ServiceAccountTokenProps{
		Page: page(SectionServiceAccounts, adminViewer(), flashes...), Base: adminSABase,
		Account: account, Token: sampleJWT, Routes: sampleRouteOptions(name),
		Rotated: true, GraceUntil: ptime("2026-03-03T12:00:00Z"), Now: portalNow,
	}
}

// serviceAccountPages are the service account pages for allPages.
func serviceAccountPages() map[string]templ.Component {
	flash := Flash{Kind: FlashError, Message: hostile}
	portalEmpty := page(SectionPortalServiceAccounts, userViewer(), flash)
	portalEmpty.ServiceAccountsInPortal = true
	created := saTokenProps(hostile, flash)
	created.Rotated, created.GraceUntil, created.Routes = false, nil, nil
	created.Page = portalEmpty
	created.Base = portalSABase
	return map[string]templ.Component{
		"service-accounts":        ServiceAccountsPage(saAdminProps(hostile, flash)),
		"service-accounts-portal": ServiceAccountsPage(saPortalProps(hostile, flash)),
		"service-accounts-empty":  ServiceAccountsPage(ServiceAccountsProps{Page: page(SectionServiceAccounts, adminViewer(), flash), Admin: true, Base: adminSABase}),
		"service-accounts-portal-empty": ServiceAccountsPage(ServiceAccountsProps{Page: portalEmpty, Base: portalSABase, SelfService: true,
			Routes: sampleRouteOptions(hostile), Status: ServiceAccountRevoked}),
		"service-account-token":         ServiceAccountTokenPage(saTokenProps(hostile, flash)),
		"service-account-token-created": ServiceAccountTokenPage(created),
	}
}

// saRow is the list row of one account.
func saRow(t *testing.T, doc *goquery.Document, id uint) *goquery.Selection {
	t.Helper()
	return mustOne(t, doc, testid("sa-row")+`[data-sa-id="`+idString(id)+`"]`)
}

func TestServiceAccountRows(t *testing.T) {
	doc, _ := render(t, ServiceAccountsPage(saAdminProps(hostileSA)))
	tests := []struct {
		id      uint
		status  string
		badge   string
		actions bool
		expires string
		used    string
		routes  string
	}{
		{7, "active", "badge-success", true, "Expires on 2 May 2026", "20 minutes ago", "GitHub Linear"},
		{8, "active", "badge-success", true, "Never expires", "Never", "All routes"},
		{9, "expired", "badge-warning", false, "Expired 2 days ago", "2 days ago", "All routes"},
		{10, "revoked", "badge-neutral", false, "", "Never", "Docs"},
	}
	for _, tt := range tests {
		row := saRow(t, doc, tt.id)
		b := row.Find(testid("sa-status"))
		if text(b) != tt.status || !b.HasClass(tt.badge) {
			t.Errorf("account %d: status %q %v, want %q %s", tt.id, text(b), b.AttrOr("class", ""), tt.status, tt.badge)
		}
		if got := row.Find(testid("sa-actions")).Length() == 1; got != tt.actions {
			t.Errorf("account %d: actions shown = %v, want %v", tt.id, got, tt.actions)
		}
		if !tt.actions && row.Find("form, details, button").Length() != 0 {
			t.Errorf("account %d (%s) offers an action", tt.id, tt.status)
		}
		for id, want := range map[string]string{"sa-expires": tt.expires, "sa-last-used": tt.used, "sa-routes": tt.routes} {
			el := row.Find(testid(id))
			got := text(el)
			if el.Is("ul") {
				got = items(el)
			}
			if got != want {
				t.Errorf("account %d: %s = %q, want %q", tt.id, id, got, want)
			}
		}
	}

	// An active account: Rotate asks how long the old token may live,
	// Revoke asks first; both post under the base.
	row := saRow(t, doc, 7)
	rotate := row.Find("details" + testid("confirm-rotate"))
	if action, _ := rotate.Find("form").Attr("action"); action != adminSABase+"/7/rotate" {
		t.Errorf("rotate posts to %q", action)
	}
	var graces, labels []string
	rotate.Find(`select[name="grace"] option`).Each(func(_ int, o *goquery.Selection) {
		graces = append(graces, o.AttrOr("value", ""))
		labels = append(labels, text(o))
	})
	if want := []string{"0", "3600", "86400", "604800"}; !reflect.DeepEqual(graces, want) {
		t.Errorf("grace values %q, want %q", graces, want)
	}
	if labels[0] != "Stop the old token now" || !strings.HasSuffix(labels[1], "after 1 hour") || !strings.HasSuffix(labels[3], "after 7 days") {
		t.Errorf("grace labels %q", labels)
	}
	if id := rotate.Find("select").AttrOr("id", ""); rotate.Find(`label[for="`+id+`"]`).Length() != 1 {
		t.Error("grace select has no label")
	}
	revoke := row.Find("details[data-confirm]" + testid("confirm-revoke"))
	if action, _ := revoke.Find("form").Attr("action"); action != adminSABase+"/7/revoke" {
		t.Errorf("revoke posts to %q", action)
	}
	if revoke.Find("button.btn-danger[data-confirm-submit]").Length() != 1 {
		t.Error("revoke has no danger submit")
	}

	// The old token's grace period shows while it runs, not after.
	if got := text(row.Find(testid("sa-grace"))); got != "Old token works until 2 Mar 2026 13:00 UTC" {
		t.Errorf("grace note = %q", got)
	}
	if saRow(t, doc, 8).Find(testid("sa-grace")).Length() != 0 {
		t.Error("a finished grace period is shown")
	}
	if got := text(saRow(t, doc, 10).Find(testid("sa-revoked-at"))); got != "Revoked 26 hours ago" {
		t.Errorf("revoked at = %q", got)
	}
}

func TestServiceAccountsAdminOnlyParts(t *testing.T) {
	admin, _ := render(t, ServiceAccountsPage(saAdminProps("x")))
	portal, _ := render(t, ServiceAccountsPage(saPortalProps("x")))

	for _, sel := range []string{`input[name="user"]`, testid("sa-user"), testid("sa-created-by"), testid("sa-user-filter"), testid("sa-self-service-hint")} {
		if admin.Find(sel).Length() == 0 {
			t.Errorf("console lacks %s", sel)
		}
		if portal.Find(sel).Length() != 0 {
			t.Errorf("portal shows %s", sel)
		}
	}
	if got := text(admin.Find(testid("sa-created-by")).First()); got != "by alice@company.com" {
		t.Errorf("created by = %q", got)
	}
	if href, _ := mustOne(t, admin, testid("sa-settings-link")).Attr("href"); href != "/admin/settings" {
		t.Errorf("self-service hint links to %q", href)
	}
	if portal.Find(`a[href^="/admin"], form[action^="/admin"]`).Length() != 0 {
		t.Error("portal page leads into /admin")
	}
	if got := text(mustOne(t, portal, testid("sa-acts-as-you"))); !strings.Contains(got, "Acts as you, bob@company.com") {
		t.Errorf("portal form says %q", got)
	}
	if got := text(mustOne(t, portal, ".lead")); !strings.Contains(got, "Each acts as you") {
		t.Errorf("portal lead = %q", got)
	}
	if got := text(mustOne(t, admin, ".lead")); got != "Long-lived tokens for CI and agents. Each acts as one user, with that user's policies and upstream connections." {
		t.Errorf("console lead = %q", got)
	}

	// With self-service on, admins get no hint.
	p := saAdminProps("x")
	p.SelfService = true
	doc, _ := render(t, ServiceAccountsPage(p))
	if doc.Find(testid("sa-self-service-hint")).Length() != 0 {
		t.Error("self-service hint shown while self-service is on")
	}
	// With it off, the portal offers no form.
	p = saPortalProps("x")
	p.SelfService, p.Accounts, p.Query = false, nil, ""
	doc, _ = render(t, ServiceAccountsPage(p))
	if doc.Find("form[method=post]").Length() != 1 { // sign-out only
		t.Error("portal offers to create while self-service is off")
	}
	if got := text(mustOne(t, doc, testid("empty-state"))); !strings.Contains(got, "Ask an administrator") {
		t.Errorf("empty state = %q", got)
	}
}

func TestServiceAccountFiltersRoundTrip(t *testing.T) {
	p := saAdminProps(hostileSA)
	p.Status = ServiceAccountExpired
	doc, _ := render(t, ServiceAccountsPage(p))
	form := mustOne(t, doc, "form"+testid("sa-filter"))
	if m, a := form.AttrOr("method", ""), form.AttrOr("action", ""); m != "get" || a != adminSABase {
		t.Errorf("filter form %s %s", m, a)
	}
	if v := form.Find(`input[name="q"]`).AttrOr("value", ""); v != hostileSA {
		t.Errorf("q = %q", v)
	}
	if v := form.Find(`input[name="user"]`).AttrOr("value", ""); v != hostileSA {
		t.Errorf("user = %q", v)
	}
	selected := form.Find(`select[name="status"] option[selected]`)
	if selected.Length() != 1 || selected.AttrOr("value", "") != "expired" {
		t.Errorf("status selected: %d, %q", selected.Length(), selected.AttrOr("value", ""))
	}
	var statuses []string
	form.Find(`select[name="status"] option`).Each(func(_ int, o *goquery.Selection) { statuses = append(statuses, o.AttrOr("value", "")) })
	if want := []string{"", "active", "expired", "revoked"}; !reflect.DeepEqual(statuses, want) {
		t.Errorf("status choices %q", statuses)
	}
	if href, _ := mustOne(t, doc, testid("clear-filters")).Attr("href"); href != adminSABase {
		t.Errorf("clear links to %q", href)
	}

	// No filter: nothing to clear, "any" chosen.
	p = saAdminProps("x")
	p.Query, p.User, p.Status = "", "", ""
	doc, _ = render(t, ServiceAccountsPage(p))
	if doc.Find(testid("clear-filters")).Length() != 0 || doc.Find(`select[name="status"] option[selected]`).Length() != 0 {
		t.Error("unfiltered list offers to clear, or picks a status")
	}

	// Filtered to nothing: say so, and offer to clear.
	p.Accounts, p.Status = nil, ServiceAccountRevoked
	doc, _ = render(t, ServiceAccountsPage(p))
	if got := text(mustOne(t, doc, testid("empty-state")+" h2")); got != "No service accounts match these filters" {
		t.Errorf("empty filtered = %q", got)
	}
	mustOne(t, doc, testid("sa-filter"))
}

func TestServiceAccountFormsPostUnderBase(t *testing.T) {
	for name, c := range map[string]templ.Component{
		adminSABase:            ServiceAccountsPage(saAdminProps(hostileSA)),
		portalSABase:           ServiceAccountsPage(saPortalProps(hostileSA)),
		adminSABase + " token": ServiceAccountTokenPage(saTokenProps(hostileSA)),
	} {
		base := strings.TrimSuffix(name, " token")
		doc, _ := render(t, c)
		doc.Find("main form").Each(func(_ int, f *goquery.Selection) {
			action := f.AttrOr("action", "")
			if action != base && !strings.HasPrefix(action, base+"/") {
				t.Errorf("%s: form posts to %q", name, action)
			}
			if f.AttrOr("method", "") == "post" && f.Find(`input[name="_csrf"]`).AttrOr("value", "") != testCSRF {
				t.Errorf("%s: form %s has no CSRF field", name, action)
			}
		})
		if href, _ := doc.Find(testid("sa-done")).Attr("href"); strings.HasSuffix(name, "token") && href != base {
			t.Errorf("Done leads to %q", href)
		}
	}
	doc, _ := render(t, ServiceAccountsPage(saPortalProps("x")))
	if a := mustOne(t, doc, "form"+testid("sa-create-form")).AttrOr("action", ""); a != portalSABase {
		t.Errorf("portal create posts to %q", a)
	}
}

func TestServiceAccountCreateForm(t *testing.T) {
	p := saAdminProps("x")
	p.Form = ServiceAccountForm{Name: "ci", Description: "d", UserEmail: "bot@company.com", Expiry: "date", ExpiryDate: "2026-04-01", RouteIDs: []uint{1, 3}}
	p.Errors = map[string]string{"name": "Name is taken.", "user": "No such user.", "expires_at": "Pick a date after today.", "routes": "Route 9 is gone."}
	doc, _ := render(t, ServiceAccountsPage(p))
	if _, open := mustOne(t, doc, "details"+testid("sa-create")).Attr("open"); !open {
		t.Error("form with errors starts folded")
	}
	form := mustOne(t, doc, "form"+testid("sa-create-form"))
	for name, want := range map[string]string{"name": "ci", "description": "d", "user": "bot@company.com", "expiry_date": "2026-04-01"} {
		if v := form.Find(`input[name="`+name+`"]`).AttrOr("value", ""); v != want {
			t.Errorf("%s = %q, want %q", name, v, want)
		}
	}
	user := form.Find(`input[name="user"]`)
	if user.AttrOr("type", "") != "email" || user.AttrOr("required", "x") == "x" {
		t.Errorf("user input: type %q, required %v", user.AttrOr("type", ""), user.AttrOr("required", "x") != "x")
	}
	if v := form.Find(`select[name="expiry"] option[selected]`).AttrOr("value", ""); v != "date" {
		t.Errorf("expiry selected = %q", v)
	}
	var expiries []string
	form.Find(`select[name="expiry"] option`).Each(func(_ int, o *goquery.Selection) { expiries = append(expiries, o.AttrOr("value", "")) })
	if want := []string{"never", "30", "90", "365", "date"}; !reflect.DeepEqual(expiries, want) {
		t.Errorf("expiry choices %q", expiries)
	}
	if form.Find(`input[type="date"][name="expiry_date"]`).AttrOr("min", "") != "2026-03-03" {
		t.Error("date input does not start tomorrow")
	}
	var checked []string
	form.Find(`input[name="routes"]:checked`).Each(func(_ int, c *goquery.Selection) { checked = append(checked, c.AttrOr("value", "")) })
	if !reflect.DeepEqual(checked, []string{"1", "3"}) {
		t.Errorf("routes checked %q", checked)
	}
	if !strings.Contains(text(form), "Leave all unchecked for every route the user may use.") && p.Errors["routes"] == "" {
		t.Error("routes hint missing")
	}
	for key, want := range p.Errors {
		if got := text(mustOne(t, doc, testid("field-error-"+key))); got != want {
			t.Errorf("error %s = %q, want %q", key, got, want)
		}
		described := doc.Find(`[aria-describedby="` + fieldErrorID(key) + `"]`)
		if described.Length() == 0 {
			t.Errorf("nothing is described by the %s error", key)
		}
	}
	if form.Find(`[aria-invalid="true"]`).Length() < 3 {
		t.Error("bad fields are not marked invalid")
	}

	// Accounts and no errors: the form folds away, its hint shows.
	p.Errors, p.Form = nil, ServiceAccountForm{}
	doc, _ = render(t, ServiceAccountsPage(p))
	if _, open := mustOne(t, doc, "details"+testid("sa-create")).Attr("open"); open {
		t.Error("form starts open above a list")
	}
	if got := text(mustOne(t, doc, `[id="routes-hint"]`)); got != "Leave all unchecked for every route the user may use." {
		t.Errorf("routes hint = %q", got)
	}
	// Nothing yet: the form is open, and the empty state points at it.
	p.Accounts, p.Query, p.User, p.Status = nil, "", "", ""
	doc, _ = render(t, ServiceAccountsPage(p))
	if _, open := mustOne(t, doc, "details"+testid("sa-create")).Attr("open"); !open {
		t.Error("form folded on an empty page")
	}
	empty := mustOne(t, doc, testid("empty-state"))
	if got := text(empty.Find("h2")); got != "No service accounts yet" || !strings.Contains(text(empty), "form above") {
		t.Errorf("empty state = %q", text(empty))
	}
	if doc.Find(testid("sa-filter")).Length() != 0 {
		t.Error("filters over an empty list")
	}
}

func TestServiceAccountTokenPage(t *testing.T) {
	p := saTokenProps("Linear")
	p.Routes = p.Routes[1:2]
	doc, html := render(t, ServiceAccountTokenPage(p))
	for id, want := range map[string]string{
		"sa-token":        sampleJWT,
		"sa-token-header": "Authorization: Bearer Drawbridge-" + sampleJWT,
		"sa-token-export": "export DRAWBRIDGE_SERVICE_ACCOUNT_JWT='" + sampleJWT + "'",
	} {
		el := mustOne(t, doc, "code"+testid(id))
		if got := el.Text(); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
		if mustOne(t, doc, `button[data-copy][data-copy-target="`+id+`"]`).Length() != 1 {
			t.Errorf("%s has no copy button", id)
		}
	}
	if got := text(mustOne(t, doc, testid("sa-token-warning"))); got != "Copy this token now. Drawbridge keeps only its fingerprint and can never show it again." {
		t.Errorf("warning = %q", got)
	}
	// The token is the text of its three blocks, and nowhere else.
	if n := strings.Count(html, sampleJWT); n != 3 {
		t.Errorf("token appears %d times in the page, want 3", n)
	}
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			if strings.Contains(a.Val, sampleJWT) || strings.Contains(a.Val, "eyJ") {
				t.Errorf("<%s %s> holds the token", goquery.NodeName(s), a.Key)
			}
		}
	})

	setup := mustOne(t, doc, testid("sa-route-setup"))
	if got := text(setup.Find(testid("sa-setup-route"))); got != "Linear" {
		t.Errorf("setup for %q", got)
	}
	var tabs []string
	setup.Find(testid("setup-tab")).Each(func(_ int, s *goquery.Selection) { tabs = append(tabs, s.AttrOr("value", "")) })
	if !reflect.DeepEqual(tabs, []string{"claude-code", "mcp-json", "codex", "curl"}) {
		t.Errorf("tabs %q", tabs)
	}
	var codes []string
	setup.Find("code" + testid("snippet-code")).Each(func(_ int, s *goquery.Selection) { codes = append(codes, s.Text()) })
	u := "http://linear.localhost:8080/mcp"
	want := []string{
		`claude mcp add --transport http linear http://linear.localhost:8080/mcp --header "Authorization: Bearer Drawbridge-${DRAWBRIDGE_SERVICE_ACCOUNT_JWT}"`,
		mcpJSONTokenSnippet("linear", u),
		codexTokenSnippet("linear", u),
		`export DRAWBRIDGE_SERVICE_ACCOUNT_TOKEN="Drawbridge-$DRAWBRIDGE_SERVICE_ACCOUNT_JWT"`,
		curlTokenSnippet(u),
	}
	if !reflect.DeepEqual(codes, want) {
		t.Errorf("snippets:\n%s\nwant:\n%s", strings.Join(codes, "\n---\n"), strings.Join(want, "\n---\n"))
	}
	setup.Find("code" + testid("snippet-code")).Each(func(_ int, s *goquery.Selection) {
		id := s.AttrOr("id", "")
		if doc.Find(`button[data-copy-target="`+id+`"]`).Length() != 1 {
			t.Errorf("snippet %s has no copy button", id)
		}
	})

	// Rotated with a grace period, and at once.
	if got := text(mustOne(t, doc, testid("sa-rotated-note"))); got != "The old token keeps working until 3 Mar 2026 12:00 UTC (in 24 hours), then stops: put the new one in its place before then." {
		t.Errorf("rotated note = %q", got)
	}
	if got := text(mustOne(t, doc, "h1")); got != "New token for Linear" {
		t.Errorf("heading = %q", got)
	}
	p.GraceUntil = nil
	doc, _ = render(t, ServiceAccountTokenPage(p))
	if got := text(mustOne(t, doc, testid("sa-rotated-note"))); got != "The old token stopped working at once." {
		t.Errorf("rotated note = %q", got)
	}

	// Created, and no route to set up.
	p.Rotated, p.Routes = false, nil
	doc, _ = render(t, ServiceAccountTokenPage(p))
	if doc.Find(testid("sa-rotated-note")).Length() != 0 {
		t.Error("a new account talks of an old token")
	}
	if got := text(mustOne(t, doc, "h1")); got != "Service account created" {
		t.Errorf("heading = %q", got)
	}
	if got := text(mustOne(t, doc, ".lead")); got != "Linear acts as Linear. It expires in 6 days." {
		t.Errorf("lead = %q", got)
	}
	if got := text(mustOne(t, doc, testid("sa-no-routes"))); !strings.Contains(got, "may not use any MCP server route yet") {
		t.Errorf("no routes = %q", got)
	}
	if doc.Find(testid("sa-route-setup")).Length() != 0 {
		t.Error("setups without routes")
	}
}

// Text made to break out comes out as text everywhere: cells, inputs,
// confirmation questions, setups.
func TestServiceAccountHostileText(t *testing.T) {
	pages := map[string]templ.Component{
		"admin":  ServiceAccountsPage(saAdminProps(hostileSA)),
		"portal": ServiceAccountsPage(saPortalProps(hostileSA)),
		"token":  ServiceAccountTokenPage(saTokenProps(hostileSA)),
	}
	for name, c := range pages {
		doc, html := render(t, c)
		if strings.Contains(html, "<script>alert") || doc.Find("script").Length() != 1 {
			t.Errorf("%s: hostile text rendered as markup", name)
		}
		if !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;") {
			t.Errorf("%s: hostile text not rendered escaped", name)
		}
	}

	doc, _ := render(t, pages["admin"])
	row := saRow(t, doc, 11)
	for _, id := range []string{"sa-name", "sa-description", "sa-user"} {
		if got := row.Find(testid(id)).Text(); got != hostileSA {
			t.Errorf("%s = %q", id, got)
		}
	}
	if got := row.Find(testid("sa-routes") + " li").Text(); got != hostileSA {
		t.Errorf("route name = %q", got)
	}
	if q := row.Find(testid("confirm-revoke")).AttrOr("data-confirm", ""); q != "Revoke "+hostileSA+"?" {
		t.Errorf("revoke question = %q", q)
	}
	if q := text(row.Find(testid("confirm-rotate") + " .confirm-title")); q != "Rotate "+hostileSA+"?" {
		t.Errorf("rotate question = %q", q)
	}
	if got := text(mustOne(t, doc, testid("sa-route-choices")+" li:last-child .check-title")); got != hostileSA {
		t.Errorf("route choice = %q", got)
	}

	doc, _ = render(t, pages["token"])
	if got := text(mustOne(t, doc, "h1")); got != "New token for "+hostileSA {
		t.Errorf("heading = %q", got)
	}
	setup := doc.Find(testid("sa-route-setup")).Last()
	if got := setup.Find(testid("sa-setup-route")).Text(); got != hostileSA {
		t.Errorf("setup route = %q", got)
	}
	u := sampleRouteOptions(hostileSA)[2].URL
	if got := setup.Find("code" + testid("snippet-code")).First().Text(); got != claudeCodeTokenSnippet("script-alert-1-script", u) {
		t.Errorf("hostile setup = %q", got)
	}
}

func TestPortalNavServiceAccounts(t *testing.T) {
	p := saPortalProps("x")
	doc, _ := render(t, ServiceAccountsPage(p))
	nav := mustOne(t, doc, testid("portal-nav"))
	var links []string
	nav.Find("a").Each(func(_ int, a *goquery.Selection) { links = append(links, text(a)+" "+a.AttrOr("href", "")) })
	if want := []string{"MCP servers /", "Authorized apps /authorizations", "Service accounts /service-accounts"}; !reflect.DeepEqual(links, want) {
		t.Errorf("portal nav %q", links)
	}
	if got := text(mustOne(t, doc, testid("portal-nav")+` [aria-current="page"]`)); got != "Service accounts" {
		t.Errorf("current = %q", got)
	}

	// Off: no link; on another page: not current.
	pg := page(SectionPortal, userViewer())
	doc, _ = render(t, PortalPage(PortalProps{Page: pg}))
	if doc.Find(`a[href="/service-accounts"]`).Length() != 0 {
		t.Error("link shown while the setting is off")
	}
	pg.ServiceAccountsInPortal = true
	doc, _ = render(t, PortalPage(PortalProps{Page: pg}))
	if got := text(mustOne(t, doc, testid("portal-nav")+` [aria-current="page"]`)); got != "MCP servers" {
		t.Errorf("current on the portal = %q", got)
	}

	// The console is not the portal: its navigation is unchanged.
	admin := page(SectionServiceAccounts, adminViewer())
	admin.ServiceAccountsInPortal = true
	doc, _ = render(t, ServiceAccountsPage(ServiceAccountsProps{Page: admin, Admin: true, Base: adminSABase}))
	if doc.Find(testid("portal-nav")).Length() != 0 {
		t.Error("console shows the portal nav")
	}
	if got := mustOne(t, doc, testid("nav")+` [aria-current="page"]`).AttrOr("data-testid", ""); got != "nav-service-accounts" {
		t.Errorf("console current = %q", got)
	}
}

// Snippets: exact text, and the values they carry survive the language
// they land in.

func TestServiceAccountSnippetsExact(t *testing.T) {
	tests := []struct{ name, got, want string }{
		{"claude code", claudeCodeTokenSnippet("github", snippetURL),
			`claude mcp add --transport http github http://github.localhost:8080/mcp --header "Authorization: Bearer Drawbridge-${DRAWBRIDGE_SERVICE_ACCOUNT_JWT}"`},
		{".mcp.json", mcpJSONTokenSnippet("github", snippetURL), `{
  "mcpServers": {
    "github": {
      "type": "http",
      "url": "http://github.localhost:8080/mcp",
      "headers": {
        "Authorization": "Bearer Drawbridge-${DRAWBRIDGE_SERVICE_ACCOUNT_JWT}"
      }
    }
  }
}`},
		{"codex", codexTokenSnippet("github", snippetURL), `[mcp_servers.github]
url = "http://github.localhost:8080/mcp"
bearer_token_env_var = "DRAWBRIDGE_SERVICE_ACCOUNT_TOKEN"`},
		{"codex export", codexTokenExport(), `export DRAWBRIDGE_SERVICE_ACCOUNT_TOKEN="Drawbridge-$DRAWBRIDGE_SERVICE_ACCOUNT_JWT"`},
		{"curl", curlTokenSnippet(snippetURL), `curl -X POST http://github.localhost:8080/mcp \
  -H "Authorization: Bearer Drawbridge-$DRAWBRIDGE_SERVICE_ACCOUNT_JWT" \
  -H 'Content-Type: application/json' \
  -H 'Accept: application/json, text/event-stream' \
  -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'`},
		{"header", serviceAccountHeader("a.b.c"), "Authorization: Bearer Drawbridge-a.b.c"},
		{"export", serviceAccountExport("a.b.c"), "export DRAWBRIDGE_SERVICE_ACCOUNT_JWT='a.b.c'"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s:\n%s\nwant:\n%s", tt.name, tt.got, tt.want)
		}
	}
	var keys []string
	for _, s := range serviceAccountSetups(`GitHub "prod"`, snippetURL) {
		keys = append(keys, s.Key)
		if s.Key != "curl" && !strings.Contains(s.Code, "github-prod") {
			t.Errorf("%s setup does not name github-prod:\n%s", s.Key, s.Code)
		}
		if strings.Contains(s.Code+s.Then, "eyJ") {
			t.Errorf("%s setup holds a token", s.Key)
		}
	}
	if !reflect.DeepEqual(keys, []string{"claude-code", "mcp-json", "codex", "curl"}) {
		t.Errorf("setups %q", keys)
	}
}

// shellWordsWith asks a real shell what words a line makes, with
// $DRAWBRIDGE_SERVICE_ACCOUNT_JWT set to jwt.
func shellWordsWith(t *testing.T, jwt, line string) []string {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	cmd := exec.Command(sh, "-c", `for w in `+line+`; do printf '%s\0' "$w"; done`)
	cmd.Env = []string{"DRAWBRIDGE_SERVICE_ACCOUNT_JWT=" + jwt}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sh %q: %v", line, err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

func TestServiceAccountShellSnippetsQuote(t *testing.T) {
	for _, u := range hostileURLs {
		line := strings.TrimPrefix(claudeCodeTokenSnippet("srv", u), "claude ")
		want := []string{"mcp", "add", "--transport", "http", "srv", u, "--header", "Authorization: Bearer Drawbridge-" + sampleJWT}
		if got := shellWordsWith(t, sampleJWT, line); !reflect.DeepEqual(got, want) {
			t.Errorf("claude, URL %q: words %q", u, got)
		}

		line = strings.ReplaceAll(strings.TrimPrefix(curlTokenSnippet(u), "curl "), "\\\n", "")
		want = []string{"-X", "POST", u, "-H", "Authorization: Bearer Drawbridge-" + sampleJWT,
			"-H", "Content-Type: application/json", "-H", "Accept: application/json, text/event-stream",
			"-d", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`}
		if got := shellWordsWith(t, sampleJWT, line); !reflect.DeepEqual(got, want) {
			t.Errorf("curl, URL %q: words %q", u, got)
		}
	}
	for _, tok := range []string{sampleJWT, "it's", `a"b$c`} {
		got := shellWordsWith(t, "", `"$(`+serviceAccountExport(tok)+`; printf %s "$DRAWBRIDGE_SERVICE_ACCOUNT_JWT")"`)
		if len(got) != 1 || got[0] != tok {
			t.Errorf("export of %q sets %q", tok, got)
		}
	}
	got := shellWordsWith(t, sampleJWT, `"$(`+codexTokenExport()+`; printf %s "$DRAWBRIDGE_SERVICE_ACCOUNT_TOKEN")"`)
	if len(got) != 1 || got[0] != "Drawbridge-"+sampleJWT {
		t.Errorf("codex variable = %q", got)
	}
}

func TestServiceAccountConfigSnippetsCarryValues(t *testing.T) {
	for _, u := range hostileURLs {
		var doc struct {
			MCPServers map[string]struct {
				Type, URL string
				Headers   map[string]string
			} `json:"mcpServers"`
		}
		s := mcpJSONTokenSnippet("srv", u)
		if err := json.Unmarshal([]byte(s), &doc); err != nil {
			t.Fatalf("invalid JSON %s: %v", s, err)
		}
		srv := doc.MCPServers["srv"]
		if srv.URL != u || srv.Type != "http" || srv.Headers["Authorization"] != "Bearer Drawbridge-${DRAWBRIDGE_SERVICE_ACCOUNT_JWT}" {
			t.Errorf("URL %q: %+v from\n%s", u, srv, s)
		}

		lines := strings.Split(codexTokenSnippet("srv", u), "\n")
		if len(lines) != 3 || lines[0] != "[mcp_servers.srv]" || lines[2] != `bearer_token_env_var = "DRAWBRIDGE_SERVICE_ACCOUNT_TOKEN"` {
			t.Fatalf("codex for %q: %q", u, lines)
		}
		if got, err := strconv.Unquote(strings.TrimPrefix(lines[1], "url = ")); err != nil || got != u {
			t.Errorf("codex URL %q came back as %q (%v)", u, got, err)
		}
	}
}

// graceRunning with no now counts any end as running, so that a page
// rendered without a clock still warns.
func TestGraceRunning(t *testing.T) {
	end := portalNow.Add(time.Hour)
	for _, tt := range []struct {
		until *time.Time
		now   time.Time
		want  bool
	}{
		{nil, portalNow, false},
		{&end, portalNow, true},
		{&end, end, false},
		{&end, time.Time{}, true},
	} {
		if got := graceRunning(tt.until, tt.now); got != tt.want {
			t.Errorf("graceRunning(%v, %v) = %v", tt.until, tt.now, got)
		}
	}
}
