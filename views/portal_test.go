package views

import (
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// portalNow is the moment the sample times are relative to.
var portalNow = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// hostileQuoted is attacker text with both kinds of quote, for attributes
// and snippets.
const hostileQuoted = `<script>alert(1)</script> "Bob's" ünï`

// samplePortalServers covers every connection state and route kind, with
// hostile text wherever a route or an account can carry it.
func samplePortalServers() []PortalServer {
	return []PortalServer{
		{RouteID: 11, Name: "GitHub", Description: "Repos and issues", URL: "http://github.localhost:8080/mcp", Kind: "mcp_server",
			NeedsOAuth: true, AppName: "GitHub", Status: ConnectionConnected, Account: "octocat",
			ExpiresAt: ptime("2026-03-02T12:45:00Z"), LastUsed: ptime("2026-03-02T09:00:00Z"),
			SharedWith: []string{"GitHub (read-only)", "Code search"}, ConnectURL: "http://github.localhost:8080/.drawbridge/mcp/connect?redirect_url=http%3A%2F%2Fconsole.localhost%3A8080%2F"},
		{RouteID: 12, Name: "Linear", URL: "http://linear.localhost:8080/mcp", Kind: "mcp_server",
			NeedsOAuth: true, AppName: "Linear", Status: ConnectionNotConnected, ConnectURL: "http://linear.localhost:8080/.drawbridge/mcp/connect"},
		{RouteID: 13, Name: "Notion", Description: "Team wiki", URL: "http://notion.localhost:8080/mcp", Kind: "mcp_server",
			NeedsOAuth: true, AppName: "Notion", Status: ConnectionNeedsReconnect, Account: "ada@company.com",
			LastUsed: ptime("2026-02-27T08:00:00Z"), ConnectURL: "http://notion.localhost:8080/.drawbridge/mcp/connect"},
		{RouteID: 14, Name: "Docs", Description: "Search the handbook", URL: "http://docs.localhost:8080/mcp", Kind: "mcp_server"},
		{RouteID: 15, Name: "Chat", Description: "The company assistant", URL: "http://chat.localhost:8080/", Kind: "mcp_client", LastUsed: ptime("2026-03-02T11:58:30Z")},
		{RouteID: 16, Name: "Grafana", URL: "http://grafana.localhost:8080/", Kind: "http"},
		{RouteID: 17, Name: hostileQuoted, Description: hostileQuoted, URL: `http://evil.localhost:8080/it's/"x"/<script>alert(1)</script>`, Kind: "mcp_server",
			NeedsOAuth: true, AppName: hostileQuoted, Status: ConnectionConnected, Account: hostileQuoted,
			SharedWith: []string{hostileQuoted}, ConnectURL: "javascript:alert(1)"},
	}
}

// sampleConnections covers both states of a connection and missing times.
func sampleConnections() []AppConnectionRow {
	return []AppConnectionRow{
		{UserID: 2, UserEmail: "bob@company.com", Account: "bobby", Status: ConnectionConnected,
			ExpiresAt: ptime("2026-03-02T12:40:00Z"), LastRefreshedAt: ptime("2026-03-02T11:40:00Z"), LastUsedAt: ptime("2026-03-02T11:55:00Z")},
		{UserID: 5, UserEmail: hostile, Account: hostileQuoted, Status: ConnectionNeedsReconnect, LastRefreshedAt: ptime("2026-02-20T10:00:00Z")},
	}
}

func renderPortal(t *testing.T, servers []PortalServer) (*goquery.Document, map[string]*goquery.Selection, string) {
	t.Helper()
	doc, html := render(t, PortalPage(PortalProps{Page: page(SectionPortal, userViewer()), Servers: servers, Now: portalNow}))
	cards := map[string]*goquery.Selection{}
	doc.Find(testid("portal-server")).Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("data-route-id")
		cards[id] = s
	})
	if len(cards) != len(servers) {
		t.Fatalf("%d cards, want %d", len(cards), len(servers))
	}
	return doc, cards, html
}

