package views

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func renderUsers(t *testing.T, p UsersProps) *goquery.Document {
	t.Helper()
	if p.Page.Viewer == nil {
		p.Page = page(SectionUsers, adminViewer())
	}
	doc, _ := render(t, UsersPage(p))
	return doc
}

// rowByID finds the table row of one user.
func rowByID(t *testing.T, doc *goquery.Document, id string) *goquery.Selection {
	t.Helper()
	return mustOne(t, doc, testid("user-row")+`[data-user-id="`+id+`"]`)
}

// postActions lists the action URLs a row's POST forms submit to.
func postActions(row *goquery.Selection) []string {
	var out []string
	row.Find(`form[method="post"]`).Each(func(_ int, f *goquery.Selection) {
		a, _ := f.Attr("action")
		out = append(out, a)
	})
	return out
}

func TestUsersTableRows(t *testing.T) {
	doc := renderUsers(t, UsersProps{Users: sampleUsers(), Pagination: Pagination{Page: 1, PerPage: 25, Total: 5}})
	mustOne(t, doc, testid("users-table"))
	if n := doc.Find(testid("user-row")).Length(); n != 5 {
		t.Fatalf("%d rows, want 5", n)
	}

	tests := []struct {
		id, role, status, lastSignIn string
		name, email                  string
	}{
		{"1", "admin", "active", "2 Mar 2026 09:14 UTC", "Alice Martin", "alice@company.com"},
		{"2", "user", "active", "1 Mar 2026 17:40 UTC", "Bob", "bob@company.com"},
		{"3", "admin", "active", "27 Feb 2026 08:02 UTC", "Carol", "carol@company.com"},
		{"4", "user", "disabled", "never", "dave@company.com", ""},
	}
	for _, tt := range tests {
		row := rowByID(t, doc, tt.id)
		if got := text(row.Find(testid("role-badge"))); got != tt.role {
			t.Errorf("user %s role badge = %q, want %q", tt.id, got, tt.role)
		}
		if got := text(row.Find(testid("status-badge"))); got != tt.status {
			t.Errorf("user %s status badge = %q, want %q", tt.id, got, tt.status)
		}
		if got := text(row.Find(testid("last-sign-in"))); got != tt.lastSignIn {
			t.Errorf("user %s last sign-in = %q, want %q", tt.id, got, tt.lastSignIn)
		}
		if got := text(row.Find(testid("user-name"))); got != tt.name {
			t.Errorf("user %s name = %q, want %q", tt.id, got, tt.name)
		}
		if got := text(row.Find(testid("user-email"))); got != tt.email {
			t.Errorf("user %s email = %q, want %q", tt.id, got, tt.email)
		}
	}
	if dt, _ := rowByID(t, doc, "1").Find("time").Attr("datetime"); dt != "2026-03-02T09:14:00Z" {
		t.Errorf("datetime = %q", dt)
	}
	if got := items(rowByID(t, doc, "2").Find(testid("user-groups"))); got != "eng ops" {
		t.Errorf("groups = %q", got)
	}
}

func TestUsersRowActions(t *testing.T) {
	doc := renderUsers(t, UsersProps{Users: sampleUsers()})
	tests := []struct {
		id   string
		want []string
	}{
		{"1", nil}, // the viewer: no way to lock themselves out
		{"2", []string{"/admin/users/2/grant-admin", "/admin/users/2/grant-auditor", "/admin/users/2/disable"}},
		{"3", []string{"/admin/users/3/revoke-admin", "/admin/users/3/disable"}},
		{"4", []string{"/admin/users/4/grant-admin", "/admin/users/4/grant-auditor", "/admin/users/4/enable"}},
	}
	for _, tt := range tests {
		row := rowByID(t, doc, tt.id)
		got := postActions(row)
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("user %s actions = %v, want %v", tt.id, got, tt.want)
		}
		row.Find(`form[method="post"]`).Each(func(_ int, f *goquery.Selection) {
			if f.Find(`button[type="submit"]`).Length() != 1 {
				a, _ := f.Attr("action")
				t.Errorf("form %s has no submit button", a)
			}
		})
	}
	self := rowByID(t, doc, "1")
	if self.Find("button, details, form").Length() != 0 {
		t.Error("the viewer's own row offers actions")
	}
	// Said once, where the missing actions would be.
	if got := text(self.Find(testid("self-note"))); got != "This is you" {
		t.Errorf("self note = %q", got)
	}
	if strings.Contains(text(self.Find(testid("user-name"))), "you") {
		t.Error("the viewer's name is marked as well as their actions")
	}
}

