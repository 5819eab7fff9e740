package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/drawbridge/drawbridge/models"
)

func TestCreateUser(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "admin@example.com", true)
	app.user(t, "taken@example.com", false)
	b := app.browser(t)
	b.login("admin@example.com")

	cases := []struct {
		name       string
		form       url.Values
		status     int
		fieldError []string // data-testid suffixes expected
	}{
		{"every problem at once", url.Values{"email": {"not-an-email"}, "name": {strings.Repeat("x", 201)}, "password": {"short"}},
			http.StatusUnprocessableEntity, []string{"email", "name", "password"}},
		{"email taken", url.Values{"email": {"Taken@example.com"}, "password": {testPassword}},
			http.StatusConflict, []string{"email"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := b.post("/admin/users", tc.form)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			d := doc(t, body)
			for _, f := range tc.fieldError {
				msg := strings.TrimSpace(d.Find(`[data-testid="field-error-` + f + `"]`).Text())
				if !strings.HasPrefix(strings.ToLower(msg), f) || !strings.HasSuffix(msg, ".") {
					t.Errorf("error for %s reads %q, want a sentence naming the field", f, msg)
				}
			}
			if got, _ := d.Find(`input[name="email"]`).Attr("value"); got != tc.form.Get("email") {
				t.Errorf("the form lost what was typed: email=%q", got)
			}
		})
	}

	resp, _ := b.post("/admin/users", url.Values{"email": {"new@example.com"}, "name": {"New"}, "password": {testPassword}, "is_admin": {"true"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: status %d", resp.StatusCode)
	}
	_, body := b.get("/admin/users")
	if !strings.Contains(doc(t, body).Find(`[data-testid="flash"]`).Text(), "Created new@example.com") {
		t.Error("no success flash after create")
	}
	u, err := app.Store.GetUserByEmail(context.Background(), "new@example.com")
	if err != nil || !u.IsAdmin || !models.CheckPassword(u.PasswordHash, testPassword) {
		t.Fatalf("created user %+v, %v", u, err)
	}
	if got := app.browser(t).login("new@example.com"); got != "/admin" {
		t.Errorf("the new admin lands on %q", got)
	}
}

func TestOversizeFormRefused(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "admin@example.com", true)
	b := app.browser(t)
	b.login("admin@example.com")
	resp, _ := b.post("/admin/users", url.Values{"email": {"big@example.com"}, "password": {testPassword}, "name": {strings.Repeat("x", 100<<10)}})
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
	if _, err := app.Store.GetUserByEmail(context.Background(), "big@example.com"); err == nil {
		t.Error("the oversize form created a user")
	}
}

func TestUserActions(t *testing.T) {
	app := newTestApp(t)
	admin := app.user(t, "admin@example.com", true)
	bob := app.user(t, "bob@example.com", false)
	ab := app.browser(t)
	ab.login("admin@example.com")
	bb := app.browser(t)
	bb.login("bob@example.com")
	ctx := context.Background()

	ab.post(fmt.Sprintf("/admin/users/%d/grant-admin", bob.ID), url.Values{})
	if u, _ := app.Store.GetUser(ctx, bob.ID); !u.IsAdmin {
		t.Error("grant-admin did not grant")
	}
	if resp, _ := bb.get("/admin"); resp.StatusCode != http.StatusOK {
		t.Errorf("bob, now an admin, gets %d on /admin", resp.StatusCode)
	}
	ab.post(fmt.Sprintf("/admin/users/%d/revoke-admin", bob.ID), url.Values{})
	if resp, _ := bb.get("/admin"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("bob, no longer an admin, gets %d on /admin", resp.StatusCode)
	}

	ab.post(fmt.Sprintf("/admin/users/%d/disable", bob.ID), url.Values{})
	if resp, _ := bb.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("disabling bob left his session alive: / answered %d", resp.StatusCode)
	}
	ab.post(fmt.Sprintf("/admin/users/%d/enable", bob.ID), url.Values{})
	bb.login("bob@example.com")

	resp, _ := ab.post(fmt.Sprintf("/admin/users/%d/disable", admin.ID), url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("self-disable: status %d", resp.StatusCode)
	}
	if u, _ := app.Store.GetUser(ctx, admin.ID); u.Disabled {
		t.Error("an admin disabled themselves")
	}
	if resp, _ := ab.post("/admin/users/999999/disable", url.Values{}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown user: status %d, want 404", resp.StatusCode)
	}
	if resp, _ := bb.post(fmt.Sprintf("/admin/users/%d/disable", admin.ID), url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a non-admin disabling someone: status %d, want 403", resp.StatusCode)
	}
}

func TestListUsersSearchAndPages(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "admin@example.com", true)
	for i := range 30 {
		// OIDC users have no password to hash, which keeps the test fast.
		u := &models.User{Email: fmt.Sprintf("user%02d@corp.example", i), Provider: "corp", Subject: fmt.Sprint(i)}
		if err := app.Store.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	b := app.browser(t)
	b.login("admin@example.com")

	_, body := b.get("/admin/users")
	d := doc(t, body)
	if n := d.Find(`[data-testid="user-row"]`).Length(); n != usersPerPageForTest {
		t.Errorf("first page shows %d rows, want %d", n, usersPerPageForTest)
	}
	if next, _ := d.Find(`[data-testid="pagination"] a[rel="next"]`).Attr("href"); next != "/admin/users?page=2" {
		t.Errorf("next link %q", next)
	}
	_, body = b.get("/admin/users?page=2")
	if n := doc(t, body).Find(`[data-testid="user-row"]`).Length(); n != 31-usersPerPageForTest {
		t.Errorf("second page shows %d rows", n)
	}
	_, body = b.get("/admin/users?q=USER0")
	if n := doc(t, body).Find(`[data-testid="user-row"]`).Length(); n != 10 {
		t.Errorf("search user0 shows %d rows, want 10", n)
	}
	_, body = b.get("/admin/users?q=nobody-matches")
	if doc(t, body).Find(`[data-testid="empty-state"]`).Length() != 1 {
		t.Error("no empty state for a search without matches")
	}
}

const usersPerPageForTest = 25

func TestNonAdminKeptOutOfConsole(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "bob@example.com", false)
	b := app.browser(t)
	b.login("bob@example.com")
	for _, path := range []string{"/admin", "/admin/users", "/admin/users/new", "/admin/settings", "/admin/routes"} {
		if resp, _ := b.get(path); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", path, resp.StatusCode)
		}
	}
	if resp, _ := b.get("/"); resp.StatusCode != http.StatusOK {
		t.Errorf("portal: status %d", resp.StatusCode)
	}
}

func TestUserActionReturnsToTheList(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "admin@example.com", true)
	bob := app.user(t, "bob@example.com", false)
	b := app.browser(t)
	b.login("admin@example.com")
	for back, want := range map[string]string{
		"/admin/users?q=bob&page=1": "/admin/users?q=bob&page=1",
		"https://evil.example/":     "/admin/users",
		"/admin/usersX":             "/admin/users",
		"/admin":                    "/admin/users",
	} {
		resp, _ := b.post(fmt.Sprintf("/admin/users/%d/grant-admin", bob.ID), url.Values{"return_to": {back}})
		if got := resp.Header.Get("Location"); got != want {
			t.Errorf("return_to=%q redirected to %q, want %q", back, got, want)
		}
	}
}