func TestPortalConnectionStates(t *testing.T) {
	_, cards, _ := renderPortal(t, samplePortalServers())
	tests := []struct {
		id, status, badge     string
		connect, refresh, off bool
	}{
		{"11", "connected", "Connected", false, true, true},
		{"12", "not_connected", "Not connected", true, false, false},
		{"13", "needs_reconnect", "Needs re-Connect", true, false, false},
		{"14", "", "Ready", false, false, false},
		{"15", "", "Ready", false, false, false},
	}
	for _, tt := range tests {
		card := cards[tt.id]
		if s, _ := card.Attr("data-status"); s != tt.status {
			t.Errorf("route %s: data-status = %q, want %q", tt.id, s, tt.status)
		}
		if got := text(card.Find(testid("server-status"))); got != tt.badge {
			t.Errorf("route %s: badge %q, want %q", tt.id, got, tt.badge)
		}
		connect := card.Find(testid("connect-button"))
		if (connect.Length() == 1) != tt.connect {
			t.Errorf("route %s: %d Connect buttons", tt.id, connect.Length())
		}
		refresh := card.Find("form" + testid("refresh-form"))
		if (refresh.Length() == 1) != tt.refresh {
			t.Errorf("route %s: %d Refresh forms", tt.id, refresh.Length())
		}
		off := card.Find("details" + testid("confirm-disconnect"))
		if (off.Length() == 1) != tt.off {
			t.Errorf("route %s: %d Disconnect confirmations", tt.id, off.Length())
		}
		if (card.Find(testid("connection")).Length() == 1) != (tt.status != "") {
			t.Errorf("route %s: connection panel shown = %v", tt.id, !(tt.status != ""))
		}
		// Both POSTs name the route, beside the CSRF token.
		for _, f := range []*goquery.Selection{refresh, off.Find("form")} {
			if f.Length() == 0 {
				continue
			}
			if v, _ := f.Find(`input[type="hidden"][name="route"]`).Attr("value"); v != tt.id {
				t.Errorf("route %s: form posts route=%q", tt.id, v)
			}
			if v, _ := f.Find(`input[type="hidden"][name="_csrf"]`).Attr("value"); v != testCSRF {
				t.Errorf("route %s: form CSRF = %q", tt.id, v)
			}
			if m, _ := f.Attr("method"); m != "post" {
				t.Errorf("route %s: form method %q", tt.id, m)
			}
		}
	}

	github := cards["11"]
	if a, _ := github.Find("form" + testid("refresh-form")).Attr("action"); a != "/connections/refresh" {
		t.Errorf("refresh action = %q", a)
	}
	if a, _ := github.Find(testid("confirm-disconnect") + " form").Attr("action"); a != "/connections/disconnect" {
		t.Errorf("disconnect action = %q", a)
	}
	for id, want := range map[string]string{
		"connection-account": "Connected to GitHub as octocat",
		"token-expiry":       "Renews automatically. The current token expires in 45 minutes.",
		"last-used":          "Last used 3 hours ago",
	} {
		if got := text(github.Find(testid(id))); got != want {
			t.Errorf("GitHub %s = %q, want %q", id, got, want)
		}
	}
	if dt, _ := github.Find(testid("last-used") + " time").Attr("datetime"); dt != "2026-03-02T09:00:00Z" {
		t.Errorf("last used datetime = %q", dt)
	}

	linear := cards["12"]
	if href, _ := linear.Find(testid("connect-button")).Attr("href"); href != "http://linear.localhost:8080/.drawbridge/mcp/connect" {
		t.Errorf("Linear connect href = %q", href)
	}
	if got := text(linear.Find(testid("last-used"))); got != "Not used yet" {
		t.Errorf("Linear last used = %q", got)
	}

	notion := cards["13"]
	if got := text(notion.Find(testid("connection-problem"))); !strings.Contains(got, "Notion refused the sign-in Drawbridge saved for you") || !strings.Contains(got, "Connect again") {
		t.Errorf("needs re-Connect sentence = %q", got)
	}
	if href, _ := notion.Find(testid("connect-button")).Attr("href"); href != "http://notion.localhost:8080/.drawbridge/mcp/connect" {
		t.Errorf("Notion connect href = %q", href)
	}
	if got := text(notion.Find(testid("last-used"))); got != "Last used 3 days ago" {
		t.Errorf("Notion last used = %q", got)
	}
}