// After an action the admin comes back to the list they were on: every
// action form posts the list URL, query and page included.
func TestUsersActionFormsCarryReturnTo(t *testing.T) {
	const returnTo = "/admin/users?q=co&page=2"
	doc := renderUsers(t, UsersProps{Users: sampleUsers(), ReturnTo: returnTo})
	forms := doc.Find(testid("users-table") + ` form[method="post"]`)
	if forms.Length() == 0 {
		t.Fatal("no action forms")
	}
	forms.Each(func(_ int, f *goquery.Selection) {
		in := f.Find(`input[type="hidden"][name="return_to"]`)
		if v, _ := in.Attr("value"); in.Length() != 1 || v != returnTo {
			a, _ := f.Attr("action")
			t.Errorf("form %s: return_to input %d found, value %q, want %q", a, in.Length(), v, returnTo)
		}
	})
}

// Disabling and revoking admin ask first, in plain HTML: the submit button
// sits inside a closed <details>, so one click cannot do it.
func TestDestructiveActionsNeedConfirmation(t *testing.T) {
	doc := renderUsers(t, UsersProps{Users: sampleUsers()})
	tests := []struct {
		id, testid, action, question string
	}{
		{"2", "confirm-disable", "/admin/users/2/disable", "Disable bob@company.com?"},
		{"3", "confirm-revoke-admin", "/admin/users/3/revoke-admin", "Revoke admin from carol@company.com?"},
		{"3", "confirm-disable", "/admin/users/3/disable", "Disable carol@company.com?"},
	}
	for _, tt := range tests {
		row := rowByID(t, doc, tt.id)
		d := row.Find("details" + testid(tt.testid))
		if d.Length() != 1 {
			t.Fatalf("user %s: no %s disclosure", tt.id, tt.testid)
		}
		if _, open := d.Attr("open"); open {
			t.Errorf("user %s: %s starts open", tt.id, tt.testid)
		}
		if q, _ := d.Attr("data-confirm"); q != tt.question {
			t.Errorf("user %s: data-confirm = %q, want %q", tt.id, q, tt.question)
		}
		if d.ChildrenFiltered("summary").Length() != 1 {
			t.Errorf("user %s: %s has no summary", tt.id, tt.testid)
		}
		form := d.Find(`form[method="post"]`)
		if a, _ := form.Attr("action"); a != tt.action {
			t.Errorf("user %s: confirm form action = %q, want %q", tt.id, a, tt.action)
		}
		if text(form.Find(".confirm-message")) == "" {
			t.Errorf("user %s: %s does not say what will happen", tt.id, tt.testid)
		}
		if form.Find(`button[type="submit"][data-confirm-submit]`).Length() != 1 {
			t.Errorf("user %s: %s has no submit button", tt.id, tt.testid)
		}
	}
	// Enabling and granting are not destructive and submit at once.
	for _, sel := range []string{testid("action-enable"), testid("action-grant-admin")} {
		doc.Find(sel).Each(func(_ int, f *goquery.Selection) {
			if f.ParentsFiltered("details").Length() != 0 {
				t.Errorf("%s hidden behind a confirmation", sel)
			}
		})
	}
}

func TestUsersActionFormsCarryCSRF(t *testing.T) {
	doc := renderUsers(t, UsersProps{Users: sampleUsers()})
	forms := doc.Find(testid("users-table") + ` form[method="post"]`)
	if forms.Length() == 0 {
		t.Fatal("no action forms")
	}
	forms.Each(func(_ int, f *goquery.Selection) {
		in := f.Find(`input[type="hidden"][name="_csrf"]`)
		if v, _ := in.Attr("value"); in.Length() != 1 || v != testCSRF {
			a, _ := f.Attr("action")
			t.Errorf("form %s: CSRF input %d found, value %q", a, in.Length(), v)
		}
	})
}

