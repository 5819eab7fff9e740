package views

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

func TestConsoleNavMarksActiveSection(t *testing.T) {
	sections := []string{
		SectionDashboard, SectionRoutes, SectionPolicies, SectionApps, SectionClients,
		SectionServiceAccounts, SectionUsers, SectionAudit, SectionHistory, SectionSettings, SectionPortal,
	}
	for _, section := range sections {
		t.Run(section, func(t *testing.T) {
			p := PlaceholderProps{Page: page(section, adminViewer()), Heading: "X"}
			doc, _ := render(t, PlaceholderPage(p))
			nav := mustOne(t, doc, testid("nav"))
			if got := nav.Find("a").Length(); got != len(sections) {
				t.Errorf("nav has %d links, want %d", got, len(sections))
			}
			current := nav.Find(`[aria-current="page"]`)
			if current.Length() != 1 {
				t.Fatalf("%d nav items are current, want 1", current.Length())
			}
			if got, _ := current.Attr("data-testid"); got != "nav-"+section {
				t.Errorf("current nav item = %q, want nav-%s", got, section)
			}
		})
	}
}

func TestConsoleNavLinks(t *testing.T) {
	doc, _ := render(t, PlaceholderPage(PlaceholderProps{Page: page(SectionRoutes, adminViewer())}))
	want := map[string]string{
		"Dashboard":        "/admin",
		"Routes":           "/admin/routes",
		"Policies":         "/admin/policies",
		"Upstream apps":    "/admin/apps",
		"Clients":          "/admin/clients",
		"Service accounts": "/admin/service-accounts",
		"Users":            "/admin/users",
		"Audit log":        "/admin/audit",
		"Change history":   "/admin/history",
		"Settings":         "/admin/settings",
		"Portal":           "/",
	}
	got := map[string]string{}
	doc.Find(testid("nav") + " a").Each(func(_ int, a *goquery.Selection) {
		href, _ := a.Attr("href")
		got[text(a)] = href
	})
	for label, href := range want {
		if got[label] != href {
			t.Errorf("nav %q links to %q, want %q", label, got[label], href)
		}
	}
}

// On narrow screens the sections fold into a disclosure that starts closed
// and names the current section; wide screens show the list regardless
// (app.css). Either way the links are plain links inside the nav.
func TestConsoleNavFoldsIntoMenu(t *testing.T) {
	doc, _ := render(t, PlaceholderPage(PlaceholderProps{Page: page(SectionServiceAccounts, adminViewer())}))
	menu := mustOne(t, doc, testid("nav")+" > details.nav-menu")
	if _, open := menu.Attr("open"); open {
		t.Error("menu starts open, pushing every page down on a phone")
	}
	summary := menu.ChildrenFiltered("summary")
	if summary.Length() != 1 {
		t.Fatal("menu has no summary")
	}
	if got := text(summary); got != "Menu, current section: Service accounts" {
		t.Errorf("menu summary = %q", got)
	}
	if got := menu.Find("a").Length(); got != 11 {
		t.Errorf("menu holds %d links, want all 11", got)
	}

	doc, _ = render(t, PlaceholderPage(PlaceholderProps{Page: page("", adminViewer())}))
	if got := text(mustOne(t, doc, testid("nav-toggle"))); got != "Menu" {
		t.Errorf("menu summary outside any section = %q, want Menu", got)
	}
}

func TestUnknownSectionMarksNothing(t *testing.T) {
	doc, _ := render(t, PlaceholderPage(PlaceholderProps{Page: page("nope", adminViewer())}))
	if n := doc.Find(`[aria-current="page"]`).Length(); n != 0 {
		t.Errorf("%d items current for an unknown section, want 0", n)
	}
}

func TestPortalHeaderForNonAdmins(t *testing.T) {
	doc, _ := render(t, PortalPage(PortalProps{Page: page(SectionPortal, userViewer())}))
	if doc.Find(testid("nav")).Length() != 0 {
		t.Error("non-admin sees the console navigation")
	}
	if doc.Find(`a[href^="/admin"]`).Length() != 0 {
		t.Error("non-admin page links into /admin")
	}
	mustOne(t, doc, "header "+testid("account"))
	if got := text(mustOne(t, doc, testid("viewer-email"))); got != "bob@company.com" {
		t.Errorf("viewer email = %q", got)
	}
}

// A narrow header cuts the name and email short; their titles hold them.
func TestAccountShowsFullValuesInTitles(t *testing.T) {
	v := &Viewer{Email: "administrator@drawbridge.example.com", Name: "Administrator of Everything", IsAdmin: true}
	for name, c := range map[string]templ.Component{
		"console": DashboardPage(DashboardProps{Page: page(SectionDashboard, v)}),
		"portal":  PortalPage(PortalProps{Page: page(SectionPortal, v)}),
	} {
		t.Run(name, func(t *testing.T) {
			doc, _ := render(t, c)
			account := mustOne(t, doc, testid("account"))
			if got, _ := account.Find(".account-name").Attr("title"); got != v.Name {
				t.Errorf("name title = %q, want %q", got, v.Name)
			}
			email := account.Find(testid("viewer-email"))
			if got, _ := email.Attr("title"); got != v.Email {
				t.Errorf("email title = %q, want %q", got, v.Email)
			}
			if got := text(email); got != v.Email {
				t.Errorf("email text = %q, want %q", got, v.Email)
			}
		})
	}
}