func TestPortalTokenExpired(t *testing.T) {
	s := samplePortalServers()[0]
	s.ExpiresAt = ptime("2026-03-02T10:00:00Z")
	_, cards, _ := renderPortal(t, []PortalServer{s})
	if got := text(cards["11"].Find(testid("token-expiry"))); got != "Renews automatically at your next call. The current token expired 2 hours ago." {
		t.Errorf("expired token = %q", got)
	}
	s.ExpiresAt = nil
	_, cards, _ = renderPortal(t, []PortalServer{s})
	if cards["11"].Find(testid("token-expiry")).Length() != 0 {
		t.Error("unknown expiry shown")
	}
}

// A route that needs a connection but came without a state is not
// connected, and a Connect with no URL is left out rather than broken.
func TestPortalConnectionFallbacks(t *testing.T) {
	_, cards, _ := renderPortal(t, []PortalServer{{RouteID: 1, Name: "X", URL: "http://x.localhost/mcp", Kind: "mcp_server", NeedsOAuth: true}})
	if got := text(cards["1"].Find(testid("server-status"))); got != "Not connected" {
		t.Errorf("badge = %q", got)
	}
	if cards["1"].Find(testid("connect-button")).Length() != 0 {
		t.Error("Connect without a URL")
	}
	if !strings.Contains(text(cards["1"].Find(testid("connection"))), "Sign in to X once") {
		t.Errorf("no app name: %q", text(cards["1"].Find(testid("connection"))))
	}
}

func TestPortalDisconnectNamesSharedRoutes(t *testing.T) {
	_, cards, _ := renderPortal(t, samplePortalServers())
	confirm := cards["11"].Find("details" + testid("confirm-disconnect"))
	if q, _ := confirm.Attr("data-confirm"); q != "Disconnect GitHub?" {
		t.Errorf("question = %q", q)
	}
	msg := text(confirm.Find(".confirm-message"))
	if !strings.Contains(msg, "GitHub is also used by: GitHub (read-only), Code search. They will need Connect again too.") {
		t.Errorf("confirmation = %q", msg)
	}

	alone := samplePortalServers()[0]
	alone.SharedWith = nil
	_, cards, _ = renderPortal(t, []PortalServer{alone})
	if msg := text(cards["11"].Find(".confirm-message")); strings.Contains(msg, "also used by") {
		t.Errorf("confirmation names other routes that do not exist: %q", msg)
	}
}

