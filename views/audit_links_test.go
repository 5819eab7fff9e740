package views

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

func auditorViewer() *Viewer {
	return &Viewer{Email: "secops@company.com", Name: "Sec Ops", IsAuditor: true}
}

// adminOnlyPaths are the console pages for administrators only, as
// web/routes.go groups them: an auditor sent to one gets a 403.
var adminOnlyPaths = []string{
	"/admin/users", "/admin/routes", "/admin/policies", "/admin/apps", "/admin/clients",
	"/admin/service-accounts", "/admin/history", "/admin/settings",
}

// adminOnlyHrefs are the links of doc that lead to an admin-only page.
func adminOnlyHrefs(doc *goquery.Document) []string {
	var out []string
	doc.Find("a[href]").Each(func(_ int, a *goquery.Selection) {
		href, _ := a.Attr("href")
		path, _, _ := strings.Cut(href, "?")
		for _, p := range adminOnlyPaths {
			if path == p || strings.HasPrefix(path, p+"/") {
				out = append(out, href)
			}
		}
	})
	return out
}

// An auditor opening an event sees what it names (user, service account,
// route, client) as text, not as links to pages that would answer 403;
// an administrator gets the links.
func TestAuditEventLinksFollowTheViewersRole(t *testing.T) {
	p := auditEventProps("x")
	p.Page = page(SectionAudit, auditorViewer())
	doc, _ := render(t, AuditEventPage(p))
	if hrefs := adminOnlyHrefs(doc); len(hrefs) != 0 {
		t.Errorf("an auditor's event page links to admin-only pages: %v", hrefs)
	}
	for _, id := range []string{"field-user", "field-account", "field-route", "field-client"} {
		field := mustOne(t, doc, testid(id))
		if field.Find("a").Length() != 0 {
			t.Errorf("%s is a link for an auditor", id)
		}
		if got := text(field); !strings.HasPrefix(got, "x") {
			t.Errorf("%s = %q, want the name as text", id, got)
		}
	}
	// What an auditor may open stays: the rest of the log.
	for id, want := range map[string]string{"same-request": p.SameRequestURL, "link-same-request": p.SameRequestURL, "audit-back": p.BackURL} {
		if href, _ := mustOne(t, doc, testid(id)).Attr("href"); href != want {
			t.Errorf("an auditor's %s links to %q, want %q", id, href, want)
		}
	}
	for _, id := range []string{"link-user", "link-account", "link-route", "link-client", "link-change", "change-link"} {
		if doc.Find(testid(id)).Length() != 0 {
			t.Errorf("an auditor's event page has %s", id)
		}
	}

	p.Page = page(SectionAudit, adminViewer())
	doc, _ = render(t, AuditEventPage(p))
	hrefs := adminOnlyHrefs(doc)
	for _, want := range []string{p.UserURL, p.AccountURL, p.RouteURL, p.ClientURL, p.ChangeURL} {
		found := false
		for _, h := range hrefs {
			found = found || h == want
		}
		if !found {
			t.Errorf("an admin's event page has no link to %s (has %v)", want, hrefs)
		}
	}
	for _, id := range []string{"field-user", "field-account", "field-route", "field-client"} {
		if mustOne(t, doc, testid(id)).Find("a").Length() != 1 {
			t.Errorf("%s is not a link for an admin", id)
		}
	}
}

// The audit log and the dashboard, which auditors read too, link an
// auditor to no admin-only page, and an admin to those an admin uses.
func TestAuditPagesLinkAuditorsToNoAdminPage(t *testing.T) {
	empty := func(v *Viewer) templ.Component {
		return AuditLogPage(AuditLogProps{Page: page(SectionAudit, v), Filter: AuditFilterForm{Range: "all"}, Now: auditNow})
	}
	// As the dashboard's handler fills it for an auditor: no links to
	// the apps or the service accounts, and steps it has for everyone.
	dashboard := func(v *Viewer) templ.Component {
		p := dashboardProps("x")
		p.Page = page(SectionDashboard, v)
		if !v.IsAdmin {
			p.Activity.AppsURL = ""
			for i := range p.Activity.ExpiringAccounts {
				p.Activity.ExpiringAccounts[i].URL = ""
			}
		}
		return DashboardPage(p)
	}
	fresh := func(v *Viewer) templ.Component {
		return DashboardPage(DashboardProps{Page: page(SectionDashboard, v), Users: 1, Admins: 1,
			Steps: []SetupStep{{Title: "Sign in", Done: true}, {Title: "Add a route", URL: "/admin/routes"}, {Title: "Invite your team", URL: "/admin/users"}}})
	}
	for _, tt := range []struct {
		name string
		c    func(*Viewer) templ.Component
		// adminLink is a link the page gives an admin, to an admin page.
		adminLink, want string
	}{
		{"audit log, nothing recorded", empty, testid("audit-routes"), "/admin/routes"},
		{"dashboard", dashboard, testid("needs-reconnect"), "/admin/apps"},
		{"dashboard, users", dashboard, testid("stat-users"), "/admin/users"},
		{"dashboard, nothing recorded", fresh, testid("setup-step") + ` a[href="/admin/routes"]`, "/admin/routes"},
	} {
		doc, _ := render(t, tt.c(auditorViewer()))
		if hrefs := adminOnlyHrefs(doc); len(hrefs) != 0 {
			t.Errorf("%s: an auditor's page links to admin-only pages: %v", tt.name, hrefs)
		}
		doc, _ = render(t, tt.c(adminViewer()))
		if href, _ := mustOne(t, doc, tt.adminLink).Attr("href"); href != tt.want {
			t.Errorf("%s: an admin's %s links to %q, want %q", tt.name, tt.adminLink, href, tt.want)
		}
	}
}
