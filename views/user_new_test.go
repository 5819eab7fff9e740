package views

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func TestNewUserPageErrors(t *testing.T) {
	doc, _ := render(t, NewUserPage(NewUserProps{
		Page: page(SectionUsers, adminViewer()),
		Form: UserForm{
			Email:   "not-an-email",
			Name:    "Zoe",
			IsAdmin: true,
			Errors:  map[string]string{"email": "Email must be an address like name@example.com.", "password": "Password must be at least 12 characters long."},
		},
	}))
	form := mustOne(t, doc, testid("new-user-form"))
	if m, _ := form.Attr("method"); m != "post" {
		t.Errorf("method = %q", m)
	}
	if a, _ := form.Attr("action"); a != "/admin/users" {
		t.Errorf("action = %q", a)
	}
	if v, _ := form.Find(`input[name="_csrf"]`).Attr("value"); v != testCSRF {
		t.Errorf("CSRF = %q", v)
	}

	email := mustOne(t, doc, `input[name="email"]`)
	if v, _ := email.Attr("value"); v != "not-an-email" {
		t.Errorf("email not echoed: %q", v)
	}
	if inv, _ := email.Attr("aria-invalid"); inv != "true" {
		t.Error("email not aria-invalid")
	}
	if d, _ := email.Attr("aria-describedby"); d != "email-error" {
		t.Errorf("email aria-describedby = %q", d)
	}
	if got := text(mustOne(t, doc, "#email-error"+testid("field-error-email"))); got != "Email must be an address like name@example.com." {
		t.Errorf("email error = %q", got)
	}

	pw := mustOne(t, doc, `input[name="password"]`)
	if typ, _ := pw.Attr("type"); typ != "password" {
		t.Errorf("password type = %q", typ)
	}
	if ac, _ := pw.Attr("autocomplete"); ac != "new-password" {
		t.Errorf("password autocomplete = %q", ac)
	}
	if _, has := pw.Attr("value"); has {
		t.Error("password echoed back")
	}
	if d, _ := pw.Attr("aria-describedby"); d != "password-error" {
		t.Errorf("password aria-describedby = %q, want only the error", d)
	}
	mustOne(t, doc, testid("field-error-password"))
	// The error says what the field needs; the hint beside it would repeat it.
	if doc.Find("#password-hint").Length() != 0 {
		t.Error("password hint shown as well as its error")
	}

	name := mustOne(t, doc, `input[name="name"]`)
	if _, bad := name.Attr("aria-invalid"); bad {
		t.Error("valid name marked invalid")
	}
	if _, has := name.Attr("aria-describedby"); has {
		t.Error("valid name described by an error")
	}
	if doc.Find(testid("field-error-name")).Length() != 0 {
		t.Error("error shown for a valid name")
	}

	admin := mustOne(t, doc, `input[type="checkbox"][name="is_admin"]`)
	if v, _ := admin.Attr("value"); v != "true" {
		t.Errorf("is_admin value = %q", v)
	}
	if _, checked := admin.Attr("checked"); !checked {
		t.Error("is_admin not kept checked")
	}
	form.Find("input:not([type=hidden])").Each(func(_ int, in *goquery.Selection) {
		id, _ := in.Attr("id")
		if id == "" || doc.Find(`label[for="`+id+`"]`).Length() != 1 {
			t.Errorf("input %q has no label", id)
		}
	})
	if href, _ := mustOne(t, doc, testid("cancel")).Attr("href"); href != "/admin/users" {
		t.Errorf("cancel href = %q", href)
	}
}

func TestNewUserPageClean(t *testing.T) {
	doc, _ := render(t, NewUserPage(NewUserProps{Page: page(SectionUsers, adminViewer())}))
	if n := doc.Find(`[aria-invalid]`).Length(); n != 0 {
		t.Errorf("%d fields invalid on a fresh form", n)
	}
	if n := doc.Find(`[data-testid^="field-error-"]`).Length(); n != 0 {
		t.Errorf("%d errors on a fresh form", n)
	}
	if _, checked := mustOne(t, doc, `input[name="is_admin"]`).Attr("checked"); checked {
		t.Error("is_admin checked by default")
	}
	if d, _ := mustOne(t, doc, `input[name="password"]`).Attr("aria-describedby"); d != "password-hint" {
		t.Errorf("password aria-describedby = %q, want the hint", d)
	}
	if !strings.Contains(text(mustOne(t, doc, "#password-hint")), "12 characters") {
		t.Error("password hint does not give the minimum length")
	}
}