func TestPortalClientSetup(t *testing.T) {
	doc, cards, _ := renderPortal(t, samplePortalServers())
	github := cards["11"]
	if got := text(github.Find(testid("server-kind"))); got != "MCP server" {
		t.Errorf("kind badge = %q", got)
	}
	setup := github.Find(testid("client-setup"))
	if setup.Length() != 1 {
		t.Fatalf("%d setup sections", setup.Length())
	}
	want := setupSnippets("GitHub", "http://github.localhost:8080/mcp")
	items := setup.Find(testid("setup-snippet"))
	if items.Length() != len(want) {
		t.Fatalf("%d snippets, want %d", items.Length(), len(want))
	}
	items.Each(func(i int, d *goquery.Selection) {
		if k, _ := d.Attr("data-client"); k != want[i].Key {
			t.Errorf("snippet %d is %q, want %q", i, k, want[i].Key)
		}
		code := d.Find("pre code" + testid("snippet-code"))
		if code.Text() != want[i].Code {
			t.Errorf("%s snippet:\n%s\nwant:\n%s", want[i].Key, code.Text(), want[i].Code)
		}
		id, _ := code.Attr("id")
		btn := d.Find("button[data-copy]")
		if target, _ := btn.Attr("data-copy-target"); btn.Length() != 1 || target != id || doc.Find("#"+id).Length() != 1 {
			t.Errorf("%s: copy button targets %q, code id %q", want[i].Key, target, id)
		}
		if _, hidden := btn.Attr("hidden"); !hidden {
			t.Errorf("%s: copy button visible before app.js", want[i].Key)
		}
	})
	if got := text(items.Filter(`[data-client="codex"]`).Find(testid("snippet-lead"))); got != "Codex Add to ~/.codex/config.toml" {
		t.Errorf("codex lead = %q", got)
	}
	// The curl note is beside the snippet, not inside what is copied.
	curl := items.Filter(`[data-client="curl"]`)
	if note := text(curl.Find(testid("snippet-note"))); !strings.Contains(note, "WWW-Authenticate") {
		t.Errorf("curl note = %q", note)
	}
	if strings.Contains(curl.Find("code").Text(), "WWW-Authenticate") {
		t.Error("curl note inside the snippet")
	}
	// The tabs are radio buttons, one group per card, the first checked.
	tabs := setup.Find(`input[type="radio"]` + testid("setup-tab"))
	if tabs.Length() != len(want) {
		t.Fatalf("%d tabs, want %d", tabs.Length(), len(want))
	}
	group, _ := tabs.First().Attr("name")
	tabs.Each(func(i int, r *goquery.Selection) {
		if v, _ := r.Attr("value"); v != want[i].Key {
			t.Errorf("tab %d is %q, want %q", i, v, want[i].Key)
		}
		if name, _ := r.Attr("name"); name != group {
			t.Errorf("tab %d in group %q, want %q", i, name, group)
		}
		if _, checked := r.Attr("checked"); checked != (i == 0) {
			t.Errorf("tab %d checked = %v", i, checked)
		}
		id, _ := r.Attr("id")
		if got := text(setup.Find(`label[for="` + id + `"]`)); got != want[i].Client {
			t.Errorf("tab %d label = %q, want %q", i, got, want[i].Client)
		}
	})
	if group == "" || cards["12"].Find(`input[name="`+group+`"]`).Length() != 0 {
		t.Errorf("tab group %q not unique to its card", group)
	}
	if got := text(github.Find(".server-body code")); got != "http://github.localhost:8080/mcp" {
		t.Errorf("server URL = %q", got)
	}
	if github.Find(testid("open-link")).Length() != 0 {
		t.Error("MCP server offers Open")
	}

	for id, kind := range map[string]string{"15": "App", "16": "Web app"} {
		card := cards[id]
		if card.Find(testid("client-setup")).Length() != 0 || card.Find("button[data-copy]").Length() != 0 {
			t.Errorf("route %s (%s) offers MCP client setup", id, kind)
		}
		if got := text(card.Find(testid("server-kind"))); got != kind {
			t.Errorf("route %s kind = %q, want %q", id, got, kind)
		}
	}
	if href, _ := cards["15"].Find(testid("open-link")).Attr("href"); href != "http://chat.localhost:8080/" {
		t.Errorf("Chat opens %q", href)
	}
	if got := text(cards["15"].Find(testid("last-used"))); got != "Last used 1 minute ago" {
		t.Errorf("Chat last used = %q", got)
	}
}

