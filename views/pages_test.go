package views

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func TestDashboardPage(t *testing.T) {
	doc, _ := render(t, DashboardPage(DashboardProps{
		Page:       page(SectionDashboard, adminViewer()),
		Users:      42,
		Admins:     3,
		Disabled:   2,
		ConsoleURL: "http://console.localhost:8080",
		Steps: []SetupStep{
			{Title: "Sign in", Done: true},
			{Title: "Add a route", Body: "Put an MCP server behind the gateway.", URL: "/admin/routes"},
			{Title: "Attach a policy", URL: "/admin/policies"},
		},
	}))
	for id, want := range map[string]string{"stat-users-value": "42", "stat-admins-value": "3", "stat-disabled-value": "2"} {
		if got := text(mustOne(t, doc, testid(id))); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	steps := doc.Find(testid("setup-step"))
	if steps.Length() != 3 {
		t.Fatalf("%d steps, want 3", steps.Length())
	}
	wantDone := []string{"true", "false", "false"}
	steps.Each(func(i int, s *goquery.Selection) {
		if d, _ := s.Attr("data-done"); d != wantDone[i] {
			t.Errorf("step %d data-done = %q, want %q", i, d, wantDone[i])
		}
	})
	// A step still to do links to where it is done; a finished one does not.
	if href, _ := steps.Eq(1).Find("a").Attr("href"); href != "/admin/routes" {
		t.Errorf("open step links to %q", href)
	}
	if steps.Eq(0).Find("a").Length() != 0 {
		t.Error("finished step is a link")
	}
	if !strings.Contains(text(steps.Eq(0)), "(done)") {
		t.Error("finished step does not say so to screen readers")
	}
	if got := text(mustOne(t, doc, testid("steps-progress"))); got != "1 of 3 done" {
		t.Errorf("progress = %q", got)
	}
	if got := text(mustOne(t, doc, testid("console-url"))); got != "http://console.localhost:8080" {
		t.Errorf("console URL = %q", got)
	}
	copyBtn := mustOne(t, doc, `button[data-copy][data-copy-target="console-url"]`)
	if _, hidden := copyBtn.Attr("hidden"); !hidden {
		t.Error("copy button visible before JavaScript can make it work")
	}
}

func TestDashboardWithoutSteps(t *testing.T) {
	doc, _ := render(t, DashboardPage(DashboardProps{Page: page(SectionDashboard, adminViewer())}))
	if doc.Find(testid("setup-steps")).Length() != 0 {
		t.Error("empty checklist rendered")
	}
	if !strings.Contains(text(mustOne(t, doc, testid("console-url"))), "server.console_url") {
		t.Error("missing console URL not explained")
	}
}

func TestPortalEmptyState(t *testing.T) {
	t.Run("user", func(t *testing.T) {
		doc, _ := render(t, PortalPage(PortalProps{Page: page(SectionPortal, userViewer())}))
		empty := mustOne(t, doc, testid("empty-state"))
		got := text(empty)
		for _, want := range []string{"No MCP servers are available to you yet", "An administrator adds routes in the console"} {
			if !strings.Contains(got, want) {
				t.Errorf("empty state %q lacks %q", got, want)
			}
		}
		if doc.Find(testid("add-route")).Length() != 0 {
			t.Error("non-admin offered to add a route")
		}
	})
	t.Run("admin", func(t *testing.T) {
		doc, _ := render(t, PortalPage(PortalProps{Page: page(SectionPortal, adminViewer())}))
		if href, _ := mustOne(t, doc, testid("empty-state")+" "+testid("add-route")).Attr("href"); href != "/admin/routes" {
			t.Errorf("add route href = %q", href)
		}
	})
}

func TestPlaceholderPage(t *testing.T) {
	doc, _ := render(t, PlaceholderPage(PlaceholderProps{
		Page: page(SectionAudit, adminViewer()), Heading: "Audit log", Body: "Every tool call, soon.",
	}))
	if got := text(mustOne(t, doc, "h1")); got != "Audit log" {
		t.Errorf("heading = %q", got)
	}
	if got := text(mustOne(t, doc, testid("not-built"))); !strings.Contains(got, "not built yet") {
		t.Errorf("notice = %q", got)
	}
	if got := text(mustOne(t, doc, testid("placeholder-body"))); got != "Every tool call, soon." {
		t.Errorf("body = %q", got)
	}
}

func TestSettingsPage(t *testing.T) {
	doc, _ := render(t, SettingsPage(SettingsProps{
		Page:          page(SectionSettings, adminViewer()),
		ConsoleURL:    "http://console.localhost:8080",
		DataDir:       "/var/lib/drawbridge",
		Database:      "sqlite",
		LocalAccounts: true,
		Providers:     []string{"corp", "google"},
		Admins:        []string{"alice@company.com"},
		ConfigVersion: 17,
	}))
	want := map[string]string{
		"settings-console-url":    "http://console.localhost:8080",
		"settings-data-dir":       "/var/lib/drawbridge",
		"settings-database":       "sqlite",
		"settings-config-version": "17",
		"settings-local-accounts": "Enabled",
		"settings-providers":      "corp google",
		"settings-admins":         "alice@company.com",
	}
	for id, w := range want {
		el := mustOne(t, doc, testid(id))
		got := text(el)
		if el.Is("ul") {
			got = items(el)
		}
		if got != w {
			t.Errorf("%s = %q, want %q", id, got, w)
		}
	}
	mustOne(t, doc, "dl"+testid("settings"))
	// The configuration is shown, not edited: the audit and service
	// account settings' forms are the page's only ones.
	if n := doc.Find("main form").Length(); n != 3 || mustOne(t, doc, testid("audit-fail-open")).Find("form").Length() != 1 ||
		mustOne(t, doc, testid("sa-self-service")).Length() != 1 || mustOne(t, doc, testid("audit-retention-form")).Length() != 1 {
		t.Errorf("%d forms on the settings page, want the audit, retention and service account settings' only", n)
	}
	if got := text(mustOne(t, doc, testid("audit-retention"))); got != "kept for ever" {
		t.Errorf("retention shown as %q", got)
	}
	if got := text(mustOne(t, doc, testid("settings-sa-mode"))); got != "Administrators only" {
		t.Errorf("service accounts mode shown as %q", got)
	}
	if got := text(mustOne(t, doc, testid("settings-audit-mode"))); got != "Fail-closed" {
		t.Errorf("audit mode shown as %q", got)
	}
}

func TestConsoleWarning(t *testing.T) {
	p := page(SectionSettings, adminViewer())
	p.Warning = "Audit fail-open is on."
	doc, _ := render(t, SettingsPage(SettingsProps{Page: p, AuditFailOpen: true}))
	if got := text(mustOne(t, doc, testid("console-warning"))); got != "Audit fail-open is on." {
		t.Errorf("warning = %q", got)
	}
	if got := text(mustOne(t, doc, testid("settings-audit-mode"))); got != "Fail-open" {
		t.Errorf("audit mode shown as %q", got)
	}
	mustOne(t, doc, testid("audit-fail-closed"))
}

func TestSettingsPageUnset(t *testing.T) {
	doc, _ := render(t, SettingsPage(SettingsProps{Page: page(SectionSettings, adminViewer())}))
	for id, w := range map[string]string{
		"settings-console-url":    "Not set",
		"settings-local-accounts": "Disabled",
		"settings-providers":      "None",
	} {
		if got := text(mustOne(t, doc, testid(id))); got != w {
			t.Errorf("%s = %q, want %q", id, got, w)
		}
	}
	// No admins in the file does not mean no admins: say where else they
	// come from.
	admins := mustOne(t, doc, testid("settings-admins"))
	if got := text(admins); !strings.Contains(got, "configuration file") || !strings.Contains(got, "Users page") {
		t.Errorf("admins = %q, want it to say they can also be made on the Users page", got)
	}
	if href, _ := admins.Find("a").Attr("href"); href != "/admin/users" {
		t.Errorf("admins link to %q, want /admin/users", href)
	}
}

func TestErrorPage(t *testing.T) {
	t.Run("signed out", func(t *testing.T) {
		doc, _ := render(t, ErrorPage(ErrorProps{
			Page: page("", nil), Status: 404, Heading: "Page not found", Message: "Nothing lives here.",
		}))
		for id, w := range map[string]string{
			"error-status":  "404",
			"error-heading": "Page not found",
			"error-message": "Nothing lives here.",
		} {
			if got := text(mustOne(t, doc, testid(id))); got != w {
				t.Errorf("%s = %q, want %q", id, got, w)
			}
		}
		if href, _ := mustOne(t, doc, testid("error-sign-in")).Attr("href"); href != "/login" {
			t.Errorf("sign-in href = %q", href)
		}
	})
	t.Run("signed in", func(t *testing.T) {
		doc, _ := render(t, ErrorPage(ErrorProps{Page: page("", userViewer()), Status: 403}))
		if got := text(mustOne(t, doc, testid("error-heading"))); got != "Forbidden" {
			t.Errorf("default heading = %q, want the status text", got)
		}
		if href, _ := mustOne(t, doc, testid("error-home")).Attr("href"); href != "/" {
			t.Errorf("home href = %q", href)
		}
		if doc.Find(testid("error-sign-in")).Length() != 0 {
			t.Error("signed-in viewer asked to sign in")
		}
		mustOne(t, doc, testid("logout-form"))
		if doc.Find(testid("error-console")).Length() != 0 {
			t.Error("a plain user is offered the console")
		}
	})
	// Auditors may open the console (its dashboard and audit log), so an
	// error on one of its pages leads back there.
	t.Run("auditor", func(t *testing.T) {
		doc, _ := render(t, ErrorPage(ErrorProps{Page: page("", auditorViewer()), Status: 400}))
		if href, _ := mustOne(t, doc, testid("error-console")).Attr("href"); href != "/admin" {
			t.Errorf("console href = %q", href)
		}
	})
	// The request ID is for support, and only a server error needs them.
	t.Run("request id", func(t *testing.T) {
		for status, want := range map[int]bool{403: false, 404: false, 422: false, 500: true, 502: true, 503: true} {
			doc, _ := render(t, ErrorPage(ErrorProps{Page: page("", nil), Status: status}))
			box := doc.Find(testid("error-request"))
			if shown := box.Length() == 1; shown != want {
				t.Errorf("%d: request ID box shown = %v, want %v", status, shown, want)
			}
			if want && text(box.Find(testid("request-id"))) != "req-42" {
				t.Errorf("%d: request ID = %q, want req-42", status, text(box.Find(testid("request-id"))))
			}
		}
	})
	t.Run("no request id", func(t *testing.T) {
		p := ErrorProps{Page: page("", nil), Status: 500}
		p.RequestID = ""
		doc, _ := render(t, ErrorPage(p))
		if doc.Find(testid("request-id")).Length() != 0 {
			t.Error("empty request id shown")
		}
	})
}