func TestUsersSearchAndNewButton(t *testing.T) {
	doc := renderUsers(t, UsersProps{Query: "bob", Users: sampleUsers()[1:2]})
	form := mustOne(t, doc, testid("user-search"))
	if m, _ := form.Attr("method"); m != "get" {
		t.Errorf("search method = %q, want get", m)
	}
	if a, _ := form.Attr("action"); a != "/admin/users" {
		t.Errorf("search action = %q", a)
	}
	q := form.Find(`input[name="q"]`)
	if v, _ := q.Attr("value"); v != "bob" {
		t.Errorf("search keeps %q, want bob", v)
	}
	id, _ := q.Attr("id")
	mustOne(t, doc, `label[for="`+id+`"]`)
	if href, _ := mustOne(t, doc, testid("clear-search")).Attr("href"); href != "/admin/users" {
		t.Errorf("clear search href = %q", href)
	}
	if href, _ := mustOne(t, doc, testid("new-user-button")).Attr("href"); href != "/admin/users/new" {
		t.Errorf("new user href = %q", href)
	}
}

func TestUsersPagination(t *testing.T) {
	tests := []struct {
		name       string
		p          Pagination
		text       string
		prev, next string
	}{
		{"middle", Pagination{Page: 2, PerPage: 25, Total: 60, PrevURL: "/admin/users?page=1", NextURL: "/admin/users?page=3"}, "Showing 26–50 of 60", "/admin/users?page=1", "/admin/users?page=3"},
		{"first", Pagination{Page: 1, PerPage: 25, Total: 60, NextURL: "/admin/users?page=2&q=a"}, "Showing 1–25 of 60", "", "/admin/users?page=2&q=a"},
		{"last", Pagination{Page: 3, PerPage: 25, Total: 60, PrevURL: "/admin/users?page=2"}, "Showing 51–60 of 60", "/admin/users?page=2", ""},
		{"only", Pagination{Page: 1, PerPage: 25, Total: 3}, "Showing 1–3 of 3", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := renderUsers(t, UsersProps{Users: sampleUsers(), Pagination: tt.p})
			nav := mustOne(t, doc, "nav"+testid("pagination"))
			if got := text(nav.Find(testid("pagination-text"))); got != tt.text {
				t.Errorf("text = %q, want %q", got, tt.text)
			}
			for sel, want := range map[string]string{testid("pagination-prev"): tt.prev, testid("pagination-next"): tt.next} {
				link := nav.Find("a" + sel)
				href, _ := link.Attr("href")
				if want == "" && link.Length() != 0 {
					t.Errorf("%s is a link on this page", sel)
				}
				if want != "" && href != want {
					t.Errorf("%s href = %q, want %q", sel, href, want)
				}
			}
			// Previous and Next are shown, one of them inert, only when
			// there is another page to go to.
			buttons := nav.Find(".btn").Length()
			if onePage := tt.prev == "" && tt.next == ""; onePage && buttons != 0 {
				t.Errorf("%d pager buttons when everything fits on one page", buttons)
			} else if !onePage && buttons != 2 {
				t.Errorf("%d pager buttons, want Previous and Next", buttons)
			}
		})
	}
}

func TestUsersEmptyStates(t *testing.T) {
	t.Run("no match", func(t *testing.T) {
		doc := renderUsers(t, UsersProps{Query: "zed"})
		empty := mustOne(t, doc, testid("empty-state"))
		if !strings.Contains(text(empty), "No users match “zed”") {
			t.Errorf("empty state = %q", text(empty))
		}
		if href, _ := mustOne(t, doc, testid("clear-search-empty")).Attr("href"); href != "/admin/users" {
			t.Errorf("clear search href = %q", href)
		}
		if doc.Find(testid("users-table")).Length() != 0 {
			t.Error("empty table rendered")
		}
	})
	t.Run("no users", func(t *testing.T) {
		doc := renderUsers(t, UsersProps{})
		empty := mustOne(t, doc, testid("empty-state"))
		if !strings.Contains(text(empty), "No users yet") {
			t.Errorf("empty state = %q", text(empty))
		}
		if empty.Find(`a[href="/admin/users/new"]`).Length() != 1 {
			t.Error("empty state does not offer to create a user")
		}
	})
}