// Route names, descriptions, accounts and URLs are typed by admins or
// come from upstreams: everywhere they land (text, attributes, snippets,
// the confirmation), they stay text.
func TestPortalHostileText(t *testing.T) {
	doc, cards, html := renderPortal(t, samplePortalServers())
	if strings.Contains(html, "<script>alert") {
		t.Fatal("hostile text rendered as markup")
	}
	if n := doc.Find("script").Length(); n != 1 {
		t.Errorf("%d <script> elements, want only app.js", n)
	}
	card := cards["17"]
	for id, want := range map[string]string{
		"server-name":        hostileQuoted,
		"server-description": hostileQuoted,
		"connection-account": "Connected to " + hostileQuoted + " as " + hostileQuoted,
	} {
		if got := text(card.Find(testid(id))); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	confirm := card.Find("details" + testid("confirm-disconnect"))
	if q, _ := confirm.Attr("data-confirm"); q != "Disconnect "+hostileQuoted+"?" {
		t.Errorf("data-confirm = %q", q)
	}
	if msg := text(confirm.Find(".confirm-message")); !strings.Contains(msg, "also used by: "+hostileQuoted+".") {
		t.Errorf("confirmation = %q", msg)
	}
	if label, _ := card.Find("button[data-copy]").First().Attr("aria-label"); label != "Copy "+hostileQuoted+" URL" {
		t.Errorf("copy label = %q", label)
	}
	url := `http://evil.localhost:8080/it's/"x"/<script>alert(1)</script>`
	for _, sn := range setupSnippets(hostileQuoted, url) {
		code := card.Find(`[data-client="` + sn.Key + `"] code` + testid("snippet-code"))
		if code.Text() != sn.Code {
			t.Errorf("%s snippet came out as\n%s\nwant\n%s", sn.Key, code.Text(), sn.Code)
		}
	}
	if !strings.Contains(card.Find(`[data-client="claude-code"] `+testid("snippet-code")).Text(), "script-alert-1-script-bob-s-uni ") {
		t.Errorf("claude snippet does not use the slug: %s", card.Find(`[data-client="claude-code"] `+testid("snippet-code")).Text())
	}
	// A connect URL that is not http(s) never becomes a link.
	card.Find("a").Each(func(_ int, a *goquery.Selection) {
		if href, _ := a.Attr("href"); strings.HasPrefix(strings.ToLower(href), "javascript:") {
			t.Errorf("script URL in a link: %q", href)
		}
	})
}

// Without a Now the page shows dates, which stay true however old the
// page is.
func TestPortalWithoutNow(t *testing.T) {
	doc, _ := render(t, PortalPage(PortalProps{Page: page(SectionPortal, userViewer()), Servers: samplePortalServers()[:1]}))
	if got := text(mustOne(t, doc, testid("last-used"))); got != "Last used on 2 Mar 2026 at 09:00 UTC" {
		t.Errorf("last used = %q", got)
	}
}

func TestRelativeTime(t *testing.T) {
	now := portalNow
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "just now"},
		{-30 * time.Second, "just now"},
		{30 * time.Second, "in less than a minute"},
		{-time.Minute, "1 minute ago"},
		{-59 * time.Minute, "59 minutes ago"},
		{45 * time.Minute, "in 45 minutes"},
		{-time.Hour, "1 hour ago"},
		{-47 * time.Hour, "47 hours ago"},
		{-48 * time.Hour, "2 days ago"},
		{3 * 24 * time.Hour, "in 3 days"},
		{-30 * 24 * time.Hour, "30 days ago"},
		{-40 * 24 * time.Hour, "on 21 Jan 2026"},
		{60 * 24 * time.Hour, "on 1 May 2026"},
	}
	for _, tt := range tests {
		if got := relativeTime(now.Add(tt.d), now); got != tt.want {
			t.Errorf("relativeTime(now%+v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	if got := relativeTime(now, time.Time{}); got != "on 2 Mar 2026 at 12:00 UTC" {
		t.Errorf("without now = %q", got)
	}
}

func TestAppsListUsersColumn(t *testing.T) {
	apps := sampleApps()
	apps[0].Connected, apps[0].NeedsReconnect = 12, 2
	apps[1].Connected, apps[1].NeedsReconnect = 1, 1
	doc, _ := render(t, AppsPage(AppsProps{Page: page(SectionApps, adminViewer()), Apps: apps, Presets: samplePresets(),
		Pagination: Pagination{Page: 1, PerPage: 25, Total: 3}}))
	rows := doc.Find(testid("app-row"))
	tests := []struct{ connected, reconnect string }{
		{"12 connected", "2 need re-Connect"},
		{"1 connected", "1 needs re-Connect"},
		{"0 connected", ""},
	}
	for i, tt := range tests {
		row := rows.Eq(i)
		if got := text(row.Find(testid("app-connected"))); got != tt.connected {
			t.Errorf("row %d connected = %q, want %q", i, got, tt.connected)
		}
		badge := row.Find(testid("app-needs-reconnect"))
		if got := text(badge); got != tt.reconnect {
			t.Errorf("row %d re-Connect = %q, want %q", i, got, tt.reconnect)
		}
		if tt.reconnect != "" && !badge.HasClass("badge-warning") {
			t.Errorf("row %d re-Connect badge is not a warning", i)
		}
	}
	if got := text(mustOne(t, doc, testid("apps-table")+" thead tr")); !strings.HasSuffix(got, "Users") {
		t.Errorf("header = %q", got)
	}
}

func TestAppConnections(t *testing.T) {
	doc, html := render(t, AppFormPage(AppFormProps{Page: page(SectionApps, adminViewer()), ID: 3, Presets: samplePresets(),
		Form: AppForm{Name: "github", ClientID: "abc"}, Connections: sampleConnections(), Now: portalNow}))
	if strings.Contains(html, "<script>alert") {
		t.Fatal("hostile text rendered as markup")
	}
	// Beside the form, a count leads down to the list.
	summary := mustOne(t, doc, testid("connections-summary"))
	if got := text(summary.Find(testid("summary-connected"))); got != "1 connected" {
		t.Errorf("summary = %q", got)
	}
	if got := text(summary.Find(testid("summary-needs-reconnect"))); got != "1 needs re-Connect" {
		t.Errorf("summary re-Connect = %q", got)
	}
	if href, _ := summary.Find("a").Attr("href"); doc.Find(href).Length() != 1 {
		t.Errorf("summary links to %q, which is not on the page", href)
	}
	section := mustOne(t, doc, testid("app-connections"))
	if got := text(section.Find("h2")); got != "Connected users" {
		t.Errorf("heading = %q", got)
	}
	rows := section.Find(testid("connection-row"))
	if rows.Length() != 2 {
		t.Fatalf("%d rows, want 2", rows.Length())
	}
	tests := []struct {
		id                                              string
		user, account, status, expires, refreshed, used string
	}{
		{"2", "bob@company.com", "as bobby", "Connected", "in 40 minutes", "20 minutes ago", "5 minutes ago"},
		{"5", hostile, "as " + hostileQuoted, "Needs re-Connect", "Not known", "10 days ago", "Never"},
	}
	for i, tt := range tests {
		row := rows.Eq(i)
		if id, _ := row.Attr("data-user-id"); id != tt.id {
			t.Errorf("row %d user id = %q", i, id)
		}
		for tid, want := range map[string]string{
			"connection-user": tt.user, "connection-account": tt.account, "connection-status": tt.status,
			"connection-expires": tt.expires, "connection-refreshed": tt.refreshed, "connection-used": tt.used,
		} {
			if got := text(row.Find(testid(tid))); got != want {
				t.Errorf("user %s %s = %q, want %q", tt.id, tid, got, want)
			}
		}
		confirm := row.Find("details" + testid("confirm-disconnect"))
		if q, _ := confirm.Attr("data-confirm"); q != "Disconnect "+tt.user+"?" {
			t.Errorf("user %s question = %q", tt.id, q)
		}
		form := confirm.Find("form")
		if a, _ := form.Attr("action"); a != "/admin/apps/3/connections/"+tt.id+"/disconnect" {
			t.Errorf("user %s disconnect posts to %q", tt.id, a)
		}
		if v, _ := form.Find(`input[name="_csrf"]`).Attr("value"); v != testCSRF {
			t.Errorf("user %s CSRF = %q", tt.id, v)
		}
		if !strings.Contains(text(form.Find(".confirm-message")), "github sign-in") {
			t.Errorf("user %s confirmation = %q", tt.id, text(form.Find(".confirm-message")))
		}
	}
}

func TestAppConnectionsEmptyAndNew(t *testing.T) {
	doc, _ := render(t, AppFormPage(AppFormProps{Page: page(SectionApps, adminViewer()), ID: 3, Form: AppForm{Name: "github"}}))
	if got := text(mustOne(t, doc, testid("connections-empty"))); got != "No one has connected yet. Users connect from their portal." {
		t.Errorf("empty = %q", got)
	}
	if doc.Find(testid("connections-table")).Length() != 0 {
		t.Error("empty table shown")
	}
	doc, _ = render(t, AppFormPage(AppFormProps{Page: page(SectionApps, adminViewer()), IsNew: true}))
	if doc.Find(testid("app-connections")).Length() != 0 {
		t.Error("a new app lists connections")
	}
}