func TestLogoutIsPOSTWithCSRF(t *testing.T) {
	for name, v := range map[string]*Viewer{"admin": adminViewer(), "user": userViewer()} {
		t.Run(name, func(t *testing.T) {
			doc, _ := render(t, PortalPage(PortalProps{Page: page(SectionPortal, v)}))
			form := mustOne(t, doc, testid("logout-form"))
			if m, _ := form.Attr("method"); m != "post" {
				t.Errorf("logout method = %q, want post", m)
			}
			if a, _ := form.Attr("action"); a != "/logout" {
				t.Errorf("logout action = %q, want /logout", a)
			}
			csrf := form.Find(`input[type="hidden"][name="_csrf"]`)
			if v, _ := csrf.Attr("value"); csrf.Length() != 1 || v != testCSRF {
				t.Errorf("logout form CSRF input: %d found, value %q", csrf.Length(), v)
			}
			if form.Find(`button[type="submit"]`).Length() != 1 {
				t.Error("logout form has no submit button")
			}
		})
	}
}

func TestMinimalLayoutBeforeSignIn(t *testing.T) {
	for _, name := range []string{"login", "login-none", "error-anon"} {
		t.Run(name, func(t *testing.T) {
			doc, _ := render(t, allPages()[name])
			for _, sel := range []string{testid("nav"), testid("logout-form"), testid("account")} {
				if doc.Find(sel).Length() != 0 {
					t.Errorf("%s shown before sign-in", sel)
				}
			}
			mustOne(t, doc, ".minimal main")
		})
	}
}

func TestFlashes(t *testing.T) {
	flashes := []Flash{
		{Kind: FlashSuccess, Message: "Saved."},
		{Kind: FlashError, Message: "Broke."},
		{Kind: FlashInfo, Message: "FYI."},
	}
	doc, _ := render(t, DashboardPage(DashboardProps{Page: page(SectionDashboard, adminViewer(), flashes...)}))
	got := doc.Find("main " + testid("flash"))
	if got.Length() != len(flashes) {
		t.Fatalf("%d flashes shown, want %d", got.Length(), len(flashes))
	}
	wantRole := map[string]string{FlashSuccess: "status", FlashError: "alert", FlashInfo: "status"}
	got.Each(func(i int, s *goquery.Selection) {
		if text(s) != flashes[i].Message {
			t.Errorf("flash %d text = %q, want %q", i, text(s), flashes[i].Message)
		}
		if role, _ := s.Attr("role"); role != wantRole[flashes[i].Kind] {
			t.Errorf("flash %s role = %q, want %q", flashes[i].Kind, role, wantRole[flashes[i].Kind])
		}
	})
}

func TestNoFlashContainerWithoutFlashes(t *testing.T) {
	doc, _ := render(t, DashboardPage(DashboardProps{Page: page(SectionDashboard, adminViewer())}))
	if doc.Find(".flashes").Length() != 0 {
		t.Error("empty flash container rendered")
	}
}

func TestFlashesShownOnEveryLayout(t *testing.T) {
	for _, name := range []string{"login", "dashboard", "portal-user-empty", "error-anon"} {
		t.Run(name, func(t *testing.T) {
			doc, _ := render(t, allPages()[name])
			if doc.Find(testid("flash")).Length() == 0 {
				t.Error("flash not shown")
			}
		})
	}
}

func TestDocumentShell(t *testing.T) {
	for name, c := range allPages() {
		t.Run(name, func(t *testing.T) {
			doc, html := render(t, c)
			if !strings.HasPrefix(strings.ToLower(html), "<!doctype html>") {
				t.Error("missing doctype")
			}
			if lang, _ := doc.Find("html").Attr("lang"); lang != "en" {
				t.Errorf("lang = %q, want en", lang)
			}
			mustOne(t, doc, `head link[rel="stylesheet"][href="/static/app.css"]`)
			mustOne(t, doc, `head link[rel="icon"][href="/static/favicon.svg"]`)
			mustOne(t, doc, `head script[src="/static/app.js"][defer]`)
			mustOne(t, doc, `head meta[name="viewport"]`)
			mustOne(t, doc, "main#main")
			mustOne(t, doc, `a.skip-link[href="#main"]`)
			if got := text(doc.Find("head > title")); !strings.HasSuffix(got, "Drawbridge") {
				t.Errorf("title = %q", got)
			}
			if v := text(doc.Find(testid("version"))); v != "v1.2.3" {
				t.Errorf("footer version = %q, want v1.2.3", v)
			}
		})
	}
}

func TestSignedInPagesHaveLandmarks(t *testing.T) {
	for _, name := range []string{
		"dashboard", "users", "portal-user-empty", "settings", "error-admin",
		"routes", "route-new", "route-edit", "policies", "policy-edit", "simulator-result",
		"apps", "apps-empty", "app-new", "app-edit", "history", "history-empty", "change",
	} {
		t.Run(name, func(t *testing.T) {
			doc, _ := render(t, allPages()[name])
			mustOne(t, doc, "header")
			mustOne(t, doc, "main")
			mustOne(t, doc, "footer")
			if doc.Find("h1").Length() != 1 {
				t.Errorf("%d h1 elements, want 1", doc.Find("h1").Length())
			}
		})
	}
}
